package stack

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/mpxdp/mpxdp/afxdp"
	"github.com/mpxdp/mpxdp/mptcp/pm"
	"github.com/mpxdp/mpxdp/stack/header"
	"github.com/mpxdp/mpxdp/stack/link"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// Config configures a Stack.
type Config struct {
	// Interfaces are the network interfaces the stack drives over AF_XDP
	// (New). NewLinks takes Links instead.
	Interfaces []InterfaceConfig
	// XDPMode and Attach choose the AF_XDP bind mode (copy/zero-copy) and
	// how the redirect program is attached (native/generic).
	XDPMode afxdp.Mode
	Attach  afxdp.AttachMode
	// FrameSize and NumFrames size each queue's UMEM (AF_XDP only)
	// [afxdp defaults].
	FrameSize, NumFrames int
	// Gateways are the default routers (at most one per family) for
	// destinations outside the interfaces' prefixes.
	Gateways []netip.Addr
	// TCP holds the defaults of every connection (MSS is derived from the
	// interface MTU when zero; CC is chosen by CC below).
	TCP tcp.Config
	// CC names the congestion controller ("cubic", "reno") [cubic].
	CC string
	// Backlog is the accept queue length of each listener: connections
	// established or half-open beyond it are answered with SYN cookies
	// [128].
	Backlog int
	// SendBuffer and RecvBuffer size each connection's byte rings,
	// rounded up to a power of two [256 KiB and 1 MiB]. They are the
	// engine's buffers too: SendBuffer bounds the bytes in flight plus
	// unsent, RecvBuffer is the largest receive window we advertise (the
	// ring does not grow, so TCP.RecvBufSize does not apply; TCP.RecvBufMax
	// is raised to it for the window scale).
	SendBuffer, RecvBuffer int
	// BusyPoll keeps workers spinning instead of sleeping in Queue.Wait
	// when idle (lowest latency, one busy core per worker).
	BusyPoll bool
	// MaxIdleWait bounds how long an idle worker sleeps before it looks
	// at its command ring again when its queue cannot be woken [1 ms].
	MaxIdleWait time.Duration
	// SpinBeforeSleep is how long a worker keeps polling after its last
	// work before it sleeps [50 µs; 5 µs for a worker pinned to one of
	// Link.Cores]. Queues wake a sleeping worker when frames arrive, but
	// each sleep and wake-up costs a thread switch and tends to move the
	// worker to the P of whoever woke it. An unpinned worker spins
	// politely (it yields its P between polls) and yields to an
	// application goroutine it woke that has not run yet, so its spin
	// does not keep the application that shares its P from running; a
	// pinned worker holds its core while it spins (BenchmarkPipeGoodput
	// and BenchmarkMPTCPPipeGoodput, perf/RESULTS.md).
	SpinBeforeSleep time.Duration
	// CloseTimeout bounds how long Close waits for connections to drain
	// before it stops the workers [5 s].
	CloseTimeout time.Duration

	// MPTCP makes Dial open Multipath TCP connections (a SYN with
	// MP_CAPABLE); a peer without MPTCP gives a plain TCP connection
	// (fallback). Listeners accept MPTCP whenever the peer asks for it,
	// unless NoMPTCPListen.
	MPTCP bool
	// NoMPTCPListen makes listeners answer MP_CAPABLE SYNs with plain TCP.
	NoMPTCPListen bool
	// MPTCPChecksum asks for DSS checksums on connections we open or
	// accept (they are used when either side asks).
	MPTCPChecksum bool
	// MPTCPCC names the subflows' congestion control: "lia", "olia",
	// "balia" (coupled), "cubic" or "reno" [cubic, as Linux].
	MPTCPCC string
	// MPTCPScheduler names the packet scheduler of each MPTCP connection:
	// "default" (the subflow with room whose queue drains first, like
	// Linux's), "lowrtt" (lowest smoothed RTT with room),
	// "roundrobin" or "redundant" (package mptcp/sched) [default].
	MPTCPScheduler string
	// Endpoints are the path manager's local addresses, like `ip mptcp
	// endpoint`: a server announces its Signal endpoints (ADD_ADDR) and
	// accepts joins on any of its addresses; a client opens subflows from
	// its Subflow endpoints and to the addresses the peer announces.
	Endpoints []pm.Endpoint
	// MPTCPLimits are the path manager's limits, like `ip mptcp limits`
	// [subflows 2 when Endpoints are given]. With no endpoints and no
	// limits, connections run without a path manager (one subflow, and
	// joins the peer opens).
	MPTCPLimits pm.Limits
}

