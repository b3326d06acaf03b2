package cc

import (
	"math"
	"testing"
	"time"
)

// cubicAt100 returns a CUBIC flow (HyStart++ off) that reached a 100-MSS
// window in slow start and then lost a packet with that window in flight,
// after the loss episode ended.
func cubicAt100(t *testing.T, fastConv bool) *Cubic {
	t.Helper()
	c := NewCubic(testMSS)
	c.SetHyStart(false)
	c.SetFastConvergence(fastConv)
	k := &ackClock{c: c}
	k.acks(90, 0) // 10 -> 100 MSS, one MSS per ACK
	if c.Cwnd() != 100*testMSS {
		t.Fatalf("slow start: cwnd %d, want 100000", c.Cwnd())
	}
	c.OnCongestion(0, 100*testMSS)
	c.OnRecoveryExit(0)
	return c
}

func TestCubicDecreaseIsBeta(t *testing.T) {
	c := cubicAt100(t, true)
	// 0.7 * 100 MSS.
	if c.Cwnd() != 70*testMSS || c.Ssthresh() != 70*testMSS || c.WMax() != 100*testMSS {
		t.Fatalf("after loss at 100 MSS: cwnd %d ssthresh %d W_max %d, want 70000 70000 100000", c.Cwnd(), c.Ssthresh(), c.WMax())
	}
}

func TestCubicKAndW(t *testing.T) {
	c := cubicAt100(t, true)
	start := 10 * time.Second
	c.OnAck(Ack{Now: start, Acked: 1, SRTT: time.Millisecond}) // opens the avoidance stage
	// K = cbrt((W_max - cwnd_epoch)/C) = cbrt((100-70)/0.4) = cbrt(75) = 4.2172 s.
	near(t, "K (s)", c.K().Seconds(), 4.217163, 1e-5)
	// W_cubic(0) = cwnd_epoch = 70 MSS, W_cubic(K) = W_max = 100 MSS,
	// W_cubic(2 s) = 0.4*(2-4.2172)^3 + 100 = 95.6403 MSS,
	// W_cubic(2K) = 0.4*K^3 + 100 = 0.4*75 + 100 = 130 MSS.
	near(t, "W(0) (MSS)", c.WCubic(0)/testMSS, 70, 1e-6)
	near(t, "W(K) (MSS)", c.WCubic(c.K())/testMSS, 100, 1e-6)
	near(t, "W(2s) (MSS)", c.WCubic(2*time.Second)/testMSS, 95.640336, 1e-5)
	near(t, "W(2K) (MSS)", c.WCubic(2*c.K())/testMSS, 130, 1e-5)
}

func TestCubicFastConvergence(t *testing.T) {
	// A second loss below W_max lowers W_max to cwnd*(1+beta)/2.
	c := cubicAt100(t, true)
	c.OnCongestion(0, 70*testMSS)
	// W_max = 70*(1.7)/2 = 59.5 MSS; ssthresh = 0.7*70 = 49 MSS.
	if c.WMax() != 59500 || c.Ssthresh() != 49000 || c.Cwnd() != 49000 {
		t.Fatalf("fast convergence: W_max %d ssthresh %d cwnd %d, want 59500 49000 49000", c.WMax(), c.Ssthresh(), c.Cwnd())
	}
	// Without fast convergence W_max is the window at the loss.
	d := cubicAt100(t, false)
	d.OnCongestion(0, 70*testMSS)
	if d.WMax() != 70000 || d.Ssthresh() != 49000 {
		t.Fatalf("no fast convergence: W_max %d ssthresh %d, want 70000 49000", d.WMax(), d.Ssthresh())
	}
}

