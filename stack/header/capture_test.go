package header

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"testing"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// Frames captured with tcpdump on a veth pair between two network
// namespaces on Linux 6.18 (transmit checksum offload turned off, so every
// checksum is complete): plain TCP over IPv4 and IPv6, an MPTCP v1
// connection (MP_CAPABLE and DSS options), ping over both families, ARP and
// Neighbor Discovery. The expected field values are those tcpdump printed
// for the same frames.
const (
	capDadNS       = "3333ff00000202000000000286dd6000000000203aff00000000000000000000000000000000ff0200000000000000000001ff000002870039a700000000fe80000000000000000000fffe0000020e01c3e02f4b4247"
	capArpRequest  = "ffffffffffff020000000001080600010800060400010200000000010a4d00010000000000000a4d0002"
	capArpReply    = "020000000001020000000002080600010800060400020200000000020a4d00020200000000010a4d0001"
	capNs6         = "3333ff00000202000000000186dd6000000000203afffd770000000000000000000000000001ff0200000000000000000001ff00000287007ca900000000fd7700000000000000000000000000020101020000000001"
	capNa6         = "02000000000102000000000286dd6000000000203afffd770000000000000000000000000002fd77000000000000000000000000000188001b3560000000fd7700000000000000000000000000020201020000000002"
	capEcho4Req    = "020000000002020000000001080045000054adfe40004001780e0a4d00010a4d00020800d7ae3a830001aaa7026b0000000079e7000000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"
	capEcho4Rep    = "020000000001020000000002080045000054cba5000040019a670a4d00020a4d00010000dfae3a830001aaa7026b0000000079e7000000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"
	capEcho6Req    = "02000000000202000000000186dd600bcef000403a40fd770000000000000000000000000001fd7700000000000000000000000000028000372e3a840001aaa7026b00000000a6f9000000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"
	capEcho6Rep    = "02000000000102000000000286dd600c367800403a40fd770000000000000000000000000002fd7700000000000000000000000000018100362e3a840001aaa7026b00000000a6f9000000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"
	capNsLinkLocal = "02000000000102000000000286dd6000000000203afffe80000000000000000000fffe000002fd77000000000000000000000000000187007d2d00000000fd7700000000000000000000000000010101020000000002"
	capNaNoOption  = "02000000000202000000000186dd6000000000183afffd770000000000000000000000000001fe80000000000000000000fffe00000288003f3840000000fd770000000000000000000000000001"
)

// capturedTCP describes a captured TCP frame and what tcpdump decoded.
type capturedTCP struct {
	name            string
	hex             string
	sport, dport    uint16
	seq, ack        uint32
	flags           TCPFlags
	window          uint16
	payload         int
	mss             uint16 // 0: no MSS option
	wscale          int    // -1: no window-scale option
	sackOK          bool
	tsval, tsecr    uint32
	mptcpOptionLens []int
}

