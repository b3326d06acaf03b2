package testbed

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDelayOptsValidate(t *testing.T) {
	for _, o := range []DelayOpts{{}, {Delay: time.Second, Jitter: time.Millisecond, Limit: 5}, {ReorderPct: 100, DupPct: 0.5}} {
		if err := o.validate(); err != nil {
			t.Errorf("validate(%+v) = %v", o, err)
		}
	}
	for _, o := range []DelayOpts{{Delay: -1}, {Jitter: -1}, {Delay: 11 * time.Second}, {Limit: -1}, {Limit: 1<<20 + 1}, {ReorderPct: -1}, {ReorderPct: 100.1}, {DupPct: 101}} {
		if err := o.validate(); err == nil {
			t.Errorf("validate(%+v) = nil error", o)
		}
	}
	bad := []Config{
		{Paths: 1, Delay: []time.Duration{time.Millisecond}},                                 // no router
		{Paths: 1, Router: true, Delay: []time.Duration{time.Millisecond, time.Millisecond}}, // too many
		{Paths: 1, Router: true, Delay: []time.Duration{-time.Millisecond}},                  // negative
		{Paths: 1, Jitter: []time.Duration{time.Millisecond}},                                // no router
	}
	for _, c := range bad {
		if err := c.validate(); err == nil {
			t.Errorf("validate(%+v) = nil error", c)
		}
	}
	c := Config{Paths: 3, Router: true, Delay: []time.Duration{0, time.Millisecond}, Jitter: []time.Duration{0, 0, time.Millisecond}}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, true, true} {
		if got := c.emulated(i); got != want {
			t.Errorf("emulated(%d) = %v, want %v", i, got, want)
		}
	}
}

var rttRE = regexp.MustCompile(`= ([0-9.]+)/([0-9.]+)/([0-9.]+)/`)

// minRTT pings addr from the ours namespace n times and returns the
// smallest round-trip time.
func minRTT(t *testing.T, topo *Topology, i, n int) time.Duration {
	t.Helper()
	out, err := topo.Ours.Exec("ping", "-n", "-q", "-c", strconv.Itoa(n), "-i", "0.05", "-W", "2", topo.Paths[i].PeerAddr.String())
	if err != nil {
		t.Fatalf("ping over path %d: %v", i, err)
	}
	m := rttRE.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no rtt summary in ping output:\n%s", out)
	}
	ms, _ := strconv.ParseFloat(m[1], 64)
	return time.Duration(ms * float64(time.Millisecond))
}

func TestDelayPath(t *testing.T) {
	t.Parallel()
	const d = 20 * time.Millisecond
	topo := newTopology(t, Config{Paths: 2, Router: true, Delay: []time.Duration{d}, RateMbit: []int{50}, Tag: "delay"})
	p0, p1 := topo.Paths[0], topo.Paths[1]
	if p0.Forwarder == nil || p0.Bridge != "" || p1.Forwarder != nil || p1.Bridge == "" {
		t.Fatalf("path 0 forwarder %v bridge %q, path 1 forwarder %v bridge %q", p0.Forwarder, p0.Bridge, p1.Forwarder, p1.Bridge)
	}
	if err := topo.KernelMode(); err != nil {
		t.Fatal(err)
	}
	pingOK(t, topo.Ours, p0.PeerAddr)
	rtt := minRTT(t, topo, 0, 5)
	t.Logf("path 0 with %v one-way delay: min RTT %v", d, rtt)
	if rtt < 2*d {
		t.Errorf("min RTT %v over a path with %v one-way delay, want >= %v", rtt, d, 2*d)
	}
	toPeer, toOurs := p0.Forwarder.Stats()
	if toPeer.Forwarded < 5 || toOurs.Forwarded < 5 {
		t.Errorf("forwarder counted %+v / %+v after 6 pings", toPeer, toOurs)
	}
	if err := topo.SetDelay(0, 2*time.Millisecond, 0); err != nil {
		t.Fatal(err)
	}
	if rtt := minRTT(t, topo, 0, 3); rtt < 4*time.Millisecond {
		t.Errorf("min RTT %v after SetDelay(2ms), want >= 4ms", rtt)
	}
	// The delay line survives a cable pull on the router port it reads.
	if err := topo.LinkDown(0); err != nil {
		t.Fatal(err)
	}
	if _, recv := ping(t, topo.Ours, p0.PeerAddr, 1, "0.2"); recv != 0 {
		t.Error("path 0 answers while its link is down")
	}
	if err := topo.LinkUp(0); err != nil {
		t.Fatal(err)
	}
	pingOK(t, topo.Ours, p0.PeerAddr)
	if err := topo.SetDelay(1, time.Millisecond, 0); err == nil {
		t.Error("SetDelay on a bridged path succeeded")
	}
	// Frames the forwarder sends still meet the router ports' tbf.
	rate, n := transfer(t, topo, p0, time.Second)
	t.Logf("kernel TCP through forwarder + 50 Mbit/s tbf: %.1f Mbit/s (%d bytes)", rate, n)
	if n < 1<<20 {
		t.Errorf("only %d bytes crossed the delayed path in 1 s", n)
	}
	if rate > 1.3*50 {
		t.Errorf("measured %.1f Mbit/s through a 50 Mbit/s limit", rate)
	}
}

