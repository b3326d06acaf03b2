package stack

import (
	"bytes"
	"testing"

	"github.com/mpxdp/mpxdp/stack/header"
)

func TestByteRingWrapAndPeek(t *testing.T) {
	r := newByteRing(10) // rounds up to 16
	if r.Cap() != 16 {
		t.Fatalf("cap %d", r.Cap())
	}
	if n := r.Write([]byte("0123456789abcdefXYZ")); n != 16 || r.Free() != 0 {
		t.Fatalf("wrote %d, free %d", n, r.Free())
	}
	got := make([]byte, 4)
	if r.CopyAt(10, got) != 4 || string(got) != "abcd" {
		t.Fatalf("CopyAt %q", got)
	}
	if r.Read(got[:3]) != 3 || string(got[:3]) != "012" {
		t.Fatal("Read")
	}
	// Writing now wraps around the end.
	if n := r.Write([]byte("ghij")); n != 3 {
		t.Fatalf("wrote %d into 3 free bytes", n)
	}
	all := make([]byte, 32)
	n := r.CopyAt(0, all)
	if string(all[:n]) != "3456789abcdefghi" {
		t.Fatalf("contents %q", all[:n])
	}
	if p := r.Peek(); string(p) != "3456789abcdef" {
		t.Fatalf("Peek %q (contiguous part)", p)
	}
	r.Consume(13)
	if p := r.Peek(); string(p) != "ghi" {
		t.Fatalf("Peek after wrap %q", p)
	}
	sp := r.WriteSpace()
	if len(sp) != 13 {
		t.Fatalf("WriteSpace %d", len(sp))
	}
	copy(sp, "JK")
	r.Commit(2)
	n = r.Read(all)
	if string(all[:n]) != "ghiJK" {
		t.Fatalf("%q", all[:n])
	}
}

func TestByteRingConcurrent(t *testing.T) {
	r := newByteRing(1 << 12)
	src := make([]byte, 4<<20)
	newPRNG(7).Read(src)
	done := make(chan []byte)
	go func() {
		var out []byte
		buf := make([]byte, 3000)
		for len(out) < len(src) {
			n := r.Read(buf)
			out = append(out, buf[:n]...)
		}
		done <- out
	}()
	for off := 0; off < len(src); {
		off += r.Write(src[off:min(off+1234, len(src))])
	}
	if !bytes.Equal(<-done, src) {
		t.Fatal("stream corrupted")
	}
}

// TestByteRingCopySumAt checks the copy and the checksum of CopySumAt
// against CopyAt and header.Sum at every offset and length of a wrapped
// ring (odd split points included).
func TestByteRingCopySumAt(t *testing.T) {
	r := newByteRing(64)
	src := make([]byte, 64)
	newPRNG(3).Read(src)
	r.Write(src[:40])
	r.Consume(40)
	r.Write(src) // the data now wraps at ring offset 24
	for off := 0; off <= 64; off++ {
		for l := 0; l <= 64-off+3; l++ {
			want := make([]byte, l)
			wn := r.CopyAt(off, want)
			got := make([]byte, l)
			n, sum := r.CopySumAt(off, got)
			if n != wn || !bytes.Equal(got[:n], want[:wn]) {
				t.Fatalf("off %d len %d: copied %d %x, want %d %x", off, l, n, got[:n], wn, want[:wn])
			}
			if ws := header.Sum(src[off:off+n], 0); header.Fold(sum) != header.Fold(ws) {
				t.Fatalf("off %d len %d: sum %#x, want %#x", off, l, sum, ws)
			}
		}
	}
}

// TestByteRingWriteAtCommit writes out of order past the published data
// (the engine's out-of-order segments), publishes in order and discards.
func TestByteRingWriteAtCommit(t *testing.T) {
	r := newByteRing(16)
	r.Write([]byte("0123456789"))
	r.Consume(8)                 // tail at 10, head at 8: free 14, wraps at 16
	r.WriteAt(6, []byte("ghij")) // out of order, across the wrap
	r.WriteAt(0, []byte("abcdef"))
	if r.Len() != 2 {
		t.Fatalf("WriteAt published data: Len %d", r.Len())
	}
	r.Commit(10)
	all := make([]byte, 32)
	n := r.CopyAt(0, all)
	if string(all[:n]) != "89abcdefghij" {
		t.Fatalf("contents %q", all[:n])
	}
	r.Discard()
	if r.Len() != 0 || r.Free() != 16 {
		t.Fatalf("after Discard: Len %d Free %d", r.Len(), r.Free())
	}
}

// TestByteRingCopySumIn writes unpublished bytes at the tail, across the
// wrap at every odd and even split, and checks the sum and, once
// committed, the contents.
func TestByteRingCopySumIn(t *testing.T) {
	src := make([]byte, 40)
	newPRNG(9).Read(src)
	for start := 0; start < 64; start++ {
		for l := 1; l <= len(src); l++ {
			r := newByteRing(64)
			r.head.Store(uint64(start))
			r.tail.Store(uint64(start))
			sum := r.CopySumIn(src[:l])
			if r.Len() != 0 {
				t.Fatalf("start %d len %d: CopySumIn published %d bytes", start, l, r.Len())
			}
			if ws := header.Sum(src[:l], 0); header.Fold(sum) != header.Fold(ws) {
				t.Fatalf("start %d len %d: sum %#x, want %#x", start, l, sum, ws)
			}
			r.Commit(l)
			got := make([]byte, l)
			if r.Read(got) != l || !bytes.Equal(got, src[:l]) {
				t.Fatalf("start %d len %d: read %x, want %x", start, l, got, src[:l])
			}
		}
	}
}
