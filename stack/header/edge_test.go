package header

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func TestReasons(t *testing.T) {
	seen := map[string]bool{}
	for r := Reason(1); r < NumReasons; r++ {
		msg, name := r.Error(), r.String()
		if !strings.HasPrefix(msg, "header: ") || len(msg) < 20 || name == "" || name == "Unknown" || seen[name] {
			t.Errorf("reason %d: %q / %q", r, msg, name)
		}
		seen[name] = true
		var err error = r
		if !errors.Is(err, r) {
			t.Errorf("errors.Is fails for %v", r)
		}
	}
	if NumReasons.String() != "Unknown" {
		t.Error("out-of-range reason has a name")
	}
}

func TestEthernetVLAN(t *testing.T) {
	untagged := unhex(t, goldenSYN4)
	tagged := append(append(append([]byte{}, untagged[:12]...), 0x81, 0x00, 0x60, 0x2a), untagged[12:]...)
	e, n, err := ParseEthernet(tagged)
	if err != nil || n != 18 || !e.HasVLAN() || e.EtherType() != EtherTypeIPv4 || e.HeaderLen() != 18 {
		t.Fatalf("tagged: n=%d err=%v type=%#x", n, err, e.EtherType())
	}
	if tci, ok := e.VLAN(); !ok || tci&0xfff != 42 || tci>>13 != 3 {
		t.Fatalf("tci %#x", tci)
	}
	if _, _, err := ParseIPv4(e.Payload()); err != nil {
		t.Fatalf("inner packet: %v", err)
	}
	if _, ok := Ethernet(untagged).VLAN(); ok {
		t.Fatal("untagged frame reports a VLAN")
	}
	qinq := append([]byte{}, tagged...)
	binary.BigEndian.PutUint16(qinq[12:], EtherTypeQinQ)
	if _, _, err := ParseEthernet(qinq); err != ErrVLAN {
		t.Fatalf("QinQ: %v", err)
	}
	double := append(append(append([]byte{}, tagged[:16]...), 0x81, 0x00, 0, 1), tagged[16:]...)
	if _, _, err := ParseEthernet(double); err != ErrVLAN {
		t.Fatalf("double tag: %v", err)
	}
	if _, _, err := ParseEthernet(tagged[:17]); err != ErrTruncated {
		t.Fatalf("truncated tag: %v", err)
	}
	var m MAC
	e2 := Ethernet(make([]byte, 14))
	e2.SetDst(mac1)
	e2.SetSrc(mac2)
	if e2.Dst() != mac1 || e2.Src() != mac2 || mac1.String() != "02:00:00:00:00:01" || m.IsMulticast() {
		t.Fatal("setters / String")
	}
}

// ipv4Packet returns an IPv4 packet with the given header length and
// flags/fragment word, a correct checksum, and 8 payload bytes.
func ipv4Packet(hlen int, flagsFrag uint16) []byte {
	b := make([]byte, hlen+8)
	b[0] = 0x40 | uint8(hlen/4)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[6:], flagsFrag)
	b[8], b[9] = 64, 6
	copy(b[12:], ip1[:])
	copy(b[16:], ip2[:])
	for i := 20; i < hlen; i++ {
		b[i] = 1 // NOP options
	}
	binary.BigEndian.PutUint16(b[10:], Checksum(b[:hlen], 0))
	return b
}

