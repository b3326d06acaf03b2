package conn

import (
	"time"

	"github.com/mpxdp/mpxdp/stack/tcp"
)

// Info is the connection's state in the terms of Linux's struct
// mptcp_info (getsockopt MPTCP_INFO); field names follow it.
type Info struct {
	Subflows          uint8  // mptcpi_subflows: additional subflows (not counting the initial one)
	AddAddrSignal     uint8  // mptcpi_add_addr_signal: addresses we announced
	AddAddrAccepted   uint8  // mptcpi_add_addr_accepted: peer announcements accepted
	SubflowsMax       uint8  // mptcpi_subflows_max
	Flags             uint32 // mptcpi_flags: InfoFlag* bits
	Token             uint32 // mptcpi_token: local token
	WriteSeq          uint64 // mptcpi_write_seq: next DSN the application writes
	SndUna            uint64 // mptcpi_snd_una: DATA_UNA
	RcvNxt            uint64 // mptcpi_rcv_nxt: the DATA_ACK we send
	CsumEnabled       bool   // mptcpi_csum_enabled
	RetransmitBytes   uint64 // mptcpi_retransmits as bytes: data reinjected at the MPTCP level
	BytesRetrans      uint64 // mptcpi_bytes_retrans
	BytesSent         uint64 // mptcpi_bytes_sent: payload sent on all subflows, retransmissions included
	BytesReceived     uint64 // mptcpi_bytes_received: new data received at the MPTCP level
	BytesAcked        uint64 // mptcpi_bytes_acked: data acknowledged by DATA_ACK
	SubflowsTotal     uint8  // mptcpi_subflows_total: live subflows, the initial one included
	LocalAddrUsed     uint8  // mptcpi_local_addr_used: distinct local addresses in use
	Fallback          bool   // the connection runs as plain TCP (MPTCP_INFO_FLAG_FALLBACK)
	RemoteKeyReceived bool   // MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED
	// OrphanReinjects counts reinjections of data that a subflow
	// delivered (its TCP ACK covers it) but that DATA_ACK never covered:
	// the peer dropped it at the data level. Linux's mptcp_info has no
	// such field.
	OrphanReinjects uint64
	// InFlight is the data sent and not yet covered by DATA_ACK
	// (snd_nxt - snd_una at the data level), and PeerWindow what the
	// peer's connection-level window allows beyond DATA_UNA; Linux's
	// mptcp_info has neither.
	InFlight, PeerWindow uint64
}

// mptcp_info flag bits.
const (
	InfoFlagFallback          = 1 << 0 // MPTCP_INFO_FLAG_FALLBACK
	InfoFlagRemoteKeyReceived = 1 << 1 // MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED
)

// Info returns the connection's mptcp_info.
func (c *Conn) Info() Info {
	in := Info{
		Token:           c.localToken,
		SubflowsMax:     uint8(c.cfg.MaxSubflows - 1),
		CsumEnabled:     c.Checksums(),
		RetransmitBytes: c.bytesRetrans,
		BytesRetrans:    c.bytesRetrans,
		BytesSent:       c.bytesSent,
		BytesReceived:   c.bytesRecv,
		BytesAcked:      c.bytesAcked,
		AddAddrSignal:   uint8(min(c.addAddrSignal, 255)),
		AddAddrAccepted: uint8(min(c.addAddrAccepted, 255)),
		Fallback:        c.fallback,
		OrphanReinjects: c.orphanReinj,
	}
	in.RemoteKeyReceived = c.fullyEst || (c.client && c.bufReady && !c.fallback)
	if in.Fallback {
		in.Flags |= InfoFlagFallback
	}
	if in.RemoteKeyReceived {
		in.Flags |= InfoFlagRemoteKeyReceived
	}
	if c.bufReady {
		in.WriteSeq, in.SndUna, in.RcvNxt = c.sndBase+c.snd.end, c.sndBase+c.dataUna, c.dataAck()
		in.InFlight = c.sndNxt - c.dataUna
		if c.rwndEnd > c.dataUna {
			in.PeerWindow = c.rwndEnd - c.dataUna
		}
	}
	var addrs [MaxSubflows]tcp.FourTuple
	na := 0
	for _, sf := range c.subflows {
		if sf.closed {
			continue
		}
		in.SubflowsTotal++
		seen := false
		for _, a := range addrs[:na] {
			if a.LocalAddr == sf.tuple.LocalAddr {
				seen = true
			}
		}
		if !seen {
			addrs[na] = sf.tuple
			na++
		}
	}
	if in.SubflowsTotal > 0 {
		in.Subflows = in.SubflowsTotal - 1
	}
	in.LocalAddrUsed = uint8(na)
	return in
}

// SubflowInfo describes one subflow (like `ss -tiM` shows it).
type SubflowInfo struct {
	Tuple        tcp.FourTuple
	Ifname       string // interface name, when the stack set it with SetIfname
	LocalID      uint8  // local address id
	RemoteID     uint8  // remote address id
	Backup       bool   // local or peer backup flag
	State        tcp.State
	Stale        bool
	Cwnd         int
	SendWindow   int // the peer's window on this subflow, as the engine uses it (SendWindow of tcp.Endpoint)
	Unacked      int // subflow bytes sent and not yet acknowledged
	SRTT         time.Duration
	BytesSent    uint64 // payload bytes sent, retransmissions included
	BytesAcked   uint64 // payload bytes the peer acknowledged on this subflow (its TCP ACK; tcpi_bytes_acked less the SYN)
	BytesRecv    uint64 // payload bytes received in order
	BytesRetrans uint64 // payload bytes retransmitted
	Retransmits  uint64 // segments retransmitted
}

// SetIfname records the interface sf leaves through (for SubflowInfo).
func (sf *Subflow) SetIfname(name string) { sf.ifname = name }

// Subflows appends a description of every subflow to dst and returns it.
// Closed subflows are included until room is needed for new ones.
func (c *Conn) Subflows(dst []SubflowInfo) []SubflowInfo {
	for _, sf := range c.subflows {
		si := SubflowInfo{Tuple: sf.tuple, Ifname: sf.ifname, LocalID: sf.localID, RemoteID: sf.remoteID, Backup: sf.Backup(),
			Stale: sf.stale, BytesSent: sf.bytesSent, BytesAcked: sf.bytesAcked, BytesRecv: sf.bytesRecv, BytesRetrans: sf.bytesRetrans}
		if sf.ep != nil {
			si.State = sf.ep.State()
			si.Cwnd = sf.ctl.Cwnd()
			si.SendWindow = sf.ep.SendWindow()
			si.Unacked = int(sf.ep.SndUna().Size(sf.ep.SndNxt()))
			si.SRTT = sf.ep.SRTT()
			si.Retransmits = sf.ep.Counters().RetransSegs
		}
		dst = append(dst, si)
	}
	return dst
}

// Closed reports whether the connection ended: every subflow closed (after
// both DATA_FINs, a failure, MP_FASTCLOSE or fallback FINs). Its token is
// released by then.
func (c *Conn) Closed() bool { return c.closing }
