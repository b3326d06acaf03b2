package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/internal/testbed"
)

// nsServer is mptcp-server (run, in-process) on our AF_XDP stack in
// namespace ours.
type nsServer struct {
	topo  *testbed.Topology
	addrs Addrs
	logs  *syncBuf
	http  *http.Client // dials from inside ours (the metrics socket lives there)
}

// startOnStack runs the server with args inside topo.Ours until the test
// ends, then checks that it drained and exited 0.
func startOnStack(t *testing.T, topo *testbed.Topology, args ...string) *nsServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan Addrs, 1)
	code := make(chan int, 1)
	s := &nsServer{topo: topo, logs: &syncBuf{}}
	go func() {
		// The stack must start inside ours; run blocks until ctx ends.
		_ = topo.Ours.Do(func() error {
			code <- run(ctx, args, io.Discard, s.logs, func(a Addrs) { ready <- a })
			return nil
		})
	}()
	select {
	case s.addrs = <-ready:
	case c := <-code:
		cancel()
		t.Fatalf("exit %d:\n%s", c, s.logs.String())
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("server on the stack did not start")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case c := <-code:
			if c != exitOK {
				t.Errorf("exit %d after drain", c)
			}
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs.String())
		}
	})
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := topo.Ours.Do(func() error {
			var d net.Dialer
			var err error
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	s.http = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
	return s
}

// debugDoc is /debug/mptcp as the tests read it.
type debugDoc struct {
	Connections []debugConn `json:"connections"`
	Closed      []debugConn `json:"closed"`
}

// debug fetches /debug/mptcp.
func (s *nsServer) debug(t *testing.T) debugDoc {
	t.Helper()
	resp, err := s.http.Get("http://" + s.addrs.Metrics + "/debug/mptcp")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d debugDoc
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

// lastClosed waits (up to 5 s: the server closes its side after the
// client has gone) for a connection of service that closed since the
// closed list had skip entries and moved at least minBytes (sent +
// received over its subflows), and returns the one that moved most.
func lastClosed(t *testing.T, s *nsServer, service string, skip int, minBytes uint64) debugConn {
	t.Helper()
	var d debugDoc
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		d = s.debug(t)
		var best debugConn
		var bestN uint64
		found := false
		for _, c := range d.Closed[min(skip, len(d.Closed)):] {
			var n uint64
			for _, s := range c.Subflows {
				n += s.BytesSent + s.BytesReceived
			}
			if c.Service == service && n >= minBytes && (!found || n > bestN) {
				best, bestN, found = c, n, true
			}
		}
		if found {
			return best
		}
		if time.Now().After(deadline) {
			break
		}
	}
	t.Fatalf("no closed %s connection that moved %d bytes in /debug/mptcp: %+v", service, minBytes, d.Closed)
	return debugConn{}
}

// checkTwoSubflows asserts that c ran MPTCP over two subflows, one per
// interface, each of which carried at least one byte in the direction
// given (sent by us when sent, else received).
func checkTwoSubflows(t *testing.T, c debugConn, sent bool, ifaces ...string) {
	t.Helper()
	if !c.MPTCP {
		t.Errorf("%s connection %s: not MPTCP (fell back to TCP)", c.Service, c.Remote)
	}
	if len(c.Subflows) != 2 {
		t.Fatalf("%s connection %s: %d subflows at close, want 2: %+v", c.Service, c.Remote, len(c.Subflows), c.Subflows)
	}
	seen := map[string]bool{}
	for _, s := range c.Subflows {
		n := s.BytesReceived
		if sent {
			n = s.BytesSent
		}
		if n == 0 {
			t.Errorf("%s connection: subflow %v via %s carried no bytes (sent %d, received %d)", c.Service, s.Local, s.Iface, s.BytesSent, s.BytesReceived)
		}
		seen[s.Iface] = true
		t.Logf("%s subflow %v <- %v via %s: sent %d, received %d", c.Service, s.Local, s.Remote, s.Iface, s.BytesSent, s.BytesReceived)
	}
	for _, i := range ifaces {
		if !seen[i] {
			t.Errorf("%s connection: no subflow on %s", c.Service, i)
		}
	}
}

// The issue-5 must-shows against the server on our stack, with MPTCP,
// two paths and a signal endpoint on the second address: the kernel's
// MPTCP client (stock tools under mptcpize, in namespace peer) joins it.
//  1. mptcpize run iperf3 -c (and -R) completes, reports throughput, and
//     the server saw two subflows, each carrying data;
//  2. mptcpize run curl downloads a 32 MiB file of --root byte-exact over
//     two subflows; plain curl (TCP fallback) and GET /bytes/N work too.
func TestMustShowsMPTCPOnStack(t *testing.T) {
	testbed.Require(t)
	testbed.RequireTools(t, "mptcpize", "iperf3", "curl")
	topo, err := testbed.NewTopology(testbed.Config{Paths: 2, Tag: "smp"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	if err := topo.Peer.Sysctl("net.mptcp.enabled", "1"); err != nil {
		t.Fatal(err)
	}
	if err := topo.Peer.MPTCPLimits(2, 2); err != nil {
		t.Fatal(err)
	}
	p0, p1 := topo.Paths[0], topo.Paths[1]
	root := t.TempDir()
	content := make([]byte, 32<<20)
	if _, err := rand.Read(content); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(content)
	if err := os.WriteFile(filepath.Join(root, "big.bin"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	s := startOnStack(t, topo,
		"--iface", p0.Ours.Name+"="+netip.PrefixFrom(p0.OurAddr, 24).String(),
		"--iface", p1.Ours.Name+"="+netip.PrefixFrom(p1.OurAddr, 24).String(),
		"--endpoint", p1.OurAddr.String()+",signal",
		"--iperf", ":5201", "--http", ":8080", "--root", root, "--metrics", "127.0.0.1:0", "--drain-timeout", "5s")
	server := p0.OurAddr.String()
	ifaces := []string{p0.Ours.Name, p1.Ours.Name}

	t.Run("mptcpize-iperf3", func(t *testing.T) {
		for _, reverse := range []bool{false, true} {
			before, err := topo.Peer.MPTcpExt()
			if err != nil {
				t.Fatal(err)
			}
			skip := len(s.debug(t).Closed)
			args := []string{"run", "iperf3", "-c", server, "-p", "5201", "-t", "2", "-J"}
			if reverse {
				args = append(args, "-R")
			}
			out, err := topo.Peer.Exec("mptcpize", args...)
			if err != nil {
				t.Fatalf("mptcpize %v: %v\n%s", args, err, out)
			}
			var doc struct {
				End struct {
					SumSent struct {
						BitsPerSecond float64 `json:"bits_per_second"`
					} `json:"sum_sent"`
					SumReceived struct {
						BitsPerSecond float64 `json:"bits_per_second"`
					} `json:"sum_received"`
				} `json:"end"`
			}
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("iperf3 -J output: %v\n%s", err, out)
			}
			if doc.End.SumReceived.BitsPerSecond <= 0 || doc.End.SumSent.BitsPerSecond <= 0 {
				t.Errorf("reverse=%v: bits_per_second sent %v received %v, want > 0", reverse, doc.End.SumSent.BitsPerSecond, doc.End.SumReceived.BitsPerSecond)
			}
			r, err := iperf.ParseJSON(out)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("reverse=%v: %.2f Gbit/s received", reverse, r.Received.BitsPerSecond()/1e9)
			after, err := topo.Peer.MPTcpExt()
			if err != nil {
				t.Fatal(err)
			}
			if after["MPJoinSynAckRx"] <= before["MPJoinSynAckRx"] {
				t.Errorf("reverse=%v: the kernel's MPJoinSynAckRx did not grow (%d): no subflow joined our second address", reverse, after["MPJoinSynAckRx"])
			}
			// The data stream: our server sent with -R, received without.
			checkTwoSubflows(t, lastClosed(t, s, "iperf", skip, 1<<20), reverse, ifaces...)
		}
	})

	t.Run("mptcpize-curl", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, "big.bin")
		skip := len(s.debug(t).Closed)
		if out, err := topo.Peer.Exec("mptcpize", "run", "curl", "-sSf", "-o", file, fmt.Sprintf("http://%s:8080/big.bin", server)); err != nil {
			t.Fatalf("mptcpize run curl: %v\n%s", err, out)
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if sha256.Sum256(got) != want {
			t.Fatalf("downloaded %d bytes, SHA-256 differs from --root's %d bytes", len(got), len(content))
		}
		c := lastClosed(t, s, "http", skip, uint64(len(content)))
		checkTwoSubflows(t, c, true, ifaces...)
		var sent uint64
		for _, sf := range c.Subflows {
			sent += sf.BytesSent
		}
		if sent < uint64(len(content)) {
			t.Errorf("subflows sent %d bytes in all, want at least the file's %d", sent, len(content))
		}
	})

	t.Run("mptcpize-curl-bytes", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "gen.bin")
		if out, err := topo.Peer.Exec("mptcpize", "run", "curl", "-sSf", "-o", file, fmt.Sprintf("http://%s:8080/bytes/8M", server)); err != nil {
			t.Fatalf("mptcpize run curl /bytes/8M: %v\n%s", err, out)
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 8<<20 {
			t.Fatalf("/bytes/8M gave %d bytes", len(got))
		}
		for i := range got {
			if got[i] != PatternByte(int64(i)) {
				t.Fatalf("/bytes/8M: byte %d = %d, want %d", i, got[i], PatternByte(int64(i)))
			}
		}
	})

	t.Run("plain-curl-fallback", func(t *testing.T) {
		skip := len(s.debug(t).Closed)
		out, err := topo.Peer.Exec("curl", "-sSf", fmt.Sprintf("http://%s:8080/big.bin", server))
		if err != nil {
			t.Fatalf("curl: %v", err)
		}
		if !bytes.Equal(out, content) {
			t.Fatalf("plain TCP download: %d bytes, not the file", len(out))
		}
		// A plain TCP connection's subflow line carries its byte counts
		// (as the server closed it: the file's tail may still be queued).
		c := lastClosed(t, s, "http", skip, 1)
		if c.MPTCP || len(c.Subflows) != 1 {
			t.Errorf("plain curl: MPTCP %v with %d subflows, want a TCP connection (one subflow)", c.MPTCP, len(c.Subflows))
		} else if sf := c.Subflows[0]; sf.BytesSent == 0 || sf.BytesAcked == 0 || sf.BytesAcked > sf.BytesSent || sf.BytesReceived == 0 {
			t.Errorf("plain curl: subflow sent %d, acknowledged %d, received %d bytes: want all non-zero, acknowledged <= sent", sf.BytesSent, sf.BytesAcked, sf.BytesReceived)
		}
	})
}