func TestForwarderReorderAndDuplicate(t *testing.T) {
	t.Parallel()
	topo := newTopology(t, Config{Paths: 1, Router: true, Delay: []time.Duration{time.Millisecond}, Tag: "emu"})
	if err := topo.KernelMode(); err != nil {
		t.Fatal(err)
	}
	p := topo.Paths[0]
	pingOK(t, topo.Ours, p.PeerAddr)
	// Every frame twice, each way: ping sees duplicates.
	if err := topo.SetEmulation(0, DelayOpts{Delay: time.Millisecond, DupPct: 100}); err != nil {
		t.Fatal(err)
	}
	out, _ := topo.Ours.Exec("ping", "-n", "-c", "3", "-i", "0.05", "-W", "1", p.PeerAddr.String())
	if !strings.Contains(string(out), "duplicates") {
		t.Errorf("no duplicates reported by ping with 100%% duplication:\n%s", out)
	}
	toPeer, toOurs := p.Forwarder.Stats()
	if toPeer.Duplicated < 3 || toOurs.Duplicated < 3 {
		t.Errorf("duplication counted %+v / %+v", toPeer, toOurs)
	}
	// 100% reordering: every frame skips the (long) delay line.
	if err := topo.SetEmulation(0, DelayOpts{Delay: 300 * time.Millisecond, ReorderPct: 100}); err != nil {
		t.Fatal(err)
	}
	if rtt := minRTT(t, topo, 0, 3); rtt >= 600*time.Millisecond {
		t.Errorf("min RTT %v although every frame skips the 300 ms delay", rtt)
	}
	// Some reordering under TCP: the receiver (ours) queues out-of-order data.
	if err := topo.SetEmulation(0, DelayOpts{Delay: 2 * time.Millisecond, ReorderPct: 5}); err != nil {
		t.Fatal(err)
	}
	before, err := topo.Ours.TCPExt()
	if err != nil {
		t.Fatal(err)
	}
	if _, n := transfer(t, topo, p, 500*time.Millisecond); n == 0 {
		t.Fatal("no data crossed the reordering path")
	}
	after, err := topo.Ours.TCPExt()
	if err != nil {
		t.Fatal(err)
	}
	if after["TCPOFOQueue"] <= before["TCPOFOQueue"] {
		t.Errorf("TCPOFOQueue %d -> %d: no out-of-order data seen with 5%% reordering", before["TCPOFOQueue"], after["TCPOFOQueue"])
	}
	_, toOurs = p.Forwarder.Stats()
	if toOurs.Reordered == 0 {
		t.Errorf("forwarder counted no reordered frames toward ours: %+v", toOurs)
	}
	if err := topo.SetEmulation(0, DelayOpts{DupPct: 101}); err == nil {
		t.Error("SetEmulation accepted 101% duplication")
	}
}
