package header

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"reflect"
	"testing"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// Golden packets, built field by field with an independent script (Python
// struct + a textbook RFC 1071 loop for the checksums), in the shapes Linux
// sends: see each constant's comment.
const (
	// Ethernet + IPv4 (DF, TTL 64, ID 0x1c46) + TCP SYN 10.0.0.1:40000 ->
	// 10.0.0.2:5201, seq 0x12345678, window 64240, options as Linux
	// writes them on a SYN: MSS 1460, SACK-permitted, TS 0x0a0b0c0d/0,
	// NOP, window scale 7.
	goldenSYN4 = "02000000000202000000000108004500003c1c46400040060a740a0000010a0000029c4014511234567800000000a002faf009b70000020405b40402080a0a0b0c0d0000000001030307"
	// Broadcast ARP request "who has 10.0.0.2, tell 10.0.0.1", padded to
	// the 60-byte Ethernet minimum.
	goldenARP = "ffffffffffff020000000001080600010800060400010200000000010a0000010000000000000a000002000000000000000000000000000000000000"
	// Ethernet + IPv4 + ICMP echo request id 0x1234 seq 1 with the 56
	// data bytes 0..55 (ping's default size).
	goldenICMP4 = "020000000002020000000001080045000054beef4000400167b70a0000010a0000020800eeb712340001000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"
	// Ethernet + IPv6 (hop limit 255) + Neighbor Solicitation from fd00::1
	// to ff02::1:ff00:2 for target fd00::2 with a source link-layer option.
	goldenNS6 = "3333ff00000202000000000186dd6000000000203afffd000000000000000000000000000001ff0200000000000000000001ff00000287007d9700000000fd0000000000000000000000000000020101020000000001"
	// Ethernet + IPv6 (flow label 0x12345) + hop-by-hop (8 bytes) +
	// destination options (16 bytes) + TCP SYN-ACK fd00::2:5201 ->
	// fd00::1:40000, seq 0xcafebabe ack 0x12345679, window 65160, MSS 1440,
	// SACK-permitted, TS 7/0x0a0b0c0d, NOP, WS 7.
	goldenSYNACK6 = "02000000000102000000000286dd6001234500400040fd000000000000000000000000000002fd0000000000000000000000000000013c000104000000000601010c00000000000000000000000014519c40cafebabe12345679a012fe889a5b0000020405a00402080a000000070a0b0c0d01030307"
	// ICMPv6 echo request fd00::1 -> fd00::2, id 7 seq 9, data "ping".
	goldenEcho6 = "8000a6d30007000970696e67"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	mac1 = MAC{2, 0, 0, 0, 0, 1}
	mac2 = MAC{2, 0, 0, 0, 0, 2}
	ip1  = [4]byte{10, 0, 0, 1}
	ip2  = [4]byte{10, 0, 0, 2}
	ip61 = netip.MustParseAddr("fd00::1").As16()
	ip62 = netip.MustParseAddr("fd00::2").As16()
)

