package iperf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Layouts of the kernel's uapi structures that KernelSubflows reads
// (include/uapi/linux/mptcp.h and tcp.h). They are host-endian; the
// parsers here are pure functions so that they can be tested everywhere.
const (
	// SOL_MPTCP socket options.
	solMPTCP          = 284
	optMPTCPInfo      = 1
	optMPTCPTCPInfo   = 2
	optMPTCPSubflowAd = 3

	// sizeofSubflowData is struct mptcp_subflow_data (aligned to 8).
	sizeofSubflowData = 16
	// sizeofSubflowAddrs is struct mptcp_subflow_addrs: two
	// __kernel_sockaddr_storage.
	sizeofSubflowAddrs = 256
	sizeofSockaddrStor = 128
	// sizeofTCPInfoUser is the tcp_info size we ask for (x/sys/unix's
	// SizeofTCPInfo on Linux 6.x).
	sizeofTCPInfoUser = 280
	// minTCPInfo is the shortest tcp_info we accept: up to and including
	// tcpi_total_retrans (Linux 2.6).
	minTCPInfo = 104
	// sizeofMPTCPInfo is struct mptcp_info (Linux 6.10+); older kernels
	// return less and we accept down to minMPTCPInfo.
	sizeofMPTCPInfo = 96
	minMPTCPInfo    = 40

	afInet  = 2
	afInet6 = 10
)

// ErrShort is returned by the kernel ABI parsers for truncated input.
var ErrShort = errors.New("iperf: kernel structure truncated")

// subflowData is struct mptcp_subflow_data.
type subflowData struct {
	SizeSubflowData uint32
	NumSubflows     uint32
	SizeKernel      uint32
	SizeUser        uint32
}

// putSubflowData writes the request header: our sizes, zero counts.
func putSubflowData(b []byte, sizeUser uint32) {
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], sizeofSubflowData)
	ne.PutUint32(b[4:], 0)
	ne.PutUint32(b[8:], 0)
	ne.PutUint32(b[12:], sizeUser)
}

// parseSubflowData reads the header the kernel filled in and returns the
// elements present in b (at most NumSubflows, each SizeUser bytes).
func parseSubflowData(b []byte) (subflowData, [][]byte, error) {
	if len(b) < sizeofSubflowData {
		return subflowData{}, nil, fmt.Errorf("%w: mptcp_subflow_data needs %d bytes, got %d", ErrShort, sizeofSubflowData, len(b))
	}
	ne := binary.NativeEndian
	h := subflowData{ne.Uint32(b[0:]), ne.Uint32(b[4:]), ne.Uint32(b[8:]), ne.Uint32(b[12:])}
	if h.SizeSubflowData < sizeofSubflowData || int(h.SizeSubflowData) > len(b) {
		return h, nil, fmt.Errorf("iperf: mptcp_subflow_data size %d out of range", h.SizeSubflowData)
	}
	if h.SizeUser == 0 {
		return h, nil, errors.New("iperf: mptcp_subflow_data element size is 0")
	}
	var elems [][]byte
	off := int(h.SizeSubflowData)
	for i := uint32(0); i < h.NumSubflows && off+int(h.SizeUser) <= len(b); i++ {
		elems = append(elems, b[off:off+int(h.SizeUser)])
		off += int(h.SizeUser)
	}
	return h, elems, nil
}

// grownView reads host-endian fields of a kernel structure that has grown
// over kernel versions: a field that lies past the end of the bytes an
// older kernel returned reads as zero.
type grownView []byte

func (v grownView) u8(off int) uint8 {
	if off >= len(v) {
		return 0
	}
	return v[off]
}

func (v grownView) u32(off int) uint32 {
	if off+4 > len(v) {
		return 0
	}
	return binary.NativeEndian.Uint32(v[off:])
}

func (v grownView) u64(off int) uint64 {
	if off+8 > len(v) {
		return 0
	}
	return binary.NativeEndian.Uint64(v[off:])
}

// tcpInfo holds the tcp_info fields we use.
type tcpInfo struct {
	State         uint8
	SndMSS        uint32
	RTT, RTTVar   uint32 // microseconds
	SndCwnd       uint32
	PMTU          uint32
	TotalRetrans  uint32
	BytesAcked    uint64
	BytesReceived uint64
	DeliveryRate  uint64
	BytesSent     uint64
	BytesRetrans  uint64
	SndWnd        uint32
}

// tcp_info field offsets (struct tcp_info, Linux uapi).
const (
	tiState        = 0
	tiSndMSS       = 16
	tiPMTU         = 60
	tiRTT          = 68
	tiRTTVar       = 72
	tiSndCwnd      = 80
	tiTotalRetrans = 100
	tiBytesAcked   = 120
	tiBytesRecv    = 128
	tiDelivRate    = 160
	tiBytesSent    = 200
	tiBytesRetrans = 208
	tiSndWnd       = 228
)

