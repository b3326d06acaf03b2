package header

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"testing"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// withImpl runs f with sum64 switched to impl.
func withImpl(impl sumImpl, f func()) {
	old := sum64
	sum64 = impl.fn
	defer func() { sum64 = old }()
	f()
}

// TestSumMatchesReference checks every implementation against the plain
// byte-pair loop for all lengths 0..2048, at random alignments, with
// random contents and random initial values, plus all-0xff and all-zero
// buffers (the carry and ones'-complement-zero corner cases).
func TestSumMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	buf := make([]byte, 2048+64)
	for _, impl := range sumImpls() {
		withImpl(impl, func() {
			for n := 0; n <= 2048; n++ {
				off := r.Intn(64)
				b := buf[off : off+n]
				r.Read(b)
				init := r.Uint32()
				if n%3 == 0 {
					init = 0
				}
				if got, want := Sum(b, init), sumReference(b, init); got != want {
					t.Fatalf("%s: len %d off %d init %#x: Sum %#x, reference %#x", impl.name, n, off, init, got, want)
				}
				if got, want := Checksum(b, init), ^uint16(sumReference(b, init)); got != want {
					t.Fatalf("%s: len %d: Checksum %#x, want %#x", impl.name, n, got, want)
				}
			}
			for _, fill := range []byte{0x00, 0xff} {
				for _, n := range []int{0, 1, 2, 63, 64, 65, 127, 128, 1500, 4096, 65536} {
					b := make([]byte, n)
					for i := range b {
						b[i] = fill
					}
					for _, init := range []uint32{0, 0xffff, 0xffffffff} {
						if got, want := Sum(b, init), sumReference(b, init); got != want {
							t.Fatalf("%s: fill %#x len %d init %#x: Sum %#x, reference %#x", impl.name, fill, n, init, got, want)
						}
					}
				}
			}
		})
	}
}

// TestSumLarge compares the implementations on large random buffers (the
// reference is slow, so fewer of them).
func TestSumLarge(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, n := range []int{9000, 65535, 65536, 1 << 20} {
		b := make([]byte, n+7)
		r.Read(b)
		for off := 0; off < 8; off += 3 {
			want := sumReference(b[off:off+n], 0)
			for _, impl := range sumImpls() {
				withImpl(impl, func() {
					if got := Sum(b[off:off+n], 0); got != want {
						t.Fatalf("%s: len %d off %d: %#x, want %#x", impl.name, n, off, got, want)
					}
				})
			}
		}
	}
}

// TestKnownChecksum checks the textbook IPv4 header example whose checksum
// is 0xb861.
func TestKnownChecksum(t *testing.T) {
	hdr := []byte{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7}
	if c := Checksum(hdr, 0); c != 0xb861 {
		t.Fatalf("checksum %#04x, want 0xb861", c)
	}
	binary.BigEndian.PutUint16(hdr[10:], 0xb861)
	if c := Checksum(hdr, 0); c != 0 {
		t.Fatalf("verifying sum %#04x, want 0", c)
	}
}

// TestCombine splits random buffers into random pieces (odd lengths
// included) and checks that Combine and Accumulator give the sum of the
// whole.
func TestCombine(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for iter := 0; iter < 2000; iter++ {
		b := make([]byte, r.Intn(300))
		r.Read(b)
		want := sumReference(b, 0)
		var acc Accumulator
		var s uint32
		done := 0
		for done < len(b) {
			k := 1 + r.Intn(len(b)-done)
			if r.Intn(3) == 0 {
				k = 1 + r.Intn(3)
				if k > len(b)-done {
					k = len(b) - done
				}
			}
			piece := b[done : done+k]
			s = Combine(s, done, Sum(piece, 0))
			if r.Intn(2) == 0 {
				acc.Add(piece)
			} else {
				acc.AddSum(Sum(piece, 0), len(piece))
			}
			done += k
		}
		if Fold(s) != uint16(want) && !(want == 0 && Fold(s) == 0xffff) && !(want == 0xffff && Fold(s) == 0) {
			t.Fatalf("len %d: Combine %#x, whole %#x", len(b), s, want)
		}
		if acc.Len() != len(b) || acc.Checksum() != Checksum(b, 0) {
			t.Fatalf("len %d: Accumulator %#x, whole %#x", len(b), acc.Checksum(), Checksum(b, 0))
		}
	}
}

