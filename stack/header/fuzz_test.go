package header

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// Round-trip fuzz targets: whatever a parser accepts, the accessors can
// read without panicking, and re-encoding the fields it reports (where an
// encoder covers them) gives back the same bytes. Seeds are the golden
// packets.

func seedFrames(f *testing.F, off int, pkts ...string) {
	for _, p := range pkts {
		b := unhex(f, p)
		if off <= len(b) {
			f.Add(b[off:])
		}
	}
}

func FuzzEthernet(f *testing.F) {
	seedFrames(f, 0, goldenSYN4, goldenARP, goldenNS6, goldenSYNACK6)
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0x00, 0x20, 0x05, 0x08, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, n, err := ParseEthernet(b)
		if err != nil {
			return
		}
		if n != e.HeaderLen() || n > len(b) || len(e.Payload()) != len(b)-n {
			t.Fatalf("n=%d HeaderLen=%d len=%d", n, e.HeaderLen(), len(b))
		}
		tci, tagged := e.VLAN()
		out := make([]byte, n)
		EncodeEthernet(out, e.Dst(), e.Src(), e.EtherType())
		if tagged {
			// Re-insert the tag by hand: the encoder writes untagged frames.
			out = append(out[:12:12], 0x81, 0x00, byte(tci>>8), byte(tci))
			out = binary.BigEndian.AppendUint16(out, e.EtherType())
		}
		if !bytes.Equal(out, b[:n]) {
			t.Fatalf("re-encoded % x, want % x", out, b[:n])
		}
	})
}

func FuzzARP(f *testing.F) {
	seedFrames(f, 14, goldenARP)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, n, err := ParseARP(b)
		if err != nil {
			return
		}
		out := make([]byte, ARPLen)
		EncodeARP(out, a.Op(), a.SenderMAC(), a.SenderIP(), a.TargetMAC(), a.TargetIP())
		if n != ARPLen || !bytes.Equal(out, b[:n]) {
			t.Fatalf("re-encoded % x, want % x", out, b[:n])
		}
	})
}

func FuzzIPv4(f *testing.F) {
	seedFrames(f, 14, goldenSYN4, goldenICMP4)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := ParseIPv4(b)
		if err != nil && err != ErrFragment {
			return
		}
		if n != v.HeaderLen() || len(v) != int(v.TotalLen()) || len(v.Options()) != v.OptionsLen() ||
			len(v.Payload()) != len(v)-n || v.IsFragment() != (err == ErrFragment) {
			t.Fatalf("inconsistent view: n=%d len=%d total=%d err=%v", n, len(v), v.TotalLen(), err)
		}
		_ = v.FragmentOffset() + int(v.TTL()) + int(v.TOS())
		if n != IPv4MinHeaderLen || v.IsFragment() || binary.BigEndian.Uint16(v[6:])&^IPv4FlagDF != 0 {
			return // options, fragments or reserved bits: not what EncodeIPv4 writes
		}
		out := make([]byte, IPv4MinHeaderLen)
		EncodeIPv4(out, &IPv4Fields{TOS: v.TOS(), TotalLen: v.TotalLen(), ID: v.ID(), DF: v.DF(), TTL: v.TTL(),
			Protocol: v.Protocol(), Src: v.Src(), Dst: v.Dst()})
		if !bytes.Equal(out, v[:n]) {
			// The only freedom left is the checksum's two encodings of
			// zero (0x0000 vs 0xffff), which both verify.
			if !bytes.Equal(out[:10], v[:10]) || !bytes.Equal(out[12:], v[12:20]) {
				t.Fatalf("re-encoded % x, want % x", out, v[:n])
			}
		}
		// Decrementing the TTL keeps the header valid.
		cp := append([]byte(nil), v...)
		IPv4(cp).SetTTL(v.TTL() - 1)
		if _, _, err := ParseIPv4(cp); err != nil {
			t.Fatalf("after SetTTL: %v", err)
		}
	})
}

