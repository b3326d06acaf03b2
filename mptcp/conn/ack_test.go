package conn

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/pm"
)

// TestOptionOnlyACKsWithoutBadSeq: a transfer that needs every kind of
// option-only ACK (the fourth ACK of MP_JOIN, the ADD_ADDR echo, MP_PRIO,
// DATA_FIN and its DATA_ACK both ways, connection-level window updates)
// sends them through Endpoint.SendACK: no subflow at either end sees a
// segment with an unacceptable sequence number, and the ACKs were forced.
func TestOptionOnlyACKsWithoutBadSeq(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 61, Config{}, Config{RecvBufSize: 256 << 10}, a, b)
	sv.pmCfg = &pm.Config{Endpoints: []pm.Endpoint{{ID: 1, Addr: addr(1, 1), Flags: pm.Signal}}}
	cl.pmCfg = &pm.Config{Limits: pm.Limits{Subflows: 2, AddAddrAccepted: 1}}
	n := int64(8 << 20)
	cl.toSend = n
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return len(c.subflows) == 2 && c.subflows[1].dataReady() && sv.recvd > 1<<20 })
	if len(c.subflows) != 2 {
		t.Fatalf("client has %d subflows, want 2 (join of the announced address)", len(c.subflows))
	}
	c.SetBackup(c.subflows[0], true)
	cl.flush(sim.Now())
	sim.RunUntil(sim.Now()+200*time.Millisecond, nil)
	c.SetBackup(c.subflows[0], false)
	cl.flush(sim.Now())
	sim.RunUntil(2*time.Minute, func() bool { return sv.eof && cl.eof })
	if !sv.eof || !cl.eof || sv.recvd != n || !equalHash(sv, n) {
		t.Fatalf("transfer: server eof %v client eof %v, %d of %d", sv.eof, cl.eof, sv.recvd, n)
	}
	if sv.count(mptcp.MibEchoAdd) != 1 || cl.count(mptcp.MibMPPrioTx) != 2 || sv.count(mptcp.MibMPJoinAckRx) != 1 {
		t.Fatalf("EchoAdd %d MPPrioTx %d (want 2) MPJoinAckRx %d: the test did not exercise every option-only ACK",
			sv.count(mptcp.MibEchoAdd), cl.count(mptcp.MibMPPrioTx), sv.count(mptcp.MibMPJoinAckRx))
	}
	for _, h := range []*host{cl, sv} {
		var forced uint64
		for i, sf := range h.conns[0].subflows {
			ct := sf.Endpoint().Counters()
			if ct.BadSeq != 0 {
				t.Errorf("%s subflow %d: BadSeq = %d, want 0", h.name, i, ct.BadSeq)
			}
			forced += ct.ForcedACKs
		}
		if forced == 0 {
			t.Errorf("%s: no ACK was sent through SendACK", h.name)
		}
	}
}

// TestPeerWindowEdgeWithinReceiveBuffer: while the server's reader sleeps
// and two subflows deliver out of order at the connection level, the
// connection-level right edge the client derives from the server's
// segments (DATA_ACK plus window, RFC 8684 §3.3.4) never passes the end of
// the server's receive buffer, and the subflows' window limits say the same.
func TestPeerWindowEdgeWithinReceiveBuffer(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 62, Config{}, Config{RecvBufSize: 512 << 10}, a, b)
	cl.joinTo = 2
	n := int64(8 << 20)
	cl.toSend = n
	checks, over := 0, 0
	var worst uint64
	cl.app2 = func() {
		if len(sv.conns) == 0 || len(cl.conns) == 0 || !sv.conns[0].bufReady || !cl.conns[0].bufReady {
			return
		}
		c, s := cl.conns[0], sv.conns[0]
		checks++
		if lim := s.rcv.limit(); c.rwndEnd > lim {
			over++
			worst = max(worst, c.rwndEnd-lim)
		}
		for _, sf := range s.subflows {
			l := (*sfExt)(sf).RecvWindowLimit()
			if l < 0 || uint64(l) > s.rcv.limit()-s.rcv.nxt {
				t.Fatalf("subflow %d RecvWindowLimit %d beyond the connection window %d", sf.id, l, s.rcv.limit()-s.rcv.nxt)
			}
		}
	}
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return len(c.subflows) == 2 && sv.recvd > 2<<20 })
	sv.noRead = true
	sim.RunUntil(sim.Now()+time.Second, nil)
	sv.noRead = false
	sv.flush(sim.Now())
	sim.RunUntil(2*time.Minute, func() bool { return sv.eof })
	if !sv.eof || sv.recvd != n || !equalHash(sv, n) {
		t.Fatalf("transfer: eof %v, %d of %d", sv.eof, sv.recvd, n)
	}
	if checks < 100 {
		t.Fatalf("only %d checks", checks)
	}
	if over != 0 {
		t.Errorf("client's connection-level edge beyond the server's buffer at %d of %d checks (by up to %d bytes)", over, checks, worst)
	}
	if v := sv.count(mptcp.MibNoDSSInWindow); v != 0 {
		t.Errorf("server dropped %d segments beyond the connection window", v)
	}
}

// TestRecvWindowLimitAllocs: the limit is computed per outgoing segment
// and must not allocate.
func TestRecvWindowLimitAllocs(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 63, Config{}, Config{}, a, b)
	cl.joinTo = 2
	cl.toSend = 1 << 20
	cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return sv.recvd > 256<<10 })
	x := (*sfExt)(sv.conns[0].subflows[0])
	if got := testing.AllocsPerRun(100, func() { _ = x.RecvWindowLimit() }); got != 0 {
		t.Fatalf("RecvWindowLimit allocates %.1f times per call", got)
	}
}
