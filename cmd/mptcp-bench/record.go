package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mpxdp/mpxdp/internal/cli"
	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/internal/report"
	"github.com/mpxdp/mpxdp/internal/testbed"
	"github.com/mpxdp/mpxdp/stack"
)

// record runs `mptcp-bench record`: the 2013 record setup (one MPTCP
// connection over several separately addressed paths, the sender spread
// over all of them, paths added one by one while it runs) on a namespaced
// veth testbed, first with our AF_XDP stack as the client, then with the
// kernel's MPTCP as the client on the same topology, and prints both.
// With --iface it runs our stack on real NICs against -c HOST instead.
func record(ctx context.Context, c config, stdout, stderr io.Writer) int {
	if len(c.ifaces) > 0 {
		return recordNICs(ctx, c, stdout, stderr)
	}
	if err := testbed.Available(); err != nil {
		fmt.Fprintf(stderr, "mptcp-bench record: cannot build the namespaced testbed: %v (run as root, or use `mptcp-bench loopback`, which needs no root)\n", err)
		return exitFail
	}
	tc := testbed.Config{Paths: c.paths, MTU: c.mtu, Tag: "rec"}
	if len(c.rates) > 0 {
		// Shaping both directions takes a kernel hop in the middle.
		tc.Router = true
		for i := range c.paths {
			tc.RateMbit = append(tc.RateMbit, c.rates[min(i, len(c.rates)-1)])
		}
	}
	topo, err := testbed.NewTopology(tc)
	if err != nil {
		fmt.Fprintf(stderr, "mptcp-bench record: testbed: %v\n", err)
		return exitFail
	}
	defer topo.Close()
	r := &recordRun{c: c, topo: topo, stderr: stderr}
	if err := r.startServer(); err != nil {
		fmt.Fprintf(stderr, "mptcp-bench record: server in %s: %v\n", topo.Peer, err)
		return exitFail
	}
	defer r.stopServer()

	text := !c.json && !c.jsonStream
	ours := report.Run{Name: "mpxdp", Detail: r.detail("our AF_XDP stack")}
	if text {
		fmt.Fprintf(stdout, "== mpxdp record: %s\n", ours.Detail)
	}
	ours.Result, err = r.runOurs(ctx, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "mptcp-bench record: our stack: %v\n", err)
		return exitFail
	}
	var ref *report.Run
	if !c.noKernel {
		k := report.Run{Name: "kernel MPTCP", Detail: r.detail("kernel MPTCP client")}
		if text {
			fmt.Fprintf(stdout, "== kernel MPTCP reference: %s\n", k.Detail)
		}
		k.Result, err = r.runKernel(ctx, stdout)
		if err != nil {
			fmt.Fprintf(stderr, "mptcp-bench record: kernel reference: %v\n", err)
			return exitFail
		}
		ref = &k
	}
	if text {
		writePathTable(stdout, ours, ref)
	}
	return finish(c, ours, ref, "mptcp-bench record: "+ours.Detail, stdout, stderr)
}

// recordRun is one record invocation on a testbed.
type recordRun struct {
	c      config
	topo   *testbed.Topology
	stderr io.Writer
	stop   func()
}

// detail describes a run for the output.
func (r *recordRun) detail(client string) string {
	dir := "sends"
	if r.c.reverse {
		dir = "receives"
	}
	s := fmt.Sprintf("%s %s over %d veth path(s), MTU %d, a path added every %s", client, dir, r.c.paths, r.c.mtu, r.step())
	if len(r.c.rates) > 0 {
		s += ", rate " + strings.Trim(strings.ReplaceAll(fmt.Sprint(r.c.rates), " ", ","), "[]") + " Mbit/s"
	}
	return s
}

// step is the time between two paths coming up: the test's duration
// spread evenly over the paths (-t's value with -n too).
func (r *recordRun) step() time.Duration {
	return (r.c.duration / time.Duration(r.c.paths)).Round(time.Millisecond)
}

// startServer runs our iperf server on a kernel MPTCP listener in the
// peer namespace, whose path manager may announce every path.
func (r *recordRun) startServer() error {
	p := r.topo.Peer
	if err := p.Sysctl("net.mptcp.enabled", "1"); err != nil {
		return err
	}
	if err := p.MPTCPLimits(8, 8); err != nil {
		return err
	}
	var ln net.Listener
	if err := p.Do(func() error {
		var lc net.ListenConfig
		lc.SetMultipathTCP(true)
		var err error
		ln, err = lc.Listen(context.Background(), "tcp", ":"+strconv.Itoa(r.c.port))
		return err
	}); err != nil {
		return err
	}
	r.stop = serveIperf(ln)
	return nil
}

func (r *recordRun) stopServer() {
	if r.stop != nil {
		r.stop()
	}
}

// bringUp returns the onStart hook that brings paths 1.. up one by one
// (a signal endpoint on the peer for each, so the peer announces it to
// the running connection and the client joins it) and a wait function
// that stops the schedule and waits for it.
func (r *recordRun) bringUp() (start func(), wait func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	start = func() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			for i := 1; i < r.c.paths; i++ {
				select {
				case <-quit:
					return
				case <-time.After(time.Until(t0.Add(time.Duration(i) * r.step()))):
				}
				p := r.topo.Paths[i]
				if err := r.topo.Peer.MPTCPEndpoint(p.PeerAddr, p.Peer.Name, "signal"); err != nil {
					fmt.Fprintf(r.stderr, "mptcp-bench record: bringing path %d up: %v\n", i, err)
				}
			}
		}()
	}
	wait = func() {
		close(quit)
		wg.Wait()
		if err := r.topo.Peer.MPTCPFlush(); err != nil {
			fmt.Fprintf(r.stderr, "mptcp-bench record: %v\n", err)
		}
	}
	return start, wait
}