var capturedTCPFrames = []capturedTCP{
	{"syn4", "02000000000202000000000108004500003ca42d4000400681f20a4d00010a4d0002bcc21451189110f900000000a002faf04cfe0000020405b40402080aab3c4597000000000103030a", 48322, 5201, 412160249, 0, TCPFlagSYN, 64240, 0, 1460, 10, true, 2872853911, 0, nil},
	{"synAck4", "02000000000102000000000208004500003c00004000400626200a4d00020a4d00011451bcc299d4d06c189110faa012fe88dc180000020405b40402080a326ed08cab3c45970103030a", 5201, 48322, 2580861036, 412160250, TCPFlagSYN | TCPFlagACK, 65160, 0, 1460, 10, true, 846123148, 2872853911, nil},
	{"data4", "020000000002020000000001080045000036a42f4000400681f60a4d00010a4d0002bcc21451189110fa99d4d06d8018003fa0be00000101080aab3c4597326ed08c6869", 48322, 5201, 412160250, 2580861037, TCPFlagPSH | TCPFlagACK, 63, 2, 0, -1, false, 2872853911, 846123148, nil},
	{"syn6", "02000000000202000000000186dd600c8cbd00280640fd770000000000000000000000000001fd770000000000000000000000000002ea0e1452530183b700000000a002fd200bb90000020405a00402080a0cb86273000000000103030a", 59918, 5202, 1392608183, 0, TCPFlagSYN, 64800, 0, 1440, 10, true, 213410419, 0, nil},
	{"synAck6", "02000000000102000000000286dd6001a1c700280640fd770000000000000000000000000002fd7700000000000000000000000000011452ea0e0174efb8530183b8a012fb04bf4f0000020405a00402080a9ff5bd510cb862730103030a", 5202, 59918, 24440760, 1392608184, TCPFlagSYN | TCPFlagACK, 64260, 0, 1440, 10, true, 2683682129, 213410419, nil},
	{"data6", "02000000000202000000000186dd600c8cbd00220640fd770000000000000000000000000001fd770000000000000000000000000002ea0e1452530183b80174efb980180040805c00000101080a0cb862739ff5bd516869", 59918, 5202, 1392608184, 24440761, TCPFlagPSH | TCPFlagACK, 64, 2, 0, -1, false, 213410419, 2683682129, nil},
	{"mpSyn", "020000000002020000000001080045000040dbf4400040064a270a4d00010a4d0002ee181453dd1710e000000000b002faf0b4680000020405b40402080a0cbb57df000000000103030a1e040101", 60952, 5203, 3709276384, 0, TCPFlagSYN, 64240, 0, 1460, 10, true, 213604319, 0, []int{4}},
	{"mpSynAck", "02000000000102000000000208004500004800004000400626140a4d00020a4d00011453ee18d163f585dd1710e1d012fe88b6a00000020405b40402080ab5ab11d70cbb57df0103030a1e0c01017e2217bcc06cf556", 5203, 60952, 3512989061, 3709276385, TCPFlagSYN | TCPFlagACK, 65160, 0, 1460, 10, true, 3047887319, 213604319, []int{12}},
	{"mpAck", "020000000002020000000001080045000048dbf5400040064a1e0a4d00010a4d0002ee181453dd1710e1d163f586d010003fd53200000101080a0cbb57dfb5ab11d71e14010156784396ef1565527e2217bcc06cf556", 60952, 5203, 3709276385, 3512989062, TCPFlagACK, 63, 0, 0, -1, false, 213604319, 3047887319, []int{20}},
	{"mpData", "020000000002020000000001080045000051dbf6400040064a140a4d00010a4d0002ee181453dd1710e1d163f586e018003f804700000101080a0cbb57dfb5ab11d71e16010156784396ef1565527e2217bcc06cf5560005010168656c6c6f", 60952, 5203, 3709276385, 3512989062, TCPFlagPSH | TCPFlagACK, 63, 5, 0, -1, false, 213604319, 3047887319, []int{22}},
	{"dssAck12", "020000000001020000000002080045000040bdda4000400668410a4d00020a4d00011453ee18d163f586dd1710e6b010003fbcd100000101080ab5ab11d70cbb57df1e0c2003313fe051392d08c5", 5203, 60952, 3512989062, 3709276390, TCPFlagACK, 63, 0, 0, -1, false, 3047887319, 213604319, []int{12}},
	{"dssFin22", "02000000000202000000000108004500004cdbf7400040064a180a4d00010a4d0002ee181453dd1710e6d163f586e010003f173000000101080a0cbb57dfb5ab11d71e16201da86fcbff313fe051392d08c50000000000010101", 60952, 5203, 3709276390, 3512989062, TCPFlagACK, 63, 0, 0, -1, false, 213604319, 3047887319, []int{22}},
	{"dssFin26", "020000000001020000000002080045000050bddc40004006682f0a4d00020a4d00011453ee18d163f586dd1710e6f010003f761b00000101080ab5ab11d70cbb57df1e1a201f313fe051392d08c6d2f8be10a86fcbff0000000000010101", 5203, 60952, 3512989062, 3709276390, TCPFlagACK, 63, 0, 0, -1, false, 3047887319, 213604319, []int{26}},
	{"dssAck8", "02000000000202000000000108004500003cdbf8400040064a270a4d00010a4d0002ee181453dd1710e6d163f586a011003fabd700000101080a0cbb57f5b5ab11d71e082001a86fcc00", 60952, 5203, 3709276390, 3512989062, TCPFlagFIN | TCPFlagACK, 63, 0, 0, -1, false, 213604341, 3047887319, []int{8}},
}