// TestPseudoHeaders compares the pseudo-header helpers with summing the
// pseudo-header bytes laid out as the RFCs draw them.
func TestPseudoHeaders(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for i := 0; i < 1000; i++ {
		var s4, d4 [4]byte
		var s6, d6 [16]byte
		r.Read(s4[:])
		r.Read(d4[:])
		r.Read(s6[:])
		r.Read(d6[:])
		proto := uint8(r.Intn(256))
		l := uint16(r.Intn(65536))
		ph := append(append(append([]byte{}, s4[:]...), d4[:]...), 0, proto, byte(l>>8), byte(l))
		if got, want := Fold(PseudoHeaderSumIPv4(s4, d4, proto, l)), uint16(sumReference(ph, 0)); got != want {
			t.Fatalf("IPv4 pseudo-header %#x, want %#x", got, want)
		}
		l6 := r.Uint32()
		ph6 := append(append([]byte{}, s6[:]...), d6[:]...)
		ph6 = binary.BigEndian.AppendUint32(ph6, l6)
		ph6 = append(ph6, 0, 0, 0, proto)
		if got, want := Fold(PseudoHeaderSumIPv6(s6, d6, proto, l6)), uint16(sumReference(ph6, 0)); got != want {
			t.Fatalf("IPv6 pseudo-header %#x, want %#x", got, want)
		}
	}
}

// TestUpdateChecksum changes random 16- and 32-bit fields of random
// buffers and checks the incremental update against a full recompute.
func TestUpdateChecksum(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for i := 0; i < 5000; i++ {
		b := make([]byte, 2*(4+r.Intn(40)))
		r.Read(b)
		if i%10 == 0 {
			for j := range b {
				b[j] = 0
			}
		}
		binary.BigEndian.PutUint16(b[0:], 0)
		binary.BigEndian.PutUint16(b[0:], Checksum(b, 0))
		sum := binary.BigEndian.Uint16(b[0:])
		at := 2 + 2*r.Intn(len(b)/2-2)
		if r.Intn(2) == 0 {
			old := binary.BigEndian.Uint16(b[at:])
			nw := uint16(r.Uint32())
			binary.BigEndian.PutUint16(b[at:], nw)
			sum = UpdateChecksum(sum, old, nw)
		} else {
			old := binary.BigEndian.Uint32(b[at:])
			nw := r.Uint32()
			binary.BigEndian.PutUint32(b[at:], nw)
			sum = UpdateChecksum32(sum, old, nw)
		}
		binary.BigEndian.PutUint16(b[0:], sum)
		if c := Checksum(b, 0); c != 0 {
			t.Fatalf("after incremental update the buffer sums to %#x, want 0", c)
		}
	}
}

// FuzzChecksum compares every implementation with the reference on fuzzed
// buffers, offsets and initial values.
func FuzzChecksum(f *testing.F) {
	f.Add([]byte{}, uint32(0), uint8(0))
	f.Add([]byte{0xff}, uint32(0xffff), uint8(1))
	f.Add(make([]byte, 200), uint32(0xffffffff), uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, init uint32, off uint8) {
		if int(off) > len(b) {
			off = 0
		}
		b = b[off:]
		want := sumReference(b, init)
		for _, impl := range sumImpls() {
			withImpl(impl, func() {
				if got := Sum(b, init); got != want {
					t.Fatalf("%s: len %d init %#x: %#x, want %#x", impl.name, len(b), init, got, want)
				}
			})
		}
		dst := make([]byte, len(b))
		for _, impl := range copySumImpls() {
			old := copySum64
			copySum64 = impl.fn
			got := CopySum(dst, b, init)
			copySum64 = old
			if got != want || !bytes.Equal(dst, b) {
				t.Fatalf("CopySum %s: len %d: %#x, want %#x (or copy differs)", impl.name, len(b), got, want)
			}
		}
	})
}

var benchSink uint32

// BenchmarkChecksum measures bytes/s for the reference loop and every
// implementation at 64, 1500, 9000 and 65536 bytes.
func BenchmarkChecksum(b *testing.B) {
	for _, n := range []int{64, 1500, 9000, 65536} {
		buf := make([]byte, n)
		rand.New(rand.NewSource(6)).Read(buf)
		b.Run(fmt.Sprintf("reference/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				benchSink += sumReference(buf, 0)
			}
		})
		for _, impl := range sumImpls() {
			b.Run(fmt.Sprintf("%s/%d", impl.name, n), func(b *testing.B) {
				withImpl(impl, func() {
					b.SetBytes(int64(n))
					b.ReportAllocs()
					for i := 0; i < b.N; i++ {
						benchSink += Sum(buf, 0)
					}
				})
			})
		}
	}
}

