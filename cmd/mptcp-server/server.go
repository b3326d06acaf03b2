package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
)

// Addrs are the addresses the services listen on (after binding, so
// port 0 is resolved); "" for a service that is off.
type Addrs struct{ Iperf, HTTP, Metrics string }

// errNoIface asks for a data plane.
const errNoIface = "no data plane: give --iface IF=CIDR (our AF_XDP stack; repeat per interface or address) or --kernel (the kernel's MPTCP sockets)"

// run is the whole program: parse, start, serve until ctx ends, drain.
// ready (when not nil) gets the bound addresses once every service
// listens.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(Addrs)) int {
	c, err := parseFlags(args)
	if err != nil {
		fmt.Fprintf(stderr, "mptcp-server: %v\n", err)
		return exitUsage
	}
	if c.Help {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	if !c.Kernel && len(c.Ifaces) == 0 {
		fmt.Fprintf(stderr, "mptcp-server: %s\n", errNoIface)
		return exitUsage
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: c.LogLevel}))
	var nw Network = kernelNet{mptcp: true}
	if !c.Kernel {
		sn, err := newStackNet(c)
		if err != nil {
			log.Error("mptcp-server failed", "err", err.Error())
			fmt.Fprintf(stderr, "mptcp-server: %v\n", err)
			return exitFail
		}
		waitEvents := sn.logEvents(log)
		defer func() {
			sn.Close()
			waitEvents() // the events of the connections Close ended
		}()
		nw = sn
	}
	if err := serve(ctx, c, nw, log, ready); err != nil {
		log.Error("mptcp-server failed", "err", err.Error())
		fmt.Fprintf(stderr, "mptcp-server: %v\n", err)
		return exitFail
	}
	return exitOK
}

// listenErr explains a listen failure.
func listenErr(flagName, addr string, err error) error {
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("%s %s: address already in use: another server holds the port (check `ss -ltnp 'sport = :%s'`); stop it or choose another address with %s", flagName, addr, port, flagName)
	case errors.Is(err, syscall.EACCES) && p > 0 && p < 1024:
		return fmt.Errorf("%s %s: permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE (`setcap cap_net_bind_service=+ep mptcp-server`), or use a port >= 1024 such as %s :8080", flagName, addr, flagName)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("%s %s: this host has no such address: check `ip addr`", flagName, addr)
	}
	return fmt.Errorf("%s %s: %w", flagName, addr, err)
}

