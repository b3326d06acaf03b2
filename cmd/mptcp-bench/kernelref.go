package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/mpxdp/mpxdp/internal/report"
	"github.com/mpxdp/mpxdp/internal/testbed"
)

// kernelMPTCPOn checks net.mptcp.enabled in this process's namespace.
func kernelMPTCPOn() error {
	b, err := os.ReadFile("/proc/sys/net/mptcp/enabled")
	if err != nil {
		return fmt.Errorf("kernel MPTCP: %v: this kernel has no MPTCP (CONFIG_MPTCP) or /proc is not mounted", err)
	}
	if strings.TrimSpace(string(b)) != "1" {
		return errors.New("kernel MPTCP is disabled: run `sysctl -w net.mptcp.enabled=1`")
	}
	return nil
}

// inNS runs fn in ns, or here when ns is nil.
func inNS(ns *testbed.NS, fn func() error) error {
	if ns == nil {
		return fn()
	}
	return ns.Do(fn)
}

// kernelLoopback measures the kernel reference of `loopback --kernel`:
// our iperf server and client on kernel MPTCP sockets over a loopback
// interface. As root it uses a private network namespace whose lo gets
// the run's MTU and --subflows-1 signal endpoints (127.0.0.2, ...), so the
// connection has as many subflows as ours; otherwise it runs on this
// namespace's lo (MTU as configured, usually 65536) with one subflow.
func kernelLoopback(ctx context.Context, c config, stdout, stderr io.Writer) (report.Run, int) {
	run := report.Run{Name: "kernel MPTCP"}
	fail := func(format string, a ...any) (report.Run, int) {
		fmt.Fprintf(stderr, "mptcp-bench loopback --kernel: "+format+"\n", a...)
		return run, exitFail
	}
	var ns *testbed.NS
	addr := "127.0.0.1:0"
	if why := testbed.Available(); why == nil {
		var err error
		if ns, err = testbed.NewNS("lbk"); err != nil {
			return fail("private namespace: %v", err)
		}
		defer ns.Close()
		if _, err := ns.Exec("ip", "link", "set", "dev", "lo", "mtu", strconv.Itoa(c.mtu)); err != nil {
			return fail("%v", err)
		}
		if err := ns.Sysctl("net.mptcp.enabled", "1"); err != nil {
			return fail("%v", err)
		}
		if err := ns.MPTCPLimits(8, 8); err != nil {
			return fail("%v", err)
		}
		for i := 1; i < c.subflows; i++ {
			if err := ns.MPTCPEndpoint(netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + i)}), "lo", "signal"); err != nil {
				return fail("%v", err)
			}
		}
		addr = "0.0.0.0:" + strconv.Itoa(c.port)
		run.Detail = fmt.Sprintf("%d path(s), MTU %d, lo in a private netns", c.subflows, c.mtu)
	} else {
		if err := kernelMPTCPOn(); err != nil {
			return fail("%v", err)
		}
		run.Detail = "1 path, lo of this netns (its MTU)"
		if c.subflows > 1 {
			fmt.Fprintf(stderr, "mptcp-bench loopback --kernel: the kernel reference runs 1 subflow: %d need MPTCP endpoints in a private network namespace (%v)\n", c.subflows, why)
		}
	}
	var ln net.Listener
	if err := inNS(ns, func() error {
		var lc net.ListenConfig
		lc.SetMultipathTCP(true)
		var err error
		ln, err = lc.Listen(ctx, "tcp", addr)
		return err
	}); err != nil {
		return fail("listen on %s: %v", addr, err)
	}
	stop := serveIperf(ln)
	defer stop()
	kc := c
	kc.host, kc.port = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
	kc.plot = ""
	target := net.JoinHostPort(kc.host, strconv.Itoa(kc.port))
	dial := func(ctx context.Context) (net.Conn, error) {
		var conn net.Conn
		err := inNS(ns, func() error {
			var err error
			conn, err = kernelDialer(target, true)(ctx)
			return err
		})
		return conn, err
	}
	if !c.json && !c.jsonStream {
		fmt.Fprintf(stdout, "== kernel MPTCP reference: %s\n", run.Detail)
	}
	var err error
	if run.Result, err = measure(ctx, kc, dial, stdout); err != nil {
		return fail("%v", err)
	}
	return run, exitOK
}
