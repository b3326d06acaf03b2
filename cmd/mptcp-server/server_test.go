package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
)

// syncBuf is a goroutine-safe buffer for the server's log.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// server is a running mptcp-server (as a function) for a test.
type server struct {
	addrs  Addrs
	cancel context.CancelFunc
	code   chan int
	log    *syncBuf
}

// startServer runs the program with args plus random loopback ports.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{cancel: cancel, code: make(chan int, 1), log: &syncBuf{}}
	ready := make(chan Addrs, 1)
	all := append([]string{"--kernel", "--iperf", "127.0.0.1:0", "--http", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--log-level", "debug"}, args...)
	go func() { s.code <- run(ctx, all, io.Discard, s.log, func(a Addrs) { ready <- a }) }()
	select {
	case s.addrs = <-ready:
	case c := <-s.code:
		t.Fatalf("server exited with %d:\n%s", c, s.log.String())
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.code:
		case <-time.After(40 * time.Second):
			t.Error("server did not stop")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.log.String())
		}
	})
	return s
}

func mptcpDial(addr string) iperf.Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		d.SetMultipathTCP(true)
		return d.DialContext(ctx, "tcp", addr)
	}
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestServeKernel(t *testing.T) {
	root := t.TempDir()
	content := make([]byte, 100_000)
	_, _ = rand.Read(content)
	if err := os.WriteFile(filepath.Join(root, "blob.bin"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "--root", root)
	base := "http://" + s.addrs.HTTP

	t.Run("our-client", func(t *testing.T) {
		for _, rev := range []bool{false, true} {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			r, err := iperf.Run(ctx, mptcpDial(s.addrs.Iperf), iperf.Options{Bytes: 2_000_003, Reverse: rev, Parallel: 2})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			if r.Sent.Bytes != 2_000_003 || r.Received.Bytes != 2_000_003 {
				t.Errorf("reverse=%v: sent %d received %d, want 2000003", rev, r.Sent.Bytes, r.Received.Bytes)
			}
			if len(r.Streams[0].Subflows) != 1 {
				t.Errorf("kernel MPTCP on loopback: %d subflows, want 1", len(r.Streams[0].Subflows))
			}
		}
	})
	t.Run("stock-iperf3", func(t *testing.T) {
		bin, err := exec.LookPath("iperf3")
		if err != nil {
			t.Skip("needs the stock iperf3 (apt-get install -y iperf3)")
		}
		host, port, _ := net.SplitHostPort(s.addrs.Iperf)
		out, err := exec.Command(bin, "-c", host, "-p", port, "-t", "1", "-J", "-R", "-C", "reno").Output()
		if err != nil {
			t.Fatalf("iperf3: %v\n%s", err, out)
		}
		r, err := iperf.ParseJSON(out)
		if err != nil || r.Received.Bytes == 0 || r.Sent.Bytes < r.Received.Bytes {
			t.Errorf("stock client: %v sent %d received %d", err, r.Sent.Bytes, r.Received.Bytes)
		}
		// -C reached the server's sockets through the connection tracker.
		if r.SenderCongestion != "reno" {
			t.Errorf("server's congestion control %q, want reno", r.SenderCongestion)
		}
	})
	t.Run("range-file", func(t *testing.T) {
		for _, tc := range []struct {
			rng        string
			start, end int // end exclusive
		}{{"bytes=0-99", 0, 100}, {"bytes=99990-", 99990, 100000}, {"bytes=-500", 99500, 100000}, {"bytes=1234-5678", 1234, 5679}} {
			resp, b := get(t, base+"/blob.bin", "Range", tc.rng)
			if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, content[tc.start:tc.end]) {
				t.Errorf("%s: status %d, %d bytes; want 206 and bytes %d..%d", tc.rng, resp.StatusCode, len(b), tc.start, tc.end)
			}
			if cr := resp.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes %d-%d/100000", tc.start, tc.end-1) {
				t.Errorf("%s: Content-Range %q", tc.rng, cr)
			}
		}
		resp, b := get(t, base+"/blob.bin")
		if resp.StatusCode != 200 || !bytes.Equal(b, content) {
			t.Errorf("whole file: %d, %d bytes", resp.StatusCode, len(b))
		}
		resp, _ = get(t, base+"/blob.bin", "Range", "bytes=200000-")
		if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
			t.Errorf("range beyond the end: %d", resp.StatusCode)
		}
		resp, _ = get(t, base+"/missing")
		if resp.StatusCode != 404 {
			t.Errorf("missing file: %d", resp.StatusCode)
		}
	})
	t.Run("bytes-N", func(t *testing.T) {
		resp, b := get(t, base+"/bytes/1M")
		if resp.StatusCode != 200 || len(b) != 1<<20 || resp.Header.Get("Content-Length") != "1048576" {
			t.Fatalf("/bytes/1M: %d, %d bytes, Content-Length %q", resp.StatusCode, len(b), resp.Header.Get("Content-Length"))
		}
		for i, c := range b {
			if c != PatternByte(int64(i)) {
				t.Fatalf("/bytes/1M byte %d = %d, want %d", i, c, PatternByte(int64(i)))
			}
		}
		resp, b = get(t, base+"/bytes/10K", "Range", "bytes=5000-5999")
		if resp.StatusCode != 206 || len(b) != 1000 || b[0] != PatternByte(5000) || b[999] != PatternByte(5999) {
			t.Errorf("/bytes/10K range: %d, %d bytes", resp.StatusCode, len(b))
		}
		resp, b = get(t, base+"/bytes/0")
		if resp.StatusCode != 200 || len(b) != 0 {
			t.Errorf("/bytes/0: %d, %d bytes", resp.StatusCode, len(b))
		}
		for _, bad := range []string{"/bytes/x", "/bytes/", "/bytes/-1", "/bytes/2P"} {
			if resp, _ := get(t, base+bad); resp.StatusCode != 400 {
				t.Errorf("%s: %d, want 400", bad, resp.StatusCode)
			}
		}
	})
	t.Run("curl", func(t *testing.T) {
		bin, err := exec.LookPath("curl")
		if err != nil {
			t.Skip("needs curl (apt-get install -y curl)")
		}
		out, err := exec.Command(bin, "-sf", "-r", "100-199", base+"/blob.bin").Output()
		if err != nil || !bytes.Equal(out, content[100:200]) {
			t.Errorf("curl -r 100-199: %v, %d bytes", err, len(out))
		}
		out, err = exec.Command(bin, "-sf", base+"/bytes/3000").Output()
		if err != nil || len(out) != 3000 || out[2999] != PatternByte(2999) {
			t.Errorf("curl /bytes/3000: %v, %d bytes", err, len(out))
		}
	})
	t.Run("metrics", func(t *testing.T) {
		resp, b := get(t, "http://"+s.addrs.Metrics+"/metrics")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("/metrics: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		m := parseProm(t, b)
		if m["mpxdp_iperf_tests_total"] < 2 || m["mpxdp_iperf_tests_failed_total"] != 0 {
			t.Errorf("iperf counters: tests %v failed %v", m["mpxdp_iperf_tests_total"], m["mpxdp_iperf_tests_failed_total"])
		}
		if m[`mpxdp_http_requests_total{handler="bytes"}`] < 4 || m[`mpxdp_listener_accepted_total{service="http"}`] < 1 {
			t.Errorf("http counters: %v", m)
		}
		if m["mpxdp_iperf_sent_bytes_total"] < 2_000_003 || m["mpxdp_iperf_received_bytes_total"] < 2_000_003 {
			t.Errorf("iperf bytes: sent %v received %v", m["mpxdp_iperf_sent_bytes_total"], m["mpxdp_iperf_received_bytes_total"])
		}
		if _, ok := m[`mpxdp_mptcp_mib_total{name="MPCapableSYNRX",source="kernel"}`]; !ok {
			t.Errorf("kernel MIB counters missing")
		}
		if resp, _ := get(t, "http://"+s.addrs.Metrics+"/debug/pprof/"); resp.StatusCode != 200 {
			t.Errorf("/debug/pprof/: %d", resp.StatusCode)
		}
	})
	t.Run("debug-mptcp", func(t *testing.T) {
		// Hold a download open: read the headers and a little, then ask.
		var d net.Dialer
		d.SetMultipathTCP(true)
		c, err := d.Dial("tcp", s.addrs.HTTP)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /bytes/1G HTTP/1.1\r\nHost: x\r\n\r\n")
		if _, err := io.ReadFull(c, make([]byte, 4096)); err != nil {
			t.Fatal(err)
		}
		_, b := get(t, "http://"+s.addrs.Metrics+"/debug/mptcp")
		var dm struct {
			Connections []struct {
				Service  string
				Remote   string
				MPTCP    bool
				Subflows []iperf.SubflowStat
			}
		}
		if err := json.Unmarshal(b, &dm); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		found := false
		for _, dc := range dm.Connections {
			if dc.Service == "http" && dc.Remote == c.LocalAddr().String() {
				found = true
				if dc.MPTCP != mptcpEnabled() || len(dc.Subflows) != 1 || dc.Subflows[0].BytesSent == 0 {
					t.Errorf("download connection: %+v", dc)
				}
			}
		}
		if !found {
			t.Errorf("the open download is not listed:\n%s", b)
		}
		// Closed, it moves to the closed list with its counters at close.
		c.Close()
		var closed debugConn
		for deadline := time.Now().Add(5 * time.Second); closed.Service == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			_, b = get(t, "http://"+s.addrs.Metrics+"/debug/mptcp")
			var doc struct{ Connections, Closed []debugConn }
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			for _, dc := range doc.Closed {
				if dc.Remote == c.LocalAddr().String() {
					closed = dc
				}
			}
			for _, dc := range doc.Connections {
				if dc.Remote == c.LocalAddr().String() && closed.Service != "" {
					t.Errorf("connection listed as open and closed:\n%s", b)
				}
			}
		}
		if closed.Service != "http" || closed.ClosedAgoSec <= 0 || closed.Written < 4096 {
			t.Errorf("closed download: %+v", closed)
		}
	})
}

