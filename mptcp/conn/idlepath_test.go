package conn

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/pm"
)

// TestZeroWindowSubflowOutageReestablished reproduces the kernel interop
// failure of TestXDPMPTCPLinkDownReestablish (stack) under CPU load: the
// receiving application stalls, so the last window the peer advertised on
// the client's path 1 subflow is zero when that path goes dark. The
// window then reopens through DATA_ACKs on path 0 only. A subflow that
// kept its own last window (zero) would never be given data, so it would
// never see a retransmission timeout, never go stale, and never be reset
// and opened again: the path would stay dead after it came back. With the
// connection-level window shared by every subflow (Linux's SndWndShared)
// the idle subflow takes data, goes stale, is reset after
// Config.StaleReset, and a new subflow on path 1 carries data once the
// path is back. The server, like the kernel, never resets a stale
// subflow. Both streams arrive exact.
func TestZeroWindowSubflowOutageReestablished(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 81, Config{}, Config{StaleReset: -1}, a, b)
	sv.pmCfg = &pm.Config{Endpoints: []pm.Endpoint{{ID: 1, Addr: addr(1, 1), Flags: pm.Signal}}}
	cl.pmCfg = &pm.Config{Limits: pm.Limits{Subflows: 2, AddAddrAccepted: 2}, RetryBase: 500 * time.Millisecond, RetryMax: 2 * time.Second}
	n := int64(96 << 20)
	cl.toSend, sv.toSend = n, n
	down := false
	bh := func(p int, _ *tcpSegment) bool { return down && p == 1 }
	cl.drop, sv.drop = bh, bh
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return sv.recvd > n/8 && len(c.subflows) == 2 })
	if len(c.subflows) != 2 || c.subflows[1].bytesSent == 0 {
		t.Fatal("the announced address was not joined before the outage")
	}
	old := c.subflows[1]
	// The server's receive buffer fills for a moment (its application is
	// starved of CPU): it advertises a zero window on every subflow, and
	// the client stops once all it sent is acknowledged.
	zero := true
	sv.mangle = func(_ int, _ tcpTuple, s *tcpSegment) {
		if zero {
			s.Window = 0
		}
	}
	t0 := sim.Now()
	idle := func() bool {
		return old.ep.SendWindow() == 0 && old.ep.SndUna() == old.ep.SndNxt()
	}
	sim.RunUntil(t0+10*time.Second, idle)
	if !idle() {
		dumpConn(t, "client", c)
		t.Fatalf("path 1 subflow: window %d, unacked %d: want an idle subflow with a zero window", old.ep.SendWindow(), old.ep.SndUna().Size(old.ep.SndNxt()))
	}
	// Path 1 goes dark; the server reads again, and its window reopens
	// through path 0 only.
	zero = false
	down = true
	t1 := sim.Now()
	sim.RunUntil(t1+6*time.Second, nil)
	if !old.closed {
		dumpConn(t, "client", c)
		t.Fatalf("the black-holed subflow with a zero window is still open 6 s later (stale %v, window %d, unacked %d, SubflowStale %d)",
			old.stale, old.ep.SendWindow(), old.ep.SndUna().Size(old.ep.SndNxt()), cl.count(mptcp.MibSubflowStale))
	}
	if cl.count(mptcp.MibSubflowStale) == 0 || cl.count(mptcp.MibMPRstTx) == 0 {
		t.Errorf("stale %d, MP_TCPRST sent %d: want the stale subflow reset", cl.count(mptcp.MibSubflowStale), cl.count(mptcp.MibMPRstTx))
	}
	down = false
	sim.RunUntil(10*time.Minute, func() bool { return sv.eof && cl.eof })
	if !sv.eof || !cl.eof || sv.recvd != n || cl.recvd != n || !equalHash(sv, n) || !equalHash(cl, n) {
		t.Fatalf("transfer: server eof %v %d, client eof %v %d of %d", sv.eof, sv.recvd, cl.eof, cl.recvd, n)
	}
	var fresh *Subflow
	for _, sf := range c.subflows {
		if sf != old && pathOf(sf.tuple.LocalAddr) == 1 {
			fresh = sf
		}
	}
	if fresh == nil || fresh.bytesSent == 0 {
		dumpConn(t, "client", c)
		t.Fatalf("no new subflow on path 1 carried data after the outage (joins sent %d)", cl.count(mptcp.MibMPJoinSynTx))
	}
}
