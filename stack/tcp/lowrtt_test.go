package tcp

import (
	"bytes"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/simnet"
)

// oneWay sends size bytes from A to B only (B sends nothing back but
// ACKs), closes, checks the stream by SHA-256, and returns the pair and the
// virtual time from A's establishment until B read the end of the
// stream, and the RTOs A had after establishment.
func oneWay(t testing.TB, seed uint64, size int64, link simnet.LinkConfig, bound time.Duration) (p *pair, elapsed time.Duration, rtos uint64) {
	t.Helper()
	p = newPair(t, seed, link, baseConfig(0xfc000000), baseConfig(0x10000))
	p.a.toSend, p.a.closeWhenDone = size, true
	p.b.closeWhenDone = true
	p.start()
	// The clock starts when A is established: a lost SYN costs the
	// initial RTO (1 s), which is not what these tests measure.
	if !p.run(10*time.Second, func() bool { return p.a.ep.State() == Established }) {
		t.Fatalf("no connection: A %v", p.a.ep.State())
	}
	t0, rtos0 := p.sim.Now(), p.a.ep.Counters().RTOs
	ok := p.run(t0+bound+10*time.Second, func() bool { return p.b.doneAt != 0 })
	if !ok || p.b.recvd != size {
		t.Fatalf("transfer did not finish: B recvd %d/%d at %v, A %v err %v\nA %+v", p.b.recvd, size, p.sim.Now(),
			p.a.ep.State(), p.a.ep.Err(), p.a.ep.Counters())
	}
	if !bytes.Equal(p.a.sendHash.Sum(nil), p.b.recvHash.Sum(nil)) {
		t.Fatal("SHA-256 of the received stream differs from the sent one")
	}
	return p, p.b.doneAt - t0, p.a.ep.Counters().RTOs - rtos0
}

// TestLowRTTBidirectionalLoss is the datacenter case: 100 µs RTT, 10
// Gbit/s, 2% random loss on data and on ACKs. A 200 ms RTO is 2000 RTTs
// here, so goodput depends on repairing every loss (lost retransmissions
// and tails included) without one: the bound is twice the Mathis model's
// time for the measured RTT.
func TestLowRTTBidirectionalLoss(t *testing.T) {
	const bw = 10_000_000_000
	const delay = 50 * time.Microsecond
	size := int64(64 << 20)
	link := simnet.LinkConfig{Bandwidth: bw, Delay: delay, Loss: 0.02, QueueBytes: 1 << 20}
	bound := 2 * mathisTime(size, bw, 2*delay, 0.02)
	var rtos uint64
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6} {
		p, elapsed, r := oneWay(t, seed, size, link, bound)
		rtos += r
		c := p.a.ep.Counters()
		info := p.a.ep.Info()
		t.Logf("seed %d: %d MiB in %v virtual (%.2f Gbit/s; Mathis %v); RTOs %d; retrans %d fastrec %d relost %d tlp %d/%d; srtt %v minrtt %v; lost %d/%d",
			seed, size>>20, elapsed, float64(size*8)/elapsed.Seconds()/1e9, mathisTime(size, bw, 2*delay, 0.02), r,
			c.RetransSegs, c.FastRetransmits, c.LostRetransmits, c.TailLossProbes, c.TLPRecoveries,
			info.SRTT, info.MinRTT, p.ab.Stats().Lost, p.ba.Stats().Lost)
		if elapsed > bound {
			t.Errorf("seed %d: took %v virtual, bound %v (2x Mathis)", seed, elapsed, bound)
		}
		// No reordering on this link: every retransmission but a probe
		// (or an RTO's go-back-N) repairs a real loss. A spurious one
		// would also come back as a D-SACK and fake reordering.
		if spurious := int64(c.RetransSegs) - int64(p.ab.Stats().Lost) - int64(c.TailLossProbes) - 100*int64(r); spurious > 0 {
			t.Errorf("seed %d: %d retransmissions for %d lost segments (%d probes): %d spurious", seed, c.RetransSegs, p.ab.Stats().Lost, c.TailLossProbes, spurious)
		}
	}
	// About 2800 data segments and 2700 ACKs are lost per run: RACK, TLP
	// and lost-retransmission detection repair them all without a timeout
	// on these seeds. Allow one in all for the rare case where a whole
	// flight and its probe are lost.
	if rtos > 1 {
		t.Errorf("%d RTOs after establishment in 6 transfers, want at most 1", rtos)
	}
}