func TestIPv4Errors(t *testing.T) {
	good := ipv4Packet(24, IPv4FlagDF)
	v, n, err := ParseIPv4(append(good, 0, 0, 0, 0)) // Ethernet padding after the packet
	if err != nil || n != 24 || v.OptionsLen() != 4 || len(v.Options()) != 4 || len(v) != 32 || len(v.Payload()) != 8 {
		t.Fatalf("with options: n=%d err=%v len=%d", n, err, len(v))
	}
	mod := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	refix := func(b []byte) {
		binary.BigEndian.PutUint16(b[10:], 0)
		binary.BigEndian.PutUint16(b[10:], Checksum(b[:int(b[0]&0xf)*4], 0))
	}
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"version 6", mod(func(b []byte) { b[0] = 0x66 }), ErrVersion},
		{"ihl 4", mod(func(b []byte) { b[0] = 0x44; refix(b) }), ErrHeaderLength},
		{"ihl past buffer", mod(func(b []byte) { b[0] = 0x4f }), ErrTruncated},
		{"total < header", mod(func(b []byte) { binary.BigEndian.PutUint16(b[2:], 20); refix(b) }), ErrTotalLength},
		{"total > buffer", mod(func(b []byte) { binary.BigEndian.PutUint16(b[2:], 100); refix(b) }), ErrTruncated},
		{"bad checksum", mod(func(b []byte) { b[8]-- }), ErrChecksum},
	}
	for _, c := range cases {
		if _, _, err := ParseIPv4(c.b); err != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	for _, ff := range []uint16{IPv4FlagMF, 1, IPv4FlagMF | 100, IPv4FlagDF | 3} {
		v, n, err := ParseIPv4(ipv4Packet(20, ff))
		if err != ErrFragment || v == nil || n != 20 || !v.IsFragment() {
			t.Errorf("flags %#x: %v", ff, err)
		}
		if v.FragmentOffset() != int(ff&0x1fff)*8 || v.MF() != (ff&IPv4FlagMF != 0) {
			t.Errorf("flags %#x: offset %d MF %v", ff, v.FragmentOffset(), v.MF())
		}
	}
	v, _, _ = ParseIPv4(ipv4Packet(20, 0))
	v.SetTTL(1)
	if _, _, err := ParseIPv4(v); err != nil || v.TTL() != 1 {
		t.Fatalf("SetTTL broke the checksum: %v", err)
	}
}

// ipv6With builds an IPv6 packet whose payload is the given chain.
func ipv6With(next uint8, chain []byte) []byte {
	b := make([]byte, 40, 40+len(chain))
	EncodeIPv6(b, &IPv6Fields{PayloadLen: uint16(len(chain)), NextHeader: next, HopLimit: 64, Src: ip61, Dst: ip62})
	return append(b, chain...)
}

func TestIPv6Chain(t *testing.T) {
	tcp := make([]byte, 20)
	ext := func(next uint8, l8 int) []byte { // l8: length in 8-byte units beyond the first
		e := make([]byte, 8*(l8+1))
		e[0], e[1] = next, uint8(l8)
		return e
	}
	cat := func(bs ...[]byte) []byte {
		var o []byte
		for _, b := range bs {
			o = append(o, b...)
		}
		return o
	}
	ah := make([]byte, 12) // AH: length in 4-byte units minus 2 -> 1 means 12 bytes
	ah[0], ah[1] = TCPProtocolNumber, 1
	long := tcp
	for i := 0; i < IPv6MaxExtensionHeaders+1; i++ {
		next := uint8(IPv6DestinationOptions)
		if i == 0 {
			next = TCPProtocolNumber
		}
		long = cat(ext(next, 0), long)
	}
	cases := []struct {
		name      string
		pkt       []byte
		proto     uint8
		upLen     int
		wantError error
	}{
		{"plain", ipv6With(TCPProtocolNumber, tcp), TCPProtocolNumber, 20, nil},
		{"hbh+routing+dst", ipv6With(IPv6HopByHop, cat(ext(IPv6Routing, 0), ext(IPv6DestinationOptions, 1), ext(ICMPv6ProtocolNumber, 0), tcp)), ICMPv6ProtocolNumber, 20, nil},
		{"ah", ipv6With(IPv6AH, cat(ah, tcp)), TCPProtocolNumber, 20, nil},
		{"fragment", ipv6With(IPv6Fragment, cat(ext(TCPProtocolNumber, 0), tcp)), IPv6Fragment, 0, ErrFragment},
		{"esp", ipv6With(IPv6ESP, tcp), IPv6ESP, 0, ErrUnsupported},
		{"no next", ipv6With(IPv6HopByHop, ext(IPv6NoNextHeader, 0)), IPv6NoNextHeader, 0, ErrExtensionHeaders},
		{"too long", ipv6With(IPv6DestinationOptions, long), IPv6DestinationOptions, 0, ErrExtensionHeaders},
		{"ext past end", ipv6With(IPv6HopByHop, ext(TCPProtocolNumber, 0)[:6]), IPv6HopByHop, 0, ErrHeaderLength},
		{"ext length past end", ipv6With(IPv6HopByHop, cat([]byte{6, 3}, make([]byte, 14))), IPv6HopByHop, 0, ErrHeaderLength},
		{"ext without length byte", ipv6With(IPv6HopByHop, []byte{6}), IPv6HopByHop, 0, ErrTruncated},
	}
	for _, c := range cases {
		v, _, err := ParseIPv6(c.pkt)
		if err != nil {
			t.Fatalf("%s: ParseIPv6: %v", c.name, err)
		}
		proto, up, err := v.Transport()
		if err != c.wantError || proto != c.proto || len(up) != c.upLen {
			t.Errorf("%s: proto %d len %d err %v; want %d %d %v", c.name, proto, len(up), err, c.proto, c.upLen, c.wantError)
		}
	}
	jumbo := ipv6With(IPv6HopByHop, nil)
	if _, _, err := ParseIPv6(jumbo); err != ErrUnsupported {
		t.Errorf("jumbogram: %v", err)
	}
	if _, _, err := ParseIPv6(append([]byte{0x40}, make([]byte, 39)...)); err != ErrVersion {
		t.Errorf("version: %v", err)
	}
	short := ipv6With(TCPProtocolNumber, tcp)
	if _, _, err := ParseIPv6(short[:50]); err != ErrTruncated {
		t.Errorf("payload past buffer: %v", err)
	}
	if v, _, _ := ParseIPv6(short); v.SrcAddr().String() != "fd00::1" || v.DstAddr().String() != "fd00::2" {
		t.Errorf("addresses %v %v", v.SrcAddr(), v.DstAddr())
	}
}