// InterfaceConfig describes one interface driven over AF_XDP.
type InterfaceConfig struct {
	// Name is the kernel's interface name.
	Name string
	// Addrs are the stack's addresses on the interface with their
	// prefixes (which say what is on-link).
	Addrs []netip.Prefix
	// Queues is how many RX/TX queues to open (one worker each; every
	// interface of a stack must have the same count) [1].
	Queues int
	// Cores pins worker i to Cores[i] when set (its goroutine then locks
	// its OS thread); without, workers are ordinary goroutines.
	Cores []int
	// MTU is the IP MTU [the device's]. TCP segments are limited to
	// what one UMEM frame holds (about 3.7 KB with 4 KiB frames).
	MTU int
}

// Link describes one interface over caller-provided queues (NewLinks):
// in-memory pipes in tests and benchmarks.
type Link struct {
	// Name labels the interface in errors and statistics.
	Name string
	// MAC is the interface's Ethernet address.
	MAC net.HardwareAddr
	// Addrs are the stack's addresses on this link with their prefixes.
	Addrs []netip.Prefix
	// Queues are the link's queues; queue i is driven by worker i, and
	// every link must have the same number.
	Queues []link.Queue
	// Cores pins worker i to Cores[i] when set (its goroutine then locks
	// its OS thread); without, workers are ordinary goroutines.
	Cores []int
	// MTU is the IP MTU [1500].
	MTU int
}

func (c *Config) setDefaults() {
	if c.CC == "" {
		c.CC = "cubic"
	}
	if c.Backlog <= 0 {
		c.Backlog = 128
	}
	if c.SendBuffer <= 0 {
		c.SendBuffer = 256 << 10
	}
	if c.RecvBuffer <= 0 {
		c.RecvBuffer = 1 << 20
	}
	if c.MaxIdleWait <= 0 {
		c.MaxIdleWait = time.Millisecond
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = 5 * time.Second
	}
}

// iface is the stack's view of one interface, immutable once the stack
// runs.
type iface struct {
	idx  int
	name string
	mac  header.MAC
	mtu  int
	// pkt is the largest IP packet we send or accept in one frame:
	// min(MTU, frame size - Ethernet header). TCP segments are sized to it
	// (the MSS we advertise too), so a jumbo MTU works with frames smaller
	// than the MTU (AF_XDP frames are at most a page).
	pkt int
	v4  []netip.Prefix
	v6  []netip.Prefix
}

func newIface(idx int, name string, mac net.HardwareAddr, addrs []netip.Prefix, mtu int) (*iface, error) {
	if len(mac) != 6 {
		return nil, fmt.Errorf("stack: interface %q: MAC %q is not a 6-byte Ethernet address", name, mac)
	}
	if mtu == 0 {
		mtu = 1500
	}
	if mtu < 576 {
		return nil, fmt.Errorf("stack: interface %q: MTU %d is below 576", name, mtu)
	}
	ifc := &iface{idx: idx, name: name, mtu: mtu}
	copy(ifc.mac[:], mac)
	for _, p := range addrs {
		if !p.IsValid() {
			return nil, fmt.Errorf("stack: interface %q: invalid address prefix %v", name, p)
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits())
		if p.Addr().Is4() {
			ifc.v4 = append(ifc.v4, p)
		} else {
			ifc.v6 = append(ifc.v6, p)
		}
	}
	if len(ifc.v4)+len(ifc.v6) == 0 {
		return nil, fmt.Errorf("stack: interface %q has no addresses: give it at least one netip.Prefix", name)
	}
	return ifc, nil
}

// errNoQueues is returned for a link without queues.
var errNoQueues = errors.New("stack: a link has no queues: give every Link at least one link.Queue")