// parseTCPFrame runs the full receive path over a captured frame, verifying
// the transport checksum with the right pseudo-header for either family.
func parseTCPFrame(t *testing.T, frame []byte) TCP {
	t.Helper()
	eth, n, err := ParseEthernet(frame)
	if err != nil {
		t.Fatalf("ParseEthernet: %v", err)
	}
	switch eth.EtherType() {
	case EtherTypeIPv4:
		ip, _, err := ParseIPv4(frame[n:])
		if err != nil || ip.Protocol() != TCPProtocolNumber {
			t.Fatalf("ParseIPv4: %v", err)
		}
		seg, _, err := ParseTCP(ip.Payload())
		if err != nil || !seg.ChecksumValid(ip.PseudoHeaderSum()) {
			t.Fatalf("ParseTCP: %v (or checksum does not verify)", err)
		}
		return seg
	case EtherTypeIPv6:
		ip, _, err := ParseIPv6(frame[n:])
		if err != nil {
			t.Fatalf("ParseIPv6: %v", err)
		}
		proto, up, err := ip.Transport()
		if err != nil || proto != TCPProtocolNumber {
			t.Fatalf("Transport: %d %v", proto, err)
		}
		seg, _, err := ParseTCP(up)
		if err != nil || !seg.ChecksumValid(ip.PseudoHeaderSum(proto, len(up))) {
			t.Fatalf("ParseTCP: %v (or checksum does not verify)", err)
		}
		return seg
	}
	t.Fatalf("unexpected EtherType %#x", eth.EtherType())
	return nil
}

func TestCapturedTCP(t *testing.T) {
	for _, c := range capturedTCPFrames {
		t.Run(c.name, func(t *testing.T) {
			frame, err := hex.DecodeString(c.hex)
			if err != nil {
				t.Fatal(err)
			}
			seg := parseTCPFrame(t, frame)
			if seg.SrcPort() != c.sport || seg.DstPort() != c.dport || seg.Seq() != seqnum.Value(c.seq) ||
				seg.Ack() != seqnum.Value(c.ack) || seg.Flags() != c.flags || seg.Window() != c.window || len(seg.Payload()) != c.payload {
				t.Fatalf("fields: %d>%d seq %d ack %d %v win %d len %d", seg.SrcPort(), seg.DstPort(), seg.Seq(), seg.Ack(),
					seg.Flags(), seg.Window(), len(seg.Payload()))
			}
			var o TCPOptions
			if _, err := ParseTCPOptions(seg.Options(), &o); err != nil {
				t.Fatalf("ParseTCPOptions: %v", err)
			}
			if o.HasMSS != (c.mss != 0) || o.MSS != c.mss || o.HasWindowScale != (c.wscale >= 0) ||
				(c.wscale >= 0 && int(o.WindowScale) != c.wscale) || o.SACKPermitted != c.sackOK ||
				!o.HasTimestamps || o.TSVal != c.tsval || o.TSEcr != c.tsecr || o.NumSACK != 0 {
				t.Fatalf("options %+v", o)
			}
			if o.NumMPTCP != len(c.mptcpOptionLens) {
				t.Fatalf("%d MPTCP options, want %d", o.NumMPTCP, len(c.mptcpOptionLens))
			}
			var mp []byte
			for i, l := range c.mptcpOptionLens {
				m := o.MPTCP[i]
				if len(m) != l || m[0] != TCPOptionMPTCP || int(m[1]) != l {
					t.Fatalf("MPTCP option %d: % x, want length %d", i, m, l)
				}
				mp = append(mp, m...)
			}
			// Write the parsed options back (MPTCP bytes into the reserved
			// area). Linux pads an option whose length is not a multiple of
			// 4 after it and this writer pads before it; otherwise the
			// layouts are the same, so the bytes must match exactly.
			w := o
			w.ReserveLen = len(mp)
			size, err := TCPOptionsSize(&w)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, size)
			n, res := WriteTCPOptions(buf, &w)
			copy(buf[res:], mp)
			if len(mp)%4 == 0 && !bytes.Equal(buf[:n], seg.Options()) {
				t.Fatalf("rewritten options\n% x\nLinux wrote\n% x", buf[:n], seg.Options())
			}
			if n != len(seg.Options()) {
				t.Fatalf("rewritten options are %d bytes, Linux's %d", n, len(seg.Options()))
			}
		})
	}
}

