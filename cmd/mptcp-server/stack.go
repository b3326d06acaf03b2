package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/mpxdp/mpxdp/afxdp"
	"github.com/mpxdp/mpxdp/internal/cli"
	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/pm"
	"github.com/mpxdp/mpxdp/stack"
)

// stackNet is our AF_XDP stack as a Network.
type stackNet struct{ *stack.Stack }

// sysQueues counts an interface's RX queues in sysfs (0 when unknown,
// e.g. an interface of another network namespace).
func sysQueues(name string) int {
	m, err := filepath.Glob(filepath.Join("/sys/class/net", name, "queues", "rx-*"))
	if err != nil {
		return 0
	}
	return len(m)
}

// stackConfig turns the data-plane flags into our stack's configuration.
func stackConfig(c Config) (stack.Config, error) {
	sc := cli.StackConfig(c.Ifaces, c.MTU, c.Gateway)
	switch c.XDPMode {
	case "native":
		sc.Attach = afxdp.AttachNative
	case "generic":
		sc.Attach = afxdp.AttachGeneric
	default:
		sc.Attach = afxdp.AttachAuto
	}
	// Queues: the count given, or (all) the smallest count among the
	// interfaces, since every interface needs the same number.
	q := c.Queues
	if q == 0 {
		for _, ic := range sc.Interfaces {
			if n := sysQueues(ic.Name); n > 0 && (q == 0 || n < q) {
				q = n
			}
		}
		q = max(q, 1)
	}
	if len(c.Cores) > 0 && len(c.Cores) < q {
		return sc, fmt.Errorf("--cores lists %d CPUs for %d queues: give one CPU per queue (or fewer --queues)", len(c.Cores), q)
	}
	for i := range sc.Interfaces {
		sc.Interfaces[i].Queues = q
		if len(c.Cores) > 0 {
			sc.Interfaces[i].Cores = c.Cores[:q]
		}
	}
	eps, err := stackEndpoints(c.Endpoints, sc)
	if err != nil {
		return sc, err
	}
	sc.Endpoints = eps
	if len(eps) > 0 {
		sc.MPTCPLimits = pm.Limits{Subflows: 8, AddAddrAccepted: 8}
	}
	return sc, nil
}

// stackEndpoints turns --endpoint into the stack's path manager endpoints
// (ids 1, 2, ... in order; the interface is the --iface that has the
// address).
func stackEndpoints(eps []Endpoint, sc stack.Config) ([]pm.Endpoint, error) {
	var out []pm.Endpoint
	for i, e := range eps {
		pe := pm.Endpoint{ID: uint8(i + 1), Addr: e.Addr, Port: e.Port}
		for _, ic := range sc.Interfaces {
			for _, p := range ic.Addrs {
				if p.Addr() == e.Addr {
					pe.Ifname = ic.Name
				}
			}
		}
		if pe.Ifname == "" {
			return nil, fmt.Errorf("--endpoint %v: the address is on none of the --iface interfaces: give it to one with --iface NAME=%v/PREFIX", e.Addr, e.Addr)
		}
		for _, f := range e.Flags {
			switch f {
			case "signal":
				pe.Flags |= pm.Signal
			case "subflow":
				pe.Flags |= pm.Subflow
			case "backup":
				pe.Flags |= pm.Backup
			case "fullmesh":
				pe.Flags |= pm.Fullmesh
			}
		}
		out = append(out, pe)
	}
	return out, nil
}

// MIB implements MIBSource: the stack's MPTCP counters by their kernel
// names (without the MPTcpExt prefix, as the kernel's section has them).
func (s stackNet) MIB() (map[string]uint64, error) {
	snap := s.Stack.MIB()
	m := make(map[string]uint64, len(snap))
	for i, v := range snap {
		m[strings.TrimPrefix(mptcp.Counter(i).Name(), "MPTcpExt")] = v
	}
	return m, nil
}

// checkMTU refuses an --mtu above a device's own MTU: frames that large
// would be dropped by the device (or its peer) and connections would
// stall after the handshake. devMTU looks a device's MTU up (ok false when
// the device is not found: the stack then says so).
func checkMTU(mtu int, names []string, devMTU func(string) (int, bool)) error {
	if mtu == 0 {
		return nil
	}
	for _, n := range names {
		if d, ok := devMTU(n); ok && mtu > d {
			return fmt.Errorf("--mtu %d is larger than the MTU of %s (%d): frames that big would be dropped; raise the device's MTU (`ip link set %s mtu %d`, and on the link's other end) or give --mtu %d or less", mtu, n, d, n, mtu, d)
		}
	}
	return nil
}

