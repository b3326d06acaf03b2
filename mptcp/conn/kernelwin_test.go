package conn

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/pm"
)

// The tests in this file play Linux's part on the receiving side
// (host.strict): data that becomes in order on its subflow but lies out of
// order at the connection level beyond the highest DATA_ACK plus window the
// receiver sent is dropped after the subflow acknowledged it, and counted
// as NoDSSInWindow, as net/mptcp does. The sender's rules must keep such
// drops from happening, and recover fast when they happen anyway.

// TestSenderStaysWithinAdvertisedWindow: over two paths, with small and
// large receive buffers, loss, a slow reader and a path that turns into a
// black hole, no data ever lands beyond the window the receiver advertised
// (no NoDSSInWindow at the strict receiver) and the stream arrives exact.
func TestSenderStaysWithinAdvertisedWindow(t *testing.T) {
	for _, tc := range []struct {
		name      string
		loss      float64
		buf       int
		blackhole bool
		slowRead  bool
	}{
		{name: "plain"},
		{name: "small-buffer", buf: 256 << 10},
		{name: "loss", loss: 0.02, buf: 256 << 10},
		{name: "loss-4MiB", loss: 0.02},
		{name: "slow-reader", buf: 256 << 10, slowRead: true},
		{name: "blackhole", blackhole: true},
		{name: "blackhole-small-buffer", buf: 256 << 10, blackhole: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := twoPaths()
			b.Loss = tc.loss
			sim, cl, sv := pair(t, 70, Config{}, Config{RecvBufSize: tc.buf}, a, b)
			sv.strict = true
			cl.joinTo = 2
			n := int64(12 << 20)
			down := false
			bh := func(p int, _ *tcpSegment) bool { return down && p == 1 }
			cl.drop, sv.drop = bh, bh
			if tc.slowRead {
				// The reader wakes up every 50 ms (virtual).
				next := time.Duration(0)
				sv.app2 = func() {
					sv.noRead = sim.Now() < next
					if !sv.noRead {
						next = sim.Now() + 50*time.Millisecond
					}
				}
			}
			cl.toSend = n
			cl.dial(0)
			if tc.blackhole {
				sim.RunUntil(time.Minute, func() bool { return sv.recvd > n/4 })
				down = true
			}
			sim.RunUntil(5*time.Minute, func() bool { return sv.eof && cl.eof })
			if !sv.eof || sv.recvd != n || !equalHash(sv, n) {
				dumpConn(t, "client", cl.conns[0])
				dumpConn(t, "server", sv.conns[0])
				t.Fatalf("transfer: eof %v, %d of %d bytes", sv.eof, sv.recvd, n)
			}
			if d := sv.count(mptcp.MibNoDSSInWindow); d != 0 {
				t.Errorf("the receiver dropped %d times data beyond the window it advertised (NoDSSInWindow)", d)
			}
			if len(cl.conns[0].subflows) != 2 || cl.conns[0].subflows[1].bytesSent == 0 {
				t.Errorf("the second subflow carried no data: the test does not test two paths")
			}
			t.Logf("%v virtual; MPTCPRetrans %d, stale %d", sv.doneAt, cl.count(mptcp.MibMPTCPRetrans), cl.count(mptcp.MibSubflowStale))
		})
	}
}

// TestBlackholeWithFullReceiveBuffer: path 1 turns into a black hole for
// good while the receiver's 4 MiB buffer fills with data above the hole it
// leaves. The hole is reinjected on path 0, whose subflow window must not
// be closed by the data queued above the hole (a subflow's window counts
// from DATA_ACK, as Linux's does): the transfer completes soon.
func TestBlackholeWithFullReceiveBuffer(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 71, Config{}, Config{}, a, b)
	cl.joinTo = 2
	n := int64(16 << 20)
	down := false
	bh := func(p int, _ *tcpSegment) bool { return down && p == 1 }
	cl.drop, sv.drop = bh, bh
	cl.toSend = n
	cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return sv.recvd > n/4 })
	down = true
	t0 := sim.Now()
	sim.RunUntil(t0+20*time.Second, func() bool { return sv.eof })
	if !sv.eof || sv.recvd != n || !equalHash(sv, n) {
		dumpConn(t, "client", cl.conns[0])
		dumpConn(t, "server", sv.conns[0])
		t.Fatalf("transfer stuck %v after path 1 went dark: %d of %d bytes", sim.Now()-t0, sv.recvd, n)
	}
	// 12 MiB at 100 Mbit/s take 1 s; stale detection and reinjection
	// take about another second.
	if d := sv.doneAt - t0; d > 4*time.Second {
		t.Errorf("the rest of the transfer took %v after path 1 went dark, want under 4 s", d)
	}
	t.Logf("done %v after path 1 went dark", sv.doneAt-t0)
}

// hasDataAck reports whether s carries a DSS with a DATA_ACK.
func hasDataAck(s *tcpSegment) bool {
	var r mptcp.Received
	_ = mptcp.ParseTCPOptions(s.Options.Ext, &r)
	return r.Present.Has(mptcp.SubtypeDSS) && r.DSS.HasAck
}