func TestARPErrors(t *testing.T) {
	good := unhex(t, goldenARP)[14:42]
	// Hardware type, protocol type, address sizes, opcode.
	for i, want := range map[int]error{1: ErrUnsupported, 3: ErrUnsupported, 4: ErrUnsupported, 5: ErrUnsupported, 7: ErrBadField} {
		b := append([]byte(nil), good...)
		b[i] ^= 0x40
		if _, _, err := ParseARP(b); err != want {
			t.Errorf("byte %d changed: %v, want %v", i, err, want)
		}
	}
}

func TestICMPErrors(t *testing.T) {
	echo := unhex(t, goldenICMP4)[34:]
	b := append([]byte(nil), echo...)
	b[20] ^= 1
	if _, _, err := ParseICMPv4(b); err != ErrChecksum {
		t.Errorf("ICMPv4 corrupted: %v", err)
	}
	b = append([]byte(nil), echo...)
	b[1] = 1
	binary.BigEndian.PutUint16(b[2:], UpdateChecksum(binary.BigEndian.Uint16(b[2:]), 0x0800, 0x0801))
	if _, _, err := ParseICMPv4(b); err != ErrBadField {
		t.Errorf("ICMPv4 echo code 1: %v", err)
	}
	ns := unhex(t, goldenNS6)[54:]
	for _, c := range []struct {
		name string
		f    func(b []byte)
		want error
	}{
		{"multicast target", func(b []byte) { b[NDTargetOffset] = 0xff }, ErrBadField},
		{"code 1", func(b []byte) { b[1] = 1 }, ErrBadField},
		{"option len 0", func(b []byte) { b[25] = 0 }, ErrOptionLength},
		{"lla len 16", func(b []byte) { b[25] = 2 }, ErrOptionTruncated},
	} {
		b := append([]byte(nil), ns...)
		c.f(b)
		if _, _, err := ParseICMPv6(b); err != c.want {
			t.Errorf("NS %s: %v, want %v", c.name, err, c.want)
		}
	}
	var o NDOptions
	lla16 := append([]byte{1, 2}, make([]byte, 14)...)
	if err := ParseNDOptions(lla16, &o); err != ErrOptionLength {
		t.Errorf("16-byte link-layer option: %v", err)
	}
	other := append([]byte{5, 1}, make([]byte, 6)...) // MTU option, skipped
	if err := ParseNDOptions(other, &o); err != nil || o.HasSourceLinkLayer || o.HasTargetLinkLayer {
		t.Errorf("unknown option: %v", err)
	}
	e := unhex(t, goldenEcho6)
	e[1] = 3
	if _, _, err := ParseICMPv6(e); err != ErrBadField {
		t.Errorf("ICMPv6 echo code 3: %v", err)
	}
}