// TestLowRTTHeavyLoss is the same path at 5% loss both ways: windows of
// a few segments, where a lost retransmission plus a lost segment after it
// used to stall recovery until the RTO (probes in recovery repair it). The
// bound is 2x the Mathis model; RTOs stay rare.
func TestLowRTTHeavyLoss(t *testing.T) {
	const bw = 10_000_000_000
	const delay = 50 * time.Microsecond
	size := int64(32 << 20)
	link := simnet.LinkConfig{Bandwidth: bw, Delay: delay, Loss: 0.05, QueueBytes: 1 << 20}
	bound := 2 * mathisTime(size, bw, 2*delay, 0.05)
	var rtos uint64
	for _, seed := range []uint64{1, 2, 3} {
		p, elapsed, r := oneWay(t, seed, size, link, bound)
		rtos += r
		c := p.a.ep.Counters()
		t.Logf("seed %d: %d MiB in %v virtual (%.2f Gbit/s; Mathis %v); RTOs %d; retrans %d (lost %d/%d) tlp %d",
			seed, size>>20, elapsed, float64(size*8)/elapsed.Seconds()/1e9, mathisTime(size, bw, 2*delay, 0.05), r,
			c.RetransSegs, p.ab.Stats().Lost, p.ba.Stats().Lost, c.TailLossProbes)
		if elapsed > bound {
			t.Errorf("seed %d: took %v virtual, bound %v (2x Mathis)", seed, elapsed, bound)
		}
	}
	if rtos > 3 {
		t.Errorf("%d RTOs after establishment in 3 transfers, want at most 3", rtos)
	}
}

// TestLowRTTQueueOverflow: no random loss, but slow start overshoots a
// 1 MiB queue at 10 Gbit/s and hundreds of segments (and then many of
// their retransmissions) are tail-dropped. Every retransmission must stay
// tracked until it is delivered or detected lost: the transfer runs at
// most of the link rate without an RTO.
func TestLowRTTQueueOverflow(t *testing.T) {
	const bw = 10_000_000_000
	size := int64(64 << 20)
	link := simnet.LinkConfig{Bandwidth: bw, Delay: 50 * time.Microsecond, QueueBytes: 1 << 20}
	// Wire time is 54 ms; allow twice that plus 50 ms for slow start and
	// the overshoot's recovery (an RTO alone would cost 200 ms).
	bound := 2*mathisTime(size, bw, 100*time.Microsecond, 0) + 50*time.Millisecond
	p, elapsed, rtos := oneWay(t, 1, size, link, bound)
	c := p.a.ep.Counters()
	t.Logf("%d MiB in %v virtual (%.2f Gbit/s); RTOs %d; retrans %d queue drops %d lost retransmissions %d",
		size>>20, elapsed, float64(size*8)/elapsed.Seconds()/1e9, rtos, c.RetransSegs, p.ab.Stats().QueueDrops, c.LostRetransmits)
	if p.ab.Stats().QueueDrops == 0 {
		t.Fatal("no queue drops: the test does not exercise the overshoot")
	}
	if elapsed > bound || rtos != 0 {
		t.Errorf("took %v virtual (bound %v) with %d RTOs", elapsed, bound, rtos)
	}
}

// BenchmarkLowRTTLoss is the CPU cost of loss recovery: one 8 MiB transfer
// per operation over the 100 µs, 2%-loss path (both engines and the
// simulator; virtual time, so only the CPU work is measured).
func BenchmarkLowRTTLoss(b *testing.B) {
	link := simnet.LinkConfig{Bandwidth: 10_000_000_000, Delay: 50 * time.Microsecond, Loss: 0.02, QueueBytes: 1 << 20}
	const size = 8 << 20
	b.SetBytes(size)
	b.ReportAllocs()
	seed := uint64(0)
	for b.Loop() {
		seed++
		oneWay(b, seed, size, link, time.Second)
	}
}
