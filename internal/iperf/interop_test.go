package iperf

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// tcpDialer dials addr over plain TCP.
func tcpDialer(addr string) Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}

// startServer runs Serve on a random loopback port until the test ends.
func startServer(t *testing.T, o ServeOptions) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := NewServer(o)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return 10 s after cancel")
		}
	})
	return srv, ln.Addr().String()
}

// needIperf3 skips when the stock iperf3 is missing.
func needIperf3(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("iperf3")
	if err != nil {
		t.Skip("needs the stock iperf3 in PATH for interop (apt-get install -y iperf3)")
	}
	return p
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// listening reports whether a socket listens on 127.0.0.1:port, from
// this thread's /proc/thread-self/net/tcp (dialing would start a test on
// iperf3's server). Not /proc/net: that is the main thread's namespace,
// and a testbed NS.Do may have left the main thread in another one.
func listening(port int) bool {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b, err := os.ReadFile("/proc/thread-self/net/tcp")
	if err != nil {
		return false
	}
	want := fmt.Sprintf(":%04X ", port)
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 3 && strings.HasSuffix(f[1]+" ", want) && f[3] == "0A" {
			return true
		}
	}
	return false
}

// startStockServer runs `iperf3 -s` on a random loopback port and kills it
// when the test ends.
func startStockServer(t *testing.T, extra ...string) string {
	t.Helper()
	bin := needIperf3(t)
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t)
		args := append([]string{"-s", "-B", "127.0.0.1", "-p", fmt.Sprint(port)}, extra...)
		cmd := exec.Command(bin, args...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-exited
			if t.Failed() {
				t.Logf("iperf3 -s output:\n%s", out.String())
			}
		})
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if listening(port) {
				return fmt.Sprintf("127.0.0.1:%d", port)
			}
			select {
			case <-exited:
				deadline = time.Now() // port taken meanwhile: try another
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	t.Fatal("iperf3 -s did not start listening")
	return ""
}

// runStockClient runs `iperf3 -c` with -J and parses its output.
func runStockClient(t *testing.T, addr string, args ...string) Result {
	t.Helper()
	bin := needIperf3(t)
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	all := append([]string{"-c", host, "-p", port, "-J"}, args...)
	out, err := exec.CommandContext(ctx, bin, all...).Output()
	if err != nil {
		t.Fatalf("iperf3 %s: %v\n%s", strings.Join(all, " "), err, out)
	}
	r, err := ParseJSON(out)
	if err != nil {
		t.Fatalf("parsing iperf3 -J output: %v\n%s", err, out)
	}
	return r
}

// runOurs runs our client against our server.
func runOurs(t *testing.T, addr string, o Options) Result {
	t.Helper()
	return runClient(t, addr, o, false)
}

// runOursStock runs our client against a stock iperf3 -s, retrying while
// that server is between tests.
func runOursStock(t *testing.T, addr string, o Options) Result {
	t.Helper()
	return runClient(t, addr, o, true)
}

func runClient(t *testing.T, addr string, o Options, retry bool) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		r, err := Run(ctx, tcpDialer(addr), o)
		var pe *PeerError
		if retry && ((errors.As(err, &pe) && pe.State == AccessDenied) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)) {
			// A stock iperf3 -s takes a moment after a test to listen
			// again and to become idle.
			if ctx.Err() == nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
		}
		if err != nil {
			t.Fatalf("Run(%+v): %v", o, err)
		}
		return r
	}
}

