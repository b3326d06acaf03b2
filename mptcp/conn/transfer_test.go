package conn

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/simnet"
	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/pm"
)

// twoPaths returns two paths of 100 Mbit/s with 5 and 8 ms one-way delay.
func twoPaths() (simnet.LinkConfig, simnet.LinkConfig) {
	a := simnet.LinkConfig{Bandwidth: 100e6, Delay: 5 * time.Millisecond, QueueBytes: 256 << 10}
	b := a
	b.Delay = 8 * time.Millisecond
	return a, b
}

// bulkSize is the size of the long transfers: 100 MB, or 20 MB with -short.
func bulkSize() int64 {
	if testing.Short() {
		return 20 << 20
	}
	return 100 << 20
}

func TestTransferTwoSubflowsNoLoss(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 10, Config{}, Config{}, a, b)
	cl.joinTo = 2
	n := bulkSize()
	transfer(t, sim, cl, sv, n, 5*time.Minute)
	c := cl.conns[0]
	for i, sf := range c.subflows {
		if sf.bytesSent < uint64(n)/5 {
			t.Errorf("subflow %d carried %d of %d bytes: both paths should be used", i, sf.bytesSent, n)
		}
	}
	secs := sv.doneAt.Seconds()
	t.Logf("%d MiB in %.2fs virtual: %.0f Mbit/s over 2x100 Mbit/s", n>>20, secs, float64(n)*8/secs/1e6)
}

func TestTransferLossOnOnePath(t *testing.T) {
	a, b := twoPaths()
	b.Loss = 0.02
	sim, cl, sv := pair(t, 11, Config{}, Config{}, a, b)
	cl.joinTo = 2
	n := bulkSize()
	transfer(t, sim, cl, sv, n, 5*time.Minute)
	lost := sim
	_ = lost
	if cl.out[1].Stats().Lost == 0 {
		t.Fatal("no packet was lost on path 1: the test does not test loss")
	}
	st := cl.out[1].Stats()
	t.Logf("%d MiB in %v; path 1 lost %d of %d packets; subflow bytes %d / %d", n>>20, sv.doneAt, st.Lost, st.Sent, cl.conns[0].subflows[0].bytesSent, cl.conns[0].subflows[1].bytesSent)
}

func TestTransferChecksums(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 12, Config{Checksum: true}, Config{}, a, b)
	cl.joinTo = 2
	transfer(t, sim, cl, sv, bulkSize()/2, 5*time.Minute)
	if !cl.conns[0].Checksums() || !sv.conns[0].Checksums() {
		t.Fatalf("checksums in use: client %v server %v, want both", cl.conns[0].Checksums(), sv.conns[0].Checksums())
	}
	if e := sv.count(mptcp.MibDataCsumErr); e != 0 {
		t.Fatalf("DataCsumErr = %d on an uncorrupted transfer", e)
	}
}

// TestTransferPathFailsAndReturns blackholes path 1 in both directions in
// the middle of the transfer long enough for its subflow to time out, then
// restores it: the data goes on over path 0, the path manager keeps
// retrying the subflow with back-off, and a new subflow on path 1 carries
// data once the path is back.
func TestTransferPathFailsAndReturns(t *testing.T) {
	a, b := twoPaths()
	a.Bandwidth, b.Bandwidth = 20e6, 20e6
	ccfg := Config{}
	ccfg.TCP.MaxRetries = 4
	ccfg.TCP.SYNRetries = 2
	sim, cl, sv := pair(t, 13, ccfg, Config{}, a, b)
	cl.pmCfg = &pm.Config{Endpoints: []pm.Endpoint{{ID: 1, Addr: addr(0, 1), Flags: pm.Subflow}}, Limits: pm.Limits{Subflows: 1},
		RetryBase: 500 * time.Millisecond, RetryMax: 4 * time.Second}
	n := int64(100 << 20)
	var down bool
	blackhole := func(path int, _ *tcpSegment) bool { return down && path == 1 }
	cl.drop, sv.drop = blackhole, blackhole
	cl.toSend = n
	c := cl.dial(0)
	sim.RunUntil(5*time.Minute, func() bool { return sv.recvd > n/8 })
	if len(c.subflows) != 2 || !c.subflows[1].dataReady() {
		t.Fatalf("the path manager did not open the second subflow (%d subflows)", len(c.subflows))
	}
	down = true
	t0 := sim.Now()
	sim.RunUntil(t0+12*time.Second, nil)
	if sv.eof {
		t.Fatal("transfer ended while the path was down: make it longer")
	}
	atDown := sv.recvd
	joinsDuring := cl.count(mptcp.MibMPJoinSynTx)
	down = false
	sim.RunUntil(10*time.Minute, func() bool { return sv.eof && cl.eof })
	if !sv.eof || sv.recvd != n {
		t.Fatalf("transfer incomplete: read %d of %d", sv.recvd, n)
	}
	if !equalHash(sv, n) {
		t.Fatal("SHA-256 differs")
	}
	if atDown <= n/8+1<<20 {
		t.Errorf("little progress over path 0 while path 1 was down (%d bytes read)", atDown)
	}
	if cl.count(mptcp.MibSubflowStale) == 0 {
		t.Error("SubflowStale not counted")
	}
	if joinsDuring < 2 {
		t.Errorf("only %d MP_JOIN SYNs by the end of the outage: the path manager did not retry", joinsDuring)
	}
	var back *Subflow
	for _, sf := range c.subflows[2:] {
		if pathOf(sf.tuple.LocalAddr) == 1 && sf.established && sf.bytesSent > 0 {
			back = sf
		}
	}
	if back == nil {
		t.Fatalf("no new subflow on path 1 carried data after the path came back (%d subflows)", len(c.subflows))
	}
	t.Logf("done at %v; joins %d; new subflow sent %d bytes", sv.doneAt, cl.count(mptcp.MibMPJoinSynTx), back.bytesSent)
}

