package ring

import "sync/atomic"

// mpscSlot is one cell of an MPSC ring. A producer that claimed the run of
// positions [pos, pos+run) writes the values of all of them, then run into
// the first slot, then publishes the whole run with one atomic store of
// seq = pos+1 in that first slot. The consumer at position pos takes the run
// only when it reads exactly pos+1 there. Older laps leave pos+1-k*capacity
// (and a fresh ring 0) in the slot, and slots inside a run are never
// stamped, so no stale value matches.
type mpscSlot[T any] struct {
	seq atomic.Uint64
	run uint64 // length of the run this slot starts; written before seq
	val T
}

// MPSC is a bounded multi-producer single-consumer queue of T.
//
// Any number of goroutines may call Enqueue and EnqueueBatch concurrently;
// exactly one goroutine at a time may call Dequeue and DequeueBatch. Len and
// Cap may be called from any goroutine. Items from one producer are dequeued
// in the order that producer enqueued them; items from different producers
// interleave in the order their positions were claimed, and the items of one
// EnqueueBatch call stay contiguous.
//
// Producers claim positions with a compare-and-swap on the tail, after
// checking for room against a cached copy of the consumer's head kept on
// the tail's cache line (refreshed from the consumer's line only when the
// ring looks full). Each claimed run of positions (one for Enqueue, up to
// len(vs) for EnqueueBatch) is published with a single atomic store of a
// sequence number into its first slot. The consumer reads runs in order and
// publishes its progress once per call. There are no locks. A producer
// preempted between claiming a position and publishing it holds up the
// consumer at that position (Dequeue reports empty) until it resumes; the
// window is a few instructions.
//
// Create one with [NewMPSC]; the zero value is not usable.
type MPSC[T any] struct {
	_ [cacheLinePad]byte

	// Producer line: shared by all producers.
	tail      atomic.Uint64 // next position to claim
	headCache atomic.Uint64 // a recent value of head (never ahead of it)
	_         [cacheLinePad - 16]byte

	// Consumer line: written only by the consumer.
	head      atomic.Uint64 // next position to read, published for producers
	headLocal uint64        // consumer's private copy of head
	pubEnd    uint64        // end of the published run the consumer is in
	_         [cacheLinePad - 24]byte

	// Read-only after construction.
	mask  uint64
	slots []mpscSlot[T]
	_     [cacheLinePad - 32]byte
}

// NewMPSC returns an empty MPSC ring holding up to capacity items. capacity
// must be a power of two between MinCapacity and MaxCapacity.
func NewMPSC[T any](capacity int) (*MPSC[T], error) {
	if err := checkCapacity("MPSC", capacity); err != nil {
		return nil, err
	}
	return &MPSC[T]{mask: uint64(capacity - 1), slots: make([]mpscSlot[T], capacity)}, nil
}

// Cap returns the number of items the ring can hold.
func (r *MPSC[T]) Cap() int { return len(r.slots) }

// Len returns the number of items enqueued or being enqueued and not yet
// dequeued. Called concurrently it is a snapshot; it is always between 0 and
// Cap.
func (r *MPSC[T]) Len() int {
	h := r.head.Load()
	t := r.tail.Load()
	n := t - h
	if n > uint64(len(r.slots)) {
		n = uint64(len(r.slots))
	}
	return int(n)
}

// room returns how many positions from pos on are free, refreshing the
// cached head from the consumer's line if the cache says fewer than want.
// ok is false if pos is stale (the consumer is already past it): reload the
// tail and try again.
func (r *MPSC[T]) room(pos, want uint64) (free uint64, ok bool) {
	size := uint64(len(r.slots))
	if used := pos - r.headCache.Load(); used <= size && size-used >= want {
		return size - used, true
	}
	h := r.head.Load()
	if h > pos {
		return 0, false
	}
	r.headCache.Store(h)
	return size - min(pos-h, size), true
}

// Enqueue appends v and reports true, or reports false if the ring is full.
// Safe for concurrent producers.
func (r *MPSC[T]) Enqueue(v T) bool {
	pos := r.tail.Load()
	for {
		free, ok := r.room(pos, 1)
		if ok && free == 0 {
			return false
		}
		if ok && r.tail.CompareAndSwap(pos, pos+1) {
			s := &r.slots[pos&r.mask]
			s.val = v
			s.run = 1
			s.seq.Store(pos + 1)
			return true
		}
		pos = r.tail.Load()
	}
}

// EnqueueBatch appends as many leading items of vs as fit, as one contiguous
// run that no other producer's items interleave with, and returns how many
// it appended (0 if the ring is full). Safe for concurrent producers.
func (r *MPSC[T]) EnqueueBatch(vs []T) int {
	if len(vs) == 0 {
		return 0
	}
	pos := r.tail.Load()
	for {
		free, ok := r.room(pos, uint64(len(vs)))
		if ok && free == 0 {
			return 0
		}
		n := min(uint64(len(vs)), free)
		if ok && r.tail.CompareAndSwap(pos, pos+n) {
			for i := uint64(1); i < n; i++ {
				r.slots[(pos+i)&r.mask].val = vs[i]
			}
			s := &r.slots[pos&r.mask]
			s.val = vs[0]
			s.run = n
			s.seq.Store(pos + 1) // publishes the whole run
			return int(n)
		}
		pos = r.tail.Load()
	}
}

// published reports whether position h (== r.headLocal) holds a published
// value, entering the next published run if h is at the end of the current
// one. Consumer side only.
func (r *MPSC[T]) published(h uint64) bool {
	if h != r.pubEnd {
		return true
	}
	s := &r.slots[h&r.mask]
	if s.seq.Load() != h+1 {
		return false
	}
	r.pubEnd = h + s.run
	return true
}

// Dequeue removes and returns the oldest published item, or reports false if
// there is none (the ring is empty, or the producer of the oldest position
// has not finished publishing it). Consumer side only. The slot is cleared so
// the ring does not keep the value reachable for the garbage collector.
func (r *MPSC[T]) Dequeue() (T, bool) {
	h := r.headLocal
	var zero T
	if !r.published(h) {
		return zero, false
	}
	s := &r.slots[h&r.mask]
	v := s.val
	s.val = zero
	r.headLocal = h + 1
	r.head.Store(h + 1)
	return v, true
}

// DequeueBatch removes up to len(out) of the oldest published items into out,
// in order, and returns how many it removed. It stops at the first position
// whose producer has not finished publishing. Consumer side only.
func (r *MPSC[T]) DequeueBatch(out []T) int {
	h := r.headLocal
	var zero T
	n := 0
	for n < len(out) && r.published(h+uint64(n)) {
		pos := h + uint64(n)
		k := min(r.pubEnd-pos, uint64(len(out)-n))
		for i := uint64(0); i < k; i++ {
			s := &r.slots[(pos+i)&r.mask]
			out[n] = s.val
			s.val = zero
			n++
		}
	}
	if n > 0 {
		r.headLocal = h + uint64(n)
		r.head.Store(h + uint64(n))
	}
	return n
}
