package conn

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp/pm"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// closeLikeKernel closes our end of sf the way the Linux kernel closes a
// subflow its path manager removes (`ip mptcp endpoint delete`): a FIN on
// that subflow only, no DATA_FIN.
func closeLikeKernel(sf *Subflow) { sf.ep.CloseWrite() }

// subflowClosedEvent reports whether h saw SF_CLOSED for sf.
func subflowClosedEvent(h *host, sf *Subflow) bool {
	for _, e := range h.events {
		if e.Type == EventSubflowClosed && e.Subflow == sf {
			return true
		}
	}
	return false
}

// TestPeerClosesOneSubflow: in the middle of a transfer both ways, the
// client closes its second subflow with a FIN and no DATA_FIN (the
// kernel after `ip mptcp endpoint delete`). The server must close its
// half too (no CLOSE-WAIT until the connection ends, no FIN-WAIT-2 left
// at the client), report the subflow closed (SF_CLOSED, Subflows state
// CLOSED) and finish both streams byte-exact on the remaining subflow.
func TestPeerClosesOneSubflow(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 91, Config{}, Config{}, a, b)
	cl.joinTo = 2
	n := int64(64 << 20)
	cl.toSend, sv.toSend = n, n
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool {
		return sv.recvd > n/4 && cl.recvd > n/4 && len(c.subflows) == 2 && c.subflows[1].bytesSent > 0 &&
			len(sv.conns) == 1 && len(sv.conns[0].subflows) == 2 && sv.conns[0].subflows[1].bytesSent > 0
	})
	if len(c.subflows) != 2 || len(sv.conns) != 1 || len(sv.conns[0].subflows) != 2 {
		t.Fatal("the second subflow did not carry data in both directions")
	}
	s := sv.conns[0]
	csf, ssf := c.subflows[1], s.subflows[1]
	closeLikeKernel(csf)
	cl.flush(sim.Now())
	t0 := sim.Now()
	sim.RunUntil(t0+500*time.Millisecond, func() bool { return ssf.closed })
	if s.closing || cl.eof || sv.eof {
		t.Fatal("the transfer ended too soon: the test needs it running while the subflow closes")
	}
	if !ssf.closed || ssf.ep.State() != tcp.Closed {
		dumpConn(t, "server", s)
		t.Fatalf("server subflow %v, closed %v, 500 ms after the peer's FIN: want our half closed too", ssf.ep.State(), ssf.closed)
	}
	if !subflowClosedEvent(sv, ssf) {
		t.Error("no SF_CLOSED event for the subflow the peer closed")
	}
	if st := csf.ep.State(); st != tcp.TimeWait && st != tcp.Closed {
		t.Errorf("client subflow in %v: the peer's FIN-WAIT-2 should have ended", st)
	}
	for _, si := range s.Subflows(nil) {
		if si.Tuple == ssf.tuple && si.State == tcp.Established {
			t.Error("Subflows still lists the closed subflow as established")
		}
	}
	if s.err != nil || s.closing {
		t.Fatalf("connection ended with the subflow: err %v", s.err)
	}
	sim.RunUntil(10*time.Minute, func() bool { return sv.eof && cl.eof })
	if !sv.eof || !cl.eof || sv.recvd != n || cl.recvd != n || !equalHash(sv, n) || !equalHash(cl, n) {
		dumpConn(t, "client", c)
		dumpConn(t, "server", s)
		t.Fatalf("transfer: server eof %v %d, client eof %v %d of %d", sv.eof, sv.recvd, cl.eof, cl.recvd, n)
	}
}

// TestPeerClosesSubflowReopened: the server closes the client's joined
// subflow (FIN, no DATA_FIN); the client closes its half, reports it to
// its path manager, which opens a new subflow on the same path after its
// retry delay; that subflow carries data and both streams arrive exact.
func TestPeerClosesSubflowReopened(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 92, Config{}, Config{}, a, b)
	cl.pmCfg = &pm.Config{Endpoints: []pm.Endpoint{{ID: 1, Addr: addr(0, 1), Flags: pm.Subflow}}, Limits: pm.Limits{Subflows: 1},
		RetryBase: 300 * time.Millisecond, RetryMax: 2 * time.Second}
	n := int64(64 << 20)
	cl.toSend, sv.toSend = n, n
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool {
		return sv.recvd > n/4 && len(c.subflows) == 2 && c.subflows[1].bytesSent > 0 && len(sv.conns) == 1 && len(sv.conns[0].subflows) == 2
	})
	if len(c.subflows) != 2 || len(sv.conns) != 1 || len(sv.conns[0].subflows) != 2 {
		t.Fatal("the path manager did not open the second subflow")
	}
	s := sv.conns[0]
	csf, ssf := c.subflows[1], s.subflows[1]
	closeLikeKernel(ssf)
	sv.flush(sim.Now())
	t0 := sim.Now()
	sim.RunUntil(t0+500*time.Millisecond, func() bool { return csf.closed })
	if c.closing || cl.eof || sv.eof {
		t.Fatal("the transfer ended too soon: the test needs it running while the subflow closes")
	}
	if !csf.closed || !subflowClosedEvent(cl, csf) {
		dumpConn(t, "client", c)
		t.Fatalf("client subflow %v (closed %v) 500 ms after the peer's FIN: want it closed and reported", csf.ep.State(), csf.closed)
	}
	var fresh *Subflow
	sim.RunUntil(t0+3*time.Second, func() bool {
		for _, sf := range c.subflows {
			if sf != csf && !sf.closed && pathOf(sf.tuple.LocalAddr) == 1 && sf.bytesSent > 0 {
				fresh = sf
				return true
			}
		}
		return false
	})
	if fresh == nil {
		dumpConn(t, "client", c)
		t.Fatal("the path manager did not reopen a subflow on path 1 that carries data")
	}
	sim.RunUntil(10*time.Minute, func() bool { return sv.eof && cl.eof })
	if !sv.eof || !cl.eof || sv.recvd != n || cl.recvd != n || !equalHash(sv, n) || !equalHash(cl, n) {
		dumpConn(t, "client", c)
		dumpConn(t, "server", s)
		t.Fatalf("transfer: server eof %v %d, client eof %v %d of %d", sv.eof, sv.recvd, cl.eof, cl.recvd, n)
	}
}

// TestPeerClosesOnlySubflowKeepsConnection: a FIN without DATA_FIN on
// the only subflow does not close our half (nothing else could carry the
// connection, and the peer may join new subflows): the connection stays
// up and the subflow stays in CLOSE-WAIT.
func TestPeerClosesOnlySubflowKeepsConnection(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 93, Config{}, Config{}, a, b)
	c := cl.dial(0)
	sim.RunUntil(time.Second, func() bool { return len(sv.conns) == 1 && sv.conns[0].FullyEstablished() && c.FullyEstablished() })
	if len(sv.conns) != 1 {
		t.Fatal("no connection")
	}
	s := sv.conns[0]
	closeLikeKernel(c.subflows[0])
	cl.flush(sim.Now())
	sim.RunUntil(sim.Now()+2*time.Second, nil)
	if st := s.subflows[0].ep.State(); st != tcp.CloseWait || s.subflows[0].closed || s.err != nil || s.closing {
		t.Fatalf("server's only subflow %v (closed %v), err %v: want it left half open", st, s.subflows[0].closed, s.err)
	}
}
