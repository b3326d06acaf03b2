package iperf

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

// twoPaths builds ours <-> peer with two paths, kernel addresses on both
// sides, MPTCP limits, and a signal endpoint on the peer's second path so
// that every MPTCP connection to the peer's first address gets a second
// subflow. The server runs in peer.
func twoPaths(t *testing.T) *testbed.Topology {
	t.Helper()
	testbed.Require(t)
	topo, err := testbed.NewTopology(testbed.Config{Paths: 2, Tag: "iperf"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	if err := topo.KernelMode(); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []*testbed.NS{topo.Ours, topo.Peer} {
		if err := ns.Sysctl("net.mptcp.enabled", "1"); err != nil {
			t.Fatal(err)
		}
		if err := ns.MPTCPLimits(8, 8); err != nil {
			t.Fatal(err)
		}
	}
	if err := topo.Peer.MPTCPEndpoint(topo.Paths[1].PeerAddr, topo.Paths[1].Peer.Name, "signal"); err != nil {
		t.Fatal(err)
	}
	return topo
}

// nsDialer dials addr with kernel MPTCP from inside ns.
func nsDialer(ns *testbed.NS, addr string) Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		var c net.Conn
		err := ns.Do(func() error {
			var d net.Dialer
			d.SetMultipathTCP(true)
			var err error
			c, err = d.DialContext(ctx, "tcp", addr)
			return err
		})
		return c, err
	}
}

// nsServe runs our server on a kernel MPTCP listener inside ns.
func nsServe(t *testing.T, ns *testbed.NS, addr string, o ServeOptions) {
	t.Helper()
	var ln net.Listener
	if err := ns.Do(func() error {
		var lc net.ListenConfig
		lc.SetMultipathTCP(true)
		var err error
		ln, err = lc.Listen(context.Background(), "tcp", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = Serve(ctx, ln, o); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// checkTwoSubflows asserts that a stream used both paths.
func checkTwoSubflows(t *testing.T, who string, subs []SubflowStat, sender bool) {
	t.Helper()
	if len(subs) != 2 {
		t.Fatalf("%s: %d subflows, want 2 (one per path): %+v", who, len(subs), subs)
	}
	nets := map[string]bool{}
	for _, s := range subs {
		nets[s.Local.Addr().String()[:6]] = true
		moved := s.BytesReceived
		if sender {
			moved = s.BytesAcked
		}
		if moved == 0 {
			t.Errorf("%s: subflow %v->%v (%s) carried no data", who, s.Local, s.Remote, s.Iface)
		}
		if s.Iface == "" {
			t.Errorf("%s: subflow %v has no interface name", who, s.Local)
		}
	}
	if !nets["10.100"] || !nets["10.101"] {
		t.Errorf("%s: subflows do not cover both paths: %+v", who, subs)
	}
}

func TestMPTCPTwoPathsOurs(t *testing.T) {
	topo := twoPaths(t)
	sums := make(chan TestSummary, 4)
	addr := netip.AddrPortFrom(topo.Paths[0].PeerAddr, 5201).String()
	// Listen on every address: the joins arrive at the signalled one.
	nsServe(t, topo.Peer, ":5201", ServeOptions{OnTest: func(s TestSummary) { sums <- s }})
	for _, rev := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var subSamples int
		r, err := Run(ctx, nsDialer(topo.Ours, addr), Options{Duration: 1500 * time.Millisecond, Reverse: rev, Interval: 250 * time.Millisecond,
			OnInterval: func(iv Interval) {
				if len(iv.Subflows) == 2 {
					subSamples++
				}
			}})
		cancel()
		if err != nil {
			t.Fatalf("reverse=%v: %v", rev, err)
		}
		checkTwoSubflows(t, "client", r.Streams[0].Subflows, !rev)
		if subSamples == 0 {
			t.Errorf("reverse=%v: no interval had two subflow samples", rev)
		}
		s := <-sums
		if s.Err != nil {
			t.Fatalf("server: %v", s.Err)
		}
		checkTwoSubflows(t, "server", s.Streams[0].Subflows, rev)
	}
}

func TestMPTCPTwoPathsStock(t *testing.T) {
	needIperf3(t)
	testbed.RequireTools(t, "mptcpize")
	topo := twoPaths(t)
	// Stock client (mptcpize) against our server.
	sums := make(chan TestSummary, 2)
	// Listen on every address: the joins arrive at the signalled one.
	nsServe(t, topo.Peer, ":5201", ServeOptions{OnTest: func(s TestSummary) { sums <- s }})
	out, err := topo.Ours.Exec("mptcpize", "run", "iperf3", "-c", topo.Paths[0].PeerAddr.String(), "-p", "5201", "-t", "1", "-J")
	if err != nil {
		t.Fatalf("mptcpize run iperf3 -c: %v", err)
	}
	r, err := ParseJSON(out[strings.Index(string(out), "{"):])
	if err != nil || r.Received.Bytes == 0 {
		t.Fatalf("stock client result: %v, %d bytes", err, r.Received.Bytes)
	}
	s := <-sums
	if s.Err != nil {
		t.Fatalf("server: %v", s.Err)
	}
	checkTwoSubflows(t, "our server with a stock client", s.Streams[0].Subflows, false)

	// Our client against a stock server (mptcpize), on another port.
	cmd, err := topo.Peer.Command("mptcpize", "run", "iperf3", "-s", "-p", "5202")
	if err != nil {
		t.Fatal(err)
	}
	if err := topo.Peer.StartCmd(cmd); err != nil {
		t.Fatal(err)
	}
	stockAddr := netip.AddrPortFrom(topo.Paths[0].PeerAddr, 5202).String()
	// Wait until it listens (dialing earlier races its start-up).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err := topo.Peer.Exec("ss", "-Hltn", "sport = :5202")
		if err == nil && strings.Contains(string(out), "LISTEN") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mptcpize run iperf3 -s does not listen on :5202 after 10 s (%v, %s)", err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, nsDialer(topo.Ours, stockAddr), Options{Duration: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	checkTwoSubflows(t, "our client with a stock server", res.Streams[0].Subflows, true)
	if res.Received.Bytes == 0 {
		t.Errorf("stock server received nothing")
	}
}