func FuzzIPv6(f *testing.F) {
	seedFrames(f, 14, goldenNS6, goldenSYNACK6)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := ParseIPv6(b)
		if err != nil {
			return
		}
		if n != IPv6HeaderLen || len(v) != IPv6HeaderLen+int(v.PayloadLen()) {
			t.Fatalf("inconsistent view: len=%d payload=%d", len(v), v.PayloadLen())
		}
		proto, up, err := v.Transport()
		if err == nil {
			if len(up) > len(v)-IPv6HeaderLen || (len(up) > 0 && &up[len(up)-1] != &v[len(v)-1]) {
				t.Fatalf("upper-layer slice (proto %d) is not a tail of the packet", proto)
			}
		}
		out := make([]byte, IPv6HeaderLen)
		EncodeIPv6(out, &IPv6Fields{TrafficClass: v.TrafficClass(), FlowLabel: v.FlowLabel(), PayloadLen: v.PayloadLen(),
			NextHeader: v.NextHeader(), HopLimit: v.HopLimit(), Src: v.Src(), Dst: v.Dst()})
		if !bytes.Equal(out, v[:n]) {
			t.Fatalf("re-encoded % x, want % x", out, v[:n])
		}
	})
}

func FuzzICMPv4(f *testing.F) {
	seedFrames(f, 34, goldenICMP4)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n, err := ParseICMPv4(b)
		if err != nil {
			return
		}
		if n != ICMPv4HeaderLen || len(m.Payload()) != len(b)-n {
			t.Fatalf("n=%d", n)
		}
		if m.Type() != ICMPv4EchoRequest && m.Type() != ICMPv4EchoReply {
			return
		}
		out := make([]byte, len(m))
		EncodeICMPv4Echo(out, m.Type(), m.Ident(), m.Seq(), m.Payload())
		if _, _, err := ParseICMPv4(out); err != nil {
			t.Fatalf("re-encoded echo does not parse: %v", err)
		}
		// Both verify; apart from the checksum (which may differ only in the
		// two encodings of zero) the bytes must be the same.
		if !bytes.Equal(out[4:], m[4:]) || out[0] != m[0] || out[1] != m[1] {
			t.Fatalf("re-encoded % x, want % x", out, []byte(m))
		}
	})
}

func FuzzICMPv6(f *testing.F) {
	seedFrames(f, 54, goldenNS6)
	seedFrames(f, 0, goldenEcho6)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n, err := ParseICMPv6(b)
		if err != nil {
			return
		}
		if n > len(b) {
			t.Fatalf("n=%d > len %d", n, len(b))
		}
		out := make([]byte, len(m))
		switch m.Type() {
		case ICMPv6EchoRequest, ICMPv6EchoReply:
			EncodeICMPv6Echo(out, ip61, ip62, m.Type(), m.Ident(), m.Seq(), m.EchoPayload())
		case ICMPv6NeighborSolicitation, ICMPv6NeighborAdvertisement:
			var o NDOptions
			if err := ParseNDOptions(m.NDOptionsBytes(), &o); err != nil {
				t.Fatalf("ParseICMPv6 accepted options ParseNDOptions rejects: %v", err)
			}
			reserved := m[4] & 0x1f // NA: the R, S, O flags are encoded
			if m.Type() == ICMPv6NeighborSolicitation {
				reserved = m[4] // NS: all reserved
			}
			if len(m) != NDMessageLen+NDLinkLayerOptionLen || reserved|m[5]|m[6]|m[7] != 0 {
				return // other options or reserved bits: not what the encoders write
			}
			var ll *MAC
			if m.Type() == ICMPv6NeighborSolicitation && o.HasSourceLinkLayer && m[NDMessageLen] == NDOptionSourceLinkLayer {
				ll = &o.SourceLinkLayer
				EncodeNeighborSolicitation(out, ip61, ip62, m.NDTarget(), ll)
			} else if m.Type() == ICMPv6NeighborAdvertisement && o.HasTargetLinkLayer && m[NDMessageLen] == NDOptionTargetLinkLayer {
				ll = &o.TargetLinkLayer
				EncodeNeighborAdvertisement(out, ip61, ip62, m.NDTarget(), m.NDFlags(), ll)
			} else {
				return
			}
		default:
			return
		}
		if !ICMPv6(out).ChecksumValid(PseudoHeaderSumIPv6(ip61, ip62, ICMPv6ProtocolNumber, uint32(len(out)))) {
			t.Fatal("re-encoded message does not verify")
		}
		out[2], out[3] = m[2], m[3]
		if !bytes.Equal(out, m) {
			t.Fatalf("re-encoded % x, want % x", out, []byte(m))
		}
	})
}

