package mptcp

import (
	"math/rand/v2"
	"testing"
)

// refExpand is the test's own expansion: among the three 64-bit values with
// the right low 32 bits next to ref's high half, take the one nearest ref.
func refExpand(ref uint64, wire uint32) uint64 {
	base := ref&^0xffffffff | uint64(wire)
	best := base
	dist := func(a, b uint64) uint64 {
		if a > b {
			return a - b
		}
		return b - a
	}
	for _, c := range []uint64{base - 1<<32, base + 1<<32} {
		if dist(c, ref) < dist(best, ref) {
			best = c
		}
	}
	return best
}

func TestExpandSeqAcrossWrap(t *testing.T) {
	cases := []struct {
		ref  uint64
		wire uint32
		want uint64
	}{
		{0x1_0000_0000, 0x10, 0x1_0000_0010},
		{0x1_ffff_fff0, 0x0000_0010, 0x2_0000_0010},                 // forward across the 32-bit wrap
		{0x2_0000_0010, 0xffff_fff0, 0x1_ffff_fff0},                 // backward across it (old data)
		{0x2_0000_0000, 0x7fff_ffff, 0x2_7fff_ffff},                 // furthest forward
		{0x2_8000_0000, 0x0000_0001, 0x2_0000_0001},                 // back 2^31-1 is nearer than forward 2^31+1
		{0x5_0000_0000, 0x8000_0001, 0x4_8000_0001},                 // just over half a lap back
		{0xffff_ffff_ffff_fff0, 0x0000_0005, 0x0000_0000_0000_0005}, // 64-bit wrap
		{42, 42, 42},
	}
	for _, c := range cases {
		if got := ExpandSeq(c.ref, c.wire); got != c.want {
			t.Errorf("ExpandSeq(%#x, %#x) = %#x, want %#x", c.ref, c.wire, got, c.want)
		}
	}
}

func TestExpandSeqProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100000; i++ {
		ref := r.Uint64()
		if i%4 == 0 {
			ref = ref&^0xffffffff | uint64(0xffffff00+r.Uint32N(0x200)) // near a wrap
		}
		delta := int64(int32(r.Uint32()))
		if delta == -1<<31 {
			continue // exactly half a lap: either answer is as near
		}
		v := ref + uint64(delta)
		if got := ExpandSeq(ref, uint32(v)); got != v {
			t.Fatalf("ExpandSeq(%#x, %#x) = %#x, want %#x (delta %d)", ref, uint32(v), got, v, delta)
		}
		if ref > 1<<33 && ref < ^uint64(0)-1<<33 {
			if got, want := ExpandSeq(ref, uint32(v)), refExpand(ref, uint32(v)); got != want {
				t.Fatalf("ExpandSeq(%#x, %#x) = %#x, reference %#x", ref, uint32(v), got, want)
			}
		}
	}
	d := DSS{HasAck: true, DataAck: 0x10, HasMap: true, DSN: 0xffff_fff0}
	if d.DataAckFrom(0x1_ffff_fff0) != 0x2_0000_0010 || d.DSNFrom(0x2_0000_0010) != 0x1_ffff_fff0 {
		t.Fatalf("DSS expansion: ack %#x dsn %#x", d.DataAckFrom(0x1_ffff_fff0), d.DSNFrom(0x2_0000_0010))
	}
	d.Ack64, d.DSN64 = true, true
	if d.DataAckFrom(0x1_ffff_fff0) != 0x10 || d.DSNFrom(0x2_0000_0010) != 0xffff_fff0 {
		t.Fatal("DSS expansion changed 64-bit values")
	}
	if ExpandDSN(0x5_0000_0000, 0x9_0000_0001, true) != 0x9_0000_0001 {
		t.Fatal("ExpandDSN changed a 64-bit value")
	}
	if ExpandDSN(0x5_0000_0000, 0x9_0000_0001, false) != 0x5_0000_0001 {
		t.Fatal("ExpandDSN did not use the low 32 bits of a 32-bit value")
	}
}

