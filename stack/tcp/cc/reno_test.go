package cc

import (
	"testing"
	"time"
)

func TestRenoInit(t *testing.T) {
	r := NewReno(testMSS)
	if r.Cwnd() != 10*testMSS || r.Ssthresh() != InfiniteSsthresh || r.Name() != "reno" {
		t.Fatalf("after Init: cwnd %d ssthresh %d name %q, want 10000, %d, reno", r.Cwnd(), r.Ssthresh(), r.Name(), InfiniteSsthresh)
	}
	r.Init(0, 0) // a bogus MSS must not leave a zero window
	if r.Cwnd() <= 0 {
		t.Fatalf("Init(0): cwnd %d, want > 0", r.Cwnd())
	}
}

func TestRenoSlowStartDoublesPerRTT(t *testing.T) {
	r := NewReno(testMSS)
	k := &ackClock{c: r}
	want := 10 * testMSS
	for i := 0; i < 5; i++ {
		k.round(50 * time.Millisecond)
		want *= 2
		if r.Cwnd() != want {
			t.Fatalf("after round %d: cwnd %d, want %d", i+1, r.Cwnd(), want)
		}
	}
}

func TestRenoABCLimitsStretchACKs(t *testing.T) {
	r := NewReno(testMSS)
	// One ACK for five segments grows slow start by L = 2 segments only.
	r.OnAck(Ack{Acked: 5 * testMSS})
	if r.Cwnd() != 12*testMSS {
		t.Fatalf("cwnd %d after a 5-MSS ACK in slow start, want %d", r.Cwnd(), 12*testMSS)
	}
	// Smaller ACKs count their bytes.
	r.OnAck(Ack{Acked: 300})
	if r.Cwnd() != 12*testMSS+300 {
		t.Fatalf("cwnd %d after a 300-byte ACK, want %d", r.Cwnd(), 12*testMSS+300)
	}
}

func TestRenoCongestionAvoidanceOneMSSPerRTT(t *testing.T) {
	r := NewReno(testMSS)
	r.OnCongestion(0, 40*testMSS)
	r.OnRecoveryExit(0)
	if r.Cwnd() != 20*testMSS || r.Ssthresh() != 20*testMSS {
		t.Fatalf("after loss at 40 MSS in flight: cwnd %d ssthresh %d, want 20000 20000", r.Cwnd(), r.Ssthresh())
	}
	k := &ackClock{c: r}
	k.acks(19, 0)
	if r.Cwnd() != 20*testMSS {
		t.Fatalf("cwnd grew to %d before a full window was acknowledged", r.Cwnd())
	}
	k.acks(1, 0)
	if r.Cwnd() != 21*testMSS {
		t.Fatalf("cwnd %d after one window acknowledged, want 21000", r.Cwnd())
	}
	for i := 0; i < 4; i++ {
		k.round(10 * time.Millisecond)
	}
	if r.Cwnd() != 25*testMSS {
		t.Fatalf("cwnd %d after 4 more RTTs, want 25000", r.Cwnd())
	}
}

func TestRenoSlowStartLeftoverGoesToAvoidance(t *testing.T) {
	r := NewReno(testMSS)
	r.OnCongestion(0, 21*testMSS) // ssthresh 10500
	r.OnRecoveryExit(0)
	r.OnRTO(0) // outside recovery: ssthresh from half the window in use
	// After RTO: ssthresh = max(10500/2, 2000) = 5250, cwnd = 1000.
	if r.Cwnd() != testMSS || r.Ssthresh() != 5250 {
		t.Fatalf("after RTO: cwnd %d ssthresh %d, want 1000 5250", r.Cwnd(), r.Ssthresh())
	}
	k := &ackClock{c: r}
	k.acks(2, 0) // 1000 -> 2000 -> 3000
	k.acks(2, 0) // 3000 -> 4000 -> 5000
	if r.Cwnd() != 5000 {
		t.Fatalf("cwnd %d, want 5000", r.Cwnd())
	}
	// This ACK reaches ssthresh (250 bytes of room) and leaves 750 bytes of
	// credit towards the next congestion-avoidance increase.
	k.acks(1, 0)
	if r.Cwnd() != 5250 {
		t.Fatalf("cwnd %d, want 5250", r.Cwnd())
	}
	k.acks(4, 0) // 750 + 4000 = 4750 < 5250
	if r.Cwnd() != 5250 {
		t.Fatalf("cwnd %d after 4750 credited bytes, want 5250", r.Cwnd())
	}
	k.acks(1, 0) // 5750 >= 5250: +1 MSS
	if r.Cwnd() != 6250 {
		t.Fatalf("cwnd %d, want 6250", r.Cwnd())
	}
}

func TestRenoHalvesOnCongestion(t *testing.T) {
	r := NewReno(testMSS)
	r.OnCongestion(0, 30*testMSS)
	if r.Ssthresh() != 15*testMSS || r.Cwnd() != 15*testMSS {
		t.Fatalf("cwnd %d ssthresh %d, want 15000 15000", r.Cwnd(), r.Ssthresh())
	}
	// ACKs inside the episode do not grow the window.
	r.OnAck(Ack{Acked: testMSS})
	if r.Cwnd() != 15*testMSS {
		t.Fatalf("cwnd grew to %d inside recovery", r.Cwnd())
	}
	r.OnRecoveryExit(0)
	// A tiny flight still leaves ssthresh at 2 MSS.
	r.OnCongestion(0, testMSS)
	if r.Ssthresh() != 2*testMSS {
		t.Fatalf("ssthresh %d after loss with 1 MSS in flight, want 2000", r.Ssthresh())
	}
}

