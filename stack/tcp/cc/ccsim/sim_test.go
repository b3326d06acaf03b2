package ccsim

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

const mbit = 1e6 / 8 // bytes per second in one Mbit/s

func mustCC(t *testing.T, name string) cc.Controller {
	t.Helper()
	c, err := cc.New(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSingleFlowFillsLink: one flow through a link with a one-BDP buffer
// keeps it nearly fully used, for both algorithms.
func TestSingleFlowFillsLink(t *testing.T) {
	for _, name := range []string{"reno", "cubic"} {
		t.Run(name, func(t *testing.T) {
			s := New(1)
			rtt := 40 * time.Millisecond
			l := &Link{Rate: 20 * mbit}
			l.Buffer = l.BDP(rtt)
			f := &Flow{CC: mustCC(t, name), Link: l, RTT: rtt, MSS: 1448}
			s.Add(f)
			s.Run(5 * time.Second)
			got := Throughput(s, 35*time.Second, f)[0]
			if u := got / l.Rate; u < 0.95 || u > 1.0001 {
				t.Fatalf("%s: utilisation %.3f, want in [0.95, 1]", name, u)
			}
			if f.Episodes < 3 {
				t.Fatalf("%s: only %d loss episodes in 30 s: the test did not probe the link", name, f.Episodes)
			}
		})
	}
}

// TestCubicHighBDP: on a long fat pipe with a small buffer CUBIC recovers
// its window far faster than Reno, so it uses the link better.
func TestCubicHighBDP(t *testing.T) {
	util := map[string]float64{}
	for _, name := range []string{"reno", "cubic"} {
		s := New(2)
		rtt := 100 * time.Millisecond
		l := &Link{Rate: 100 * mbit}
		l.Buffer = l.BDP(rtt) / 10
		f := &Flow{CC: mustCC(t, name), Link: l, RTT: rtt, MSS: 1448}
		s.Add(f)
		s.Run(20 * time.Second)
		util[name] = Throughput(s, 80*time.Second, f)[0] / l.Rate
	}
	t.Logf("utilisation with a BDP/10 buffer: reno %.3f cubic %.3f", util["reno"], util["cubic"])
	if util["cubic"] < 0.85 {
		t.Errorf("cubic utilisation %.3f, want >= 0.85", util["cubic"])
	}
	if util["cubic"] < util["reno"]+0.05 {
		t.Errorf("cubic %.3f not clearly above reno %.3f on a high-BDP path", util["cubic"], util["reno"])
	}
}

// TestTwoRenoFlowsShare: two Reno flows with the same RTT converge to a
// fair share and together fill the link.
func TestTwoFlowsShare(t *testing.T) {
	for _, name := range []string{"reno", "cubic"} {
		t.Run(name, func(t *testing.T) {
			s := New(3)
			s.Jitter = time.Millisecond
			rtt := 30 * time.Millisecond
			l := &Link{Rate: 20 * mbit}
			l.Buffer = l.BDP(rtt)
			a := &Flow{CC: mustCC(t, name), Link: l, RTT: rtt}
			b := &Flow{CC: mustCC(t, name), Link: l, RTT: rtt, Start: 2 * time.Second}
			s.Add(a)
			s.Add(b)
			s.Run(10 * time.Second)
			th := Throughput(s, 70*time.Second, a, b)
			ratio := th[0] / th[1]
			util := (th[0] + th[1]) / l.Rate
			t.Logf("%s: share %.3f, utilisation %.3f", name, ratio, util)
			if ratio < 0.75 || ratio > 1.33 {
				t.Errorf("%s: throughput ratio %.3f, want within [0.75, 1.33]", name, ratio)
			}
			if util < 0.95 {
				t.Errorf("%s: utilisation %.3f, want >= 0.95", name, util)
			}
		})
	}
}

// TestDeterministic: the same seed gives the same run.
func TestDeterministic(t *testing.T) {
	run := func() (int64, int) {
		s := New(7)
		s.Jitter = 2 * time.Millisecond
		l := &Link{Rate: 10 * mbit, Buffer: 30000}
		f := &Flow{CC: mustCC(t, "reno"), Link: l, RTT: 20 * time.Millisecond}
		g := &Flow{CC: mustCC(t, "cubic"), Link: l, RTT: 35 * time.Millisecond}
		s.Add(f)
		s.Add(g)
		s.Run(5 * time.Second)
		return f.Delivered + 7*g.Delivered, f.Losses + g.Losses
	}
	d1, l1 := run()
	d2, l2 := run()
	if d1 != d2 || l1 != l2 || l1 == 0 {
		t.Fatalf("runs differ or saw no loss: %d/%d bytes, %d/%d losses", d1, d2, l1, l2)
	}
}

// TestLinkConservesBytes: the link never delivers faster than its rate and
// every packet is either delivered or dropped.
func TestLinkConservesBytes(t *testing.T) {
	s := New(9)
	l := &Link{Rate: 5 * mbit, Buffer: 20000}
	f := &Flow{CC: mustCC(t, "reno"), Link: l, RTT: 10 * time.Millisecond, MSS: 1000}
	s.Add(f)
	s.Run(10 * time.Second)
	// Delivered counts packets when they are queued: allow one buffer.
	if float64(l.Delivered) > l.Rate*10+float64(l.Buffer)+1000 {
		t.Fatalf("link delivered %d bytes in 10 s at %.0f B/s", l.Delivered, l.Rate)
	}
	sent := int64(f.nextSeq) * 1000
	if l.Delivered+l.Dropped != sent {
		t.Fatalf("delivered %d + dropped %d != sent %d", l.Delivered, l.Dropped, sent)
	}
	pending := 0 // drops not yet signalled to the sender
	for _, e := range s.events {
		if e.kind == evLoss {
			pending++
		}
	}
	if int64(f.Losses+pending)*1000 != l.Dropped {
		t.Fatalf("flow saw %d losses (+%d pending), link dropped %d bytes", f.Losses, pending, l.Dropped)
	}
}

// TestHyStartReducesSlowStartLoss: HyStart++ notices the queue building
// in the first slow start and slows down, so the first overshoot drops far
// fewer packets than plain slow start does.
func TestHyStartReducesSlowStartLoss(t *testing.T) {
	losses := map[bool]int{}
	for _, on := range []bool{false, true} {
		s := New(5)
		rtt := 50 * time.Millisecond
		l := &Link{Rate: 100 * mbit}
		l.Buffer = l.BDP(rtt)
		c := cc.NewCubic(1448)
		c.SetHyStart(on)
		f := &Flow{CC: c, Link: l, RTT: rtt}
		s.Add(f)
		s.Run(3 * time.Second)
		losses[on] = f.Losses
		if f.Episodes == 0 {
			t.Fatalf("hystart %v: no loss at all in 3 s; the link was not filled", on)
		}
	}
	t.Logf("packets lost in the first 3 s: slow start %d, HyStart++ %d", losses[false], losses[true])
	if 2*losses[true] > losses[false] {
		t.Errorf("HyStart++ lost %d packets, plain slow start %d: want less than half", losses[true], losses[false])
	}
}