// deviceMTU returns an interface's MTU in the calling thread's network
// namespace.
func deviceMTU(name string) (int, bool) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0, false
	}
	return ifi.MTU, true
}

// stackListenErr explains a listen failure on our stack (whose ports `ss`
// does not show).
func stackListenErr(flagName, addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("%s %s: address already in use on our AF_XDP stack: another service of this server listens there (--iperf, --http); give %s another port", flagName, addr, flagName)
	case strings.Contains(err.Error(), "not one of the stack's addresses"):
		return fmt.Errorf("%s %s: the address is on none of the --iface interfaces: listen on one of their addresses, or on :PORT for all", flagName, addr)
	}
	return fmt.Errorf("%s %s: %w", flagName, addr, err)
}

// newStackNet starts our stack on the --iface interfaces.
func newStackNet(c Config) (stackNet, error) {
	sc, err := stackConfig(c)
	if err != nil {
		return stackNet{}, err
	}
	names := make([]string, 0, len(sc.Interfaces))
	for _, ic := range sc.Interfaces {
		names = append(names, ic.Name)
	}
	if err := checkMTU(c.MTU, names, deviceMTU); err != nil {
		return stackNet{}, err
	}
	s, err := cli.NewStack(sc)
	if err != nil {
		return stackNet{}, err
	}
	return stackNet{s}, nil
}

// logEvents logs each MPTCP event of our stack at debug level (message
// "mptcp event"; --log-level debug) until the stack closes, and then how
// many events the log missed, if any. The returned wait returns once the
// stack closed and everything is logged. Below debug it subscribes to
// nothing.
func (s stackNet) logEvents(log *slog.Logger) (wait func()) {
	ctx := context.Background()
	if !log.Enabled(ctx, slog.LevelDebug) {
		return func() {}
	}
	ch, _ := s.SubscribeEvents(1024) // Stack.Close closes ch
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range ch {
			log.LogAttrs(ctx, slog.LevelDebug, "mptcp event", eventAttrs(e)...)
		}
		if d := s.EventsDropped(); d > 0 {
			log.Warn("MPTCP events were not logged: the log fell behind", "dropped", d)
		}
	}()
	return func() { <-done }
}

// eventAttrs describes an MPTCP event for the log: its type and token,
// the fields the type carries, and the `ip mptcp monitor` line.
func eventAttrs(e stack.MPTCPEvent) []slog.Attr {
	a := []slog.Attr{
		slog.String("event", e.Type.String()),
		slog.String("token", fmt.Sprintf("%08x", e.Token)),
		slog.Bool("server", e.Server),
	}
	if e.Local.IsValid() {
		a = append(a, slog.String("local", e.Local.String()), slog.Int("local_id", int(e.LocalID)))
	}
	if e.Remote.IsValid() || e.Type == stack.MPTCPRemoved {
		if e.Remote.IsValid() {
			a = append(a, slog.String("remote", e.Remote.String()))
		}
		a = append(a, slog.Int("remote_id", int(e.RemoteID)))
	}
	if e.Ifname != "" {
		a = append(a, slog.String("ifname", e.Ifname), slog.Bool("backup", e.Backup))
	}
	if e.Err != nil {
		a = append(a, slog.String("err", e.Err.Error()))
	}
	if e.HasReset {
		a = append(a, slog.Int("reset_reason", int(e.ResetReason)), slog.String("reset", e.ResetReason.String()),
			slog.Int("reset_flags", int(e.ResetFlags)))
	}
	return append(a, slog.String("monitor", e.String()))
}

// metrics writes the stack's counters.
func (s stackNet) metrics(p *promWriter) {
	st := s.Stats()
	p.metric("mpxdp_stack_rx_frames_total", "counter", "Frames received by the AF_XDP stack.", float64(st.RxFrames))
	p.metric("mpxdp_stack_tx_frames_total", "counter", "Frames transmitted by the AF_XDP stack.", float64(st.TxFrames))
	p.metric("mpxdp_stack_flows_opened_total", "counter", "TCP connections created.", float64(st.FlowsOpened))
	p.metric("mpxdp_stack_rsts_sent_total", "counter", "RSTs sent for segments without a connection.", float64(st.RSTsOut))
	p.metric("mpxdp_stack_syn_cookies_total", "counter", "SYN-ACKs sent with a cookie.", float64(st.SYNCookies))
	for d := range st.Drops {
		p.metric("mpxdp_stack_drops_total", "counter", "Frames dropped by reason.", float64(st.Drops[d]), "reason", stack.Drop(d).String())
	}
}