// refChecksum is RFC 1071 over the pseudo-header of RFC 8684 Figure 10
// followed by the payload, built as one byte slice.
func refChecksum(dsn uint64, ssn uint32, dataLen, csum uint16, payload []byte) uint16 {
	var b []byte
	for i := 7; i >= 0; i-- {
		b = append(b, byte(dsn>>(8*i)))
	}
	b = append(b, byte(ssn>>24), byte(ssn>>16), byte(ssn>>8), byte(ssn))
	b = append(b, byte(dataLen>>8), byte(dataLen), byte(csum>>8), byte(csum))
	b = append(b, payload...)
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	var s uint32
	for i := 0; i < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

func TestDSSChecksum(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 500; i++ {
		n := int(r.Uint32N(3000))
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(r.Uint32())
		}
		dsn, ssn := r.Uint64(), r.Uint32()
		dl := uint16(n)
		want := refChecksum(dsn, ssn, dl, 0, p)
		got := DSSChecksum(dsn, ssn, dl, ChecksumAdd(0, p))
		if got != want {
			t.Fatalf("len %d: DSSChecksum = %#04x, want %#04x", n, got, want)
		}
		if !DSSChecksumOK(dsn, ssn, dl, got, ChecksumAdd(0, p)) {
			t.Fatalf("len %d: own checksum does not verify", n)
		}
		if n > 0 {
			p[r.IntN(n)] ^= 0x10
			if DSSChecksumOK(dsn, ssn, dl, got, ChecksumAdd(0, p)) {
				t.Fatalf("len %d: corrupted payload verifies", n)
			}
		}
		// Fed in even-sized pieces, the sum is the same.
		if n > 10 {
			cut := int(r.Uint32N(uint32(n/2))) * 2
			s := ChecksumAdd(ChecksumAdd(0, p[:cut]), p[cut:])
			if ChecksumFold(s) != ChecksumFold(ChecksumAdd(0, p)) {
				t.Fatalf("split at %d changes the sum", cut)
			}
		}
	}
	// Known answer worked by hand: DSN 1, ssn 1, len 2, payload "ab" (0x6162):
	// words 0,0,0,1, 0,1, 2, 0, 6162 -> 0x6166 -> checksum 0x9e99.
	if got := DSSChecksum(1, 1, 2, ChecksumAdd(0, []byte("ab"))); got != 0x9e99 {
		t.Fatalf("hand-worked checksum = %#04x, want 0x9e99", got)
	}
}

// TestChecksumAddEdges checks ChecksumAdd against a plain big-endian word
// sum where a folded sum could differ: all-zero payloads (sum 0), all-0xff
// payloads (sum 0xffff, never 0), odd tails, every length across the
// vector code's block sizes, and a non-zero running sum carried in.
func TestChecksumAddEdges(t *testing.T) {
	wordSum := func(s uint64, b []byte) uint64 {
		for i := 0; i+1 < len(b); i += 2 {
			s += uint64(b[i])<<8 | uint64(b[i+1])
		}
		if len(b)%2 == 1 {
			s += uint64(b[len(b)-1]) << 8
		}
		return s
	}
	r := rand.New(rand.NewPCG(5, 6))
	buf := make([]byte, 600)
	for n := 0; n <= len(buf); n++ {
		for fill := 0; fill < 3; fill++ {
			p := buf[:n]
			for i := range p {
				switch fill {
				case 0:
					p[i] = 0
				case 1:
					p[i] = 0xff
				default:
					p[i] = byte(r.Uint32())
				}
			}
			for _, s0 := range []uint64{0, 0xffff, 0x1_2345_6789} {
				got, want := ChecksumFold(ChecksumAdd(s0, p)), ChecksumFold(wordSum(s0, p))
				if got != want {
					t.Fatalf("len %d fill %d start %#x: ChecksumFold(ChecksumAdd) = %#04x, word sum %#04x",
						n, fill, s0, got, want)
				}
			}
		}
	}
}

func BenchmarkExpandSeq(b *testing.B) {
	ref := uint64(0x1_ffff_ff00)
	var sink uint64
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sink += ExpandSeq(ref, uint32(i))
	}
	_ = sink
}

func BenchmarkDSSChecksum1448(b *testing.B) {
	p := make([]byte, 1448)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		DSSChecksum(0x1234567890, 1, 1448, ChecksumAdd(0, p))
	}
}