func TestOursBothEnds(t *testing.T) {
	var tests []TestSummary
	done := make(chan struct{}, 16)
	_, addr := startServer(t, ServeOptions{OnTest: func(s TestSummary) { tests = append(tests, s); done <- struct{}{} }})
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"forward-n", Options{Bytes: 10_000_003, Parallel: 3, BlockSize: 65536}},
		{"reverse-n", Options{Bytes: 7_777_777, Parallel: 2, Reverse: true}},
		{"forward-t", Options{Duration: 600 * time.Millisecond, Parallel: 2, Interval: 200 * time.Millisecond}},
		{"reverse-t", Options{Duration: 600 * time.Millisecond, Reverse: true, Interval: 200 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ivs []Interval
			tc.o.OnInterval = func(iv Interval) { ivs = append(ivs, iv) }
			r := runOurs(t, addr, tc.o)
			<-done
			if tc.o.Parallel == 0 {
				tc.o.Parallel = 1
			}
			if len(r.Streams) != tc.o.Parallel {
				t.Fatalf("%d streams, want %d", len(r.Streams), tc.o.Parallel)
			}
			if r.Streams[0].ID != 1 || (len(r.Streams) > 1 && r.Streams[1].ID != 3) {
				t.Errorf("stream ids %d,%d: iperf3 numbers 1, 3, 4...", r.Streams[0].ID, r.Streams[1%len(r.Streams)].ID)
			}
			if tc.o.Bytes > 0 {
				if r.Sent.Bytes != tc.o.Bytes || r.Received.Bytes != tc.o.Bytes {
					t.Errorf("-n %d: sent %d, received %d; want both exact", tc.o.Bytes, r.Sent.Bytes, r.Received.Bytes)
				}
			} else {
				if r.Received.Bytes == 0 || r.Received.Bytes > r.Sent.Bytes {
					t.Errorf("sent %d, received %d", r.Sent.Bytes, r.Received.Bytes)
				}
				if len(ivs) < 2 || len(ivs) != len(r.Intervals) {
					t.Errorf("%d intervals reported (%d in result), want ~3", len(ivs), len(r.Intervals))
				}
				var sum uint64
				for _, iv := range ivs {
					sum += iv.Sum.Bytes
					if len(iv.Subflows) != tc.o.Parallel {
						t.Errorf("interval has %d subflow samples, want one per stream (%d)", len(iv.Subflows), tc.o.Parallel)
					}
				}
				local := r.Sent.Bytes
				if tc.o.Reverse {
					local = r.Received.Bytes
				}
				if sum != local {
					t.Errorf("intervals add up to %d bytes, the local total is %d", sum, local)
				}
			}
			last := tests[len(tests)-1]
			if last.Err != nil {
				t.Errorf("server: %v", last.Err)
			}
			if last.Params.Reverse != tc.o.Reverse || last.Params.Parallel != tc.o.Parallel {
				t.Errorf("server saw params %+v", last.Params)
			}
		})
	}
}

func TestOurClientStockServer(t *testing.T) {
	addr := startStockServer(t)
	t.Run("forward-n-exact", func(t *testing.T) {
		const n = 5_000_001
		r := runOursStock(t, addr, Options{Bytes: n, Parallel: 2})
		if r.Sent.Bytes != n {
			t.Errorf("sent %d, want exactly %d", r.Sent.Bytes, n)
		}
		// iperf3's server stops counting when TEST_END arrives; we send it
		// once everything is acknowledged, so it has all the bytes in its
		// socket buffers, but it may not have read them all yet.
		if r.Received.Bytes > n || r.Received.Bytes < n/2 {
			t.Errorf("stock server received %d of %d", r.Received.Bytes, n)
		} else if r.Received.Bytes != n {
			t.Logf("stock server counted %d of %d bytes (it stops reading at TEST_END)", r.Received.Bytes, n)
		}
	})
	t.Run("reverse-n", func(t *testing.T) {
		const n = 4 << 20
		r := runOursStock(t, addr, Options{Bytes: n, Reverse: true})
		if r.Received.Bytes < n || r.Sent.Bytes < r.Received.Bytes {
			t.Errorf("received %d (want >= %d), stock server sent %d", r.Received.Bytes, n, r.Sent.Bytes)
		}
	})
	t.Run("forward-t-P2", func(t *testing.T) {
		var ivs int
		r := runOursStock(t, addr, Options{Duration: time.Second, Parallel: 2, Interval: 250 * time.Millisecond,
			OnInterval: func(Interval) { ivs++ }})
		if r.Received.Bytes == 0 || r.Received.Bytes > r.Sent.Bytes || ivs < 3 {
			t.Errorf("sent %d received %d intervals %d", r.Sent.Bytes, r.Received.Bytes, ivs)
		}
		if r.Sent.Retransmits < 0 {
			t.Errorf("sender retransmits unknown: want TCP_INFO figures")
		}
	})
	t.Run("reverse-t", func(t *testing.T) {
		r := runOursStock(t, addr, Options{Duration: 500 * time.Millisecond, Reverse: true})
		if r.Received.Bytes == 0 || r.Sent.Bytes < r.Received.Bytes {
			t.Errorf("stock sent %d, we received %d", r.Sent.Bytes, r.Received.Bytes)
		}
	})
}

