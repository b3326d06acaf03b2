package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

// metricsClient reads mptcp-server's metrics endpoint, which listens on a
// kernel socket inside namespace ours: it dials from a thread in there.
type metricsClient struct {
	base string
	c    *http.Client
}

func newMetricsClient(ns *testbed.NS, addr string) *metricsClient {
	dial := func(ctx context.Context, network, a string) (net.Conn, error) {
		var c net.Conn
		err := ns.Do(func() error {
			var d net.Dialer
			var err error
			c, err = d.DialContext(ctx, network, a)
			return err
		})
		return c, err
	}
	return &metricsClient{base: "http://" + addr,
		c: &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}}
}

func (m *metricsClient) get(path string) ([]byte, error) {
	resp, err := m.c.Get(m.base + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return b, nil
}

// subflowView is one subflow in /debug/mptcp.
type subflowView struct {
	Local, Remote, Iface     string
	BytesSent, BytesReceived uint64
	State                    string `json:"state"` // TCP state on our stack
}

// connView is one connection in /debug/mptcp.
type connView struct {
	Service  string        `json:"service"`
	Local    string        `json:"local"`
	Remote   string        `json:"remote"`
	Subflows []subflowView `json:"subflows"`
}

// open returns the subflows the server lists: those not CLOSED on our
// stack. A subflow the peer closes (FIN without DATA_FIN, the kernel after
// `ip mptcp endpoint delete`) is closed by our stack too within a round
// trip, so it leaves the list (it used to stay in CLOSE-WAIT).
func (c connView) open() []subflowView { return c.Subflows }

// moved is what the subflows sent and received.
func (c connView) moved() uint64 {
	var n uint64
	for _, s := range c.Subflows {
		n += s.BytesSent + s.BytesReceived
	}
	return n
}

// print writes the connection as a small table.
func (c connView) print(out *syncWriter) {
	out.say("   connection %s -> %s (%s): %d open subflow(s)", c.Remote, c.Local, c.Service, len(c.open()))
	for _, s := range c.Subflows {
		state := s.State
		if state == "" {
			state = "-"
		}
		out.say("     %-6s %21s <- %-21s %-12s sent %s, received %s", s.Iface, s.Local, s.Remote, state, mbytes(s.BytesSent), mbytes(s.BytesReceived))
	}
}

func mbytes(n uint64) string { return fmt.Sprintf("%.1f MBytes", float64(n)/(1<<20)) }

// dataConn returns the iperf test's data connection: of the iperf
// connections, the one that moved most (the other is iperf3's control
// connection).
func (m *metricsClient) dataConn() (connView, error) {
	b, err := m.get("/debug/mptcp")
	if err != nil {
		return connView{}, err
	}
	var doc struct {
		Connections []connView `json:"connections"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return connView{}, fmt.Errorf("/debug/mptcp: %v", err)
	}
	var best connView
	found := false
	for _, c := range doc.Connections {
		if c.Service == "iperf" && (!found || c.moved() > best.moved()) {
			best, found = c, true
		}
	}
	if !found {
		return connView{}, errors.New("no iperf connection open")
	}
	return best, nil
}

// mibNames are the server counters the demo prints.
var mibNames = []string{"MPCapableSYNRX", "AddAddrTx", "EchoAdd", "MPJoinSynRx", "MPJoinAckRx", "RmSubflow", "MPTCPRetrans"}

// mib returns the server's MPTCP counters of mibNames, "NAME VALUE, ...".
func (m *metricsClient) mib() (string, error) {
	b, err := m.get("/metrics")
	if err != nil {
		return "", err
	}
	vals := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		const pre = `mpxdp_mptcp_mib_total{name="`
		if !strings.HasPrefix(line, pre) {
			continue
		}
		name, rest, ok := strings.Cut(line[len(pre):], `"`)
		if !ok {
			continue
		}
		if i := strings.LastIndexByte(rest, ' '); i >= 0 {
			vals[name] = rest[i+1:]
		}
	}
	var parts []string
	for _, n := range mibNames {
		if v, ok := vals[n]; ok {
			parts = append(parts, n+" "+v)
		}
	}
	if len(parts) == 0 {
		return "", errors.New("no mpxdp_mptcp_mib_total samples in /metrics")
	}
	return strings.Join(parts, ", "), nil
}
