package link

import "time"

// Frame is one packet buffer lent by a Queue. The packet's bytes are
// Buf[:Len]; Buf's length is the buffer's full capacity.
type Frame struct {
	Buf  []byte // the whole buffer
	Len  int    // bytes of packet data in Buf
	More bool   // the packet continues in the next frame (multi-buffer)
	ID   uint64 // the queue's own handle for the buffer (UMEM address, pool slot)
}

// Bytes returns the packet data of f.
func (f *Frame) Bytes() []byte { return f.Buf[:f.Len] }

// Queue is one receive/transmit queue of one interface, driven by the single
// worker goroutine that owns it.
type Queue interface {
	// Receive fills fs with up to len(fs) received frames and returns how
	// many it filled. The caller owns them until it calls Release.
	Receive(fs []Frame) int
	// Release gives frames back to the queue: received frames once the
	// caller is done with them, and allocated frames it did not transmit.
	Release(fs []Frame)
	// Alloc fills fs with up to len(fs) empty transmit buffers (Len 0) and
	// returns how many it could lend.
	Alloc(fs []Frame) int
	// Transmit queues filled frames for sending and returns how many it took;
	// those belong to the queue from then on, the rest stay with the caller.
	Transmit(fs []Frame) int
	// Flush makes queued transmissions leave (an AF_XDP kick when the kernel
	// asks for one) and reclaims buffers whose transmission completed.
	Flush() error
	// Wait blocks for at most d until received frames may be ready; it may
	// return early. d <= 0 polls without blocking.
	Wait(d time.Duration) error
	// FrameSize is the capacity of one buffer.
	FrameSize() int
}

// Waker is implemented by queues whose Wait another goroutine can end
// early (Pipe ends). A driver whose only queue is a Waker sleeps in Wait
// and wakes it for work that does not arrive on the queue.
type Waker interface {
	Wake()
}