func TestStockClientOurServer(t *testing.T) {
	needIperf3(t)
	sums := make(chan TestSummary, 8)
	_, addr := startServer(t, ServeOptions{OnTest: func(s TestSummary) { sums <- s }})
	t.Run("forward-n", func(t *testing.T) {
		const n = 8 << 20 // a whole number of iperf3's 128 KiB blocks
		r := runStockClient(t, addr, "-n", "8M", "-P", "2")
		s := <-sums
		if s.Err != nil {
			t.Fatalf("server: %v", s.Err)
		}
		if r.Sent.Bytes != n || r.Received.Bytes != n || s.Bytes() != n {
			t.Errorf("stock sent %d, reports received %d, server counted %d; want %d", r.Sent.Bytes, r.Received.Bytes, s.Bytes(), n)
		}
	})
	t.Run("reverse-n-exact", func(t *testing.T) {
		const n = 3_000_017
		r := runStockClient(t, addr, "-n", fmt.Sprint(n), "-R")
		s := <-sums
		if s.Err != nil {
			t.Fatalf("server: %v", s.Err)
		}
		if r.Sent.Bytes != n || r.Received.Bytes != n {
			t.Errorf("our server sent %d, stock received %d; want %d", r.Sent.Bytes, r.Received.Bytes, n)
		}
	})
	t.Run("forward-t-P3", func(t *testing.T) {
		r := runStockClient(t, addr, "-t", "1", "-P", "3", "-i", "0.5")
		s := <-sums
		if s.Err != nil {
			t.Fatalf("server: %v", s.Err)
		}
		if len(r.Streams) != 3 || r.Received.Bytes == 0 || r.Received.Bytes != s.Bytes() {
			t.Errorf("%d streams, stock reports received %d, server counted %d", len(r.Streams), r.Received.Bytes, s.Bytes())
		}
		// iperf3's own -i 0.5 reports (a busy machine may merge some).
		if len(r.Intervals) < 1 || r.Intervals[0].Sum.Bytes == 0 {
			t.Errorf("%d intervals from the stock client", len(r.Intervals))
		}
	})
	t.Run("omit", func(t *testing.T) {
		// The server leaves the first second out, as the sender does, so
		// it reports about what the client sent after -O (the two omit
		// timers start a few milliseconds apart); counting the omitted
		// second too would double the figure.
		r := runStockClient(t, addr, "-t", "1", "-O", "1")
		s := <-sums
		if s.Err != nil {
			t.Fatalf("server: %v", s.Err)
		}
		if r.Received.Bytes == 0 || float64(r.Received.Bytes) > 1.1*float64(r.Sent.Bytes) {
			t.Errorf("-O 1: sent %d after the omit period, server reports %d received", r.Sent.Bytes, r.Received.Bytes)
		}
	})
	t.Run("reverse-bitrate", func(t *testing.T) {
		// -b paces our server's sender: never above the rate (slower is
		// allowed, the machine may be busy).
		r := runStockClient(t, addr, "-t", "1", "-R", "-b", "40M")
		<-sums
		limit := 40e6 / 8 * r.Received.Seconds() * 1.2
		if r.Received.Bytes == 0 || float64(r.Received.Bytes) > limit+DefaultBlockSize {
			t.Errorf("-R -b 40M: received %d bytes in %.2f s (%.1f Mbit/s)", r.Received.Bytes, r.Received.Seconds(), r.Received.BitsPerSecond()/1e6)
		}
	})
	t.Run("unsupported", func(t *testing.T) {
		host, port, _ := net.SplitHostPort(addr)
		for _, flag := range []string{"-u", "--bidir"} {
			out, err := exec.Command(needIperf3(t), "-c", host, "-p", port, "-t", "1", flag).CombinedOutput()
			if err == nil {
				t.Errorf("iperf3 %s succeeded against a TCP-only server:\n%s", flag, out)
			}
			s := <-sums
			if s.Err == nil || !strings.Contains(s.Err.Error(), "only TCP") {
				t.Errorf("iperf3 %s: server saw %v", flag, s.Err)
			}
		}
	})
	t.Run("reverse-t", func(t *testing.T) {
		r := runStockClient(t, addr, "-t", "1", "-R")
		s := <-sums
		if s.Err != nil {
			t.Fatalf("server: %v", s.Err)
		}
		if r.Received.Bytes == 0 || r.Sent.Bytes != s.Bytes() {
			t.Errorf("stock received %d, reports sent %d, server sent %d", r.Received.Bytes, r.Sent.Bytes, s.Bytes())
		}
		if r.Sent.Retransmits < 0 {
			t.Errorf("server's retransmits missing from the results exchange")
		}
	})
}