func TestGoldenSYN4(t *testing.T) {
	pkt := unhex(t, goldenSYN4)
	eth, n, err := ParseEthernet(pkt)
	if err != nil || n != 14 {
		t.Fatalf("ParseEthernet: n=%d err=%v", n, err)
	}
	if eth.Dst() != mac2 || eth.Src() != mac1 || eth.EtherType() != EtherTypeIPv4 || eth.HasVLAN() {
		t.Fatalf("ethernet fields: %v %v %#x", eth.Dst(), eth.Src(), eth.EtherType())
	}
	ip, n, err := ParseIPv4(eth.Payload())
	if err != nil || n != 20 {
		t.Fatalf("ParseIPv4: n=%d err=%v", n, err)
	}
	if ip.Src() != ip1 || ip.Dst() != ip2 || ip.TTL() != 64 || !ip.DF() || ip.MF() || ip.IsFragment() ||
		ip.Protocol() != TCPProtocolNumber || ip.TotalLen() != 60 || ip.ID() != 0x1c46 || ip.OptionsLen() != 0 {
		t.Fatalf("ipv4 fields wrong: % x", []byte(ip[:20]))
	}
	if ip.SrcAddr() != netip.MustParseAddr("10.0.0.1") {
		t.Fatalf("SrcAddr %v", ip.SrcAddr())
	}
	tcp, n, err := ParseTCP(ip.Payload())
	if err != nil || n != 40 {
		t.Fatalf("ParseTCP: n=%d err=%v", n, err)
	}
	if !tcp.ChecksumValid(ip.PseudoHeaderSum()) {
		t.Fatalf("TCP checksum does not verify")
	}
	if tcp.SrcPort() != 40000 || tcp.DstPort() != 5201 || tcp.Seq() != 0x12345678 || tcp.Ack() != 0 ||
		tcp.Flags() != TCPFlagSYN || tcp.Window() != 64240 || len(tcp.Payload()) != 0 {
		t.Fatalf("tcp fields wrong: flags %v", tcp.Flags())
	}
	var o TCPOptions
	used, err := ParseTCPOptions(tcp.Options(), &o)
	if err != nil || used != 20 {
		t.Fatalf("ParseTCPOptions: used=%d err=%v", used, err)
	}
	want := TCPOptions{MSS: 1460, HasMSS: true, WindowScale: 7, HasWindowScale: true, SACKPermitted: true,
		TSVal: 0x0a0b0c0d, TSEcr: 0, HasTimestamps: true}
	if !reflect.DeepEqual(o, want) {
		t.Fatalf("options = %+v, want %+v", o, want)
	}

	// Encode the same packet and compare byte for byte.
	out := make([]byte, 128)
	w := EncodeEthernet(out, mac2, mac1, EtherTypeIPv4)
	w += EncodeIPv4(out[w:], &IPv4Fields{TotalLen: 60, ID: 0x1c46, DF: true, TTL: 64, Protocol: TCPProtocolNumber, Src: ip1, Dst: ip2})
	size, err := TCPOptionsSize(&o)
	if err != nil || size != 20 {
		t.Fatalf("TCPOptionsSize = %d, %v", size, err)
	}
	seg := out[w:]
	h := EncodeTCP(seg, &TCPFields{SrcPort: 40000, DstPort: 5201, Seq: 0x12345678, Flags: TCPFlagSYN, Window: 64240, OptionsLen: size})
	on, _ := WriteTCPOptions(seg[h:], &o)
	seg = seg[:h+on]
	TCP(seg).FinishChecksum(PseudoHeaderSumIPv4(ip1, ip2, TCPProtocolNumber, uint16(len(seg))))
	w += len(seg)
	if !bytes.Equal(out[:w], pkt) {
		t.Fatalf("encoded\n% x\nwant\n% x", out[:w], pkt)
	}
}

func TestGoldenARP(t *testing.T) {
	pkt := unhex(t, goldenARP)
	eth, n, err := ParseEthernet(pkt)
	if err != nil || eth.EtherType() != EtherTypeARP || eth.Dst() != BroadcastMAC || !eth.Dst().IsMulticast() {
		t.Fatalf("ethernet: %v %#x", err, eth.EtherType())
	}
	a, m, err := ParseARP(pkt[n:])
	if err != nil || m != ARPLen || len(a) != ARPLen {
		t.Fatalf("ParseARP: %d %v", m, err)
	}
	if a.Op() != ARPRequest || a.SenderMAC() != mac1 || a.SenderIP() != ip1 || a.TargetMAC() != (MAC{}) || a.TargetIP() != ip2 {
		t.Fatalf("arp fields wrong")
	}
	out := make([]byte, 60)
	w := EncodeEthernet(out, BroadcastMAC, mac1, EtherTypeARP)
	w += EncodeARP(out[w:], ARPRequest, mac1, ip1, MAC{}, ip2)
	if w != 42 || !bytes.Equal(out, pkt) {
		t.Fatalf("encoded % x", out)
	}
}

