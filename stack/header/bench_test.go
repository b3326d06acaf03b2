package header

import (
	"testing"
)

// parseIPv4TCPFrame is the receive path a worker runs per frame: Ethernet,
// IPv4, TCP, checksum, options. It returns the payload length.
func parseIPv4TCPFrame(frame []byte, o *TCPOptions) (int, error) {
	eth, n, err := ParseEthernet(frame)
	if err != nil {
		return 0, err
	}
	if eth.EtherType() != EtherTypeIPv4 {
		return 0, ErrUnsupported
	}
	ip, _, err := ParseIPv4(frame[n:])
	if err != nil {
		return 0, err
	}
	seg, _, err := ParseTCP(ip.Payload())
	if err != nil {
		return 0, err
	}
	if !seg.ChecksumValid(ip.PseudoHeaderSum()) {
		return 0, ErrChecksum
	}
	if _, err := ParseTCPOptions(seg.Options(), o); err != nil {
		return 0, err
	}
	return len(seg.Payload()), nil
}

// buildSegment is the transmit path: headers, options with a reserved
// MPTCP area, payload already in place, checksums.
func buildSegment(buf []byte, o *TCPOptions, payloadLen int) int {
	size, err := TCPOptionsSize(o)
	if err != nil {
		panic(err)
	}
	tcpLen := TCPMinHeaderLen + size + payloadLen
	w := EncodeEthernet(buf, mac2, mac1, EtherTypeIPv4)
	w += EncodeIPv4(buf[w:], &IPv4Fields{TotalLen: uint16(IPv4MinHeaderLen + tcpLen), DF: true, TTL: 64, Protocol: TCPProtocolNumber, Src: ip1, Dst: ip2})
	seg := buf[w : w+tcpLen]
	h := EncodeTCP(seg, &TCPFields{SrcPort: 40000, DstPort: 5201, Seq: 1, Ack: 2, Flags: TCPFlagACK, Window: 1000, OptionsLen: size})
	_, res := WriteTCPOptions(seg[h:], o)
	if o.ReserveLen >= TCPOptionMPTCPMinLen {
		// What package mptcp would do: fill the reserved area.
		seg[h+res] = TCPOptionMPTCP
		seg[h+res+1] = uint8(o.ReserveLen)
		seg[h+res+2] = 0x20 // DSS
	}
	TCP(seg).FinishChecksum(PseudoHeaderSumIPv4(ip1, ip2, TCPProtocolNumber, uint16(tcpLen)))
	return w + tcpLen
}

func TestHotPathsDoNotAllocate(t *testing.T) {
	frame := unhex(t, goldenSYN4)
	var o TCPOptions
	if a := testing.AllocsPerRun(100, func() {
		if _, err := parseIPv4TCPFrame(frame, &o); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("receive path: %v allocations per frame", a)
	}
	buf := make([]byte, 2048)
	wo := TCPOptions{HasTimestamps: true, TSVal: 1, TSEcr: 2, ReserveLen: 20, NumSACK: 1}
	if a := testing.AllocsPerRun(100, func() { buildSegment(buf, &wo, 1400) }); a != 0 {
		t.Errorf("transmit path: %v allocations per segment", a)
	}
	// Error returns must not allocate either: drops are counted per packet.
	bad := append([]byte(nil), frame...)
	bad[len(bad)-1] ^= 0xff
	if a := testing.AllocsPerRun(100, func() {
		if _, err := parseIPv4TCPFrame(bad, &o); err != ErrChecksum {
			t.Fatalf("corrupted frame: %v", err)
		}
	}); a != 0 {
		t.Errorf("error path: %v allocations per frame", a)
	}
	var counters [NumReasons]uint64
	if _, err := parseIPv4TCPFrame(bad, &o); err != nil {
		counters[err.(Reason)]++
	}
	if counters[ErrChecksum] != 1 {
		t.Fatal("reason not usable as a counter index")
	}
}

func BenchmarkParseIPv4TCPFrame(b *testing.B) {
	frame := unhex(b, goldenSYN4)
	var o TCPOptions
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := parseIPv4TCPFrame(frame, &o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseIPv4TCPFrame1500(b *testing.B) {
	var o TCPOptions
	buf := make([]byte, 2048)
	wo := TCPOptions{HasTimestamps: true, TSVal: 1, TSEcr: 2, ReserveLen: 20}
	n := buildSegment(buf, &wo, 1500-20-20-32)
	frame := buf[:n]
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := parseIPv4TCPFrame(frame, &o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTCPOptions(b *testing.B) {
	opts := unhex(b, goldenSYN4)[54:74]
	var o TCPOptions
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ParseTCPOptions(opts, &o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteTCPOptions(b *testing.B) {
	buf := make([]byte, TCPMaxOptionsLen)
	o := TCPOptions{HasTimestamps: true, TSVal: 1, TSEcr: 2, ReserveLen: 8, NumSACK: 2}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := TCPOptionsSize(&o); err != nil {
			b.Fatal(err)
		}
		WriteTCPOptions(buf, &o)
	}
}

func BenchmarkBuildSegment1500(b *testing.B) {
	buf := make([]byte, 2048)
	o := TCPOptions{HasTimestamps: true, TSVal: 1, TSEcr: 2, ReserveLen: 20}
	n := buildSegment(buf, &o, 1500-20-20-32)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buildSegment(buf, &o, 1500-20-20-32)
	}
}

func BenchmarkParseIPv6Transport(b *testing.B) {
	pkt := unhex(b, goldenSYNACK6)[14:]
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		v, _, err := ParseIPv6(pkt)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := v.Transport(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseARP(b *testing.B) {
	pkt := unhex(b, goldenARP)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, n, err := ParseEthernet(pkt)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := ParseARP(pkt[n:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseIPv4(b *testing.B) {
	pkt := unhex(b, goldenSYN4)[14:]
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := ParseIPv4(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeIPv4(b *testing.B) {
	buf := make([]byte, 20)
	f := IPv4Fields{TotalLen: 1500, DF: true, TTL: 64, Protocol: TCPProtocolNumber, Src: ip1, Dst: ip2}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		EncodeIPv4(buf, &f)
	}
}