func TestClientBitrate(t *testing.T) {
	_, addr := startServer(t, ServeOptions{})
	r := runOurs(t, addr, Options{Duration: time.Second, Bitrate: 30e6, Parallel: 2})
	// Each of the two streams is paced to 30 Mbit/s.
	limit := 2 * 30e6 / 8 * r.Sent.Seconds() * 1.2
	if r.Sent.Bytes == 0 || float64(r.Sent.Bytes) > limit+2*DefaultBlockSize {
		t.Errorf("-b 30M -P 2: sent %d bytes in %.2f s (%.1f Mbit/s)", r.Sent.Bytes, r.Sent.Seconds(), r.Sent.BitsPerSecond()/1e6)
	}
}

func TestCongestion(t *testing.T) {
	srv, addr := startServer(t, ServeOptions{})
	r := runOurs(t, addr, Options{Bytes: 1 << 20, Congestion: "reno"})
	if r.SenderCongestion != "reno" || r.ReceiverCongestion != "reno" {
		t.Errorf("-C reno: sender %q, receiver %q", r.SenderCongestion, r.ReceiverCongestion)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Run(ctx, tcpDialer(addr), Options{Bytes: 1 << 20, Congestion: "no-such-cc"}); err == nil || !strings.Contains(err.Error(), "no-such-cc") {
		t.Errorf("unknown algorithm: %v", err)
	}
	// That client left while the server waited for its streams: the
	// server notices at once (not after HandshakeTimeout, 10 s).
	for start := time.Now(); srv.Busy(); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 3*time.Second {
			t.Fatal("server still busy 3 s after its client went away")
		}
	}
	needIperf3(t)
	sr := runStockClient(t, addr, "-n", "1M", "-C", "reno")
	if sr.SenderCongestion != "reno" || sr.ReceiverCongestion != "reno" {
		t.Errorf("stock -C reno: sender %q, receiver %q", sr.SenderCongestion, sr.ReceiverCongestion)
	}
}

// wrapped hides a conn behind NetConn, as connection trackers do.
type wrapped struct{ net.Conn }

func (w wrapped) NetConn() net.Conn { return w.Conn }

func TestUnwrap(t *testing.T) {
	c, _ := net.Pipe()
	defer c.Close()
	if Unwrap(wrapped{wrapped{c}}) != c {
		t.Error("Unwrap did not reach the inner conn")
	}
	if Unwrap(c) != c {
		t.Error("Unwrap changed a plain conn")
	}
}