func TestGoldenICMP4(t *testing.T) {
	pkt := unhex(t, goldenICMP4)
	ip, n, err := ParseIPv4(pkt[14:])
	if err != nil || ip.Protocol() != ICMPv4ProtocolNumber {
		t.Fatal(err)
	}
	m, k, err := ParseICMPv4(ip[n:])
	if err != nil || k != 8 {
		t.Fatalf("ParseICMPv4: %v", err)
	}
	if m.Type() != ICMPv4EchoRequest || m.Code() != 0 || m.Ident() != 0x1234 || m.Seq() != 1 || len(m.Payload()) != 56 || m.Payload()[55] != 55 {
		t.Fatalf("icmp fields wrong")
	}
	// Answer in place, as the stack does, and check the reply verifies and
	// differs from the request only in type and checksum.
	reply := append([]byte(nil), m...)
	EncodeICMPv4Echo(reply, ICMPv4EchoReply, m.Ident(), m.Seq(), reply[8:])
	r, _, err := ParseICMPv4(reply)
	if err != nil || r.Type() != ICMPv4EchoReply {
		t.Fatalf("reply: %v", err)
	}
	if !bytes.Equal(reply[4:], m[4:]) {
		t.Fatal("reply body differs from request")
	}
	// RFC 1624: changing type 8 -> 0 is an incremental checksum update.
	if got := UpdateChecksum(m.Checksum(), 0x0800, 0x0000); got != r.Checksum() {
		t.Fatalf("incremental %#x, full %#x", got, r.Checksum())
	}
	// Re-encode the request exactly.
	out := make([]byte, len(m))
	EncodeICMPv4Echo(out, ICMPv4EchoRequest, 0x1234, 1, m.Payload())
	if !bytes.Equal(out, m) {
		t.Fatalf("encoded % x", out)
	}
	// And the IPv4 header.
	hdr := make([]byte, 20)
	EncodeIPv4(hdr, &IPv4Fields{TotalLen: ip.TotalLen(), ID: 0xbeef, DF: true, TTL: 64, Protocol: 1, Src: ip1, Dst: ip2})
	if !bytes.Equal(hdr, ip[:20]) {
		t.Fatalf("ipv4 header % x", hdr)
	}
}

func TestGoldenNS6(t *testing.T) {
	pkt := unhex(t, goldenNS6)
	eth, n, _ := ParseEthernet(pkt)
	if eth.EtherType() != EtherTypeIPv6 {
		t.Fatal("ethertype")
	}
	ip, _, err := ParseIPv6(pkt[n:])
	if err != nil || ip.HopLimit() != NDHopLimit || ip.NextHeader() != ICMPv6ProtocolNumber {
		t.Fatalf("ParseIPv6: %v", err)
	}
	proto, up, err := ip.Transport()
	if err != nil || proto != ICMPv6ProtocolNumber || len(up) != 32 {
		t.Fatalf("Transport: %d %d %v", proto, len(up), err)
	}
	m, k, err := ParseICMPv6(up)
	if err != nil || k != NDMessageLen {
		t.Fatalf("ParseICMPv6: %v", err)
	}
	if !m.ChecksumValid(ip.PseudoHeaderSum(proto, len(up))) {
		t.Fatal("checksum does not verify")
	}
	var o NDOptions
	if err := ParseNDOptions(m.NDOptionsBytes(), &o); err != nil || !o.HasSourceLinkLayer || o.SourceLinkLayer != mac1 || o.HasTargetLinkLayer {
		t.Fatalf("options %+v %v", o, err)
	}
	if m.Type() != ICMPv6NeighborSolicitation || m.NDTarget() != ip62 {
		t.Fatal("ns fields")
	}
	if eth.Dst() != IPv6MulticastMAC(SolicitedNodeMulticast(ip62)) || ip.Dst() != SolicitedNodeMulticast(ip62) {
		t.Fatal("solicited-node addresses")
	}
	out := make([]byte, 32)
	EncodeNeighborSolicitation(out, ip61, ip.Dst(), ip62, &mac1)
	if !bytes.Equal(out, up) {
		t.Fatalf("encoded % x", out)
	}
	h := make([]byte, 40)
	EncodeIPv6(h, &IPv6Fields{PayloadLen: 32, NextHeader: ICMPv6ProtocolNumber, HopLimit: 255, Src: ip61, Dst: ip.Dst()})
	if !bytes.Equal(h, ip[:40]) {
		t.Fatalf("ipv6 header % x", h)
	}
	// The advertisement that answers it verifies and parses back.
	na := make([]byte, 32)
	EncodeNeighborAdvertisement(na, ip62, ip61, ip62, NDFlagSolicited|NDFlagOverride, &mac2)
	a, _, err := ParseICMPv6(na)
	if err != nil || !a.ChecksumValid(PseudoHeaderSumIPv6(ip62, ip61, ICMPv6ProtocolNumber, 32)) {
		t.Fatalf("NA: %v", err)
	}
	if a.NDFlags() != NDFlagSolicited|NDFlagOverride || a.NDTarget() != ip62 {
		t.Fatal("NA fields")
	}
	if err := ParseNDOptions(a.NDOptionsBytes(), &o); err != nil || !o.HasTargetLinkLayer || o.TargetLinkLayer != mac2 || o.HasSourceLinkLayer {
		t.Fatalf("NA options %+v %v", o, err)
	}
}

