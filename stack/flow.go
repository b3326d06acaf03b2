package stack

import (
	"net/netip"
	"time"

	"github.com/mpxdp/mpxdp/mptcp/conn"
	"github.com/mpxdp/mpxdp/stack/header"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// flowKey is a connection's 4-tuple from our side.
type flowKey struct {
	laddr, raddr netip.Addr
	lport, rport uint16
}

// route is where a flow's (or a reply's) frames go.
type route struct {
	p            *port
	src, dst     netip.Addr
	lport, rport uint16
	nextHop      netip.Addr
	mac          header.MAC // next hop's Ethernet address, valid when macOK
	macOK        bool
}

// flow is one TCP connection as the owning worker sees it. Only that
// worker touches it.
type flow struct {
	key     flowKey
	rt      route
	ep      *tcp.Endpoint
	conn    *Conn     // application side; nil once the application closed it and the rings are drained
	lst     *listener // passive flow not yet handed to Accept
	snd     sendAdapter
	rcv     recvAdapter
	heapIdx int // index in the worker's timer heap, -1 when not in it
	timerAt time.Duration
	dirty   bool
	wakeRd  bool // in the worker's list of readers to wake (flushWakes)
	removed bool
	optPred int // option bytes of the last data segment (payload placement guess)
	maxPay  int // payload room per frame: MTU minus IP and TCP fixed headers
	estab   bool
	// appClosed: the application closed the connection; received data
	// is discarded.
	appClosed bool
	inTW      bool // quiet: in TIME-WAIT, or closed by the application with our FIN acknowledged (not counted as busy)
	// MPTCP: mp is the connection of a subflow flow (sf set) or of the
	// connection's master flow (sf nil, ep nil: timers and service).
	mp *mpConn
	sf *conn.Subflow
	// redirect: the tuple's subflow is owned by worker fwd (an MP_JOIN
	// handed over to its connection's owner); segments go there.
	redirect bool
	fwd      int
}

// sendAdapter lets the engine pull from the application's send ring
// (tcp.SendBuffer) and wakes a writer blocked on a full ring when the
// engine frees room.
//
// CopyAt sums the bytes while it copies them into the frame (one pass,
// header.CopySum) and remembers the sum for the segment's checksum.
type sendAdapter struct {
	c      *Conn
	sumPtr *byte  // first byte of the last CopyAt destination, nil when none
	sumLen int    // its length
	sum    uint32 // its partial Internet checksum (from an even offset)
}

func (s *sendAdapter) Buffered() int { return s.c.snd.Len() }
func (s *sendAdapter) CopyAt(off int, p []byte) int {
	n, sum := s.c.snd.CopySumAt(off, p)
	s.sumPtr, s.sumLen, s.sum = nil, n, sum
	if n > 0 {
		s.sumPtr = &p[0]
	}
	return n
}
func (s *sendAdapter) Consume(n int) {
	r := s.c.snd
	r.Consume(n)
	// Wake a blocked writer only once a good share of the ring is free,
	// not on every ACK (each wake-up costs two goroutine switches).
	if s.c.wrWait.Load() && r.Free() >= min(r.Cap()/4, 256<<10) {
		s.c.w.wakeApp(s.c.wrCh)
	}
}

// recvAdapter makes the application's receive ring the engine's
// tcp.RecvBuffer: the engine writes segments straight from the frame into
// the ring at offsets past the published data (rcv_nxt is the ring's
// tail) and Advance publishes in-order bytes to the reader. Free grows
// behind the engine's back as the application reads; the worker calls
// Endpoint.RecvBufferFreed so that the window it advertises follows.
//
// The worker may already have copied an in-order payload to the ring's
// tail while verifying its checksum (worker.copyVerify); WriteAt then
// skips the copy of that payload (or a prefix of it).
type recvAdapter struct {
	r      *byteRing
	moved  bool  // Advance published bytes since the worker last looked
	preLen int   // bytes of prePtr's payload already at the ring's tail
	prePtr *byte // nil when none
}

func (a *recvAdapter) Free() int { return a.r.Free() }
func (a *recvAdapter) WriteAt(off int, p []byte) {
	if off == 0 && len(p) > 0 && &p[0] == a.prePtr && len(p) <= a.preLen {
		return // in place already
	}
	a.r.WriteAt(off, p)
}
func (a *recvAdapter) Advance(n int) {
	if n > 0 {
		a.r.Commit(n)
		a.moved = true
	}
}

// timer heap: a binary min-heap of flows by timerAt, with each flow's
// index kept in the flow so that updates are O(log n) and allocation-free.
type timerHeap []*flow

func (h *timerHeap) less(i, j int) bool { return (*h)[i].timerAt < (*h)[j].timerAt }

func (h *timerHeap) swap(i, j int) {
	s := *h
	s[i], s[j] = s[j], s[i]
	s[i].heapIdx = i
	s[j].heapIdx = j
}

func (h *timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *timerHeap) down(i int) {
	n := len(*h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}

// set arms f's timer at t, or disarms it when t is 0.
func (h *timerHeap) set(f *flow, t time.Duration) {
	if t == 0 {
		h.remove(f)
		return
	}
	if f.heapIdx >= 0 {
		if f.timerAt == t {
			return
		}
		f.timerAt = t
		h.up(f.heapIdx)
		h.down(f.heapIdx)
		return
	}
	f.timerAt = t
	f.heapIdx = len(*h)
	*h = append(*h, f)
	h.up(f.heapIdx)
}

func (h *timerHeap) remove(f *flow) {
	i := f.heapIdx
	if i < 0 {
		return
	}
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last] = nil
	*h = (*h)[:last]
	f.heapIdx = -1
	if i != last {
		h.up(i)
		h.down(i)
	}
}

// peek returns the earliest flow, or nil.
func (h *timerHeap) peek() *flow {
	if len(*h) == 0 {
		return nil
	}
	return (*h)[0]
}
