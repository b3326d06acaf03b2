package main

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/internal/testbed"
	"github.com/mpxdp/mpxdp/stack"
)

// Our client on our AF_XDP stack (namespace ours) against the kernel in
// namespace peer: our iperf server on a kernel socket and a stock
// iperf3 -s. Byte counts are exact both ways with our server.
func TestStackClient(t *testing.T) {
	testbed.Require(t)
	topo, err := testbed.NewTopology(testbed.Config{Paths: 1, Tag: "bstk"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	p := topo.Paths[0]
	cfg, err := parseArgs([]string{"--iface", p.Ours.Name + "=" + netip.PrefixFrom(p.OurAddr, 24).String(), "-c", p.PeerAddr.String(), "-n", "24M"})
	if err != nil {
		t.Fatal(err)
	}
	var s *stack.Stack
	if err := topo.Ours.Do(func() error {
		var err error
		s, err = newStack(cfg)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	// Our server on a kernel socket in peer.
	var ln net.Listener
	if err := topo.Peer.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", ":5201")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { _ = iperf.Serve(sctx, ln, iperf.ServeOptions{}); close(served) }()
	t.Cleanup(func() { scancel(); <-served })

	addr := net.JoinHostPort(p.PeerAddr.String(), "5201")
	for _, rev := range []bool{false, true} {
		c := cfg
		c.reverse = rev
		c.json = true
		var out, errOut bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		code := client(ctx, c, stackDialer(s, addr), &out, &errOut)
		cancel()
		if code != exitOK {
			t.Fatalf("reverse=%v: exit %d: %s", rev, code, errOut.String())
		}
		r, err := iperf.ParseJSON(out.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if r.Sent.Bytes != 24<<20 || r.Received.Bytes != 24<<20 {
			t.Errorf("reverse=%v over our stack: sent %d received %d, want %d", rev, r.Sent.Bytes, r.Received.Bytes, 24<<20)
		}
		t.Logf("reverse=%v: %.2f Gbit/s received", rev, r.Received.BitsPerSecond()/1e9)
	}

	// A stock iperf3 -s in peer, text output.
	needStock(t)
	cmd, err := topo.Peer.Command("iperf3", "-s", "-p", "5202")
	if err != nil {
		t.Fatal(err)
	}
	if err := topo.Peer.StartCmd(cmd); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if out, err := topo.Peer.Exec("ss", "-Hltn", "sport = :5202"); err == nil && strings.Contains(string(out), "LISTEN") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("iperf3 -s does not listen")
		}
	}
	c := cfg
	c.port, c.bytes, c.duration, c.interval = 5202, 0, time.Second, 250*time.Millisecond
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if code := client(ctx, c, stackDialer(s, net.JoinHostPort(p.PeerAddr.String(), "5202")), &out, &errOut); code != exitOK {
		t.Fatalf("against iperf3 -s: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "receiver") || strings.Count(out.String(), " sec ") < 4 {
		t.Errorf("output:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())
}

func needStock(t *testing.T) {
	if _, err := exec.LookPath("iperf3"); err != nil {
		t.Skip("needs the stock iperf3 (apt-get install -y iperf3)")
	}
}

// Our client over both paths of a two-path topology against our iperf
// server on a kernel MPTCP socket that announces its second address: the
// connection joins it and the report has one line per subflow, one per
// interface (a one-second test, so that the join is up for most of it).
func TestStackClientTwoPaths(t *testing.T) {
	testbed.Require(t)
	topo, err := testbed.NewTopology(testbed.Config{Paths: 2, Tag: "bmp"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	if err := topo.KernelMPTCP(topo.Peer, "signal"); err != nil {
		t.Fatal(err)
	}
	p0, p1 := topo.Paths[0], topo.Paths[1]
	cfg, err := parseArgs([]string{
		"--iface", p0.Ours.Name + "=" + netip.PrefixFrom(p0.OurAddr, 24).String(),
		"--iface", p1.Ours.Name + "=" + netip.PrefixFrom(p1.OurAddr, 24).String(),
		"-c", p0.PeerAddr.String(), "-t", "1", "-R"})
	if err != nil {
		t.Fatal(err)
	}
	var s *stack.Stack
	if err := topo.Ours.Do(func() error {
		var err error
		s, err = newStack(cfg)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var ln net.Listener
	if err := topo.Peer.Do(func() error {
		var lc net.ListenConfig
		lc.SetMultipathTCP(true)
		var err error
		ln, err = lc.Listen(context.Background(), "tcp", ":5201")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { _ = iperf.Serve(sctx, ln, iperf.ServeOptions{}); close(served) }()
	t.Cleanup(func() { scancel(); <-served })

	c := cfg
	c.json = true
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if code := client(ctx, c, stackDialer(s, net.JoinHostPort(p0.PeerAddr.String(), "5201")), &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	r, err := iperf.ParseJSON(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if r.Received.Bytes == 0 {
		t.Errorf("received nothing (sent %d)", r.Sent.Bytes)
	}
	if len(r.Streams) != 1 {
		t.Fatalf("%d streams, want 1", len(r.Streams))
	}
	ifaces := map[string]uint64{}
	t.Logf("subflows: %+v; our MIB %v", r.Streams[0].Subflows, s.MIBMap())
	for _, sf := range r.Streams[0].Subflows {
		ifaces[sf.Iface] += sf.BytesReceived
	}
	if len(ifaces) != 2 || ifaces[p0.Ours.Name] == 0 || ifaces[p1.Ours.Name] == 0 {
		t.Errorf("subflow lines by interface %v: want data on %s and %s", ifaces, p0.Ours.Name, p1.Ours.Name)
	}
	t.Logf("%.2f Gbit/s received over %v", r.Received.BitsPerSecond()/1e9, ifaces)
}