func TestRenoRTO(t *testing.T) {
	r := NewReno(testMSS)
	k := &ackClock{c: r}
	k.round(10 * time.Millisecond) // 20 MSS
	r.OnRTO(0)
	if r.Cwnd() != testMSS || r.Ssthresh() != 10*testMSS {
		t.Fatalf("after RTO at 20 MSS: cwnd %d ssthresh %d, want 1000 10000", r.Cwnd(), r.Ssthresh())
	}
	// A second timeout for the same data keeps ssthresh.
	r.OnRTO(0)
	if r.Ssthresh() != 10*testMSS || r.Cwnd() != testMSS {
		t.Fatalf("after repeated RTO: cwnd %d ssthresh %d, want 1000 10000", r.Cwnd(), r.Ssthresh())
	}
	// An RTO inside a loss episode does not reduce ssthresh a second time.
	r2 := NewReno(testMSS)
	r2.OnCongestion(0, 40*testMSS)
	r2.OnRTO(0)
	if r2.Ssthresh() != 20*testMSS || r2.Cwnd() != testMSS {
		t.Fatalf("RTO in recovery: cwnd %d ssthresh %d, want 1000 20000", r2.Cwnd(), r2.Ssthresh())
	}
	// ... and it ends the episode: ACKs grow the window again.
	r2.OnAck(Ack{Acked: testMSS})
	if r2.Cwnd() != 2*testMSS {
		t.Fatalf("cwnd %d after ACK following RTO, want 2000", r2.Cwnd())
	}
}

func TestRenoAppLimitedDoesNotGrow(t *testing.T) {
	r := NewReno(testMSS)
	r.OnAck(Ack{Acked: testMSS, AppLimited: true})
	if r.Cwnd() != 10*testMSS {
		t.Fatalf("app-limited ACK grew cwnd to %d", r.Cwnd())
	}
}

func TestRenoSetMSS(t *testing.T) {
	r := NewReno(testMSS)
	r.OnRTO(0)
	r.SetMSS(1460)
	if r.Cwnd() != 1460 {
		t.Fatalf("cwnd %d after SetMSS(1460) with a 1000-byte window, want 1460", r.Cwnd())
	}
	r.OnAck(Ack{Acked: 1460})
	if r.Cwnd() != 2920 {
		t.Fatalf("cwnd %d, want 2920", r.Cwnd())
	}
}

func TestRenoAppLimitedWithFullWindowGrows(t *testing.T) {
	r := NewReno(testMSS)
	// Slow start: more than half the window in flight counts as in use.
	r.OnAck(Ack{Acked: testMSS, AppLimited: true, InFlight: 6 * testMSS})
	if r.Cwnd() != 11*testMSS {
		t.Fatalf("app-limited ACK with 6 of 10 MSS in flight: cwnd %d, want 11000", r.Cwnd())
	}
	r.OnAck(Ack{Acked: testMSS, AppLimited: true, InFlight: 5 * testMSS})
	if r.Cwnd() != 11*testMSS {
		t.Fatalf("app-limited ACK with 5 of 11 MSS in flight grew cwnd to %d", r.Cwnd())
	}
	// Avoidance: only a full window counts.
	r.OnCongestion(0, 20*testMSS)
	r.OnRecoveryExit(0)
	for i := 0; i < 10; i++ {
		r.OnAck(Ack{Acked: testMSS, AppLimited: true, InFlight: 8 * testMSS})
	}
	if r.Cwnd() != 10*testMSS {
		t.Fatalf("app-limited avoidance ACKs with 8 of 10 MSS in flight: cwnd %d, want 10000", r.Cwnd())
	}
	for i := 0; i < 10; i++ {
		r.OnAck(Ack{Acked: testMSS, AppLimited: true, InFlight: 10 * testMSS})
	}
	if r.Cwnd() != 11*testMSS {
		t.Fatalf("app-limited avoidance ACKs with a full window: cwnd %d, want 11000", r.Cwnd())
	}
}

func TestCwndLimited(t *testing.T) {
	cases := []struct {
		a                   Ack
		cwnd, ssthresh, mss int
		want                bool
	}{
		{Ack{InFlight: 0}, 10000, 50000, 1000, true},                      // not app-limited
		{Ack{AppLimited: true, InFlight: 5001}, 10000, 50000, 1000, true}, // slow start, > half
		{Ack{AppLimited: true, InFlight: 5000}, 10000, 50000, 1000, false},
		{Ack{AppLimited: true, InFlight: 9001}, 10000, 5000, 1000, true}, // avoidance, no room
		{Ack{AppLimited: true, InFlight: 9000}, 10000, 5000, 1000, false},
	}
	for i, c := range cases {
		if got := CwndLimited(c.a, c.cwnd, c.ssthresh, c.mss); got != c.want {
			t.Errorf("case %d: CwndLimited = %v, want %v", i, got, c.want)
		}
	}
}