func TestChecksumImplementation(t *testing.T) {
	name := ChecksumImplementation()
	found := false
	for _, impl := range sumImpls() {
		if impl.name == name {
			found = true
		}
	}
	if !found {
		t.Fatalf("selected implementation %q is not among the available ones", name)
	}
	t.Logf("checksum implementation: %s", name)
}

// TestCopySum checks every copy-and-sum implementation: dst holds src's
// bytes, nothing past len(src) is written, and the sum equals the
// reference, for all lengths 0..2048 at random source and destination
// alignments, and a few large buffers.
func TestCopySum(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	src := make([]byte, 70000)
	dst := make([]byte, 70000)
	r.Read(src)
	lengths := make([]int, 0, 2060)
	for n := 0; n <= 2048; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 9000, 65536, 65536+63)
	for _, impl := range copySumImpls() {
		old := copySum64
		copySum64 = impl.fn
		for _, n := range lengths {
			so, do := r.Intn(64), r.Intn(64)
			s, d := src[so:so+n], dst[do:do+n+8]
			for i := range d {
				d[i] = 0xa5
			}
			init := r.Uint32()
			got := CopySum(d, s, init)
			if want := sumReference(s, init); got != want {
				copySum64 = old
				t.Fatalf("%s: len %d: sum %#x, want %#x", impl.name, n, got, want)
			}
			if !bytes.Equal(d[:n], s) || !bytes.Equal(d[n:], []byte{0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5}) {
				copySum64 = old
				t.Fatalf("%s: len %d: copy wrong or wrote past the end", impl.name, n)
			}
		}
		copySum64 = old
	}
	defer func() {
		if recover() == nil {
			t.Fatal("CopySum into a short dst did not panic")
		}
	}()
	CopySum(make([]byte, 10), make([]byte, 11), 0)
}

// BenchmarkCopySum compares the fused copy-and-sum with copy followed by
// Sum, at packet sizes.
func BenchmarkCopySum(b *testing.B) {
	for _, n := range []int{1500, 9000, 65536} {
		src := make([]byte, n)
		dst := make([]byte, n)
		rand.New(rand.NewSource(8)).Read(src)
		b.Run(fmt.Sprintf("copy+sum/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				copy(dst, src)
				benchSink += Sum(dst, 0)
			}
		})
		for _, impl := range copySumImpls() {
			b.Run(fmt.Sprintf("%s/%d", impl.name, n), func(b *testing.B) {
				old := copySum64
				copySum64 = impl.fn
				defer func() { copySum64 = old }()
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					benchSink += CopySum(dst, src, 0)
				}
			})
		}
	}
}

// TestEncodeIPv4ChecksumFromFields checks the header checksum EncodeIPv4
// computes from the field values against a pass over the bytes it wrote,
// for random fields (extremes included).
func TestEncodeIPv4ChecksumFromFields(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	buf := make([]byte, IPv4MinHeaderLen)
	for i := range 20000 {
		f := IPv4Fields{TOS: uint8(r.Uint32()), TotalLen: uint16(r.Uint32()), ID: uint16(r.Uint32()), DF: r.Intn(2) == 0,
			TTL: uint8(r.Uint32()), Protocol: uint8(r.Uint32())}
		if i < 2 {
			f = IPv4Fields{TOS: 0xff * uint8(i), TotalLen: 0xffff * uint16(i), ID: 0xffff * uint16(i), DF: i == 1, TTL: 0xff * uint8(i), Protocol: 0xff * uint8(i)}
		}
		for j := range 4 {
			f.Src[j], f.Dst[j] = uint8(r.Uint32()), uint8(r.Uint32())
			if i < 2 {
				f.Src[j], f.Dst[j] = 0xff*uint8(i), 0xff*uint8(i)
			}
		}
		EncodeIPv4(buf, &f)
		if c := Checksum(buf, 0); c != 0 {
			t.Fatalf("%+v: header %x does not verify (sum over it %#x)", f, buf, c)
		}
	}
}

