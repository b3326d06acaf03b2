package ring

import "sync/atomic"

// mpscSlot is one cell of an MPSC ring. seq tells whose turn the slot is:
// seq == pos means free for the producer that claims position pos;
// seq == pos+1 means the value for position pos is published for the
// consumer; the consumer then sets seq = pos+capacity, freeing the slot for
// the producer one lap later.
type mpscSlot[T any] struct {
	seq atomic.Uint64
	val T
}

// MPSC is a bounded multi-producer single-consumer queue of T.
//
// Any number of goroutines may call Enqueue and EnqueueBatch concurrently;
// exactly one goroutine at a time may call Dequeue and DequeueBatch. Len and
// Cap may be called from any goroutine. Items from one producer are dequeued
// in the order that producer enqueued them; items from different producers
// interleave in the order their positions were claimed.
//
// Producers claim positions with a compare-and-swap on the tail and then
// publish through the slot's sequence number, so there are no locks. A
// producer preempted between claiming and publishing holds up the consumer
// at that slot (Dequeue reports empty) until it resumes; the publishing
// window is a few instructions.
//
// Create one with [NewMPSC]; the zero value is not usable.
type MPSC[T any] struct {
	_ [cacheLinePad]byte

	// Producer line: shared by all producers.
	tail atomic.Uint64 // next position to claim
	_    [cacheLinePad - 8]byte

	// Consumer line: written only by the consumer.
	head      atomic.Uint64 // next position to read, published for Len and EnqueueBatch
	headLocal uint64        // consumer's private copy of head
	_         [cacheLinePad - 16]byte

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
	r := &MPSC[T]{mask: uint64(capacity - 1), slots: make([]mpscSlot[T], capacity)}
	for i := range r.slots {
		r.slots[i].seq.Store(uint64(i))
	}
	return r, nil
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

// Enqueue appends v and reports true, or reports false if the ring is full.
// Safe for concurrent producers.
func (r *MPSC[T]) Enqueue(v T) bool {
	pos := r.tail.Load()
	for {
		s := &r.slots[pos&r.mask]
		seq := s.seq.Load()
		switch d := int64(seq - pos); {
		case d == 0:
			if r.tail.CompareAndSwap(pos, pos+1) {
				s.val = v
				s.seq.Store(pos + 1)
				return true
			}
			pos = r.tail.Load()
		case d < 0:
			// The slot still holds the value from one lap ago: full.
			return false
		default:
			// Another producer claimed pos since we loaded the tail.
			pos = r.tail.Load()
		}
	}
}

// EnqueueBatch appends as many leading items of vs as fit, as one contiguous
// run that no other producer's items interleave with, and returns how many
// it appended (0 if the ring is full). Safe for concurrent producers.
func (r *MPSC[T]) EnqueueBatch(vs []T) int {
	if len(vs) == 0 {
		return 0
	}
	size := uint64(len(r.slots))
	for {
		pos := r.tail.Load()
		// Every position below head+size has been released by the consumer
		// (it frees slots in order and stores seq before publishing head),
		// so the run [pos, pos+n) is free once head >= pos+n-size.
		h := r.head.Load()
		if pos-h >= size {
			// pos-h can only exceed size transiently (h loaded after pos
			// and pos is stale); both mean "retry or full".
			if pos-h > size {
				continue
			}
			return 0
		}
		n := min(uint64(len(vs)), size-(pos-h))
		if !r.tail.CompareAndSwap(pos, pos+n) {
			continue
		}
		for i := uint64(0); i < n; i++ {
			s := &r.slots[(pos+i)&r.mask]
			s.val = vs[i]
			s.seq.Store(pos + i + 1)
		}
		return int(n)
	}
}

// Dequeue removes and returns the oldest published item, or reports false if
// there is none (the ring is empty, or the producer of the oldest position
// has not finished publishing it). Consumer side only. The slot is cleared so
// the ring does not keep the value reachable for the garbage collector.
func (r *MPSC[T]) Dequeue() (T, bool) {
	h := r.headLocal
	s := &r.slots[h&r.mask]
	if s.seq.Load() != h+1 {
		var zero T
		return zero, false
	}
	v := s.val
	var zero T
	s.val = zero
	s.seq.Store(h + uint64(len(r.slots)))
	r.headLocal = h + 1
	r.head.Store(h + 1)
	return v, true
}

// DequeueBatch removes up to len(out) of the oldest published items into out,
// in order, and returns how many it removed. It stops at the first position
// whose producer has not finished publishing. Consumer side only.
func (r *MPSC[T]) DequeueBatch(out []T) int {
	h := r.headLocal
	size := uint64(len(r.slots))
	var zero T
	n := 0
	for n < len(out) {
		pos := h + uint64(n)
		s := &r.slots[pos&r.mask]
		if s.seq.Load() != pos+1 {
			break
		}
		out[n] = s.val
		s.val = zero
		s.seq.Store(pos + size)
		n++
	}
	if n > 0 {
		r.headLocal = h + uint64(n)
		r.head.Store(h + uint64(n))
	}
	return n
}