// TestAnnouncedAddress: the server announces its path-1 address (signal
// endpoint); the client accepts it and joins it.
func TestAnnouncedAddress(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 14, Config{}, Config{}, a, b)
	sv.pmCfg = &pm.Config{Endpoints: []pm.Endpoint{{ID: 1, Addr: addr(1, 1), Flags: pm.Signal}}}
	cl.pmCfg = &pm.Config{Limits: pm.Limits{Subflows: 2, AddAddrAccepted: 1}}
	transfer(t, sim, cl, sv, 8<<20, time.Minute)
	c := cl.conns[0]
	if sv.count(mptcp.MibAddAddrTx) != 1 || cl.count(mptcp.MibAddAddr) != 1 || sv.count(mptcp.MibEchoAdd) != 1 {
		t.Fatalf("AddAddrTx %d AddAddr %d EchoAdd %d", sv.count(mptcp.MibAddAddrTx), cl.count(mptcp.MibAddAddr), sv.count(mptcp.MibEchoAdd))
	}
	if len(c.subflows) != 2 || c.subflows[1].tuple.RemoteAddr != addr(1, 1) || c.subflows[1].bytesSent == 0 {
		t.Fatalf("client did not join the announced address")
	}
	if c.subflows[1].remoteID != 1 || sv.conns[0].subflows[1].localID != 1 {
		t.Errorf("address ids: client sees remote id %d, server local id %d; want 1", c.subflows[1].remoteID, sv.conns[0].subflows[1].localID)
	}
	if !cl.hasEvent(EventAnnounced) {
		t.Error("no ANNOUNCED event")
	}
}

// TestWithdrawAddress: the server withdraws the address it announced; the
// client closes its subflow to it and the transfer finishes on the other.
func TestWithdrawAddress(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 16, Config{}, Config{}, a, b)
	sv.pmCfg = &pm.Config{Endpoints: []pm.Endpoint{{ID: 1, Addr: addr(1, 1), Flags: pm.Signal}}}
	cl.pmCfg = &pm.Config{Limits: pm.Limits{Subflows: 2, AddAddrAccepted: 1}}
	n := int64(32 << 20)
	cl.toSend = n
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return len(c.subflows) == 2 && c.subflows[1].bytesSent > 1<<20 })
	s := sv.conns[0]
	if !s.Withdraw(1) {
		t.Fatal("Withdraw refused")
	}
	sv.flush(sim.Now())
	sim.RunUntil(2*time.Minute, func() bool { return sv.eof })
	if !sv.eof || sv.recvd != n || !equalHash(sv, n) {
		t.Fatalf("transfer: eof %v, %d of %d", sv.eof, sv.recvd, n)
	}
	if !c.subflows[1].closed || sv.count(mptcp.MibRmAddrTx) != 1 || cl.count(mptcp.MibRmAddr) != 1 {
		t.Fatalf("subflow 1 closed %v, RmAddrTx %d, RmAddr %d", c.subflows[1].closed, sv.count(mptcp.MibRmAddrTx), cl.count(mptcp.MibRmAddr))
	}
	if !cl.hasEvent(EventRemoved) || !cl.hasEvent(EventSubflowClosed) {
		t.Error("REMOVED / SF_CLOSED events missing")
	}
}