// TestInOrderOnInitialSubflowUntilDataAck: the server sends; every
// DATA_ACK the client sends is lost for the first 300 ms while the
// client's second subflow is up. Until a DATA_ACK arrives the peer has not
// advertised a connection-level window, so new data must stay in order on
// the initial subflow: the second subflow carries nothing before it.
func TestInOrderOnInitialSubflowUntilDataAck(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 72, Config{}, Config{}, a, b)
	cl.joinTo = 2
	const blind = 300 * time.Millisecond
	sv.drop = func(_ int, s *tcpSegment) bool { return sim.Now() < blind && hasDataAck(s) }
	n := int64(4 << 20)
	sv.toSend = n
	cl.dial(0)
	var joinReady bool
	sim.RunUntil(blind-time.Millisecond, func() bool {
		if len(sv.conns) > 0 {
			c := sv.conns[0]
			if len(c.subflows) == 2 && c.subflows[1].dataReady() {
				joinReady = true
			}
		}
		return false
	})
	c := sv.conns[0]
	if c.gotDataAck {
		t.Fatal("the server saw a DATA_ACK during the blind period: the test does not test the rule")
	}
	if !joinReady {
		t.Fatal("the second subflow never became ready during the blind period: the test does not test the rule")
	}
	if c.subflows[0].bytesSent == 0 {
		t.Fatal("the initial subflow sent nothing before the first DATA_ACK")
	}
	if s := c.subflows[1].bytesSent; s != 0 {
		t.Errorf("the second subflow sent %d bytes before the first DATA_ACK, want 0", s)
	}
	for _, m := range c.subflows[0].tx {
		if m.dsn+uint64(m.n) > c.rwndEnd {
			t.Errorf("mapping [%d, %d) beyond the initial subflow's window edge %d", m.dsn, m.dsn+uint64(m.n), c.rwndEnd)
		}
	}
	sim.RunUntil(time.Minute, func() bool { return cl.eof })
	if !cl.eof || cl.recvd != n || !equalHash(cl, n) {
		t.Fatalf("transfer after the blind period: eof %v, %d of %d", cl.eof, cl.recvd, n)
	}
	if c.subflows[1].bytesSent == 0 {
		t.Error("the second subflow carried nothing after the first DATA_ACK")
	}
}

// TestJoinDoesNotWidenWindow: a subflow that joins does not move the
// connection-level edge: only a DATA_ACK plus its window does.
func TestJoinDoesNotWidenWindow(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 73, Config{}, Config{RecvBufSize: 64 << 10}, a, b)
	cl.joinTo = 2
	cl.toSend = 1 << 20
	sv.noRead = true // the window closes and stays closed
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return len(c.subflows) == 2 && c.subflows[1].dataReady() && c.sndNxt >= c.rwndEnd })
	if len(c.subflows) != 2 || !c.subflows[1].dataReady() {
		t.Fatal("no second subflow")
	}
	edge := c.rwndEnd
	sim.RunUntil(sim.Now()+100*time.Millisecond, nil)
	// A new join with a large window of its own.
	sf, err := cl.join(c, 1, sim.Now())
	if err != nil {
		t.Fatal(err)
	}
	cl.flush(sim.Now())
	sim.RunUntil(sim.Now()+time.Second, func() bool { return sf.dataReady() })
	if !sf.dataReady() {
		t.Fatal("the third subflow did not come up")
	}
	if c.rwndEnd > edge+1 { // +1: a window probe
		t.Errorf("the connection-level edge moved from %d to %d with no new window from the receiver", edge, c.rwndEnd)
	}
	if c.sndNxt > c.rwndEnd {
		t.Errorf("sndNxt %d beyond the edge %d", c.sndNxt, c.rwndEnd)
	}
}

// TestOrphanReinjectedPromptly: the sender oversteps the window once (its
// edge is pushed 512 KiB too far, as if it had misread the peer), so the
// strict receiver acknowledges data on the subflows and drops it at the
// data level. The sender notices that the subflows' ACKs moved on while
// DATA_ACK did not and no subflow still holds the missing data, and
// reinjects it after about two round trips instead of the data-level
// timeout.
func TestOrphanReinjectedPromptly(t *testing.T) {
	with, n1 := orphanStall(t, false)
	without, n2 := orphanStall(t, true)
	t.Logf("stall with orphan reinjection %v (%d), without %v (%d)", with, n1, without, n2)
	if n1 == 0 {
		t.Error("no orphan reinjection")
	}
	if n2 != 0 {
		t.Error("orphan reinjections while turned off")
	}
	if with >= without {
		t.Errorf("the dropped data took %v to arrive with orphan reinjection, %v without: want sooner", with, without)
	}
}

