package conn

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/simnet"
	"github.com/mpxdp/mpxdp/mptcp"
)

// twoPaths returns two paths of 100 Mbit/s with 5 and 8 ms one-way delay.
func twoPaths() (simnet.LinkConfig, simnet.LinkConfig) {
	a := simnet.LinkConfig{Bandwidth: 100e6, Delay: 5 * time.Millisecond, QueueBytes: 256 << 10}
	b := a
	b.Delay = 8 * time.Millisecond
	return a, b
}

func bulkSize() int64 {
	if testing.Short() {
		return 8 << 20
	}
	return 20 << 20
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
// the middle of the transfer, then restores it: the data goes on over path
// 0, and path 1 carries data again afterwards.
func TestTransferPathFailsAndReturns(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 13, Config{}, Config{}, a, b)
	cl.joinTo = 2
	n := bulkSize()
	var down bool
	var sentAtUp uint64
	blackhole := func(path int, _ *tcpSegment) bool { return down && path == 1 }
	cl.drop, sv.drop = blackhole, blackhole
	cl.toSend = n
	cl.dial(0)
	sim.RunUntil(5*time.Minute, func() bool { return sv.recvd > n/4 })
	down = true
	t0 := sim.Now()
	sim.RunUntil(t0+3*time.Second, nil)
	if sv.eof {
		t.Fatal("transfer ended while the path was down: make it longer")
	}
	atDown := sv.recvd
	down = false
	c := cl.conns[0]
	sentAtUp = c.subflows[len(c.subflows)-1].bytesSent
	sim.RunUntil(5*time.Minute, func() bool { return sv.eof && cl.eof })
	if !sv.eof || sv.recvd != n {
		t.Fatalf("transfer incomplete: read %d of %d", sv.recvd, n)
	}
	if !equalHash(sv, n) {
		t.Fatal("SHA-256 differs")
	}
	if atDown <= n/4 {
		t.Errorf("no progress over path 0 while path 1 was down (%d bytes read)", atDown)
	}
	if cl.count(mptcp.MibSubflowStale) == 0 {
		t.Error("SubflowStale not counted")
	}
	last := c.subflows[len(c.subflows)-1]
	if last.bytesSent <= sentAtUp || pathOf(last.tuple.LocalAddr) != 1 {
		t.Errorf("path 1 carried no data after it came back")
	}
	t.Logf("done at %v; stale %d recover %d", sv.doneAt, cl.count(mptcp.MibSubflowStale), cl.count(mptcp.MibSubflowRecover))
}
