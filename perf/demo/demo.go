package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

// Where the server listens inside namespace ours.
const (
	iperfPort   = 5201
	metricsAddr = "127.0.0.1:9100"
)

// run is the whole demo; it returns what failed, after tearing down.
func run(ctx context.Context, o options, stdout io.Writer) error {
	out := &syncWriter{w: stdout}
	if o.duration < 3*time.Second || o.removeAfter < 1500*time.Millisecond || o.removeAfter > o.duration-1500*time.Millisecond {
		return fmt.Errorf("-t %v -remove-after %v: give a transfer of at least 3s and remove the path at least 1.5s after its start and before its end", o.duration, o.removeAfter)
	}
	if err := testbed.Available(); err != nil {
		return fmt.Errorf("%w\n(the demo builds network namespaces and attaches XDP programs: run it as root, e.g. `sudo make demo`)", err)
	}
	serverBin, benchBin, cleanup, err := binaries(o.bin, out)
	defer cleanup()
	if err != nil {
		return err
	}

	out.say("== building a 2-path testbed: namespace ours (mpxdp on AF_XDP) <-> namespace peer (the Linux kernel's MPTCP)")
	topo, err := testbed.NewTopology(testbed.Config{Paths: 2, Tag: "demo"})
	if err != nil {
		return err
	}
	defer func() {
		if err := topo.Close(); err != nil {
			out.say("demo: teardown: %v", err)
		} else {
			out.say("== testbed removed (namespaces, veths, XDP programs)")
		}
	}()
	for i, p := range topo.Paths {
		out.say("   path %d: %s %s (ours, AF_XDP) <-> %s %s (peer, kernel)", i, p.Ours.Name, p.OurAddr, p.Peer.Name, p.PeerAddr)
	}
	if err := topo.Peer.Sysctl("net.mptcp.enabled", "1"); err != nil {
		return err
	}
	if err := topo.Peer.MPTCPLimits(2, 2); err != nil {
		return err
	}

	p0, p1 := topo.Paths[0], topo.Paths[1]
	args := []string{
		"--iface", p0.Ours.Name + "=" + netip.PrefixFrom(p0.OurAddr, 24).String(),
		"--iface", p1.Ours.Name + "=" + netip.PrefixFrom(p1.OurAddr, 24).String(),
		"--endpoint", p1.OurAddr.String() + ",signal",
		"--iperf", ":" + strconv.Itoa(iperfPort), "--http", "off",
		"--metrics", metricsAddr, "--drain-timeout", "5s",
	}
	out.say("== starting mptcp-server on mpxdp's AF_XDP stack in %s:", topo.Ours.Name)
	out.say("   mptcp-server %s", strings.Join(args, " "))
	srv, err := startServer(ctx, topo.Ours, serverBin, args)
	if srv != nil {
		defer srv.kill()
	}
	if err != nil {
		return err
	}
	out.say("   listening; it announces %s to every client (ADD_ADDR)", p1.OurAddr)
	mc := newMetricsClient(topo.Ours, metricsAddr)

	benchArgs := []string{"--kernel", "-c", p0.OurAddr.String(), "-p", strconv.Itoa(iperfPort),
		"-t", strconv.FormatFloat(o.duration.Seconds(), 'f', -1, 64), "-i", "1"}
	if o.reverse {
		benchArgs = append(benchArgs, "-R")
	}
	out.say("== the Linux kernel's MPTCP client in %s (limits: 2 subflows, 2 accepted ADD_ADDRs):", topo.Peer.Name)
	out.say("   mptcp-bench %s", strings.Join(benchArgs, " "))
	tbl := newTable()
	cl, err := startClient(topo.Peer, benchBin, benchArgs, func(line string) {
		tbl.add(line)
		out.say("   %s", line)
	})
	if cl != nil {
		defer cl.kill()
	}
	if err != nil {
		return err
	}
	start := time.Now()

	// Both subflows up and carrying data, seen by our server.
	if err := sleepCtx(ctx, o.removeAfter); err != nil {
		return err
	}
	before, err := waitSubflows(ctx, mc, cl, 2, 3*time.Second)
	if err != nil {
		return fmt.Errorf("before removing path 1: %w (the kernel did not join our announced address %s; server log:\n%s)", err, p1.OurAddr, srv.log.tail(20))
	}
	out.say("== our server's view (GET /debug/mptcp) at %.1fs:", time.Since(start).Seconds())
	before.print(out)

	// Remove path 1: the kernel's (implicit) endpoint for its address on it.
	eps, err := topo.Peer.MPTCPEndpoints()
	if err != nil {
		return err
	}
	id := -1
	for _, e := range eps {
		if e.Addr == p1.PeerAddr {
			id = e.ID
		}
	}
	if id < 0 {
		return fmt.Errorf("the peer has no MPTCP endpoint for %s (`ip mptcp endpoint show` lists %+v): cannot remove path 1", p1.PeerAddr, eps)
	}
	out.say("== removing path 1 at %.1fs: `ip mptcp endpoint delete id %d` (%s) in %s: the kernel closes its subflow on %s",
		time.Since(start).Seconds(), id, p1.PeerAddr, topo.Peer.Name, p1.Peer.Name)
	if _, err := topo.Peer.Exec("ip", "mptcp", "endpoint", "delete", "id", strconv.Itoa(id)); err != nil {
		return err
	}
	after, err := waitSubflows(ctx, mc, cl, 1, 5*time.Second)
	if err != nil {
		return fmt.Errorf("after removing path 1: %w", err)
	}
	out.say("== our server's view at %.1fs:", time.Since(start).Seconds())
	after.print(out)

	// The transfer carries on to its end.
	select {
	case <-cl.done:
	case <-ctx.Done():
		return errors.New("interrupted")
	case <-time.After(o.duration + 20*time.Second):
		return fmt.Errorf("mptcp-bench did not finish within %v", o.duration+20*time.Second)
	}
	if cl.err != nil {
		return fmt.Errorf("mptcp-bench failed: %v\n%s", cl.err, cl.stderr.tail(10))
	}

	if m, err := topo.Peer.MPTcpExt(); err == nil {
		var parts []string
		for _, k := range kernelNames {
			if m[k] != 0 {
				parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
			}
		}
		out.say("== the kernel client's MPTCP counters (nstat MPTcpExt, non-zero): %s", strings.Join(parts, ", "))
	}
	if m, err := mc.mib(); err == nil {
		out.say("== our server's MPTCP counters (kernel MPTcpExt names): %s", m)
	} else {
		out.say("== our server's MPTCP counters: %v", err)
	}

	if a := xdpAttached(topo); len(a) != len(topo.Paths) {
		return fmt.Errorf("XDP programs attached to %v while mptcp-server runs, want one per path: `ip link show` in %s", a, topo.Ours.Name)
	}
	out.say("== stopping mptcp-server with SIGTERM (drain, then detach XDP)")
	code, err := srv.stop(10 * time.Second)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("mptcp-server exited with %d after SIGTERM; its log:\n%s", code, srv.log.tail(20))
	}
	if a := xdpAttached(topo); len(a) > 0 {
		return fmt.Errorf("mptcp-server exited but XDP programs are still attached to %s", strings.Join(a, ", "))
	}
	out.say("   exit 0; no XDP program left on %s, %s", p0.Ours.Name, p1.Ours.Name)

	if err := tbl.check(); err != nil {
		return err
	}
	out.say("== the connection survived losing a path: %s", tbl.summary())
	return nil
}