func TestCapturedARP(t *testing.T) {
	for _, c := range []struct {
		hex    string
		op     uint16
		sender netip.Addr
		target netip.Addr
		tmac   MAC
	}{
		{capArpRequest, ARPRequest, netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("10.77.0.2"), MAC{}},
		{capArpReply, ARPReply, netip.MustParseAddr("10.77.0.2"), netip.MustParseAddr("10.77.0.1"), mac1},
	} {
		frame := unhex(t, c.hex)
		eth, n, err := ParseEthernet(frame)
		if err != nil || eth.EtherType() != EtherTypeARP {
			t.Fatal(err)
		}
		a, _, err := ParseARP(frame[n:])
		if err != nil || a.Op() != c.op || netip.AddrFrom4(a.SenderIP()) != c.sender || netip.AddrFrom4(a.TargetIP()) != c.target ||
			a.TargetMAC() != c.tmac || a.SenderMAC() != eth.Src() {
			t.Fatalf("ARP %v: op %d", err, a.Op())
		}
		out := make([]byte, len(frame))
		w := EncodeEthernet(out, eth.Dst(), eth.Src(), EtherTypeARP)
		EncodeARP(out[w:], a.Op(), a.SenderMAC(), a.SenderIP(), a.TargetMAC(), a.TargetIP())
		if !bytes.Equal(out, frame) {
			t.Fatalf("re-encoded\n% x\nwant\n% x", out, frame)
		}
	}
}

func TestCapturedICMP(t *testing.T) {
	for _, c := range []struct {
		hex  string
		typ  uint8
		id   uint16
		v6   bool
		data int
	}{
		{capEcho4Req, ICMPv4EchoRequest, 14979, false, 56},
		{capEcho4Rep, ICMPv4EchoReply, 14979, false, 56},
		{capEcho6Req, ICMPv6EchoRequest, 14980, true, 56},
		{capEcho6Rep, ICMPv6EchoReply, 14980, true, 56},
	} {
		frame := unhex(t, c.hex)
		if !c.v6 {
			ip, n, err := ParseIPv4(frame[14:])
			if err != nil {
				t.Fatal(err)
			}
			m, _, err := ParseICMPv4(ip[n:])
			if err != nil || m.Type() != c.typ || m.Ident() != c.id || m.Seq() != 1 || len(m.Payload()) != c.data {
				t.Fatalf("ICMPv4 %v", err)
			}
			out := make([]byte, len(m))
			EncodeICMPv4Echo(out, m.Type(), m.Ident(), m.Seq(), m.Payload())
			if !bytes.Equal(out, m) {
				t.Fatalf("re-encoded ICMPv4 differs")
			}
			continue
		}
		ip, _, err := ParseIPv6(frame[14:])
		if err != nil {
			t.Fatal(err)
		}
		proto, up, err := ip.Transport()
		if err != nil || proto != ICMPv6ProtocolNumber {
			t.Fatal(err)
		}
		m, _, err := ParseICMPv6(up)
		if err != nil || !m.ChecksumValid(ip.PseudoHeaderSum(proto, len(up))) || m.Type() != c.typ || m.Ident() != c.id ||
			m.Seq() != 1 || len(m.EchoPayload()) != c.data {
			t.Fatalf("ICMPv6 %v", err)
		}
		out := make([]byte, len(m))
		EncodeICMPv6Echo(out, ip.Src(), ip.Dst(), m.Type(), m.Ident(), m.Seq(), m.EchoPayload())
		if !bytes.Equal(out, m) {
			t.Fatalf("re-encoded ICMPv6 differs")
		}
	}
}

