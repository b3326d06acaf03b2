package tcp

import (
	"bytes"
	"flag"
	"math"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/simnet"
)

var longTests = flag.Bool("long", false, "run the long soak tests (1 GB transfers)")

type transferCase struct {
	name  string
	size  int64
	link  simnet.LinkConfig
	bound time.Duration // virtual-time bound for the whole transfer
}

// transfer sends size bytes from A to B and size/4 from B to A (both
// directions at once), closes both sides and checks the streams byte for
// byte (SHA-256) and the virtual time.
func transfer(t *testing.T, seed uint64, c transferCase) (*pair, time.Duration) {
	t.Helper()
	return transferWith(t, seed, c, baseConfig(0xfc000000), baseConfig(0xfffff000)) // both wrap 2^32 (A after 64 MB, B at once)
}

func transferWith(t *testing.T, seed uint64, c transferCase, ca, cb Config) (*pair, time.Duration) {
	t.Helper()
	p := newPair(t, seed, c.link, ca, cb)
	p.a.toSend, p.a.closeWhenDone = c.size, true
	p.b.closeWhenDone = true
	bSize := c.size / 4
	p.b.toSend = bSize
	p.start()
	ok := p.run(c.bound+time.Hour, func() bool {
		return p.a.doneAt != 0 && p.b.doneAt != 0 &&
			(p.a.ep.State() == TimeWait || p.a.ep.State() == Closed) && p.b.ep.State() == Closed
	})
	if !ok {
		t.Fatalf("%s: transfer did not finish: A %v sent %d/%d recvd %d err %v, B %v sent %d recvd %d err %v, now %v\nA %+v\nB %+v",
			c.name, p.a.ep.State(), p.a.sent, c.size, p.a.recvd, p.a.ep.Err(), p.b.ep.State(), p.b.sent, p.b.recvd, p.b.ep.Err(),
			p.sim.Now(), p.a.ep.Counters(), p.b.ep.Counters())
	}
	elapsed := max(p.a.doneAt, p.b.doneAt)
	if p.b.recvd != c.size || p.a.recvd != bSize {
		t.Fatalf("received %d and %d bytes, want %d and %d", p.b.recvd, p.a.recvd, c.size, bSize)
	}
	if !bytes.Equal(p.a.sendHash.Sum(nil), p.b.recvHash.Sum(nil)) || !bytes.Equal(p.b.sendHash.Sum(nil), p.a.recvHash.Sum(nil)) {
		t.Fatal("SHA-256 of a received stream differs from the sent one")
	}
	if elapsed > c.bound {
		t.Errorf("%s: took %v virtual time, bound %v", c.name, elapsed, c.bound)
	}
	if p.a.ep.Err() != nil || p.b.ep.Err() != nil {
		t.Errorf("errors after a clean close: %v / %v", p.a.ep.Err(), p.b.ep.Err())
	}
	ctr := p.a.ep.Counters()
	t.Logf("%s: %d MB in %v virtual (%.1f Mbit/s), %d events; A retrans %d fastrec %d RTO %d relost %d dupthresh %d (raised %d) dsack %d tlp %d/%d; links lost %d/%d; B rcvbuf %d",
		c.name, c.size>>20, elapsed, float64(c.size*8)/elapsed.Seconds()/1e6, p.sim.Events(),
		ctr.RetransSegs, ctr.FastRetransmits, ctr.RTOs, ctr.LostRetransmits, p.a.ep.dupThresh, ctr.ReorderingRaised, ctr.DSACKsIn, ctr.TailLossProbes, ctr.TLPRecoveries,
		p.ab.Stats().Lost, p.ba.Stats().Lost, p.b.ep.RecvBufferSize())
	return p, elapsed
}

// mathisTime is the time to move size bytes at the throughput of the
// Mathis et al. model, MSS/RTT * sqrt(3/2)/sqrt(p), or at the bandwidth
// when there is no loss. The bounds below multiply it by a stated factor.
func mathisTime(size int64, bw int64, rtt time.Duration, loss float64) time.Duration {
	wire := time.Duration(float64(size*8) / float64(bw) * float64(time.Second))
	if loss == 0 {
		return wire
	}
	rate := 1448 * 8 / rtt.Seconds() * math.Sqrt(1.5) / math.Sqrt(loss) // bit/s
	return max(wire, time.Duration(float64(size*8)/rate*float64(time.Second)))
}