// orphanStall runs the scenario of TestOrphanReinjectedPromptly and
// returns how long after the first drop the data sent by then was all
// delivered, and how many orphan reinjections there were.
func orphanStall(t *testing.T, off bool) (time.Duration, uint64) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 74, Config{}, Config{RecvBufSize: 256 << 10}, a, b)
	sv.strict = true
	cl.joinTo = 2
	n := int64(8 << 20)
	cl.toSend = n
	pushed := false
	var resume time.Duration
	var dropAt time.Duration
	var dropEnd uint64
	var stall time.Duration
	sv.app2 = func() {
		if sv.noRead && sim.Now() >= resume {
			sv.noRead = false
		}
	}
	cl.app2 = func() {
		if len(cl.conns) == 0 || len(sv.conns) == 0 {
			return
		}
		c, s := cl.conns[0], sv.conns[0]
		if !pushed && c.gotDataAck && len(c.subflows) == 2 && c.subflows[1].dataReady() && c.sndNxt > 2<<20 {
			pushed = true
			c.rwndEnd += 512 << 10
			// The reader pauses, so the advertised edge stays put.
			sv.noRead = true
			resume = sim.Now() + 100*time.Millisecond
			sim.Schedule(resume, sv, 0) // the reader wakes up then
		}
		if dropAt == 0 && sv.count(mptcp.MibNoDSSInWindow) > 0 {
			dropAt, dropEnd = sim.Now(), c.sndNxt
		}
		if dropAt != 0 && stall == 0 && s.rcv.nxt >= dropEnd {
			stall = sim.Now() - dropAt
		}
	}
	c := cl.dial(0)
	c.noOrphans = off
	sim.RunUntil(time.Minute, func() bool { return sv.eof && cl.eof })
	if !sv.eof || sv.recvd != n || !equalHash(sv, n) {
		dumpConn(t, "client", cl.conns[0])
		dumpConn(t, "server", sv.conns[0])
		t.Logf("server clip [%d, %d) limit %d", sv.conns[0].rcv.clipLo, sv.conns[0].rcv.clipHi, sv.conns[0].rcv.limit())
		t.Fatalf("transfer: eof %v, %d of %d, hash equal %v", sv.eof, sv.recvd, n, equalHash(sv, n))
	}
	if dropAt == 0 || stall == 0 {
		t.Fatalf("drop at %v, stall %v: the receiver dropped nothing, the test does not test orphans", dropAt, stall)
	}
	return stall, c.orphanReinj
}

// TestDataLevelBackoffCapped: however many data-level timeouts fired in a
// row, the next one is at most 2 s away (or the base timeout, when twice a
// subflow's RTO is longer).
func TestDataLevelBackoffCapped(t *testing.T) {
	sim, cl, sv := pair(t, 75, Config{}, Config{}, fastPath)
	cl.toSend = 1 << 20
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return c.gotDataAck })
	base := c.connRTO()
	for shift := uint(0); shift <= 10; shift++ {
		c.rtoShift = shift
		got := c.connRTO()
		if got > max(base, 2*time.Second) {
			t.Errorf("shift %d: data-level timeout %v, want at most max(%v, 2s)", shift, got, base)
		}
		if shift <= maxConnRTOShift && got < min(base<<shift, 2*time.Second) {
			t.Errorf("shift %d: data-level timeout %v, want the back-off %v", shift, got, min(base<<shift, 2*time.Second))
		}
	}
	// Timeouts in a row (nothing delivered) stop backing off at the cap.
	c.rtoShift = 0
	for _, sf := range c.subflows {
		sf.stale = true // only the data-level timer: RTO base 200 ms
	}
	sv.drop = func(int, *tcpSegment) bool { return true }
	cl.drop = sv.drop
	for i := 0; i < 10; i++ {
		c.runTimers(c.rtoAt)
	}
	if c.rtoShift > maxConnRTOShift {
		t.Errorf("rtoShift %d after 10 timeouts, want at most %d", c.rtoShift, maxConnRTOShift)
	}
}

// TestStaleSubflowResetAndRejoined: the client joins the server's
// announced address; during a transfer both ways that path turns into a
// black hole for 6 s. Its subflow goes stale, is reset after
// Config.StaleReset (it would otherwise wait out its retransmission
// limit), the path manager retries with back-off, and a new subflow on the
// path carries data once it is back. Both streams arrive exact.
func TestStaleSubflowResetAndRejoined(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 80, Config{}, Config{}, a, b)
	sv.pmCfg = &pm.Config{Endpoints: []pm.Endpoint{{ID: 1, Addr: addr(1, 1), Flags: pm.Signal}}}
	cl.pmCfg = &pm.Config{Limits: pm.Limits{Subflows: 2, AddAddrAccepted: 2}, RetryBase: 500 * time.Millisecond, RetryMax: 2 * time.Second}
	n := int64(128 << 20)
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
	down = true
	t0 := sim.Now()
	sim.RunUntil(t0+6*time.Second, nil)
	if !old.closed {
		t.Fatalf("the black-holed subflow is still open 6 s later (stale %v)", old.stale)
	}
	if c.cfg.StaleReset != 3*time.Second || cl.count(mptcp.MibSubflowStale) == 0 || cl.count(mptcp.MibMPRstTx) == 0 {
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
	if j := cl.count(mptcp.MibMPJoinSynTx); j < 2 {
		t.Errorf("MPJoinSynTx %d, want at least 2", j)
	}
}