func TestBusyServerDenies(t *testing.T) {
	_, addr := startServer(t, ServeOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	started := make(chan struct{})
	var once bool
	first := make(chan error, 1)
	go func() {
		_, err := Run(ctx, tcpDialer(addr), Options{Duration: 1500 * time.Millisecond, Interval: 100 * time.Millisecond,
			OnInterval: func(Interval) {
				if !once {
					once = true
					close(started)
				}
			}})
		first <- err
	}()
	select {
	case <-started:
	case err := <-first:
		t.Fatalf("first test ended early: %v", err)
	}
	_, err := Run(ctx, tcpDialer(addr), Options{Duration: time.Second})
	var pe *PeerError
	if !errors.As(err, &pe) || pe.State != AccessDenied {
		t.Fatalf("second client: got %v, want ACCESS_DENIED", err)
	}
	if err := <-first; err != nil {
		t.Fatalf("first client: %v", err)
	}
	// Once idle, the server takes a new test.
	runOurs(t, addr, Options{Bytes: 1 << 20})
}

func TestShutdownDrains(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(ServeOptions{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), ln) }()
	started := make(chan struct{})
	var once sync.Once
	res := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), tcpDialer(ln.Addr().String()), Options{Duration: 700 * time.Millisecond,
			Interval: 50 * time.Millisecond, OnInterval: func(Interval) { once.Do(func() { close(started) }) }})
		res <- err
	}()
	<-started
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-res; err != nil {
		t.Fatalf("the running test did not finish cleanly: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("still accepting after Shutdown")
	}
	// A Shutdown that times out terminates the test.
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	srv2 := NewServer(ServeOptions{})
	go func() { _ = srv2.Serve(context.Background(), ln2) }()
	started2 := make(chan struct{})
	var once2 sync.Once
	go func() {
		_, err := Run(context.Background(), tcpDialer(ln2.Addr().String()), Options{Duration: 20 * time.Second,
			Interval: 50 * time.Millisecond, OnInterval: func(Interval) { once2.Do(func() { close(started2) }) }})
		res <- err
	}()
	<-started2
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv2.Shutdown(ctx); err == nil {
		t.Error("Shutdown with a 20 s test and a 100 ms deadline returned nil")
	}
	var pe *PeerError
	if err := <-res; !errors.As(err, &pe) || pe.State != ServerTerminate {
		t.Errorf("client saw %v, want SERVER_TERMINATE", err)
	}
}

// fakeServer listens on loopback, hands the first connection to serve (and
// closes it after), and returns the address to dial.
func fakeServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		serve(c)
	}()
	return ln.Addr().String()
}

func TestClientHandshakeTimeout(t *testing.T) {
	// A server that accepts and says nothing.
	addr := fakeServer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	start := time.Now()
	_, err := Run(context.Background(), tcpDialer(addr), Options{Duration: time.Second, HandshakeTimeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "is it an iperf3 server?") {
		t.Fatalf("silent server: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to give up", d)
	}
}

// A server that answers the parameters with SERVER_ERROR, i_errno 13 and
// errno 95, as iperf3 does for what it cannot run.
func TestClientServerError(t *testing.T) {
	addr := fakeServer(t, func(c net.Conn) {
		var ck Cookie
		if _, err := io.ReadFull(c, ck[:]); err != nil {
			return
		}
		_ = writeState(c, ParamExchange)
		var p Params
		if readJSON(c, &p) != nil || !p.TCP {
			return
		}
		_, _ = c.Write([]byte{0xfe, 0, 0, 0, 13, 0, 0, 0, 95})
		_, _ = io.Copy(io.Discard, c)
	})
	_, err := Run(context.Background(), tcpDialer(addr), Options{Duration: time.Second})
	var pe *PeerError
	if !errors.As(err, &pe) || pe.State != ServerError || pe.IErrno != 13 || pe.Errno != 95 {
		t.Fatalf("got %v (%+v), want SERVER_ERROR 13/95", err, pe)
	}
	if !strings.Contains(err.Error(), "i_errno 13") {
		t.Errorf("message %q", err)
	}
}