func TestTransferLossMatrix(t *testing.T) {
	const bw = 1_000_000_000
	const delay = 5 * time.Millisecond
	size := int64(100 << 20)
	if *longTests {
		size = 1 << 30
	}
	link := func(loss float64) simnet.LinkConfig {
		return simnet.LinkConfig{Bandwidth: bw, Delay: delay, Loss: loss, QueueBytes: 1 << 20}
	}
	rtt := 2 * delay
	cases := []transferCase{
		// Without loss: the wire time plus slow start and handshake,
		// bounded by twice the wire time plus 100 RTTs.
		{"loss0", size, link(0), 2*mathisTime(size, bw, rtt, 0) + 100*rtt},
		// With random loss on both links: the Mathis model's time for the
		// loss rate. Timeouts (lost retransmissions) are outside that
		// model, hence the factor 4 at 5-10%.
		{"loss1", size, link(0.01), 2 * mathisTime(size, bw, rtt, 0.01)},
		{"loss5", size, link(0.05), 4 * mathisTime(size, bw, rtt, 0.05)},
		{"loss10", size, link(0.10), 4 * mathisTime(size, bw, rtt, 0.10)},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, elapsed := transfer(t, uint64(100+i), c)
			if c.link.Loss > 0 {
				// The other side of the bound: a sender that answers loss
				// correctly cannot beat the Mathis model by much (CUBIC
				// does a little); three times faster means it did not
				// reduce its window.
				if m := mathisTime(c.size, bw, rtt, c.link.Loss); elapsed < m/3 {
					t.Errorf("%s: %v is more than 3x faster than the Mathis model (%v): loss response broken", c.name, elapsed, m)
				}
			}
			if c.link.Loss == 0 {
				// Autotuning must have opened the window well past the
				// initial 256 KiB (the BDP here is 1.25 MB).
				if got := p.b.ep.RecvBufferSize(); got < 2<<20 || p.b.ep.Counters().RcvBufGrown == 0 {
					t.Errorf("receive buffer stayed at %d bytes", got)
				}
			}
		})
	}
}

// TestTransferWithoutOptions runs peers that negotiate no SACK (NewReno
// recovery), no timestamps (Karn RTT sampling) and no window scaling.
func TestTransferWithoutOptions(t *testing.T) {
	const bw = 100_000_000
	size := int64(20 << 20)
	if *longTests {
		size = 200 << 20
	}
	link := simnet.LinkConfig{Bandwidth: bw, Delay: 5 * time.Millisecond, Loss: 0.01, QueueBytes: 256 << 10}
	for i, mod := range []struct {
		name string
		set  func(c *Config)
	}{
		{"nosack", func(c *Config) { c.NoSACK = true }},
		{"nots", func(c *Config) { c.NoTimestamps = true }},
		{"none", func(c *Config) { c.NoSACK, c.NoTimestamps, c.NoWindowScale = true, true, true }},
	} {
		t.Run(mod.name, func(t *testing.T) {
			ca, cb := baseConfig(1000), baseConfig(0x7ffff000)
			mod.set(&ca)
			// Without SACK, recovery repairs one hole per RTT (NewReno):
			// allow four times the Mathis time.
			c := transferCase{mod.name, size, link, 4 * mathisTime(size, bw, 10*time.Millisecond, 0.01)}
			p, _ := transferWith(t, uint64(300+i), c, ca, cb)
			e := p.a.ep
			if e.sackOK == !ca.NoSACK && e.tsOK == !ca.NoTimestamps && e.wsOK == !ca.NoWindowScale {
				return
			}
			t.Errorf("negotiated sack %v ts %v ws %v for config %+v", e.sackOK, e.tsOK, e.wsOK, mod.name)
		})
	}
}

func TestTransferReorderDuplicateJitter(t *testing.T) {
	const bw = 1_000_000_000
	size := int64(100 << 20)
	if *longTests {
		size = 1 << 30
	}
	cases := []transferCase{
		{"reorder", size, simnet.LinkConfig{Bandwidth: bw, Delay: 10 * time.Millisecond, Reorder: 0.02,
			ReorderDelay: 2 * time.Millisecond, QueueBytes: 1 << 20}, 2 * mathisTime(size, bw, 20*time.Millisecond, 0.02)},
		{"duplicate", size, simnet.LinkConfig{Bandwidth: bw, Delay: 10 * time.Millisecond, Duplicate: 0.05,
			QueueBytes: 1 << 20}, 4*mathisTime(size, bw, 20*time.Millisecond, 0) + 2*time.Second},
		{"jitter+loss", size, simnet.LinkConfig{Bandwidth: bw, Delay: 10 * time.Millisecond, Jitter: time.Millisecond,
			Loss: 0.02, Duplicate: 0.01, QueueBytes: 1 << 20}, 4 * mathisTime(size, bw, 20*time.Millisecond, 0.02)},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) { transfer(t, uint64(200+i), c) })
	}
}
