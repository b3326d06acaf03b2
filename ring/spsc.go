package ring

import "sync/atomic"

// SPSC is a bounded single-producer single-consumer queue of T.
//
// Exactly one goroutine at a time may call the producer methods (Enqueue,
// EnqueueBatch) and exactly one goroutine at a time may call the consumer
// methods (Dequeue, DequeueBatch); the two may run concurrently on different
// cores. Len and Cap may be called from any goroutine. Handing a side over to
// another goroutine needs its own synchronisation (a channel send, a mutex, a
// WaitGroup), as for any single-owner object.
//
// Create one with [NewSPSC]; the zero value is not usable.
type SPSC[T any] struct {
	_ [cacheLinePad]byte

	// Consumer line: written only by the consumer.
	head      atomic.Uint64 // next position to read, published for the producer
	headLocal uint64        // consumer's private copy of head
	tailCache uint64        // consumer's last view of tail
	_         [cacheLinePad - 24]byte

	// Producer line: written only by the producer.
	tail      atomic.Uint64 // next position to write, published for the consumer
	tailLocal uint64        // producer's private copy of tail
	headCache uint64        // producer's last view of head
	_         [cacheLinePad - 24]byte

	// Read-only after construction.
	mask uint64
	buf  []T
	_    [cacheLinePad - 32]byte
}

// NewSPSC returns an empty SPSC ring holding up to capacity items. capacity
// must be a power of two between MinCapacity and MaxCapacity.
func NewSPSC[T any](capacity int) (*SPSC[T], error) {
	if err := checkCapacity("SPSC", capacity); err != nil {
		return nil, err
	}
	return &SPSC[T]{mask: uint64(capacity - 1), buf: make([]T, capacity)}, nil
}

// Cap returns the number of items the ring can hold.
func (r *SPSC[T]) Cap() int { return len(r.buf) }

// Len returns the number of items in the ring. Called concurrently with the
// producer or consumer it is a snapshot that may be stale by the time it
// returns; it is always between 0 and Cap.
func (r *SPSC[T]) Len() int {
	h := r.head.Load() // head first: then tail >= h for the loaded values
	t := r.tail.Load()
	n := t - h
	if n > uint64(len(r.buf)) {
		n = uint64(len(r.buf))
	}
	return int(n)
}

// Enqueue appends v and reports true, or reports false if the ring is full.
// Producer side only.
func (r *SPSC[T]) Enqueue(v T) bool {
	t := r.tailLocal
	if t-r.headCache >= uint64(len(r.buf)) {
		r.headCache = r.head.Load()
		if t-r.headCache >= uint64(len(r.buf)) {
			return false
		}
	}
	r.buf[t&r.mask] = v
	r.tailLocal = t + 1
	r.tail.Store(t + 1)
	return true
}

// EnqueueBatch appends as many leading items of vs as fit and returns how
// many it appended (0 if the ring is full). Producer side only.
func (r *SPSC[T]) EnqueueBatch(vs []T) int {
	t := r.tailLocal
	size := uint64(len(r.buf))
	free := size - (t - r.headCache)
	if free < uint64(len(vs)) {
		r.headCache = r.head.Load()
		free = size - (t - r.headCache)
	}
	n := min(uint64(len(vs)), free)
	if n == 0 {
		return 0
	}
	i := t & r.mask
	c := copy(r.buf[i:], vs[:n])
	copy(r.buf, vs[c:n])
	r.tailLocal = t + n
	r.tail.Store(t + n)
	return int(n)
}

// Dequeue removes and returns the oldest item, or reports false if the ring
// is empty. Consumer side only. The slot is cleared so the ring does not keep
// the value reachable for the garbage collector.
func (r *SPSC[T]) Dequeue() (T, bool) {
	h := r.headLocal
	if h == r.tailCache {
		r.tailCache = r.tail.Load()
		if h == r.tailCache {
			var zero T
			return zero, false
		}
	}
	i := h & r.mask
	v := r.buf[i]
	var zero T
	r.buf[i] = zero
	r.headLocal = h + 1
	r.head.Store(h + 1)
	return v, true
}

// DequeueBatch removes up to len(out) of the oldest items into out, in order,
// and returns how many it removed (0 if the ring is empty). Consumer side
// only.
func (r *SPSC[T]) DequeueBatch(out []T) int {
	h := r.headLocal
	avail := r.tailCache - h
	if avail < uint64(len(out)) {
		r.tailCache = r.tail.Load()
		avail = r.tailCache - h
	}
	n := min(uint64(len(out)), avail)
	if n == 0 {
		return 0
	}
	i := h & r.mask
	c := copy(out[:n], r.buf[i:])
	copy(out[c:n], r.buf)
	end := min(i+n, uint64(len(r.buf)))
	clear(r.buf[i:end])
	clear(r.buf[:n-(end-i)])
	r.headLocal = h + n
	r.head.Store(h + n)
	return int(n)
}