func TestCapturedND(t *testing.T) {
	fd1 := netip.MustParseAddr("fd77::1").As16()
	fd2 := netip.MustParseAddr("fd77::2").As16()
	for _, c := range []struct {
		name     string
		hex      string
		typ      uint8
		target   [16]byte
		flags    uint8
		sll, tll *MAC
	}{
		// Duplicate address detection: from ::, with a nonce option
		// (type 14) that the parser skips, and no link-layer option.
		{"dad", capDadNS, ICMPv6NeighborSolicitation, netip.MustParseAddr("fe80::ff:fe00:2").As16(), 0, nil, nil},
		{"ns", capNs6, ICMPv6NeighborSolicitation, fd2, 0, &mac1, nil},
		{"na", capNa6, ICMPv6NeighborAdvertisement, fd2, NDFlagSolicited | NDFlagOverride, nil, &mac2},
		{"ns unicast", capNsLinkLocal, ICMPv6NeighborSolicitation, fd1, 0, &mac2, nil},
		{"na without option", capNaNoOption, ICMPv6NeighborAdvertisement, fd1, NDFlagSolicited, nil, nil},
	} {
		frame := unhex(t, c.hex)
		ip, _, err := ParseIPv6(frame[14:])
		if err != nil || ip.HopLimit() != NDHopLimit {
			t.Fatalf("%s: %v", c.name, err)
		}
		proto, up, err := ip.Transport()
		if err != nil || proto != ICMPv6ProtocolNumber {
			t.Fatalf("%s: %v", c.name, err)
		}
		m, _, err := ParseICMPv6(up)
		if err != nil || !m.ChecksumValid(ip.PseudoHeaderSum(proto, len(up))) || m.Type() != c.typ || m.NDTarget() != c.target {
			t.Fatalf("%s: %v", c.name, err)
		}
		if m.Type() == ICMPv6NeighborAdvertisement && m.NDFlags() != c.flags {
			t.Fatalf("%s: flags %#x", c.name, m.NDFlags())
		}
		var o NDOptions
		if err := ParseNDOptions(m.NDOptionsBytes(), &o); err != nil ||
			o.HasSourceLinkLayer != (c.sll != nil) || (c.sll != nil && o.SourceLinkLayer != *c.sll) ||
			o.HasTargetLinkLayer != (c.tll != nil) || (c.tll != nil && o.TargetLinkLayer != *c.tll) {
			t.Fatalf("%s: options %+v %v", c.name, o, err)
		}
		if c.name == "dad" {
			continue // the nonce option is not something the encoders write
		}
		out := make([]byte, len(m))
		if c.typ == ICMPv6NeighborSolicitation {
			EncodeNeighborSolicitation(out, ip.Src(), ip.Dst(), c.target, c.sll)
		} else {
			EncodeNeighborAdvertisement(out, ip.Src(), ip.Dst(), c.target, c.flags, c.tll)
		}
		if !bytes.Equal(out, m) {
			t.Fatalf("%s: re-encoded\n% x\nwant\n% x", c.name, out, []byte(m))
		}
	}
}
