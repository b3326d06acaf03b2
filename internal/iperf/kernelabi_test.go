package iperf

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"
)

var ne = binary.NativeEndian

// goldenTCPInfo builds a tcp_info with known values at the uapi offsets.
func goldenTCPInfo(n int) []byte {
	b := make([]byte, n)
	b[tiState] = 1 // TCP_ESTABLISHED
	put32 := func(off int, v uint32) {
		if off+4 <= n {
			ne.PutUint32(b[off:], v)
		}
	}
	put64 := func(off int, v uint64) {
		if off+8 <= n {
			ne.PutUint64(b[off:], v)
		}
	}
	put32(tiSndMSS, 1448)
	put32(tiPMTU, 1500)
	put32(tiRTT, 2500)
	put32(tiRTTVar, 700)
	put32(tiSndCwnd, 42)
	put32(tiTotalRetrans, 7)
	put64(tiBytesAcked, 123456789)
	put64(tiBytesRecv, 987654321)
	put64(tiDelivRate, 1250000000)
	put64(tiBytesSent, 123500000)
	put64(tiBytesRetrans, 43211)
	put32(tiSndWnd, 65535)
	return b
}

func TestParseTCPInfoGolden(t *testing.T) {
	ti, err := parseTCPInfo(goldenTCPInfo(sizeofTCPInfoUser))
	if err != nil {
		t.Fatal(err)
	}
	s := ti.stat()
	want := SubflowStat{BytesSent: 123500000, BytesAcked: 123456789, BytesReceived: 987654321, BytesRetrans: 43211,
		Retransmits: 7, Cwnd: 42, MSS: 1448, SRTT: 2500 * time.Microsecond, RTTVar: 700 * time.Microsecond,
		PMTU: 1500, SndWnd: 65535, DeliveryRate: 1250000000}
	if s != want || ti.State != 1 {
		t.Fatalf("got %+v\nwant %+v", s, want)
	}
	// An older kernel's shorter tcp_info: later fields read as zero.
	old, err := parseTCPInfo(goldenTCPInfo(minTCPInfo))
	if err != nil || old.TotalRetrans != 7 || old.BytesAcked != 0 || old.SndWnd != 0 {
		t.Fatalf("short tcp_info: %+v, %v", old, err)
	}
	for _, n := range []int{0, 1, minTCPInfo - 1} {
		if _, err := parseTCPInfo(make([]byte, n)); !errors.Is(err, ErrShort) {
			t.Errorf("%d bytes: %v, want ErrShort", n, err)
		}
	}
}

// sockaddr builds a sockaddr_in/in6 in a 128-byte storage.
func sockaddr(ap netip.AddrPort) []byte {
	b := make([]byte, sizeofSockaddrStor)
	binary.BigEndian.PutUint16(b[2:], ap.Port())
	if ap.Addr().Is4() {
		ne.PutUint16(b, afInet)
		a := ap.Addr().As4()
		copy(b[4:], a[:])
	} else {
		ne.PutUint16(b, afInet6)
		a := ap.Addr().As16()
		copy(b[8:], a[:])
	}
	return b
}

func TestParseSubflowAddrsGolden(t *testing.T) {
	l4 := netip.MustParseAddrPort("10.100.0.1:40000")
	r4 := netip.MustParseAddrPort("10.100.0.2:5201")
	l6 := netip.MustParseAddrPort("[fd00::1]:40001")
	r6 := netip.MustParseAddrPort("[fd00::2]:5201")
	for _, tc := range [][2]netip.AddrPort{{l4, r4}, {l6, r6}} {
		b := append(sockaddr(tc[0]), sockaddr(tc[1])...)
		l, r, err := parseSubflowAddrs(b)
		if err != nil || l != tc[0] || r != tc[1] {
			t.Errorf("got %v -> %v, %v; want %v -> %v", l, r, err, tc[0], tc[1])
		}
		if _, _, err := parseSubflowAddrs(b[:sizeofSubflowAddrs-1]); !errors.Is(err, ErrShort) {
			t.Errorf("truncated: %v", err)
		}
	}
	bad := make([]byte, sizeofSubflowAddrs)
	ne.PutUint16(bad, 1) // AF_UNIX
	if _, _, err := parseSubflowAddrs(bad); err == nil {
		t.Error("AF_UNIX accepted")
	}
	for _, n := range []int{0, 1, 7} {
		b := sockaddr(l4)[:n]
		if _, err := parseSockaddr(b); !errors.Is(err, ErrShort) {
			t.Errorf("sockaddr_in of %d bytes: %v", n, err)
		}
	}
	if _, err := parseSockaddr(sockaddr(l6)[:27]); !errors.Is(err, ErrShort) {
		t.Errorf("short sockaddr_in6 accepted")
	}
}