// TestTCPHeaderSumFromFields checks TCPHeaderSum against a pass over the
// header EncodeTCP and the options bytes produce, for random fields and
// option lengths, with an initial (pseudo-header) sum.
func TestTCPHeaderSumFromFields(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	buf := make([]byte, TCPMinHeaderLen+TCPMaxOptionsLen)
	for i := range 20000 {
		f := TCPFields{SrcPort: uint16(r.Uint32()), DstPort: uint16(r.Uint32()), Seq: seqnum.Value(r.Uint32()),
			Ack: seqnum.Value(r.Uint32()), Flags: TCPFlags(r.Uint32()), Window: uint16(r.Uint32()),
			Urgent: uint16(r.Uint32()), OptionsLen: 4 * r.Intn(TCPMaxOptionsLen/4+1)}
		if i == 0 {
			f = TCPFields{SrcPort: 0xffff, DstPort: 0xffff, Seq: 0xffffffff, Ack: 0xffffffff, Flags: 0xff, Window: 0xffff, Urgent: 0xffff, OptionsLen: TCPMaxOptionsLen}
		}
		EncodeTCP(buf, &f)
		opts := buf[TCPMinHeaderLen : TCPMinHeaderLen+f.OptionsLen]
		for j := range opts {
			opts[j] = uint8(r.Uint32())
			if i == 0 {
				opts[j] = 0xff
			}
		}
		initial := r.Uint32()
		want := Sum(buf[:TCPMinHeaderLen+f.OptionsLen], initial)
		// 0 and 0xffff are the same ones'-complement value.
		norm := func(x uint32) uint16 { return Fold(x) % 0xffff }
		if got := TCPHeaderSum(&f, opts, initial); norm(got) != norm(want) {
			t.Fatalf("%+v opts %x initial %#x: TCPHeaderSum %#x, sum over the bytes %#x", f, opts, initial, got, want)
		}
	}
}

// FuzzCopySum checks every copy-and-sum implementation against a separate
// copy and the reference sum, for arbitrary bytes, initial sums and
// destination offsets: the copy is exact, nothing past it is written, and
// the sum equals sumReference and Sum.
func FuzzCopySum(f *testing.F) {
	f.Add([]byte{}, uint32(0), uint8(0))
	f.Add([]byte{0xff}, uint32(0xffff), uint8(1))
	f.Add(bytes.Repeat([]byte{0xff}, 200), uint32(0xffffffff), uint8(3))
	seed := make([]byte, 9000)
	rand.New(rand.NewSource(9)).Read(seed)
	f.Add(seed, uint32(0x1234), uint8(63))
	f.Fuzz(func(t *testing.T, src []byte, initial uint32, shift uint8) {
		do := int(shift % 64)
		buf := make([]byte, do+len(src)+8)
		want := sumReference(src, initial)
		if s := Sum(src, initial); s != want {
			t.Fatalf("len %d: Sum %#x, reference %#x", len(src), s, want)
		}
		for _, impl := range copySumImpls() {
			for i := range buf {
				buf[i] = 0x5a
			}
			old := copySum64
			copySum64 = impl.fn
			got := CopySum(buf[do:], src, initial)
			copySum64 = old
			if got != want {
				t.Fatalf("%s: len %d: sum %#x, want %#x", impl.name, len(src), got, want)
			}
			if !bytes.Equal(buf[do:do+len(src)], src) {
				t.Fatalf("%s: len %d: copy differs from the source", impl.name, len(src))
			}
			for i, c := range buf {
				if (i < do || i >= do+len(src)) && c != 0x5a {
					t.Fatalf("%s: len %d: byte %d outside the copy was written", impl.name, len(src), i-do)
				}
			}
		}
	})
}

// BenchmarkCopySumCold is BenchmarkCopySum with data out of the caches, as
// on the packet path (a frame another core wrote, a ring position last
// touched megabytes ago): 9000-byte pieces walk a 64 MiB source and a
// 4 MiB destination. "copy" is copy() alone over the same walk, the floor.
func BenchmarkCopySumCold(b *testing.B) {
	const n = 9000
	src := make([]byte, 64<<20)
	dst := make([]byte, 4<<20)
	rand.New(rand.NewSource(10)).Read(src)
	walk := func(b *testing.B, f func(d, s []byte)) {
		b.SetBytes(n)
		b.ReportAllocs()
		so, do := 0, 0
		for b.Loop() {
			if so+n > len(src) {
				so = 0
			}
			if do+n > len(dst) {
				do = 0
			}
			f(dst[do:do+n], src[so:so+n])
			so += n + 64 // keep each piece at a new alignment
			do += n
		}
	}
	b.Run("copy", func(b *testing.B) { walk(b, func(d, s []byte) { copy(d, s) }) })
	b.Run("copy+sum", func(b *testing.B) {
		walk(b, func(d, s []byte) { copy(d, s); benchSink += Sum(d, 0) })
	})
	for _, impl := range copySumImpls() {
		b.Run(impl.name, func(b *testing.B) {
			old := copySum64
			copySum64 = impl.fn
			defer func() { copySum64 = old }()
			walk(b, func(d, s []byte) { benchSink += CopySum(d, s, 0) })
		})
	}
}
