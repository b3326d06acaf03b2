package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/mptcp/conn"
)

// metricsDeps is what /metrics and /debug/mptcp read.
type metricsDeps struct {
	mode    string // "kernel" or "xdp"
	started time.Time
	reg     *registry
	iperf   *iperf.Server // nil when off
	http    *httpStats    // nil when off
	mib     MIBSource     // nil when none
	extra   func(*promWriter)
}

// promWriter writes Prometheus text exposition format.
type promWriter struct {
	w    io.Writer
	seen map[string]bool
}

// metric writes a sample, with HELP/TYPE the first time a name appears.
func (p *promWriter) metric(name, typ, help string, v float64, labels ...string) {
	if !p.seen[name] {
		p.seen[name] = true
		fmt.Fprintf(p.w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	var lb strings.Builder
	for i := 0; i+1 < len(labels); i += 2 {
		if lb.Len() > 0 {
			lb.WriteByte(',')
		}
		fmt.Fprintf(&lb, "%s=%q", labels[i], labels[i+1])
	}
	if lb.Len() > 0 {
		fmt.Fprintf(p.w, "%s{%s} %v\n", name, lb.String(), v)
	} else {
		fmt.Fprintf(p.w, "%s %v\n", name, v)
	}
}

// writeMetrics renders every metric.
func (d *metricsDeps) writeMetrics(w io.Writer) {
	p := &promWriter{w: w, seen: map[string]bool{}}
	p.metric("mpxdp_build_info", "gauge", "Build and mode of this server.", 1, "go", runtime.Version(), "mode", d.mode)
	p.metric("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch.", float64(d.started.Unix()))
	user, sys := processCPU()
	p.metric("process_cpu_seconds_total", "counter", "User and system CPU time spent.", (user + sys).Seconds())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.metric("go_goroutines", "gauge", "Number of goroutines.", float64(runtime.NumGoroutine()))
	p.metric("go_memstats_heap_alloc_bytes", "gauge", "Heap bytes allocated and in use.", float64(ms.HeapAlloc))
	p.metric("go_memstats_sys_bytes", "gauge", "Bytes obtained from the OS.", float64(ms.Sys))
	d.reg.mu.Lock()
	names := append([]string(nil), d.reg.order...)
	d.reg.mu.Unlock()
	for _, n := range names {
		s := d.reg.service(n)
		p.metric("mpxdp_listener_accepted_total", "counter", "Connections accepted per service.", float64(s.Accepted.Load()), "service", n)
		p.metric("mpxdp_listener_open_connections", "gauge", "Open connections per service.", float64(s.Open.Load()), "service", n)
		p.metric("mpxdp_listener_read_bytes_total", "counter", "Bytes read from connections per service.", float64(s.BytesRead.Load()), "service", n)
		p.metric("mpxdp_listener_written_bytes_total", "counter", "Bytes written to connections per service.", float64(s.BytesWritten.Load()), "service", n)
	}
	if d.iperf != nil {
		st := &d.iperf.Stats
		p.metric("mpxdp_iperf_tests_total", "counter", "iperf3 tests started.", float64(st.Tests.Load()))
		p.metric("mpxdp_iperf_tests_failed_total", "counter", "iperf3 tests that failed.", float64(st.Failed.Load()))
		p.metric("mpxdp_iperf_denied_total", "counter", "Connections denied while a test ran (ACCESS_DENIED).", float64(st.Denied.Load()))
		p.metric("mpxdp_iperf_sent_bytes_total", "counter", "Payload bytes sent in iperf3 tests.", float64(st.BytesSent.Load()))
		p.metric("mpxdp_iperf_received_bytes_total", "counter", "Payload bytes received in iperf3 tests.", float64(st.BytesReceived.Load()))
		busy := 0.0
		if d.iperf.Busy() {
			busy = 1
		}
		p.metric("mpxdp_iperf_busy", "gauge", "1 while an iperf3 test runs.", busy)
	}
	if d.http != nil {
		p.metric("mpxdp_http_requests_total", "counter", "HTTP requests by handler.", float64(d.http.Generated.Load()), "handler", "bytes")
		p.metric("mpxdp_http_requests_total", "counter", "", float64(d.http.Files.Load()), "handler", "files")
		p.metric("mpxdp_http_requests_total", "counter", "", float64(d.http.NotFound.Load()), "handler", "notfound")
		p.metric("mpxdp_http_requests_total", "counter", "", float64(d.http.BadRequest.Load()), "handler", "badrequest")
	}
	if d.extra != nil {
		d.extra(p)
	}
	if d.mib != nil {
		if m, err := d.mib.MIB(); err == nil {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p.metric("mpxdp_mptcp_mib_total", "counter", "MPTCP MIB counters by the kernel's MPTcpExt names.", float64(m[k]), "name", k, "source", d.mode)
			}
		}
	}
}

// debugConn is one entry of /debug/mptcp.
type debugConn struct {
	Service  string           `json:"service"`
	Local    string           `json:"local"`
	Remote   string           `json:"remote"`
	AgeSec   float64          `json:"age_seconds"`
	Read     uint64           `json:"bytes_read"`    // application bytes read
	Written  uint64           `json:"bytes_written"` // application bytes written
	MPTCP    bool             `json:"mptcp"`
	Info     *iperf.MPTCPInfo `json:"mptcp_info,omitempty"` // kernel sockets
	Stack    *conn.Info       `json:"mpxdp_info,omitempty"` // connections of our AF_XDP stack
	Subflows []debugSubflow   `json:"subflows"`
	Error    string           `json:"error,omitempty"`
	// ClosedAgoSec is set in the closed list: seconds since Close; the
	// subflows are as they were at Close (a kernel socket whose peer
	// closed first may have none left by then; Read and Written stay).
	ClosedAgoSec float64 `json:"closed_ago_seconds,omitempty"`
	closedAt     time.Time
}

// debugSubflow is one subflow: its counters and, on our stack, its TCP
// state (a subflow the peer closed stays listed until ours closes too).
type debugSubflow struct {
	iperf.SubflowStat
	State string `json:"state,omitempty"`
}

// stackConn is what a connection of our AF_XDP stack (stack.Conn) tells
// beyond iperf.SubflowSource.
type stackConn interface {
	MPTCP() bool
	Info() conn.Info
	Subflows(dst []conn.SubflowInfo) []conn.SubflowInfo
}

// describe reports one tracked connection for /debug/mptcp.
func describe(c *trackedConn, now time.Time) debugConn {
	dc := debugConn{Service: c.service, Local: c.LocalAddr().String(), Remote: c.RemoteAddr().String(),
		AgeSec: now.Sub(c.opened).Seconds(), Read: c.read.Load(), Written: c.written.Load(), Subflows: []debugSubflow{}}
	states := map[[2]netip.AddrPort]string{}
	if sc, ok := c.Conn.(stackConn); ok {
		info := sc.Info()
		dc.MPTCP, dc.Stack = sc.MPTCP(), &info
		for _, s := range sc.Subflows(nil) {
			key := [2]netip.AddrPort{netip.AddrPortFrom(s.Tuple.LocalAddr, s.Tuple.LocalPort), netip.AddrPortFrom(s.Tuple.RemoteAddr, s.Tuple.RemotePort)}
			states[key] = s.State.String()
		}
	} else if info, ok, err := iperf.KernelMPTCPInfo(c.Conn); err != nil {
		dc.Error = err.Error()
	} else if ok {
		dc.MPTCP, dc.Info = true, &info
	}
	subs, err := c.AppendSubflows(nil)
	if err != nil {
		dc.Error = err.Error()
	}
	for _, s := range subs {
		dc.Subflows = append(dc.Subflows, debugSubflow{SubflowStat: s, State: states[[2]netip.AddrPort{s.Local, s.Remote}]})
	}
	return dc
}

// debugMPTCP lists open connections with their subflows, then the last
// closed ones (at most closedKept) as they were when they closed.
func (d *metricsDeps) debugMPTCP(w io.Writer) error {
	conns := d.reg.snapshot()
	now := time.Now()
	out := struct {
		Connections []debugConn `json:"connections"`
		Closed      []debugConn `json:"closed"`
	}{Connections: []debugConn{}, Closed: d.reg.closedSnapshot()}
	sort.Slice(conns, func(i, j int) bool { return conns[i].opened.Before(conns[j].opened) })
	for _, c := range conns {
		out.Connections = append(out.Connections, describe(c, now))
	}
	for i := range out.Closed {
		out.Closed[i].ClosedAgoSec = max(now.Sub(out.Closed[i].closedAt).Seconds(), 1e-9)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// newMetricsHandler serves /metrics, /debug/mptcp and /debug/pprof.
func newMetricsHandler(d *metricsDeps) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		d.writeMetrics(w)
	})
	mux.HandleFunc("/debug/mptcp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := d.debugMPTCP(w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "mptcp-server: /metrics (Prometheus), /debug/mptcp (connections and subflows, JSON), /debug/pprof/\n")
	})
	return mux
}
