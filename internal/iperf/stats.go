package iperf

import (
	"net"
	"net/netip"
	"time"
)

// SubflowStat is one subflow's counters at one instant. Counters are
// cumulative since the subflow started; the client turns them into
// per-interval figures.
type SubflowStat struct {
	Local, Remote netip.AddrPort
	Iface         string // interface that owns Local, "" when unknown
	Backup        bool

	BytesSent     uint64 // payload bytes sent, retransmissions included
	BytesAcked    uint64 // payload bytes the peer acknowledged
	BytesReceived uint64 // payload bytes received in order
	BytesRetrans  uint64 // payload bytes retransmitted
	Retransmits   uint64 // segments retransmitted (tcpi_total_retrans)

	Cwnd         uint32        // congestion window in segments
	MSS          uint32        // sender MSS in bytes
	SRTT, RTTVar time.Duration // smoothed RTT and its variance
	PMTU         uint32
	SndWnd       uint32 // peer's advertised window, bytes (0 when unknown)
	DeliveryRate uint64 // bytes per second, as the sender estimates it
}

// Key identifies a subflow within one connection.
func (s SubflowStat) Key() SubflowKey { return SubflowKey{s.Local, s.Remote} }

// SubflowKey is a subflow's address pair.
type SubflowKey struct{ Local, Remote netip.AddrPort }

// SubflowSource reports the subflows of one connection. mpxdp's MPTCP
// connection implements it (from its per-subflow engines); KernelSubflows
// implements it for the kernel's TCP and MPTCP sockets. A plain TCP
// connection reports itself as one subflow.
//
// AppendSubflows appends one SubflowStat per live subflow to dst and
// returns the extended slice; it is called once per report interval, not
// per packet.
type SubflowSource interface {
	AppendSubflows(dst []SubflowStat) ([]SubflowStat, error)
}

// SubflowsOf returns the SubflowSource of c: c itself when it implements
// SubflowSource, the kernel's statistics for kernel sockets (Linux), else
// nil.
func SubflowsOf(c net.Conn) SubflowSource {
	if s, ok := c.(SubflowSource); ok {
		return s
	}
	if k := KernelSubflows(c); k != nil {
		return k
	}
	return nil
}

// Unwrap returns the innermost connection of c: wrappers (connection
// trackers, TLS) that expose NetConn() are looked through, so kernel
// socket options reach the socket.
func Unwrap(c net.Conn) net.Conn {
	for i := 0; i < 8; i++ {
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = u.NetConn()
	}
	return c
}

// ifaceCache maps local addresses to interface names.
type ifaceCache map[netip.Addr]string

// ifaceOf returns the name of the interface of this thread's network
// namespace that holds a, or "".
func ifaceOf(a netip.Addr) string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, ad := range addrs {
			if p, ok := ad.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(p.IP); ok && ip.Unmap() == a {
					return ifc.Name
				}
			}
		}
	}
	return ""
}

// addrPortOf converts a net.Addr of a TCP connection.
func addrPortOf(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		ap := t.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
