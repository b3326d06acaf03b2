package link

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/mpxdp/mpxdp/ring"
)

// Pipe is a lossless in-memory point-to-point link: what one end transmits,
// the other end receives, in order. Each end's Queue is meant for one worker
// goroutine; the two ends may run on different cores. Frames cross through
// lock-free SPSC rings and go back to their owner through a return ring, so
// steady-state operation neither locks nor allocates.
type Pipe struct {
	A, B *PipeEnd
}

// PipeEnd is one end of a Pipe; it implements Queue.
type PipeEnd struct {
	frameSize int
	bufs      [][]byte            // the buffers this end owns (its transmit pool)
	free      []uint64            // slots of bufs ready to lend
	tx        *ring.SPSC[pipeMsg] // frames this end sends (peer consumes)
	rx        *ring.SPSC[pipeMsg] // frames the peer sends (this end consumes)
	ret       *ring.SPSC[uint64]  // slots of this end's buffers the peer gives back
	peerRet   *ring.SPSC[uint64]  // slots of the peer's buffers this end gives back
	peer      *PipeEnd
	retBatch  []uint64
	msgBatch  []pipeMsg
	txBatch   []pipeMsg // Transmit's messages, published with one store per batch
	relBatch  []uint64  // Release's slots for the peer, likewise
	wt        *pipeWait // the sleep of the goroutine driving this end (shared by JoinWait)
	// dry: Alloc ran out of frames; the peer's Release then wakes this
	// end's sleeping owner (dryLocal is the owner's own copy).
	dry      atomic.Bool
	dryLocal bool
	// Sent and Received count frames; Dropped counts frames refused because
	// the ring toward the peer was full (the caller keeps those).
	Sent, Received, Dropped uint64
}

type pipeMsg struct {
	slot uint32
	n    uint32
}

// NewPipe makes a Pipe whose ends each own frames buffers of frameSize bytes;
// frames must be a power of two (it sizes the rings).
func NewPipe(frames, frameSize int) (*Pipe, error) {
	if frames < 2 || frames&(frames-1) != 0 {
		return nil, fmt.Errorf("link: pipe frame count %d must be a power of two >= 2", frames)
	}
	if frameSize < 64 {
		return nil, fmt.Errorf("link: pipe frame size %d is below the 64-byte minimum", frameSize)
	}
	ab, err := ring.NewSPSC[pipeMsg](frames)
	if err != nil {
		return nil, err
	}
	ba, _ := ring.NewSPSC[pipeMsg](frames)
	retA, _ := ring.NewSPSC[uint64](frames)
	retB, _ := ring.NewSPSC[uint64](frames)
	a := newEnd(frames, frameSize)
	b := newEnd(frames, frameSize)
	a.tx, a.rx, a.ret, a.peerRet = ab, ba, retA, retB
	b.tx, b.rx, b.ret, b.peerRet = ba, ab, retB, retA
	a.peer, b.peer = b, a
	return &Pipe{A: a, B: b}, nil
}

func newEnd(frames, frameSize int) *PipeEnd {
	e := &PipeEnd{frameSize: frameSize, bufs: make([][]byte, frames), free: make([]uint64, frames)}
	mem := make([]byte, frames*frameSize)
	for i := range e.bufs {
		e.bufs[i] = mem[i*frameSize : (i+1)*frameSize : (i+1)*frameSize]
		e.free[i] = uint64(frames - 1 - i)
	}
	e.retBatch = make([]uint64, 64)
	e.msgBatch = make([]pipeMsg, 64)
	e.txBatch = make([]pipeMsg, 0, 64)
	e.relBatch = make([]uint64, 0, 64)
	e.wt = newPipeWait(e)
	return e
}

// pipeWait is where the goroutine that drives one or more pipe ends
// sleeps: any peer's Transmit toward one of them, or Wake, ends the sleep.
type pipeWait struct {
	waiting atomic.Bool   // the owner sleeps in Wait: a peer's Transmit wakes it
	wakeCh  chan struct{} // one pending wake-up token
	timer   *time.Timer
	ends    []*PipeEnd // the ends whose received frames end the sleep
}

func newPipeWait(ends ...*PipeEnd) *pipeWait {
	w := &pipeWait{wakeCh: make(chan struct{}, 1), timer: time.NewTimer(time.Hour), ends: ends}
	w.timer.Stop()
	return w
}

// ready reports whether any of the ends has received frames waiting, or
// frames given back while it had none to lend.
func (w *pipeWait) ready() bool {
	for _, e := range w.ends {
		if e.rx.Len() > 0 || e.dryLocal && e.ret.Len() > 0 {
			return true
		}
	}
	return false
}

// JoinWait makes one goroutine able to sleep on several pipe ends (one
// worker driving a queue of each of several interfaces): after it, Wait on
// any of them sleeps until a peer transmits toward any of them, Wake on any
// of them is called, or the time passes. Call it before the ends are used,
// from the goroutine that will drive them.
func JoinWait(ends ...*PipeEnd) {
	w := newPipeWait(ends...)
	for _, e := range ends {
		e.wt = w
	}
}

// JoinQueueWaits joins the waits of qs (JoinWait) when every one of them
// is a pipe end and reports whether it did; Wait and Wake of qs[0] then
// serve them all.
func JoinQueueWaits(qs []Queue) bool {
	ends := make([]*PipeEnd, 0, len(qs))
	for _, q := range qs {
		e, ok := q.(*PipeEnd)
		if !ok {
			return false
		}
		ends = append(ends, e)
	}
	if len(ends) > 0 {
		JoinWait(ends...)
	}
	return len(ends) > 0
}