// TestTransferHostileLinks: loss, reordering, duplication and jitter on
// both paths, in both directions, with checksums on one run and off on
// the other; the stream must arrive exact.
func TestTransferHostileLinks(t *testing.T) {
	for _, csum := range []bool{false, true} {
		a, b := twoPaths()
		for _, l := range []*simnet.LinkConfig{&a, &b} {
			l.Loss, l.Reorder, l.ReorderDelay, l.Duplicate, l.Jitter = 0.01, 0.02, 3*time.Millisecond, 0.01, 500*time.Microsecond
		}
		sim, cl, sv := pair(t, 15, Config{Checksum: csum}, Config{}, a, b)
		cl.joinTo = 2
		sv.toSend = 2 << 20
		transfer(t, sim, cl, sv, 8<<20, 5*time.Minute)
		sim.RunUntil(10*time.Minute, func() bool { return cl.eof })
		if !cl.eof || cl.recvd != 2<<20 || !equalHash(cl, 2<<20) {
			t.Fatalf("checksums %v: server->client stream: eof %v %d bytes", csum, cl.eof, cl.recvd)
		}
		st := cl.out[0].Stats()
		if st.Duplicated == 0 || st.Reordered == 0 || st.Lost == 0 {
			t.Fatalf("link impairments not exercised: %+v", st)
		}
	}
}

// TestTransferFourPaths: four 25 Mbit/s paths with different delays, all
// used; the aggregate goodput is well above one path's.
func TestTransferFourPaths(t *testing.T) {
	var paths []simnet.LinkConfig
	for i := range 4 {
		paths = append(paths, simnet.LinkConfig{Bandwidth: 25e6, Delay: time.Duration(3+3*i) * time.Millisecond, QueueBytes: 128 << 10})
	}
	sim, cl, sv := pair(t, 17, Config{CC: "olia"}, Config{CC: "olia"}, paths...)
	cl.joinTo = 4
	n := bulkSize() / 2
	transfer(t, sim, cl, sv, n, 5*time.Minute)
	c := cl.conns[0]
	if len(c.subflows) != 4 {
		t.Fatalf("%d subflows, want 4", len(c.subflows))
	}
	for i, sf := range c.subflows {
		if sf.bytesSent < uint64(n)/10 {
			t.Errorf("subflow %d carried %d of %d bytes", i, sf.bytesSent, n)
		}
	}
	mbps := float64(n) * 8 / sv.doneAt.Seconds() / 1e6
	if mbps < 50 {
		t.Errorf("goodput %.0f Mbit/s over 4x25 Mbit/s", mbps)
	}
	t.Logf("%d MiB over 4 paths: %.0f Mbit/s", n>>20, mbps)
}

// TestSlowReader: the server application stops reading for two seconds,
// so the connection-level window closes, then reads again; no subflow is
// reset, no data is sent beyond the connection window, and the stream is
// exact.
func TestSlowReader(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 18, Config{}, Config{RecvBufSize: 1 << 20}, a, b)
	cl.joinTo = 2
	n := int64(24 << 20)
	cl.toSend = n
	cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return sv.recvd > 4<<20 })
	sv.noRead = true
	sim.RunUntil(sim.Now()+2*time.Second, nil)
	if r := sv.conns[0].Readable(); r < 512<<10 {
		t.Fatalf("only %d bytes buffered while the reader slept", r)
	}
	sv.noRead = false
	sv.flush(sim.Now())
	sim.RunUntil(5*time.Minute, func() bool { return sv.eof })
	if !sv.eof || sv.recvd != n || !equalHash(sv, n) {
		t.Fatalf("transfer: eof %v, %d of %d", sv.eof, sv.recvd, n)
	}
	// The subflows' windows and DATA_ACKs keep the client within the
	// connection-level window: nothing arrives beyond it to be dropped
	// (NoDSSInWindow), although the reader stopped with data in flight.
	for _, c := range []mptcp.Counter{mptcp.MibDSSCorruptionReset, mptcp.MibDSSNoMatchTCP, mptcp.MibNoDSSInWindow} {
		if v := sv.count(c); v != 0 {
			t.Errorf("server %v = %d", c, v)
		}
	}
}

// TestReaderPauseWithLostACKs: the reader pauses until the window is
// full, and the first ACKs after it resumes are lost: the transfer still
// completes (through the subflows' window probes, the connection-level
// probe or reinjection, whichever comes first).
func TestReaderPauseWithLostACKs(t *testing.T) {
	a, _ := twoPaths()
	sim, cl, sv := pair(t, 19, Config{}, Config{RecvBufSize: 256 << 10}, a)
	n := int64(4 << 20)
	cl.toSend = n
	cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return sv.recvd > 1<<20 })
	sv.noRead = true
	sim.RunUntil(sim.Now()+2*time.Second, nil)
	dropACKs := true
	cl.drop = func(_ int, s *tcpSegment) bool { return dropACKs && len(s.Payload) == 0 }
	sv.noRead = false
	sv.flush(sim.Now())
	sim.RunUntil(sim.Now()+100*time.Millisecond, nil)
	dropACKs = false
	sim.RunUntil(5*time.Minute, func() bool { return sv.eof })
	if !sv.eof || sv.recvd != n || !equalHash(sv, n) {
		t.Fatalf("transfer: eof %v, %d of %d", sv.eof, sv.recvd, n)
	}
}