func TestParseSubflowData(t *testing.T) {
	const elem = 8
	b := make([]byte, sizeofSubflowData+3*elem)
	putSubflowData(b, elem)
	if ne.Uint32(b[0:]) != sizeofSubflowData || ne.Uint32(b[12:]) != elem {
		t.Fatalf("request header % x", b[:16])
	}
	// The kernel reports 3 subflows.
	ne.PutUint32(b[4:], 3)
	ne.PutUint32(b[8:], 232)
	for i := 0; i < 3; i++ {
		b[sizeofSubflowData+i*elem] = byte(i + 1)
	}
	h, elems, err := parseSubflowData(b)
	if err != nil || h.NumSubflows != 3 || h.SizeKernel != 232 || len(elems) != 3 || elems[2][0] != 3 {
		t.Fatalf("got %+v, %d elems, %v", h, len(elems), err)
	}
	// More subflows than fit: only whole elements are returned.
	ne.PutUint32(b[4:], 5)
	if _, elems, _ := parseSubflowData(b[:len(b)-1]); len(elems) != 2 {
		t.Errorf("%d elements from a buffer with room for 2", len(elems))
	}
	if _, _, err := parseSubflowData(b[:15]); !errors.Is(err, ErrShort) {
		t.Errorf("short header: %v", err)
	}
	ne.PutUint32(b[12:], 0)
	if _, _, err := parseSubflowData(b); err == nil {
		t.Error("zero element size accepted")
	}
	ne.PutUint32(b[0:], 1000)
	if _, _, err := parseSubflowData(b); err == nil {
		t.Error("header size beyond the buffer accepted")
	}
}

func goldenMPTCPInfo() []byte {
	b := make([]byte, sizeofMPTCPInfo)
	copy(b, []byte{2, 1, 0, 8, 1, 8})
	ne.PutUint32(b[8:], 0x5)
	ne.PutUint32(b[12:], 0xdeadbeef)
	ne.PutUint64(b[16:], 1000)
	ne.PutUint64(b[24:], 900)
	ne.PutUint64(b[32:], 5000)
	b[40], b[41], b[42] = 1, 2, 0
	ne.PutUint32(b[44:], 3)
	ne.PutUint64(b[48:], 4096)
	ne.PutUint64(b[56:], 1<<40)
	ne.PutUint64(b[64:], 1<<41)
	ne.PutUint64(b[72:], 1<<39)
	b[80] = 3
	ne.PutUint32(b[84:], 10)
	ne.PutUint32(b[88:], 20)
	ne.PutUint32(b[92:], 30)
	return b
}

func TestParseMPTCPInfoGolden(t *testing.T) {
	m, err := parseMPTCPInfo(goldenMPTCPInfo())
	if err != nil {
		t.Fatal(err)
	}
	want := MPTCPInfo{Subflows: 2, AddAddrSignal: 1, SubflowsMax: 8, AddAddrSignalMax: 1, AddAddrAcceptedMax: 8,
		Flags: 5, Token: 0xdeadbeef, WriteSeq: 1000, SndUna: 900, RcvNxt: 5000, LocalAddrUsed: 1, LocalAddrMax: 2,
		Retransmits: 3, BytesRetrans: 4096, BytesSent: 1 << 40, BytesReceived: 1 << 41, BytesAcked: 1 << 39,
		SubflowsTotal: 3, LastDataSentMillis: 10, LastDataRecvMillis: 20, LastAckRecvedMillis: 30}
	if m != want {
		t.Fatalf("got %+v\nwant %+v", m, want)
	}
	old, err := parseMPTCPInfo(goldenMPTCPInfo()[:minMPTCPInfo])
	if err != nil || old.RcvNxt != 5000 || old.BytesSent != 0 {
		t.Fatalf("5.x-sized mptcp_info: %+v %v", old, err)
	}
	if _, err := parseMPTCPInfo(make([]byte, minMPTCPInfo-1)); !errors.Is(err, ErrShort) {
		t.Errorf("truncated: %v", err)
	}
}

// FuzzKernelABI feeds arbitrary bytes to every kernel structure parser
// and checks that an accepted subflow address pair re-encodes to itself.
func FuzzKernelABI(f *testing.F) {
	f.Add(goldenTCPInfo(sizeofTCPInfoUser))
	f.Add(goldenMPTCPInfo())
	f.Add(append(sockaddr(netip.MustParseAddrPort("10.0.0.1:1")), sockaddr(netip.MustParseAddrPort("[fd00::2]:2"))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseTCPInfo(b)
		_, _ = parseMPTCPInfo(b)
		_, _, _ = parseSubflowData(b)
		l, r, err := parseSubflowAddrs(b)
		if err != nil {
			return
		}
		l2, r2, err := parseSubflowAddrs(append(sockaddr(l), sockaddr(r)...))
		if err != nil || l2 != l || r2 != r {
			t.Fatalf("round trip %v->%v became %v->%v (%v)", l, r, l2, r2, err)
		}
	})
}