// runOurs runs the test with our stack on ours' interfaces as the client.
func (r *recordRun) runOurs(ctx context.Context, stdout io.Writer) (iperf.Result, error) {
	c := r.c
	c.ifaces = nil
	for _, p := range r.topo.Paths {
		c.ifaces = append(c.ifaces, cli.Iface{Name: p.Ours.Name, Prefix: netip.PrefixFrom(p.OurAddr, p.Prefix.Bits())})
	}
	var s *stack.Stack
	if err := r.topo.Ours.Do(func() error {
		var err error
		s, err = newStack(c)
		return err
	}); err != nil {
		return iperf.Result{}, err
	}
	defer s.Close()
	if c.events {
		stop := printEvents(s, r.stderr)
		defer stop()
	}
	c.host = r.topo.Paths[0].PeerAddr.String()
	var wait func()
	c.onStart, wait = r.bringUp()
	res, err := measure(ctx, c, stackDialer(s, net.JoinHostPort(c.host, strconv.Itoa(c.port))), stdout)
	wait()
	return res, err
}

// runKernel runs the test with the kernel's MPTCP as the client in ours
// (given the interfaces' addresses for the run, then stack mode again).
func (r *recordRun) runKernel(ctx context.Context, stdout io.Writer) (iperf.Result, error) {
	if err := r.topo.KernelMode(); err != nil {
		return iperf.Result{}, err
	}
	defer r.topo.StackMode()
	o := r.topo.Ours
	if err := o.Sysctl("net.mptcp.enabled", "1"); err != nil {
		return iperf.Result{}, err
	}
	if err := o.MPTCPLimits(8, 8); err != nil {
		return iperf.Result{}, err
	}
	c := r.c
	c.host = r.topo.Paths[0].PeerAddr.String()
	c.plot = ""
	target := net.JoinHostPort(c.host, strconv.Itoa(c.port))
	dial := func(ctx context.Context) (net.Conn, error) {
		var conn net.Conn
		err := o.Do(func() error {
			var err error
			conn, err = kernelDialer(target, true)(ctx)
			return err
		})
		return conn, err
	}
	var wait func()
	c.onStart, wait = r.bringUp()
	res, err := measure(ctx, c, dial, stdout)
	wait()
	return res, err
}

// pathBytes sums the bytes each interface moved in r (acknowledged as
// sender, received as receiver), by interface name.
func pathBytes(r iperf.Result) map[string]uint64 {
	m := map[string]uint64{}
	for _, s := range r.Streams {
		for _, sf := range s.Subflows {
			b := sf.BytesAcked
			if r.Reverse {
				b = sf.BytesReceived
			}
			m[sf.Iface] += b
		}
	}
	return m
}

// writePathTable prints, per path, what each run moved over it.
func writePathTable(w io.Writer, ours report.Run, ref *report.Run) {
	po := pathBytes(ours.Result)
	var pk map[string]uint64
	names := map[string]bool{}
	for n := range po {
		names[n] = true
	}
	if ref != nil {
		pk = pathBytes(ref.Result)
		for n := range pk {
			names[n] = true
		}
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	fmt.Fprintln(w, strings.Repeat("= ", 40))
	fmt.Fprintf(w, "Per path (bytes moved by the connection's subflows on each interface):\n")
	fmt.Fprintf(w, "  %-12s %-14s %-14s\n", "interface", ours.Name, "kernel MPTCP")
	for _, n := range sorted {
		k := "-"
		if ref != nil {
			k = report.Bytes(pk[n])
		}
		fmt.Fprintf(w, "  %-12s %-14s %-14s\n", n, report.Bytes(po[n]), k)
	}
}

// recordNICs runs record on real hardware: our stack on the --iface
// NICs dials -c HOST, whose path manager announces its other addresses;
// every address it announces is joined from the NIC that routes there.
// The kernel reference needs the NICs back in the kernel's hands: run
// `mptcp-bench --kernel -c HOST` afterwards.
func recordNICs(ctx context.Context, c config, stdout, stderr io.Writer) int {
	s, err := newStack(c)
	if err != nil {
		fmt.Fprintf(stderr, "mptcp-bench record: %v\n", err)
		return exitFail
	}
	defer s.Close()
	ours := report.Run{Name: "mpxdp", Detail: fmt.Sprintf("our AF_XDP stack on %d NIC(s) against %s", len(c.ifaces), c.host)}
	if !c.json && !c.jsonStream {
		fmt.Fprintf(stdout, "== mpxdp record: %s (kernel reference: run `mptcp-bench --kernel -c %s` with the NICs back in the kernel)\n", ours.Detail, c.host)
	}
	ours.Result, err = measure(ctx, c, stackDialer(s, net.JoinHostPort(c.host, strconv.Itoa(c.port))), stdout)
	if err != nil {
		fmt.Fprintf(stderr, "mptcp-bench record: %v\n", err)
		return exitFail
	}
	if !c.json && !c.jsonStream {
		writePathTable(stdout, ours, nil)
	}
	return finish(c, ours, nil, "mptcp-bench record: "+ours.Detail, stdout, stderr)
}