// kernelNames are the peer's MPTcpExt counters the demo prints when
// non-zero: the handshake and join, the removal, and signs of trouble.
var kernelNames = []string{"MPCapableSYNACKRX", "MPJoinSynAckRx", "AddAddr", "RmSubflow", "MPTCPRetrans",
	"DSSNotMatching", "NoDSSInWindow", "DuplicateData", "InfiniteMapRx", "MPFallbackTokenInit", "RcvPruned", "RcvWndShared", "RcvWndConflict"}

// xdpAttached lists our interfaces that have an XDP program attached.
func xdpAttached(topo *testbed.Topology) []string {
	var out []string
	for _, p := range topo.Paths {
		if b, err := topo.Ours.Exec("ip", "link", "show", "dev", p.Ours.Name); err == nil && strings.Contains(string(b), "prog/xdp") {
			out = append(out, p.Ours.Name)
		}
	}
	return out
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return errors.New("interrupted")
	case <-time.After(d):
		return nil
	}
}

// waitSubflows polls the server's /debug/mptcp until the data connection
// of the iperf test has n open subflows.
func waitSubflows(ctx context.Context, mc *metricsClient, cl *proc, n int, timeout time.Duration) (connView, error) {
	deadline := time.Now().Add(timeout)
	var last connView
	var lastErr error
	for {
		c, err := mc.dataConn()
		if err == nil && len(c.open()) == n {
			return c, nil
		}
		last, lastErr = c, err
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return last, errors.New("interrupted")
		case <-cl.done:
			return last, fmt.Errorf("mptcp-bench ended early (%v): %s", cl.err, cl.stderr.tail(5))
		case <-time.After(100 * time.Millisecond):
		}
	}
	if lastErr != nil {
		return last, fmt.Errorf("the server's /debug/mptcp: %w", lastErr)
	}
	return last, fmt.Errorf("the server's data connection has %d open subflows after %v, want %d", len(last.open()), timeout, n)
}

