package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/internal/testbed"
)

// The server on our AF_XDP stack in namespace ours; clients are the
// kernel's in namespace peer: a stock iperf3 -c, our iperf client and
// curl. Metrics stay on a kernel socket in ours.
func TestServeOnStack(t *testing.T) {
	testbed.Require(t)
	topo, err := testbed.NewTopology(testbed.Config{Paths: 1, Tag: "sstk"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	p := topo.Paths[0]
	root := t.TempDir()
	content := bytes.Repeat([]byte("0123456789abcdef"), 1<<12) // 64 KiB
	if err := os.WriteFile(filepath.Join(root, "f.bin"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--iface", p.Ours.Name + "=" + netip.PrefixFrom(p.OurAddr, 24).String(), "--xdp-mode", "auto",
		"--iperf", ":5201", "--http", ":8080", "--root", root, "--metrics", "127.0.0.1:0", "--drain-timeout", "5s"}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan Addrs, 1)
	code := make(chan int, 1)
	var logs syncBuf
	go func() {
		// The stack must start inside ours; run blocks until ctx ends.
		_ = topo.Ours.Do(func() error {
			code <- run(ctx, args, io.Discard, &logs, func(a Addrs) { ready <- a })
			return nil
		})
	}()
	var addrs Addrs
	select {
	case addrs = <-ready:
	case c := <-code:
		t.Fatalf("exit %d:\n%s", c, logs.String())
	case <-time.After(20 * time.Second):
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
			t.Logf("server log:\n%s", logs.String())
		}
	})
	server := p.OurAddr.String()

	t.Run("stock-iperf3", func(t *testing.T) {
		if _, err := exec.LookPath("iperf3"); err != nil {
			t.Skip("needs the stock iperf3 (apt-get install -y iperf3)")
		}
		for _, extra := range [][]string{{"-n", "16M"}, {"-n", "16M", "-R"}} {
			out, err := topo.Peer.Exec("iperf3", append([]string{"-c", server, "-p", "5201", "-J"}, extra...)...)
			if err != nil {
				t.Fatalf("iperf3 %v: %v", extra, err)
			}
			r, err := iperf.ParseJSON(out)
			if err != nil {
				t.Fatal(err)
			}
			// Our server sends exactly -n (-R); a stock iperf3 client
			// sometimes sends a little more than -n (a partial block):
			// what matters is that all of it arrived.
			reverse := len(extra) == 3
			if r.Sent.Bytes != r.Received.Bytes || r.Sent.Bytes < 16<<20 || r.Sent.Bytes >= 16<<20+128<<10 || reverse && r.Sent.Bytes != 16<<20 {
				t.Errorf("iperf3 %v: sent %d, received %d; want %d", extra, r.Sent.Bytes, r.Received.Bytes, 16<<20)
			}
		}
	})
	t.Run("our-client", func(t *testing.T) {
		dial := func(ctx context.Context) (net.Conn, error) {
			var c net.Conn
			err := topo.Peer.Do(func() error {
				var d net.Dialer
				var err error
				c, err = d.DialContext(ctx, "tcp", net.JoinHostPort(server, "5201"))
				return err
			})
			return c, err
		}
		rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer rcancel()
		r, err := iperf.Run(rctx, dial, iperf.Options{Duration: 800 * time.Millisecond, Parallel: 2, Reverse: true})
		if err != nil {
			t.Fatal(err)
		}
		if r.Received.Bytes == 0 || r.Received.Bytes > r.Sent.Bytes {
			t.Errorf("sent %d received %d", r.Sent.Bytes, r.Received.Bytes)
		}
	})
	t.Run("curl", func(t *testing.T) {
		testbed.RequireTools(t, "curl")
		out, err := topo.Peer.Exec("curl", "-sf", "-r", "1000-1999", fmt.Sprintf("http://%s:8080/f.bin", server))
		if err != nil || !bytes.Equal(out, content[1000:2000]) {
			t.Errorf("curl Range over our stack: %v, %d bytes", err, len(out))
		}
		out, err = topo.Peer.Exec("curl", "-sf", fmt.Sprintf("http://%s:8080/bytes/4M", server))
		if err != nil || len(out) != 4<<20 {
			t.Fatalf("curl /bytes/4M: %v, %d bytes", err, len(out))
		}
		for i := range out {
			if out[i] != PatternByte(int64(i)) {
				t.Fatalf("byte %d = %d, want %d", i, out[i], PatternByte(int64(i)))
			}
		}
	})
	t.Run("metrics", func(t *testing.T) {
		testbed.RequireTools(t, "curl")
		out, err := topo.Ours.Exec("curl", "-sf", "http://"+addrs.Metrics+"/metrics")
		if err != nil {
			t.Fatal(err)
		}
		m := parseProm(t, out)
		if m["mpxdp_stack_rx_frames_total"] == 0 || m["mpxdp_stack_flows_opened_total"] == 0 || m[`mpxdp_build_info{go="`+goVersion()+`",mode="xdp"}`] != 1 {
			t.Errorf("stack metrics: rx %v flows %v", m["mpxdp_stack_rx_frames_total"], m["mpxdp_stack_flows_opened_total"])
		}
		if !strings.Contains(string(out), `mpxdp_stack_drops_total{reason=`) {
			t.Error("no per-reason drop counters")
		}
	})
}

func goVersion() string { return runtime.Version() }