// mptcpEnabled reports the kernel's net.mptcp.enabled.
func mptcpEnabled() bool {
	b, err := os.ReadFile("/proc/sys/net/mptcp/enabled")
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// serve runs the services of c on nw until ctx ends, then drains them.
func serve(ctx context.Context, c Config, nw Network, log *slog.Logger, ready func(Addrs)) error {
	if c.Kernel {
		var ignored []string
		if len(c.Ifaces) > 0 {
			ignored = append(ignored, "--iface")
		}
		if len(c.Endpoints) > 0 {
			ignored = append(ignored, "--endpoint (use `ip mptcp endpoint add` for the kernel)")
		}
		if len(c.Cores) > 0 {
			ignored = append(ignored, "--cores")
		}
		if c.Gateway.IsValid() {
			ignored = append(ignored, "--gateway")
		}
		if len(ignored) > 0 {
			log.Warn("data-plane flags apply to the AF_XDP stack and are ignored with --kernel", "flags", strings.Join(ignored, ", "))
		}
		if !mptcpEnabled() {
			log.Warn("kernel MPTCP is disabled (net.mptcp.enabled != 1): clients get plain TCP; enable it with `sysctl -w net.mptcp.enabled=1`")
		}
	}
	reg := newRegistry()
	deps := &metricsDeps{mode: "kernel", started: time.Now(), reg: reg}
	if c.Kernel {
		deps.mib = kernelMIB{}
	}
	if sn, ok := nw.(stackNet); ok {
		deps.mode = "xdp"
		deps.extra = sn.metrics
		deps.mib = sn
	}
	var addrs Addrs
	var closers []io.Closer
	fail := func(err error) error {
		for _, cl := range closers {
			cl.Close()
		}
		return err
	}

	// Bind everything first so that start-up errors come before serving.
	lerr := listenErr
	if _, ok := nw.(stackNet); ok {
		lerr = stackListenErr
	}
	var iperfLn, httpLn, metricsLn net.Listener
	if c.IperfAddr != "" {
		ln, err := nw.Listen("tcp", c.IperfAddr)
		if err != nil {
			return fail(lerr("--iperf", c.IperfAddr, err))
		}
		closers = append(closers, ln)
		iperfLn = reg.wrap(ln, "iperf")
		addrs.Iperf = ln.Addr().String()
	}
	if c.HTTPAddr != "" {
		ln, err := nw.Listen("tcp", c.HTTPAddr)
		if err != nil {
			return fail(lerr("--http", c.HTTPAddr, err))
		}
		closers = append(closers, ln)
		httpLn = reg.wrap(ln, "http")
		addrs.HTTP = ln.Addr().String()
	}
	if c.MetricsAddr != "" {
		// Metrics stay on a kernel TCP socket, whatever the data plane.
		ln, err := net.Listen("tcp", c.MetricsAddr)
		if err != nil {
			return fail(listenErr("--metrics", c.MetricsAddr, err))
		}
		closers = append(closers, ln)
		metricsLn = ln
		addrs.Metrics = ln.Addr().String()
	}

	var wg sync.WaitGroup
	errs := make(chan error, 3)
	var iperfSrv *iperf.Server
	if iperfLn != nil {
		iperfSrv = iperf.NewServer(iperf.ServeOptions{Logger: log})
		deps.iperf = iperfSrv
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := iperfSrv.Serve(context.Background(), iperfLn); err != nil && !errors.Is(err, iperf.ErrServerClosed) {
				errs <- err
			}
		}()
	}
	var httpSrv *http.Server
	if httpLn != nil {
		st := &httpStats{}
		deps.http = st
		httpSrv = &http.Server{Handler: newHTTPHandler(c.Root, st, log), ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := httpSrv.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("http: %w", err)
			}
		}()
	}
	var metricsSrv *http.Server
	if metricsLn != nil {
		metricsSrv = &http.Server{Handler: newMetricsHandler(deps), ReadHeaderTimeout: 10 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := metricsSrv.Serve(metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("metrics: %w", err)
			}
		}()
	}
	log.Info("mptcp-server listening", "mode", deps.mode, "iperf", addrs.Iperf, "http", addrs.HTTP, "metrics", addrs.Metrics, "root", c.Root)
	if ready != nil {
		ready(addrs)
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("draining: no new connections; waiting for transfers to end", "timeout", c.DrainTimeout.String())
	case runErr = <-errs:
		log.Error("a service failed; shutting down", "err", runErr.Error())
	}
	dctx, cancel := context.WithTimeout(context.Background(), c.DrainTimeout)
	defer cancel()
	var sw sync.WaitGroup
	if httpSrv != nil {
		sw.Add(1)
		go func() {
			defer sw.Done()
			if err := httpSrv.Shutdown(dctx); err != nil {
				log.Warn("http transfers still running at the drain timeout: closing them", "err", err.Error())
				httpSrv.Close()
			}
		}()
	}
	if iperfSrv != nil {
		sw.Add(1)
		go func() {
			defer sw.Done()
			if err := iperfSrv.Shutdown(dctx); err != nil {
				log.Warn("iperf test still running at the drain timeout: terminated it", "err", err.Error())
			}
		}()
	}
	sw.Wait()
	if metricsSrv != nil {
		_ = metricsSrv.Close()
	}
	wg.Wait()
	log.Info("mptcp-server stopped")
	return runErr
}