// proc is a command running in a namespace.
type proc struct {
	cmd    *exec.Cmd
	log    *lineBuf // what it wrote (stderr, and stdout unless routed elsewhere)
	stderr *lineBuf
	done   chan struct{}
	err    error // Wait's result, once done is closed
}

func (p *proc) wait() {
	p.err = p.cmd.Wait()
	close(p.done)
}

// kill ends the process if it still runs, and reaps it (before the
// namespace closes: testbed's Close must not race our Wait).
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits up to timeout for the exit code.
func (p *proc) stop(timeout time.Duration) (int, error) {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return -1, fmt.Errorf("mptcp-server: SIGTERM: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.kill()
		return -1, fmt.Errorf("mptcp-server did not exit within %v of SIGTERM (killed); its log:\n%s", timeout, p.log.tail(20))
	}
	return p.cmd.ProcessState.ExitCode(), nil
}

// startServer starts mptcp-server in ns and waits until it listens.
func startServer(ctx context.Context, ns *testbed.NS, bin string, args []string) (*proc, error) {
	cmd, err := ns.Command(bin, args...)
	if err != nil {
		return nil, err
	}
	listening := make(chan struct{})
	var once sync.Once
	p := &proc{cmd: cmd, done: make(chan struct{})}
	p.log = &lineBuf{fn: func(line string) {
		if strings.Contains(line, `"msg":"mptcp-server listening"`) {
			once.Do(func() { close(listening) })
		}
	}}
	p.stderr = p.log
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := ns.StartCmd(cmd); err != nil {
		return nil, err
	}
	go p.wait()
	select {
	case <-listening:
		return p, nil
	case <-p.done:
		return p, fmt.Errorf("mptcp-server exited at start (%v):\n%s", p.err, p.log.tail(20))
	case <-ctx.Done():
		return p, errors.New("interrupted")
	case <-time.After(20 * time.Second):
		return p, fmt.Errorf("mptcp-server did not listen within 20s; its log:\n%s", p.log.tail(20))
	}
}

// startClient starts mptcp-bench in ns; every line of its standard output
// goes to line.
func startClient(ns *testbed.NS, bin string, args []string, line func(string)) (*proc, error) {
	cmd, err := ns.Command(bin, args...)
	if err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), stderr: &lineBuf{}}
	p.log = &lineBuf{fn: line}
	cmd.Stdout, cmd.Stderr = p.log, p.stderr
	if err := ns.StartCmd(cmd); err != nil {
		return nil, err
	}
	go p.wait()
	return p, nil
}

// syncWriter serialises lines written from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// say prints one formatted line.
func (s *syncWriter) say(format string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format+"\n", a...)
}

// Write implements io.Writer.
func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// lineBuf keeps what a process writes, line by line, and hands each
// complete line to fn.
type lineBuf struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	fn      func(string)
}

// Write implements io.Writer.
func (l *lineBuf) Write(b []byte) (int, error) {
	l.mu.Lock()
	l.partial = append(l.partial, b...)
	var complete []string
	for {
		i := strings.IndexByte(string(l.partial), '\n')
		if i < 0 {
			break
		}
		complete = append(complete, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	l.lines = append(l.lines, complete...)
	fn := l.fn
	l.mu.Unlock()
	if fn != nil {
		for _, s := range complete {
			fn(s)
		}
	}
	return len(b), nil
}

// tail returns the last n lines (and any unfinished one).
func (l *lineBuf) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s := strings.Join(lines, "\n")
	if len(l.partial) > 0 {
		s += "\n" + string(l.partial)
	}
	return s
}
