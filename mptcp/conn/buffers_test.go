package conn

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestRangesAddMerge(t *testing.T) {
	r := newRanges(3)
	for _, x := range [][2]uint64{{10, 20}, {30, 40}, {50, 60}} {
		if !r.add(x[0], x[1]) {
			t.Fatal("add refused with room")
		}
	}
	if r.add(70, 80) {
		t.Fatal("a fourth disjoint range fit in capacity 3")
	}
	if !r.add(20, 30) { // bridges two ranges
		t.Fatal("bridging add refused")
	}
	if len(r.r) != 2 || r.r[0] != [2]uint64{10, 40} || r.r[1] != [2]uint64{50, 60} {
		t.Fatalf("ranges %v", r.r)
	}
	if !r.add(5, 70) || len(r.r) != 1 || r.r[0] != [2]uint64{5, 70} {
		t.Fatalf("covering add: %v", r.r)
	}
	if got := r.popBelow(5); got != 70 || len(r.r) != 0 {
		t.Fatalf("popBelow = %d, left %v", got, r.r)
	}
}

// The reassembler delivers exactly the stream, whatever the order and
// duplication of the ranges written, and never holds more than its capacity.
func TestRecvBufReassembly(t *testing.T) {
	const start = 1000
	src := make([]byte, 200000)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	b := newRecvBuf(1<<16, 64, start)
	var got []byte
	out := make([]byte, 7000)
	for len(got) < len(src) {
		// pick a chunk near nxt, possibly a duplicate or out of order
		base := int(b.nxt - start)
		off := base + rng.IntN(3*1460) - 1460
		off = max(off, 0)
		n := 1 + rng.IntN(1460)
		if off >= len(src) {
			continue
		}
		n = min(n, len(src)-off)
		b.put(start+uint64(off), src[off:off+n])
		if _, ok := b.mark(start+uint64(off), start+uint64(off+n)); !ok {
			continue
		}
		if b.nxt-b.read > uint64(len(b.buf)) {
			t.Fatalf("holds %d bytes, capacity %d", b.nxt-b.read, len(b.buf))
		}
		if rng.IntN(3) == 0 {
			k := b.readInto(out)
			got = append(got, out[:k]...)
		}
	}
	if !bytes.Equal(got, src) {
		t.Fatal("reassembled stream differs")
	}
}

func TestSendBufCopyAndRelease(t *testing.T) {
	s := newSendBuf(4096, 1000)
	data := bytes.Repeat([]byte("abcdefg"), 1000)
	n := s.write(data)
	if n != 4096 || s.space() != 0 {
		t.Fatalf("write took %d, space %d", n, s.space())
	}
	p := make([]byte, 10)
	s.copyAt(1003, p)
	if !bytes.Equal(p, data[3:13]) {
		t.Fatalf("copyAt = %q", p)
	}
	s.release(1500)
	if s.space() != 500 {
		t.Fatalf("space after release = %d", s.space())
	}
	s.copyAt(1495, p) // 5 released bytes read as zeros
	if !bytes.Equal(p[:5], make([]byte, 5)) || !bytes.Equal(p[5:], data[500:505]) {
		t.Fatalf("copyAt across base = %q", p)
	}
	if s.write(data[4096:]) != 500 {
		t.Fatal("wrap-around write")
	}
	s.copyAt(1000+4096, p)
	if !bytes.Equal(p, data[4096:4106]) {
		t.Fatalf("wrapped copyAt = %q", p)
	}
}
