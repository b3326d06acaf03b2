package coupled

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/stack/tcp/cc"
	"github.com/mpxdp/mpxdp/stack/tcp/cc/ccsim"
)

const mbit = 1e6 / 8 // bytes per second in one Mbit/s

func reno(t *testing.T) cc.Controller {
	c, err := cc.New("reno")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sharedBottleneck runs a two-subflow connection of algorithm name (the
// subflows with propagation RTTs rtt1 and rtt2) and one Reno flow (RTT
// rtt1) through the same drop-tail link, and returns the connection's
// throughput divided by the Reno flow's, over three seeds.
func sharedBottleneck(t *testing.T, name string, rtt1, rtt2 time.Duration) float64 {
	var mp, sp float64
	for seed := uint64(1); seed <= 3; seed++ {
		g := mustGroup(t, name)
		s := ccsim.New(seed)
		s.Jitter = time.Millisecond
		l := &ccsim.Link{Rate: 20 * mbit}
		l.Buffer = l.BDP(40 * time.Millisecond)
		sf1 := &ccsim.Flow{CC: g.NewSubflow(), Link: l, RTT: rtt1}
		sf2 := &ccsim.Flow{CC: g.NewSubflow(), Link: l, RTT: rtt2, Start: 100 * time.Millisecond}
		tcp := &ccsim.Flow{CC: reno(t), Link: l, RTT: rtt1, Start: 50 * time.Millisecond}
		s.Add(sf1)
		s.Add(sf2)
		s.Add(tcp)
		s.Run(10 * time.Second)
		th := ccsim.Throughput(s, 100*time.Second, sf1, sf2, tcp)
		mp += th[0] + th[1]
		sp += th[2]
		if u := (th[0] + th[1] + th[2]) / l.Rate; u < 0.95 {
			t.Errorf("%s seed %d: link utilisation %.3f, want >= 0.95", name, seed, u)
		}
	}
	return mp / sp
}

// TestSharedBottleneckFairness is RFC 6356 goal 2 ("do no harm"): two
// subflows through the same bottleneck take about what one Reno flow takes
// from a competing Reno flow. Two uncoupled Reno subflows, the control,
// take about twice as much.
func TestSharedBottleneckFairness(t *testing.T) {
	ms := time.Millisecond
	for _, name := range []string{LIA, OLIA, BALIA} {
		ratio := sharedBottleneck(t, name, 40*ms, 40*ms)
		t.Logf("%s: multipath/Reno throughput %.3f", name, ratio)
		if ratio < 0.7 || ratio > 1.4 {
			t.Errorf("%s: connection took %.2fx the competing Reno flow, want within [0.7, 1.4]", name, ratio)
		}
	}
	ratio := sharedBottleneck(t, "reno", 40*ms, 40*ms)
	t.Logf("uncoupled reno: multipath/Reno throughput %.3f", ratio)
	if ratio < 1.6 {
		t.Errorf("uncoupled control: ratio %.2f, want >= 1.6 (else the test cannot tell coupling apart)", ratio)
	}
}

// TestSharedBottleneckMixedRTT: subflows of 20 and 60 ms through one
// bottleneck against a 20 ms Reno flow. The connection must not take more
// than a Reno flow on its best path would; uncoupled subflows do.
func TestSharedBottleneckMixedRTT(t *testing.T) {
	ms := time.Millisecond
	for _, name := range []string{LIA, OLIA, BALIA} {
		ratio := sharedBottleneck(t, name, 20*ms, 60*ms)
		t.Logf("%s: multipath/Reno throughput %.3f", name, ratio)
		if ratio < 0.6 || ratio > 1.1 {
			t.Errorf("%s: connection took %.2fx the competing Reno flow, want within [0.6, 1.1]", name, ratio)
		}
	}
	ratio := sharedBottleneck(t, "reno", 20*ms, 60*ms)
	t.Logf("uncoupled reno: multipath/Reno throughput %.3f", ratio)
	if ratio < 1.2 {
		t.Errorf("uncoupled control: ratio %.2f, want >= 1.2", ratio)
	}
}

// TestDisjointBottlenecks: with one subflow on each of two separate links,
// the connection uses both (RFC 6356 goal 1 does not hold it back).
func TestDisjointBottlenecks(t *testing.T) {
	for _, name := range []string{LIA, OLIA, BALIA} {
		g := mustGroup(t, name)
		s := ccsim.New(11)
		s.Jitter = time.Millisecond
		a := &ccsim.Link{Rate: 10 * mbit}
		a.Buffer = a.BDP(30 * time.Millisecond)
		b := &ccsim.Link{Rate: 30 * mbit}
		b.Buffer = b.BDP(50 * time.Millisecond)
		sf1 := &ccsim.Flow{CC: g.NewSubflow(), Link: a, RTT: 30 * time.Millisecond}
		sf2 := &ccsim.Flow{CC: g.NewSubflow(), Link: b, RTT: 50 * time.Millisecond}
		s.Add(sf1)
		s.Add(sf2)
		s.Run(10 * time.Second)
		th := ccsim.Throughput(s, 70*time.Second, sf1, sf2)
		ua, ub := th[0]/a.Rate, th[1]/b.Rate
		sum := (th[0] + th[1]) / (a.Rate + b.Rate)
		t.Logf("%s: link A %.3f, link B %.3f, together %.3f of capacity", name, ua, ub, sum)
		if sum < 0.9 || ua < 0.8 || ub < 0.8 {
			t.Errorf("%s: used %.3f of A and %.3f of B (%.3f together), want each >= 0.8 and together >= 0.9", name, ua, ub, sum)
		}
	}
}

// balance runs one subflow on link A, shared with a Reno flow, and one on
// link B, which is free; it returns the link-A subflow's, the link-B
// subflow's and the Reno flow's throughput as fractions of a link.
func balance(t *testing.T, name string) (a, b, r float64) {
	g := mustGroup(t, name)
	s := ccsim.New(11)
	s.Jitter = time.Millisecond
	la := &ccsim.Link{Rate: 20 * mbit}
	la.Buffer = la.BDP(40 * time.Millisecond)
	lb := &ccsim.Link{Rate: 20 * mbit}
	lb.Buffer = lb.BDP(40 * time.Millisecond)
	sf1 := &ccsim.Flow{CC: g.NewSubflow(), Link: la, RTT: 40 * time.Millisecond}
	sf2 := &ccsim.Flow{CC: g.NewSubflow(), Link: lb, RTT: 40 * time.Millisecond}
	tcp := &ccsim.Flow{CC: reno(t), Link: la, RTT: 40 * time.Millisecond}
	s.Add(sf1)
	s.Add(sf2)
	s.Add(tcp)
	s.Run(10 * time.Second)
	th := ccsim.Throughput(s, 100*time.Second, sf1, sf2, tcp)
	return th[0] / la.Rate, th[1] / lb.Rate, th[2] / la.Rate
}

// TestBalanceCongestion is RFC 6356 goals 1 and 3: the connection does at
// least as well as one TCP flow on its best path (the free link B), and
// moves traffic away from the congested link A, leaving the competing Reno
// flow more than half of it. Uncoupled subflows, the control, split link A
// about evenly with the Reno flow.
func TestBalanceCongestion(t *testing.T) {
	for _, name := range []string{LIA, OLIA, BALIA} {
		a, b, r := balance(t, name)
		t.Logf("%s: subflow on A %.3f, on B %.3f, Reno on A %.3f", name, a, b, r)
		if a+b < 0.95 {
			t.Errorf("%s: connection got %.3f of a link, less than one TCP flow on the free path", name, a+b)
		}
		if a > 0.8*r {
			t.Errorf("%s: subflow on the congested link took %.3f against Reno's %.3f: want it to yield (< 0.8x)", name, a, r)
		}
	}
	a, _, r := balance(t, "reno")
	t.Logf("uncoupled reno: subflow on A %.3f, Reno on A %.3f", a, r)
	if a < 0.8*r {
		t.Errorf("uncoupled control: subflow on A %.3f vs Reno %.3f, want about even", a, r)
	}
}