// parseTCPInfo reads a (possibly short, from an older kernel) tcp_info:
// fields beyond len(b) are left zero.
func parseTCPInfo(b []byte) (tcpInfo, error) {
	if len(b) < minTCPInfo {
		return tcpInfo{}, fmt.Errorf("%w: tcp_info needs at least %d bytes, got %d", ErrShort, minTCPInfo, len(b))
	}
	v := grownView(b)
	return tcpInfo{
		State:         b[tiState],
		SndMSS:        v.u32(tiSndMSS),
		RTT:           v.u32(tiRTT),
		RTTVar:        v.u32(tiRTTVar),
		SndCwnd:       v.u32(tiSndCwnd),
		PMTU:          v.u32(tiPMTU),
		TotalRetrans:  v.u32(tiTotalRetrans),
		BytesAcked:    v.u64(tiBytesAcked),
		BytesReceived: v.u64(tiBytesRecv),
		DeliveryRate:  v.u64(tiDelivRate),
		BytesSent:     v.u64(tiBytesSent),
		BytesRetrans:  v.u64(tiBytesRetrans),
		SndWnd:        v.u32(tiSndWnd),
	}, nil
}

// stat converts tcp_info to a SubflowStat (addresses left to the caller).
func (t tcpInfo) stat() SubflowStat {
	return SubflowStat{
		BytesSent:     t.BytesSent,
		BytesAcked:    t.BytesAcked,
		BytesReceived: t.BytesReceived,
		BytesRetrans:  t.BytesRetrans,
		Retransmits:   uint64(t.TotalRetrans),
		Cwnd:          t.SndCwnd,
		MSS:           t.SndMSS,
		SRTT:          time.Duration(t.RTT) * time.Microsecond,
		RTTVar:        time.Duration(t.RTTVar) * time.Microsecond,
		PMTU:          t.PMTU,
		SndWnd:        t.SndWnd,
		DeliveryRate:  t.DeliveryRate,
	}
}

// parseSockaddr reads a sockaddr_in or sockaddr_in6 (family host-endian,
// port big-endian).
func parseSockaddr(b []byte) (netip.AddrPort, error) {
	if len(b) < 2 {
		return netip.AddrPort{}, fmt.Errorf("%w: sockaddr needs 2 bytes, got %d", ErrShort, len(b))
	}
	switch fam := binary.NativeEndian.Uint16(b); fam {
	case afInet:
		if len(b) < 8 {
			return netip.AddrPort{}, fmt.Errorf("%w: sockaddr_in needs 8 bytes, got %d", ErrShort, len(b))
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), binary.BigEndian.Uint16(b[2:])), nil
	case afInet6:
		if len(b) < 28 {
			return netip.AddrPort{}, fmt.Errorf("%w: sockaddr_in6 needs 28 bytes, got %d", ErrShort, len(b))
		}
		a := netip.AddrFrom16([16]byte(b[8:24])).Unmap()
		return netip.AddrPortFrom(a, binary.BigEndian.Uint16(b[2:])), nil
	default:
		return netip.AddrPort{}, fmt.Errorf("iperf: sockaddr family %d is not AF_INET or AF_INET6", fam)
	}
}

// parseSubflowAddrs reads struct mptcp_subflow_addrs.
func parseSubflowAddrs(b []byte) (local, remote netip.AddrPort, err error) {
	if len(b) < sizeofSubflowAddrs {
		return local, remote, fmt.Errorf("%w: mptcp_subflow_addrs needs %d bytes, got %d", ErrShort, sizeofSubflowAddrs, len(b))
	}
	if local, err = parseSockaddr(b[:sizeofSockaddrStor]); err != nil {
		return local, remote, err
	}
	remote, err = parseSockaddr(b[sizeofSockaddrStor:sizeofSubflowAddrs])
	return local, remote, err
}

// MPTCPInfo is the connection-level struct mptcp_info of a kernel MPTCP
// socket.
type MPTCPInfo struct {
	Subflows            uint8
	AddAddrSignal       uint8
	AddAddrAccepted     uint8
	SubflowsMax         uint8
	AddAddrSignalMax    uint8
	AddAddrAcceptedMax  uint8
	Flags               uint32
	Token               uint32
	WriteSeq, SndUna    uint64
	RcvNxt              uint64
	LocalAddrUsed       uint8
	LocalAddrMax        uint8
	CsumEnabled         uint8
	Retransmits         uint32
	BytesRetrans        uint64
	BytesSent           uint64
	BytesReceived       uint64
	BytesAcked          uint64
	SubflowsTotal       uint8
	LastDataSentMillis  uint32
	LastDataRecvMillis  uint32
	LastAckRecvedMillis uint32
}

// parseMPTCPInfo reads struct mptcp_info; fields past len(b) (older
// kernels) stay zero.
func parseMPTCPInfo(b []byte) (MPTCPInfo, error) {
	if len(b) < minMPTCPInfo {
		return MPTCPInfo{}, fmt.Errorf("%w: mptcp_info needs at least %d bytes, got %d", ErrShort, minMPTCPInfo, len(b))
	}
	v := grownView(b)
	return MPTCPInfo{
		Subflows: b[0], AddAddrSignal: b[1], AddAddrAccepted: b[2], SubflowsMax: b[3],
		AddAddrSignalMax: b[4], AddAddrAcceptedMax: b[5],
		Flags: v.u32(8), Token: v.u32(12),
		WriteSeq: v.u64(16), SndUna: v.u64(24), RcvNxt: v.u64(32),
		LocalAddrUsed: v.u8(40), LocalAddrMax: v.u8(41), CsumEnabled: v.u8(42),
		Retransmits: v.u32(44), BytesRetrans: v.u64(48), BytesSent: v.u64(56),
		BytesReceived: v.u64(64), BytesAcked: v.u64(72), SubflowsTotal: v.u8(80),
		LastDataSentMillis: v.u32(84), LastDataRecvMillis: v.u32(88), LastAckRecvedMillis: v.u32(92),
	}, nil
}