func TestCubicRenoFriendlyRegion(t *testing.T) {
	c := cubicAt100(t, true)
	// All ACKs at the epoch's first instant with no RTT: W_cubic stays at
	// cwnd_epoch, so the window follows W_est, which grows by alpha_cubic
	// = 3*0.3/1.7 = 0.5294 MSS per window of ACKs. Summing
	// alpha*MSS*MSS/cwnd over 70 ACKs from 70000 bytes gives 70527.45.
	k := &ackClock{c: c, now: time.Second}
	k.acks(70, 0)
	near(t, "cwnd after one window in the Reno-friendly region", float64(c.Cwnd()), 70527, 1)
	near(t, "CubicAlpha", CubicAlpha, 0.5294117, 1e-6)
}

func TestCubicFollowsConcaveThenConvex(t *testing.T) {
	c := cubicAt100(t, true)
	rtt := 100 * time.Millisecond
	k := &ackClock{c: c, now: time.Second}
	start := k.now
	kk := 0.0
	for k.now-start < 9*time.Second {
		k.round(rtt)
		if kk == 0 {
			kk = c.K().Seconds()
		}
		el := (k.now - start).Seconds()
		wt := c.WCubic(time.Duration(el*float64(time.Second))) / testMSS
		wtr := c.WCubic(time.Duration((el+rtt.Seconds())*float64(time.Second))) / testMSS
		got := float64(c.Cwnd()) / testMSS
		// Between the cubic curve now and one RTT ahead, allowing for the
		// granularity of per-round ACKs and the Reno-friendly floor early on.
		lo, hi := math.Min(wt, wtr)*0.97, math.Max(wt, wtr)*1.03+1
		if got < lo || got > hi {
			t.Fatalf("t=%.2fs: cwnd %.2f MSS outside the cubic curve [%.2f, %.2f]", el, got, lo, hi)
		}
	}
	near(t, "K (s)", kk, 4.217163, 1e-5)
	// Concave region: growth slows as W_max approaches; convex after K.
	// At t = 2K (~8.43 s) W is 130 MSS; after 9 s the window is past it.
	if c.Cwnd() < 130*testMSS {
		t.Fatalf("cwnd %d MSS after 9 s, want past W(2K) = 130 MSS", c.Cwnd()/testMSS)
	}
}

func TestCubicRTO(t *testing.T) {
	c := NewCubic(testMSS)
	c.SetHyStart(false)
	k := &ackClock{c: c}
	k.acks(90, 0) // 100 MSS
	c.OnRTO(0)
	if c.Cwnd() != testMSS || c.Ssthresh() != 70*testMSS {
		t.Fatalf("after RTO at 100 MSS: cwnd %d ssthresh %d, want 1000 70000", c.Cwnd(), c.Ssthresh())
	}
	c.OnRTO(0) // repeated: ssthresh kept
	if c.Ssthresh() != 70*testMSS {
		t.Fatalf("repeated RTO changed ssthresh to %d", c.Ssthresh())
	}
	// Slow start back to ssthresh, then the first avoidance stage uses
	// K = 0 and W_max = the window at its start (RFC 9438 section 4.8).
	k.acks(69, 0)
	if c.Cwnd() != 70*testMSS {
		t.Fatalf("cwnd %d after slow start, want 70000", c.Cwnd())
	}
	k.now = 5 * time.Second
	k.acks(1, 0)
	if c.K() != 0 || c.WMax() != 70*testMSS {
		t.Fatalf("first stage after RTO: K %v W_max %d, want 0 and 70000", c.K(), c.WMax())
	}
}

func TestCubicAppLimitedFreezesEpoch(t *testing.T) {
	c := cubicAt100(t, true)
	rtt := 100 * time.Millisecond
	k := &ackClock{c: c, now: time.Second}
	k.round(rtt)
	w := c.Cwnd()
	// 3 s of application-limited ACKs: no growth, and the idle time must
	// not count as time on the cubic curve.
	for i := 0; i < 30; i++ {
		c.OnAck(Ack{Now: k.now, Acked: testMSS, SRTT: rtt, AppLimited: true})
		k.now += rtt
	}
	if c.Cwnd() != w {
		t.Fatalf("app-limited ACKs changed cwnd %d -> %d", w, c.Cwnd())
	}
	k.round(rtt)
	// Without the shift t would be ~3.2 s and W(t+RTT) ~ 99 MSS, a jump of
	// ~25 MSS in one round; with it growth stays at the early-epoch pace.
	if c.Cwnd()-w > 5*testMSS {
		t.Fatalf("cwnd jumped %d -> %d after an idle period", w, c.Cwnd())
	}
}