// parseProm parses Prometheus text format strictly enough to catch
// malformed lines, returning "name{labels}" -> value.
func parseProm(t *testing.T, b []byte) map[string]float64 {
	t.Helper()
	sample := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})?) (\S+)$`)
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "# HELP ") || strings.HasPrefix(l, "# TYPE ") {
			continue
		}
		m := sample.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("malformed metrics line %q", l)
		}
		v, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", l, err)
		}
		out[m[1]] = v
	}
	if len(out) < 10 {
		t.Fatalf("only %d samples", len(out))
	}
	return out
}

func TestDrainOnSignal(t *testing.T) {
	s := startServer(t, "--drain-timeout", "20s")
	// A slow download in progress when the signal comes.
	resp, err := http.Get("http://" + s.addrs.HTTP + "/bytes/8M")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 1<<20)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	s.cancel() // as SIGTERM does through signal.NotifyContext
	time.Sleep(100 * time.Millisecond)
	if c, err := net.DialTimeout("tcp", s.addrs.HTTP, time.Second); err == nil {
		c.Close()
		t.Error("still accepting connections while draining")
	}
	rest, err := io.ReadAll(resp.Body)
	if err != nil || len(first)+len(rest) != 8<<20 {
		t.Fatalf("download cut by the drain: %d bytes, %v", len(first)+len(rest), err)
	}
	select {
	case code := <-s.code:
		if code != exitOK {
			t.Fatalf("exit %d after draining", code)
		}
		s.code <- code
	case <-time.After(10 * time.Second):
		t.Fatal("server did not exit after the drain")
	}
	if !strings.Contains(s.log.String(), `"msg":"draining`) {
		t.Errorf("no drain log line:\n%s", s.log.String())
	}
}

