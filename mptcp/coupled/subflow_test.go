package coupled

import (
	"strings"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

const mss = 1000

func mustGroup(t testing.TB, name string) *Group {
	t.Helper()
	g, err := New(name)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// place puts a subflow in congestion avoidance with the given window
// (packets) and smoothed RTT and publishes both.
func place(s *Subflow, pkts int, rtt time.Duration) {
	s.Init(mss, 0)
	s.ssthresh = pkts * mss
	s.setCwnd(pkts * mss)
	s.srtt = rtt.Seconds()
	s.me.srtt.Store(int64(rtt))
}

func TestNew(t *testing.T) {
	for _, name := range Names() {
		g := mustGroup(t, name)
		c := g.NewSubflow()
		if c.Name() != name || g.Name() != name {
			t.Fatalf("New(%q): group %q, subflow %q", name, g.Name(), c.Name())
		}
		coupled := name == LIA || name == OLIA || name == BALIA
		if g.Coupled() != coupled {
			t.Fatalf("%s: Coupled() = %v", name, g.Coupled())
		}
		if _, isSub := c.(*Subflow); isSub != coupled {
			t.Fatalf("%s: subflow type %T", name, c)
		}
		if c.Cwnd() != cc.InitialWindow(cc.DefaultMSS) {
			t.Fatalf("%s: initial cwnd %d", name, c.Cwnd())
		}
	}
	_, err := New("wvegas")
	if err == nil || !strings.Contains(err.Error(), `"wvegas"`) || !strings.Contains(err.Error(), "lia, olia, reno") {
		t.Fatalf("New(wvegas) error = %v, want one naming it and listing the valid names", err)
	}
}

func TestGroupMembership(t *testing.T) {
	g := mustGroup(t, LIA)
	a, b := g.NewSubflow(), g.NewSubflow()
	if g.Len() != 2 {
		t.Fatalf("Len %d, want 2", g.Len())
	}
	a.Init(mss, 0)
	b.Init(2*mss, 0)
	if g.TotalCwnd() != a.Cwnd()+b.Cwnd() {
		t.Fatalf("TotalCwnd %d, want %d", g.TotalCwnd(), a.Cwnd()+b.Cwnd())
	}
	g.Remove(a)
	g.Remove(a)
	other := mustGroup(t, LIA)
	other.Remove(b) // not its subflow
	if g.Len() != 1 || g.TotalCwnd() != b.Cwnd() {
		t.Fatalf("after Remove: Len %d TotalCwnd %d, want 1 and %d", g.Len(), g.TotalCwnd(), b.Cwnd())
	}
}

// TestSubflowIncreaseMatchesFormulas: the per-ACK increase computed from
// the cached view equals the pure formula for the same windows and RTTs.
func TestSubflowIncreaseMatchesFormulas(t *testing.T) {
	type tuple struct {
		w   []int
		rtt []time.Duration
		l   []int64
	}
	tuples := []tuple{
		{[]int{10, 10}, []time.Duration{20 * time.Millisecond, 20 * time.Millisecond}, []int64{5000, 5000}},
		{[]int{10, 20}, []time.Duration{10 * time.Millisecond, 40 * time.Millisecond}, []int64{90000, 4000}},
		{[]int{40, 10, 25}, []time.Duration{30 * time.Millisecond, 5 * time.Millisecond, 80 * time.Millisecond}, []int64{1000, 70000, 3000}},
	}
	for _, name := range []string{LIA, OLIA, BALIA} {
		for ti, tc := range tuples {
			g := mustGroup(t, name)
			subs := make([]*Subflow, len(tc.w))
			w := make([]float64, len(tc.w))
			rtt := make([]float64, len(tc.w))
			l := make([]float64, len(tc.w))
			for i := range subs {
				subs[i] = g.NewSubflow().(*Subflow)
				place(subs[i], tc.w[i], tc.rtt[i])
				subs[i].l2 = tc.l[i]
				subs[i].me.interLoss.Store(tc.l[i])
				w[i], rtt[i], l[i] = float64(tc.w[i]), tc.rtt[i].Seconds(), float64(tc.l[i])
			}
			alphas := make([]float64, len(w))
			OLIAAlphas(w, rtt, l, alphas)
			for r, s := range subs {
				got := s.increase(mss, time.Second) / mss // packets per packet
				var want float64
				switch name {
				case LIA:
					want = LIAIncrease(w, rtt, r)
				case OLIA:
					want = OLIAIncrease(w, rtt, alphas[r], r)
				case BALIA:
					want = BALIAIncrease(w, rtt, r)
				}
				near(t, name+" tuple "+string(rune('0'+ti))+" path "+string(rune('0'+r)), got, want, 1e-9)
			}
		}
	}
}

func TestSubflowSlowStartAndLoss(t *testing.T) {
	for _, name := range []string{LIA, OLIA, BALIA} {
		g := mustGroup(t, name)
		s := g.NewSubflow()
		s.Init(mss, 0)
		// Slow start: ten ACKs double the initial window; ABC caps stretch ACKs.
		for i := 0; i < 10; i++ {
			s.OnAck(cc.Ack{Now: time.Duration(i) * time.Millisecond, Acked: mss, RTT: 10 * time.Millisecond, SRTT: 10 * time.Millisecond})
		}
		if s.Cwnd() != 20*mss {
			t.Fatalf("%s: slow start cwnd %d, want 20000", name, s.Cwnd())
		}
		s.OnAck(cc.Ack{Acked: 8 * mss, SRTT: 10 * time.Millisecond})
		if s.Cwnd() != 22*mss {
			t.Fatalf("%s: stretch ACK cwnd %d, want 22000", name, s.Cwnd())
		}
		// Alone, every algorithm halves (BALIA's alpha is 1 on one path).
		s.OnCongestion(time.Second, 22*mss)
		if s.Cwnd() != 11*mss || s.Ssthresh() != 11*mss {
			t.Fatalf("%s: after loss cwnd %d ssthresh %d, want 11000 11000", name, s.Cwnd(), s.Ssthresh())
		}
		s.OnAck(cc.Ack{Acked: mss, SRTT: 10 * time.Millisecond})
		if s.Cwnd() != 11*mss {
			t.Fatalf("%s: grew inside recovery to %d", name, s.Cwnd())
		}
		s.OnRecoveryExit(time.Second)
		// Alone, the coupled increase is Reno's: one MSS per window.
		for i := 0; i < 11; i++ {
			s.OnAck(cc.Ack{Now: time.Second, Acked: mss, SRTT: 10 * time.Millisecond})
		}
		// (sum of MSS^2/cwnd over the window's ACKs: just under 1 MSS.)
		if s.Cwnd() < 12*mss-60 || s.Cwnd() > 12*mss {
			t.Fatalf("%s: one window in avoidance gave cwnd %d, want ~12000", name, s.Cwnd())
		}
		s.OnRTO(2 * time.Second)
		if s.Cwnd() != mss || s.Ssthresh() < 5*mss || s.Ssthresh() > 6*mss {
			t.Fatalf("%s: after RTO cwnd %d ssthresh %d, want 1000 and ~6000", name, s.Cwnd(), s.Ssthresh())
		}
	}
}

// TestBALIAReductionUsesAlpha: on a loss, the slower path of two backs off
// by min(alpha, 1.5)/2, more than half.
func TestBALIAReductionUsesAlpha(t *testing.T) {
	g := mustGroup(t, BALIA)
	a, b := g.NewSubflow().(*Subflow), g.NewSubflow().(*Subflow)
	place(a, 10, 10*time.Millisecond)
	place(b, 20, 10*time.Millisecond)
	// alpha_a = 2: decrease 10/2*1.5 = 7.5 packets, window 2.5 packets.
	a.OnCongestion(time.Second, 10*mss)
	if a.Cwnd() != 2500 {
		t.Fatalf("BALIA slow path after loss: cwnd %d, want 2500", a.Cwnd())
	}
	// alpha_b = 20/2.5... b is the fastest path: alpha 1, halving.
	b.OnCongestion(time.Second, 20*mss)
	if b.Cwnd() != 10*mss {
		t.Fatalf("BALIA fast path after loss: cwnd %d, want 10000", b.Cwnd())
	}
}

// TestOLIAShiftsToBestPath: OLIA moves window away from the path with the
// largest window towards a better path with a smaller one; its l counts
// bytes between losses.
func TestOLIAShiftsToBestPath(t *testing.T) {
	g := mustGroup(t, OLIA)
	a, b := g.NewSubflow().(*Subflow), g.NewSubflow().(*Subflow)
	// w = (30, 40) packets, equal RTTs, a has the longer loss interval:
	// alpha = (+1/2, -1/2); b's increase per packet is 40/70^2 - 0.5/40 < 0.
	place(a, 30, 10*time.Millisecond)
	place(b, 40, 10*time.Millisecond)
	a.l2 = 1 << 20
	a.me.interLoss.Store(a.l2)
	b.l2 = 1000
	b.me.interLoss.Store(b.l2)
	wa, wb := a.Cwnd(), b.Cwnd()
	for i := 0; i < 200; i++ {
		now := time.Duration(i) * time.Millisecond
		a.OnAck(cc.Ack{Now: now, Acked: mss, SRTT: 10 * time.Millisecond})
		b.OnAck(cc.Ack{Now: now, Acked: mss, SRTT: 10 * time.Millisecond})
	}
	if a.Cwnd() <= wa || b.Cwnd() >= wb {
		t.Fatalf("OLIA: best path %d -> %d, largest path %d -> %d; want the first to grow and the second to shrink", wa, a.Cwnd(), wb, b.Cwnd())
	}
	// Loss bookkeeping: l1 takes the bytes since the previous loss.
	before := b.l2
	b.OnCongestion(time.Second, b.Cwnd())
	if b.l1 != before || b.l2 != 0 || b.me.interLoss.Load() != before {
		t.Fatalf("OLIA loss bookkeeping: l1 %d l2 %d published %d, want %d 0 %d", b.l1, b.l2, b.me.interLoss.Load(), before, before)
	}
}

// TestViewRefreshesOncePerRTT: a subflow re-reads the others at most once
// per its smoothed RTT unless the group changes.
func TestViewRefreshesOncePerRTT(t *testing.T) {
	g := mustGroup(t, LIA)
	a, b := g.NewSubflow().(*Subflow), g.NewSubflow().(*Subflow)
	place(a, 10, 50*time.Millisecond)
	place(b, 10, 50*time.Millisecond)
	a.OnAck(cc.Ack{Now: time.Second, Acked: mss, SRTT: 50 * time.Millisecond})
	if a.othersW != 10*mss {
		t.Fatalf("view of b: %v bytes, want 10000", a.othersW)
	}
	b.setCwnd(30 * mss) // grows without a version change
	a.OnAck(cc.Ack{Now: time.Second + 10*time.Millisecond, Acked: mss, SRTT: 50 * time.Millisecond})
	if a.othersW != 10*mss {
		t.Fatalf("view refreshed before one RTT passed: %v", a.othersW)
	}
	a.OnAck(cc.Ack{Now: time.Second + 60*time.Millisecond, Acked: mss, SRTT: 50 * time.Millisecond})
	if a.othersW != 30*mss {
		t.Fatalf("view not refreshed after one RTT: %v", a.othersW)
	}
	// A loss on b bumps the version: a sees the halved window at once.
	b.OnCongestion(time.Second, 30*mss)
	a.OnAck(cc.Ack{Now: time.Second + 61*time.Millisecond, Acked: mss, SRTT: 50 * time.Millisecond})
	if a.othersW != 15*mss {
		t.Fatalf("view after b's loss: %v, want 15000", a.othersW)
	}
	// Removing b: a stops counting it.
	g.Remove(b)
	a.OnAck(cc.Ack{Now: time.Second + 62*time.Millisecond, Acked: mss, SRTT: 50 * time.Millisecond})
	if a.othersW != 0 {
		t.Fatalf("view after Remove: %v, want 0", a.othersW)
	}
}