func TestGoldenSYNACK6(t *testing.T) {
	pkt := unhex(t, goldenSYNACK6)
	ip, n, err := ParseIPv6(pkt[14:])
	if err != nil || n != 40 || ip.FlowLabel() != 0x12345 || ip.TrafficClass() != 0 || ip.HopLimit() != 64 {
		t.Fatalf("ParseIPv6: %v", err)
	}
	proto, up, err := ip.Transport()
	if err != nil || proto != TCPProtocolNumber || len(up) != 40 {
		t.Fatalf("Transport: %d %d %v", proto, len(up), err)
	}
	tcp, _, err := ParseTCP(up)
	if err != nil || !tcp.ChecksumValid(ip.PseudoHeaderSum(proto, len(up))) {
		t.Fatalf("tcp: %v", err)
	}
	if tcp.Flags() != TCPFlagSYN|TCPFlagACK || tcp.Seq() != 0xcafebabe || tcp.Ack() != seqnum.Value(0x12345679) {
		t.Fatalf("tcp fields %v", tcp.Flags())
	}
	var o TCPOptions
	if _, err := ParseTCPOptions(tcp.Options(), &o); err != nil || o.MSS != 1440 || o.TSVal != 7 || o.TSEcr != 0x0a0b0c0d || !o.SACKPermitted || o.WindowScale != 7 {
		t.Fatalf("options %+v %v", o, err)
	}
	h := make([]byte, 40)
	EncodeIPv6(h, &IPv6Fields{FlowLabel: 0x12345, PayloadLen: ip.PayloadLen(), NextHeader: IPv6HopByHop, HopLimit: 64, Src: ip62, Dst: ip61})
	if !bytes.Equal(h, ip[:40]) {
		t.Fatalf("ipv6 header % x", h)
	}
}

func TestGoldenEcho6(t *testing.T) {
	pkt := unhex(t, goldenEcho6)
	m, n, err := ParseICMPv6(pkt)
	if err != nil || n != 8 || m.Type() != ICMPv6EchoRequest || m.Ident() != 7 || m.Seq() != 9 || string(m.EchoPayload()) != "ping" {
		t.Fatalf("ParseICMPv6: %v", err)
	}
	if !m.ChecksumValid(PseudoHeaderSumIPv6(ip61, ip62, ICMPv6ProtocolNumber, uint32(len(m)))) {
		t.Fatal("checksum")
	}
	if m.ChecksumValid(PseudoHeaderSumIPv6(ip62, ip62, ICMPv6ProtocolNumber, uint32(len(m)))) {
		t.Fatal("checksum verifies with the wrong pseudo-header")
	}
	out := make([]byte, len(pkt))
	EncodeICMPv6Echo(out, ip61, ip62, ICMPv6EchoRequest, 7, 9, []byte("ping"))
	if !bytes.Equal(out, pkt) {
		t.Fatalf("encoded % x", out)
	}
}