func TestStartupErrors(t *testing.T) {
	var e bytes.Buffer
	if code := run(context.Background(), []string{"--iperf", "127.0.0.1:0"}, io.Discard, &e, nil); code != exitUsage ||
		!strings.Contains(e.String(), "give --iface IF=CIDR") {
		t.Errorf("without --kernel or --iface: %d %q", code, e.String())
	}
	e.Reset()
	if code := run(context.Background(), []string{"--iface", "mpx-none0=10.255.0.1/24", "--http", "127.0.0.1:0", "--iperf", "off"}, io.Discard, &e, nil); code != exitFail ||
		!strings.Contains(e.String(), "mpx-none0") {
		t.Errorf("missing interface: %d %q", code, e.String())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	e.Reset()
	code := run(context.Background(), []string{"--kernel", "--iperf", ln.Addr().String(), "--http", "off"}, io.Discard, &e, nil)
	if code != exitFail || !strings.Contains(e.String(), "address already in use") || !strings.Contains(e.String(), "--iperf") {
		t.Errorf("port in use: %d %q", code, e.String())
	}
	e.Reset()
	if code := run(context.Background(), []string{"--mtu", "1"}, io.Discard, &e, nil); code != exitUsage || !strings.Contains(e.String(), "--mtu") {
		t.Errorf("bad flag: %d %q", code, e.String())
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, io.Discard, nil); code != exitOK || !strings.Contains(out.String(), "--endpoint ADDR[:PORT],FLAGS") || !strings.Contains(out.String(), "Examples:") {
		t.Errorf("-h: %d\n%s", code, out.String())
	}
}
