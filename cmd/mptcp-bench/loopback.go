package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/mpxdp/mpxdp/internal/cli"
	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/internal/report"
	"github.com/mpxdp/mpxdp/mptcp/pm"
	"github.com/mpxdp/mpxdp/stack"
	"github.com/mpxdp/mpxdp/stack/link"
)

// loopPair is two of our stacks in this process joined by in-memory
// paths (link.Pipe), one interface per path on each side: path i is
// 10.(100+i).0.0/24, the client .1 and the server .2, as on the testbed.
type loopPair struct {
	client, server *stack.Stack
	serverAddrs    []netip.Addr
}

// pipeFrame is the frame size of the in-memory links for an IP MTU.
func pipeFrame(mtu int) int {
	const eth = 14
	if mtu+eth <= 2048 {
		return 2048
	}
	return 16384
}

// newLoopPair builds the two stacks. The server announces its addresses
// on paths 1.. (signal endpoints) and the client joins each of them, so
// one MPTCP connection gets one subflow per path.
func newLoopPair(paths, mtu int) (*loopPair, error) {
	var lc, ls []stack.Link
	var eps []pm.Endpoint
	p := &loopPair{}
	frames := 1024
	if pipeFrame(mtu) > 2048 {
		frames = 512
	}
	for i := range paths {
		pp, err := link.NewPipe(frames, pipeFrame(mtu))
		if err != nil {
			return nil, fmt.Errorf("in-memory link %d: %v", i, err)
		}
		a := netip.AddrFrom4([4]byte{10, byte(100 + i), 0, 1})
		b := netip.AddrFrom4([4]byte{10, byte(100 + i), 0, 2})
		p.serverAddrs = append(p.serverAddrs, b)
		name := "mem" + strconv.Itoa(i)
		lc = append(lc, stack.Link{Name: name, MAC: net.HardwareAddr{2, 0x6d, 0x70, 0, byte(i), 0xa},
			Addrs: []netip.Prefix{netip.PrefixFrom(a, 24)}, Queues: []link.Queue{pp.A}, MTU: mtu})
		ls = append(ls, stack.Link{Name: name, MAC: net.HardwareAddr{2, 0x6d, 0x70, 0, byte(i), 0xb},
			Addrs: []netip.Prefix{netip.PrefixFrom(b, 24)}, Queues: []link.Queue{pp.B}, MTU: mtu})
		if i > 0 {
			eps = append(eps, pm.Endpoint{ID: uint8(i), Addr: b, Ifname: name, Flags: pm.Signal})
		}
	}
	cc := stack.Config{MPTCP: true, SendBuffer: cli.BulkBuffer, RecvBuffer: cli.BulkBuffer, CloseTimeout: time.Second}
	cs := stack.Config{SendBuffer: cli.BulkBuffer, RecvBuffer: cli.BulkBuffer, CloseTimeout: time.Second}
	if paths > 1 {
		cc.MPTCPLimits = pm.Limits{Subflows: paths, AddAddrAccepted: paths}
		cs.MPTCPLimits = pm.Limits{Subflows: paths, AddAddrAccepted: paths}
		cs.Endpoints = eps
	}
	var err error
	if p.client, err = stack.NewLinks(cc, lc); err != nil {
		return nil, fmt.Errorf("client stack: %v", err)
	}
	if p.server, err = stack.NewLinks(cs, ls); err != nil {
		p.client.Close()
		return nil, fmt.Errorf("server stack: %v", err)
	}
	return p, nil
}

// Close stops both stacks.
func (p *loopPair) Close() {
	p.client.Close()
	p.server.Close()
}

// serveIperf runs our iperf server on ln until the returned stop is
// called (stop waits for it).
func serveIperf(ln net.Listener) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = iperf.Serve(ctx, ln, iperf.ServeOptions{}); close(done) }()
	return func() { cancel(); <-done }
}

// loopbackDetail describes our loopback run.
func loopbackDetail(c config) string {
	return fmt.Sprintf("%d path(s), MTU %d, in-memory links, 2 stacks in 1 process", c.subflows, c.mtu)
}

// loopback runs `mptcp-bench loopback`: our client stack against our
// server stack over in-memory links (no NIC, no root), then with --kernel
// the same test over kernel MPTCP on the loopback interface, and prints
// both side by side.
func loopback(ctx context.Context, c config, stdout, stderr io.Writer) int {
	p, err := newLoopPair(c.subflows, c.mtu)
	if err != nil {
		fmt.Fprintf(stderr, "mptcp-bench loopback: %v\n", err)
		return exitFail
	}
	defer p.Close()
	ln, err := p.server.Listen("tcp", ":"+strconv.Itoa(c.port))
	if err != nil {
		fmt.Fprintf(stderr, "mptcp-bench loopback: server listen: %v\n", err)
		return exitFail
	}
	stop := serveIperf(ln)
	defer stop()
	c.host = p.serverAddrs[0].String()
	text := !c.json && !c.jsonStream
	if text {
		fmt.Fprintf(stdout, "== mpxdp loopback: %s\n", loopbackDetail(c))
	}
	ours := report.Run{Name: "mpxdp", Detail: loopbackDetail(c)}
	stopEvents := func() {}
	if c.events {
		stopEvents = printEvents(p.client, stderr)
	}
	ours.Result, err = measure(ctx, c, stackDialer(p.client, net.JoinHostPort(c.host, strconv.Itoa(c.port))), stdout)
	stopEvents()
	if err != nil {
		fmt.Fprintf(stderr, "mptcp-bench loopback: %v\n", err)
		return exitFail
	}
	stop()
	var ref *report.Run
	if c.kernel {
		r, code := kernelLoopback(ctx, c, stdout, stderr)
		if code != exitOK {
			return code
		}
		ref = &r
	}
	return finish(c, ours, ref, "mptcp-bench loopback: "+ours.Detail, stdout, stderr)
}

// finish prints what comes after the runs: the comparison (text or
// stream event), the -J document with the reference beside ours, and the
// plot of our run.
func finish(c config, ours report.Run, ref *report.Run, title string, stdout, stderr io.Writer) int {
	switch {
	case c.json:
		if err := report.WriteComparedJSON(stdout, ours, ref); err != nil {
			fmt.Fprintf(stderr, "mptcp-bench %s: writing JSON: %v\n", c.sub, err)
			return exitFail
		}
	case ref == nil:
	case c.jsonStream:
		_ = report.NewJSONStream(stdout).Comparison(ours, *ref)
	default:
		report.WriteComparison(stdout, ours, *ref)
	}
	if c.plot != "" {
		if err := writePlot(c.plot, ours.Result, c, title); err != nil {
			fmt.Fprintf(stderr, "mptcp-bench %s: %v\n", c.sub, err)
			return exitFail
		}
	}
	return exitOK
}