// TestTruncation feeds every proper prefix of each golden packet to the
// parser of each layer: each must fail cleanly (or, for layers whose
// length is not known from the bytes, succeed on a prefix that still holds
// the header), and none may panic.
func TestTruncation(t *testing.T) {
	type layer struct {
		name  string
		pkt   string
		off   int // where the layer starts in the golden packet
		parse func([]byte) error
	}
	tcpOpts := func(b []byte) error { var o TCPOptions; _, err := ParseTCPOptions(b, &o); return err }
	layers := []layer{
		{"ethernet", goldenSYN4, 0, func(b []byte) error { _, _, err := ParseEthernet(b); return err }},
		{"ipv4", goldenSYN4, 14, func(b []byte) error { _, _, err := ParseIPv4(b); return err }},
		{"tcp", goldenSYN4, 34, func(b []byte) error { _, _, err := ParseTCP(b); return err }},
		{"arp", goldenARP, 14, func(b []byte) error { _, _, err := ParseARP(b); return err }},
		{"icmpv4", goldenICMP4, 34, func(b []byte) error { _, _, err := ParseICMPv4(b); return err }},
		{"ipv6", goldenNS6, 14, func(b []byte) error { _, _, err := ParseIPv6(b); return err }},
		{"icmpv6-ns", goldenNS6, 54, func(b []byte) error { _, _, err := ParseICMPv6(b); return err }},
		{"icmpv6-echo", goldenEcho6, 0, func(b []byte) error { _, _, err := ParseICMPv6(b); return err }},
		{"ipv6-ext", goldenSYNACK6, 14, func(b []byte) error {
			v, _, err := ParseIPv6(b)
			if err != nil {
				return err
			}
			_, _, err = v.Transport()
			return err
		}},
	}
	for _, l := range layers {
		full := unhex(t, l.pkt)[l.off:]
		if err := l.parse(full); err != nil {
			t.Fatalf("%s: full packet fails: %v", l.name, err)
		}
		for i := 0; i < len(full); i++ {
			// Copy so that reads past the prefix would be caught by the race
			// detector / bounds checks rather than see the real bytes.
			p := append([]byte(nil), full[:i]...)
			err := l.parse(p)
			// Layers that do not know the packet's end (or that carry
			// trailing padding or optional parts) accept some prefixes.
			var ok bool
			switch l.name {
			case "tcp":
				ok = i >= 40
			case "ethernet":
				ok = i >= 14
			case "arp":
				ok = i >= ARPLen
			case "icmpv6-echo":
				ok = i >= 8
			case "icmpv6-ns":
				ok = i == NDMessageLen // an NS without its option is valid
			}
			if ok != (err == nil) {
				t.Errorf("%s: prefix of %d/%d bytes: err=%v, want error: %v", l.name, i, len(full), err, !ok)
			}
		}
	}
	// TCP options: every prefix of the SYN's options is either a clean
	// error or (at an option boundary) a successful shorter parse.
	opts := unhex(t, goldenSYN4)[54:74]
	boundaries := map[int]bool{0: true, 4: true, 6: true, 16: true, 17: true, 20: true}
	for i := 0; i <= len(opts); i++ {
		err := tcpOpts(append([]byte(nil), opts[:i]...))
		if boundaries[i] != (err == nil) {
			t.Errorf("tcp options prefix %d: err=%v", i, err)
		}
	}
}