func TestCubicHyStartExitsOnDelayIncrease(t *testing.T) {
	c := NewCubic(testMSS)
	k := &ackClock{c: c}
	base := 100 * time.Millisecond
	for i := 0; i < 4; i++ {
		k.round(base)
	}
	if c.InCSS() || c.Ssthresh() != InfiniteSsthresh {
		t.Fatalf("constant RTT: CSS %v ssthresh %d, want slow start", c.InCSS(), c.Ssthresh())
	}
	// The threshold is clamp(100ms/8, 4ms, 16ms) = 12.5 ms; 20 ms more is
	// a delay increase, so HyStart++ enters Conservative Slow Start.
	k.round(base + 20*time.Millisecond)
	if !c.InCSS() {
		t.Fatalf("RTT +20ms did not start CSS (cwnd %d)", c.Cwnd())
	}
	before := c.Cwnd()
	k.round(base + 20*time.Millisecond)
	grow := float64(c.Cwnd()) / float64(before)
	// CSS grows by a quarter of slow start: about 1.25x per round, not 2x.
	if grow < 1.15 || grow > 1.35 {
		t.Fatalf("CSS round grew the window %.3fx, want about 1.25x", grow)
	}
	for i := 0; i < 6 && c.Ssthresh() == InfiniteSsthresh; i++ {
		k.round(base + 20*time.Millisecond)
	}
	if c.Ssthresh() == InfiniteSsthresh {
		t.Fatalf("CSS did not end slow start after %d rounds", hsCSSRounds)
	}
	if c.Ssthresh() > c.Cwnd() {
		t.Fatalf("after HyStart++ exit ssthresh %d > cwnd %d", c.Ssthresh(), c.Cwnd())
	}
	// The first avoidance stage has no W_max from a loss: K = 0 and W_max
	// is the window at the stage's start, the window at the exit.
	if c.K() != 0 || c.WMax() != c.Ssthresh() {
		t.Fatalf("after HyStart++ exit: K %v W_max %d, want 0 and %d", c.K(), c.WMax(), c.Ssthresh())
	}
}

func TestCubicHyStartSpuriousDelayReturnsToSlowStart(t *testing.T) {
	c := NewCubic(testMSS)
	k := &ackClock{c: c}
	base := 100 * time.Millisecond
	for i := 0; i < 3; i++ {
		k.round(base)
	}
	k.round(base + 20*time.Millisecond)
	if !c.InCSS() {
		t.Fatal("RTT +20ms did not start CSS")
	}
	k.round(base)
	if c.InCSS() {
		t.Fatal("RTT back below the CSS baseline did not resume slow start")
	}
	before := c.Cwnd()
	k.round(base)
	if c.Cwnd() != 2*before {
		t.Fatalf("after resuming slow start: cwnd %d -> %d, want doubling", before, c.Cwnd())
	}
}

func TestCubicSlowStartDoubles(t *testing.T) {
	c := NewCubic(testMSS)
	k := &ackClock{c: c}
	want := 10 * testMSS
	for i := 0; i < 6; i++ {
		k.round(20 * time.Millisecond)
		want *= 2
		if c.Cwnd() != want {
			t.Fatalf("round %d: cwnd %d, want %d", i+1, c.Cwnd(), want)
		}
	}
}

func TestCubicInitKeepsSettings(t *testing.T) {
	c := NewCubic(testMSS)
	c.SetHyStart(false)
	c.SetFastConvergence(false)
	c.Init(1460, 0)
	if c.hyStartOn || c.fastConvergence || c.Cwnd() != 14600 {
		t.Fatalf("Init lost settings: hystart %v fastconv %v cwnd %d", c.hyStartOn, c.fastConvergence, c.Cwnd())
	}
}