func FuzzTCP(f *testing.F) {
	seedFrames(f, 34, goldenSYN4)
	seedFrames(f, 14+40+24, goldenSYNACK6)
	for _, c := range capturedTCPFrames {
		frame := unhex(f, c.hex)
		f.Add(frame[tcpOffset(frame):])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, n, err := ParseTCP(b)
		if err != nil {
			return
		}
		if n != s.HeaderLen() || len(s.Options()) != n-TCPMinHeaderLen || len(s.Payload()) != len(b)-n {
			t.Fatalf("inconsistent view n=%d", n)
		}
		out := make([]byte, TCPMinHeaderLen)
		EncodeTCP(out, &TCPFields{SrcPort: s.SrcPort(), DstPort: s.DstPort(), Seq: s.Seq(), Ack: s.Ack(), Flags: s.Flags(),
			Window: s.Window(), Urgent: s.Urgent(), OptionsLen: n - TCPMinHeaderLen})
		out[TCPDataOffsetOffset] |= b[TCPDataOffsetOffset] & 0x0f // reserved bits are not encoded
		binary.BigEndian.PutUint16(out[TCPChecksumOffset:], s.Checksum())
		if !bytes.Equal(out, b[:TCPMinHeaderLen]) {
			t.Fatalf("re-encoded % x, want % x", out, b[:TCPMinHeaderLen])
		}
		s2 := TCP(append([]byte(nil), b...))
		s2.FinishChecksum(0x1234)
		if !s2.ChecksumValid(0x1234) {
			t.Fatal("FinishChecksum result does not verify")
		}
	})
}

// FuzzTCPOptions: anything the parser accepts, written back with the
// two-phase writer (MPTCP options copied into the reserved area), parses
// to the same options, unless it does not fit the writer's padded layout.
func FuzzTCPOptions(f *testing.F) {
	f.Add(unhex(f, goldenSYN4)[54:74])
	f.Add([]byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 30, 4, 0x20, 0x01, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2})
	f.Add([]byte{2, 4, 5, 0xb4, 3, 3, 7, 4, 2, 30, 12, 0, 0x81, 1, 2, 3, 4, 5, 6, 7, 8, 0})
	for _, c := range capturedTCPFrames {
		frame := unhex(f, c.hex)
		if seg, _, err := ParseTCP(frame[tcpOffset(frame):]); err == nil {
			f.Add([]byte(seg.Options()))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var o TCPOptions
		if _, err := ParseTCPOptions(b, &o); err != nil {
			return
		}
		mp := make([]byte, 0, 64)
		for _, m := range o.MPTCP[:o.NumMPTCP] {
			mp = append(mp, m...)
		}
		w := o
		w.ReserveLen = len(mp)
		w.MPTCP = [MaxMPTCPOptions][]byte{}
		w.NumMPTCP = 0
		size, err := TCPOptionsSize(&w)
		if err != nil {
			return
		}
		buf := make([]byte, TCPMaxOptionsLen)
		n, res := WriteTCPOptions(buf, &w)
		if n != size || n%4 != 0 || n > TCPMaxOptionsLen {
			t.Fatalf("wrote %d, sized %d", n, size)
		}
		copy(buf[res:], mp)
		var p TCPOptions
		if _, err := ParseTCPOptions(buf[:n], &p); err != nil {
			t.Fatalf("written options do not parse: %v (% x)", err, buf[:n])
		}
		if p.NumMPTCP != o.NumMPTCP {
			t.Fatalf("MPTCP options: %d, want %d", p.NumMPTCP, o.NumMPTCP)
		}
		for i := 0; i < o.NumMPTCP; i++ {
			if !bytes.Equal(p.MPTCP[i], o.MPTCP[i]) {
				t.Fatalf("MPTCP option %d: % x, want % x", i, p.MPTCP[i], o.MPTCP[i])
			}
		}
		if p.HasMSS != o.HasMSS || p.MSS != o.MSS || p.HasWindowScale != o.HasWindowScale || p.WindowScale != o.WindowScale ||
			p.SACKPermitted != o.SACKPermitted || p.HasTimestamps != o.HasTimestamps || p.TSVal != o.TSVal || p.TSEcr != o.TSEcr {
			t.Fatalf("round trip %+v, want %+v", p, o)
		}
		if p.NumSACK != w.NumSACK {
			t.Fatalf("SACK blocks: %d, want %d", p.NumSACK, w.NumSACK)
		}
		for i := 0; i < p.NumSACK; i++ {
			if p.SACK[i] != o.SACK[i] {
				t.Fatalf("SACK block %d: %v, want %v", i, p.SACK[i], o.SACK[i])
			}
		}
	})
}

// tcpOffset returns where TCP starts in a captured Ethernet frame without
// extension headers or IP options.
func tcpOffset(frame []byte) int {
	if Ethernet(frame).EtherType() == EtherTypeIPv6 {
		return EthernetHeaderLen + IPv6HeaderLen
	}
	return EthernetHeaderLen + IPv4MinHeaderLen
}
