package stack

import (
	"sync/atomic"

	"github.com/mpxdp/mpxdp/stack/header"
)

// byteRing is a lock-free single-producer single-consumer byte ring that
// carries one direction of a connection's stream between the application
// goroutine and the worker. Positions are 64-bit and never wrap in practice;
// the capacity is a power of two. The producer publishes bytes by storing
// tail after copying them; the consumer frees room by storing head.
type byteRing struct {
	buf  []byte
	mask uint64
	_    [64]byte
	head atomic.Uint64 // consumer position
	_    [56]byte
	tail atomic.Uint64 // producer position
	_    [56]byte
}

func newByteRing(size int) *byteRing {
	n := newByteRingSize(size)
	return &byteRing{buf: make([]byte, n), mask: uint64(n - 1)}
}

// newByteRingSize is the capacity newByteRing gives for size: the next
// power of two.
func newByteRingSize(size int) int {
	n := 1
	for n < size {
		n <<= 1
	}
	return n
}

// Cap returns the ring's capacity.
func (r *byteRing) Cap() int { return len(r.buf) }

// Len returns the bytes held (consumer view; a snapshot for the producer).
func (r *byteRing) Len() int { return int(r.tail.Load() - r.head.Load()) }

// Free returns the room left (producer view).
func (r *byteRing) Free() int { return len(r.buf) - r.Len() }

// Write copies as much of p as fits and publishes it (producer side).
func (r *byteRing) Write(p []byte) int {
	t := r.tail.Load()
	room := len(r.buf) - int(t-r.head.Load())
	if room <= 0 || len(p) == 0 {
		return 0
	}
	if len(p) > room {
		p = p[:room]
	}
	i := int(t & r.mask)
	n := copy(r.buf[i:], p)
	if n < len(p) {
		copy(r.buf, p[n:])
	}
	r.tail.Store(t + uint64(len(p)))
	return len(p)
}

// WriteSpace returns the next contiguous free region (producer side); fill
// a prefix of it and call Commit.
func (r *byteRing) WriteSpace() []byte {
	t := r.tail.Load()
	room := len(r.buf) - int(t-r.head.Load())
	if room <= 0 {
		return nil
	}
	i := int(t & r.mask)
	end := min(i+room, len(r.buf))
	return r.buf[i:end]
}

// WriteAt copies p to offset off past the published data without
// publishing it (producer side): the TCP engine stores segments there,
// out-of-order ones included, and Commit publishes them once in order.
// off+len(p) must not exceed Free.
func (r *byteRing) WriteAt(off int, p []byte) {
	i := int((r.tail.Load() + uint64(off)) & r.mask)
	n := copy(r.buf[i:], p)
	if n < len(p) {
		copy(r.buf, p[n:])
	}
}

// CopySumIn is WriteAt at offset 0 that also returns the partial Internet
// checksum of p (header.Sum from an even offset), computed in the same
// pass: the receive path verifies a segment while it moves the payload
// into the ring. len(p) must not exceed Free.
func (r *byteRing) CopySumIn(p []byte) uint32 {
	i := int(r.tail.Load() & r.mask)
	first := min(len(p), len(r.buf)-i)
	sum := header.CopySum(r.buf[i:i+first], p[:first], 0)
	if first < len(p) {
		sum = header.Combine(sum, first, header.CopySum(r.buf, p[first:], 0))
	}
	return sum
}

// Commit publishes n bytes written into WriteSpace (producer side).
func (r *byteRing) Commit(n int) { r.tail.Store(r.tail.Load() + uint64(n)) }

// Peek returns the next contiguous readable region (consumer side).
func (r *byteRing) Peek() []byte {
	h := r.head.Load()
	n := int(r.tail.Load() - h)
	if n == 0 {
		return nil
	}
	i := int(h & r.mask)
	end := min(i+n, len(r.buf))
	return r.buf[i:end]
}

// Read copies up to len(p) bytes out and frees them (consumer side).
func (r *byteRing) Read(p []byte) int {
	n := r.CopyAt(0, p)
	r.Consume(n)
	return n
}

// CopyAt copies bytes from offset off of the readable data into p without
// freeing them (consumer side) and returns the count.
func (r *byteRing) CopyAt(off int, p []byte) int {
	h := r.head.Load()
	avail := int(r.tail.Load()-h) - off
	if avail <= 0 || len(p) == 0 {
		return 0
	}
	if len(p) > avail {
		p = p[:avail]
	}
	i := int((h + uint64(off)) & r.mask)
	n := copy(p, r.buf[i:])
	if n < len(p) {
		copy(p[n:], r.buf)
	}
	return len(p)
}

// CopySumAt is CopyAt that also returns the partial Internet checksum of
// the bytes copied (header.Sum of p[:n] from an even offset), computed in
// the same pass over the data.
func (r *byteRing) CopySumAt(off int, p []byte) (int, uint32) {
	h := r.head.Load()
	avail := int(r.tail.Load()-h) - off
	if avail <= 0 || len(p) == 0 {
		return 0, 0
	}
	if len(p) > avail {
		p = p[:avail]
	}
	i := int((h + uint64(off)) & r.mask)
	first := min(len(p), len(r.buf)-i)
	sum := header.CopySum(p[:first], r.buf[i:i+first], 0)
	if first < len(p) {
		sum = header.Combine(sum, first, header.CopySum(p[first:], r.buf[:len(p)-first], 0))
	}
	return len(p), sum
}

// Consume frees the first n readable bytes (consumer side).
func (r *byteRing) Consume(n int) { r.head.Store(r.head.Load() + uint64(n)) }

// Discard frees every published byte from the producer side, for a
// consumer that has gone away (the application closed the connection). A
// consumer still racing with it can only move head back to a position at
// or before tail, so the ring stays consistent; the next Discard frees
// what that left.
func (r *byteRing) Discard() {
	for {
		h, t := r.head.Load(), r.tail.Load()
		if h >= t || r.head.CompareAndSwap(h, t) {
			return
		}
	}
}