// FrameSize implements Queue.
func (e *PipeEnd) FrameSize() int { return e.frameSize }

// Receive implements Queue.
func (e *PipeEnd) Receive(fs []Frame) int {
	n := len(fs)
	if n > len(e.msgBatch) {
		n = len(e.msgBatch)
	}
	got := e.rx.DequeueBatch(e.msgBatch[:n])
	for i := 0; i < got; i++ {
		m := e.msgBatch[i]
		fs[i] = Frame{Buf: e.peer.bufs[m.slot], Len: int(m.n), ID: uint64(m.slot)}
	}
	e.Received += uint64(got)
	return got
}

// Release implements Queue. Received frames go back to the peer that owns
// them; allocated frames go back to this end's pool. A frame is this end's
// when its buffer is one of this end's. The peer's frames go back in
// batches (one index store per batch, not per frame).
func (e *PipeEnd) Release(fs []Frame) {
	for i := range fs {
		f := &fs[i]
		if e.owns(f) {
			e.free = append(e.free, f.ID)
			continue
		}
		e.relBatch = append(e.relBatch, f.ID)
		if len(e.relBatch) == cap(e.relBatch) {
			e.giveBack()
		}
	}
	e.giveBack()
}

// giveBack returns the collected peer slots.
func (e *PipeEnd) giveBack() {
	b := e.relBatch
	for len(b) > 0 {
		n := e.peerRet.EnqueueBatch(b)
		b = b[n:]
		if n == 0 {
			// The return ring has room for every frame the peer owns, so
			// it is full only while the peer has yet to drain it: let it
			// run.
			runtime.Gosched()
		}
	}
	e.relBatch = e.relBatch[:0]
	if e.peer.dry.Load() {
		// The peer ran out of frames and may sleep until some come back.
		if w := e.peer.wt; w.waiting.Load() {
			w.wake()
		}
	}
}

func (e *PipeEnd) owns(f *Frame) bool {
	return f.ID < uint64(len(e.bufs)) && len(f.Buf) > 0 && &f.Buf[0] == &e.bufs[f.ID][0]
}

// Alloc implements Queue.
func (e *PipeEnd) Alloc(fs []Frame) int {
	if len(e.free) < len(fs) {
		e.reclaim()
	}
	n := 0
	for n < len(fs) && len(e.free) > 0 {
		slot := e.free[len(e.free)-1]
		e.free = e.free[:len(e.free)-1]
		fs[n] = Frame{Buf: e.bufs[slot], ID: slot}
		n++
	}
	if dry := n == 0 && len(fs) > 0; dry != e.dryLocal {
		e.dryLocal = dry
		e.dry.Store(dry)
	}
	return n
}

func (e *PipeEnd) reclaim() {
	for {
		got := e.ret.DequeueBatch(e.retBatch)
		e.free = append(e.free, e.retBatch[:got]...)
		if got < len(e.retBatch) {
			return
		}
	}
}

// Transmit implements Queue. The frames are published to the peer in
// batches: one index store per batch, not per frame.
func (e *PipeEnd) Transmit(fs []Frame) int {
	sent := 0
	for sent < len(fs) {
		chunk := fs[sent:min(len(fs), sent+cap(e.txBatch))]
		b := e.txBatch[:0]
		for i := range chunk {
			f := &chunk[i]
			if !e.owns(f) {
				panic("link: Transmit of a frame this pipe end did not Alloc")
			}
			if f.More {
				panic("link: Pipe frames hold whole packets; More is not supported")
			}
			b = append(b, pipeMsg{slot: uint32(f.ID), n: uint32(f.Len)})
		}
		n := e.tx.EnqueueBatch(b)
		sent += n
		if n < len(b) {
			break
		}
	}
	e.Sent += uint64(sent)
	e.Dropped += uint64(len(fs) - sent)
	if w := e.peer.wt; sent > 0 && w.waiting.Load() {
		w.wake()
	}
	return sent
}

// Flush implements Queue: it reclaims returned buffers; nothing needs kicking.
func (e *PipeEnd) Flush() error {
	e.reclaim()
	return nil
}

// Wait implements Queue. With d <= 0 it yields the processor. Otherwise it
// sleeps until the peer transmits, Wake is called, or d passes: one
// atomic load per Transmit call tells the peer whether to wake this end.
// After JoinWait, frames toward any of the joined ends end the sleep.
func (e *PipeEnd) Wait(d time.Duration) error {
	w := e.wt
	if d <= 0 || w.ready() {
		runtime.Gosched()
		return nil
	}
	w.waiting.Store(true)
	if w.ready() { // a frame came in before the flag was seen
		w.waiting.Store(false)
		return nil
	}
	w.timer.Reset(d)
	select {
	case <-w.wakeCh:
		w.timer.Stop()
	case <-w.timer.C:
	}
	w.waiting.Store(false)
	return nil
}

// Wake ends a Wait in progress, or makes the next one return at once. It
// may be called from any goroutine (the stack's application side uses it
// to hand its worker commands).
func (e *PipeEnd) Wake() { e.wt.wake() }

func (w *pipeWait) wake() {
	select {
	case w.wakeCh <- struct{}{}:
	default:
	}
}
