package conn

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/mpxdp/mpxdp/stack/header"
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

// Bytes that arrive beyond the buffer's end are not stored; when the
// reader later moves the end past them, marking their range (the subflow
// delivers it in order only then) must not count them as received: the
// stream stops before them until they are put again.
func TestRecvBufClippedBytesNotMarked(t *testing.T) {
	b := newRecvBuf(4096, 8, 0)
	src := make([]byte, 8192)
	for i := range src {
		src[i] = byte(i*7 + 1)
	}
	b.put(0, src[:4096])
	b.mark(0, 4096)
	b.put(4096, src[4096:6000]) // beyond the end: not stored
	out := make([]byte, 4096)
	if n := b.readInto(out); n != 4096 || !bytes.Equal(out, src[:4096]) {
		t.Fatalf("read %d bytes", n)
	}
	if fresh, ok := b.mark(4096, 6000); !ok || fresh != 0 || b.nxt != 4096 {
		t.Fatalf("mark of clipped bytes: fresh %d ok %v nxt %d, want nothing received", fresh, ok, b.nxt)
	}
	b.put(4096, src[4096:5000]) // resent and stored now
	if fresh, _ := b.mark(4096, 5000); fresh != 904 || b.nxt != 5000 {
		t.Fatalf("mark after the resend: fresh %d nxt %d, want 904 and 5000", fresh, b.nxt)
	}
	b.put(5000, src[5000:6000])
	b.mark(5000, 6000)
	if n := b.readInto(out); n != 2000-96 || !bytes.Equal(out[:n], src[4096:6000]) {
		t.Fatalf("read %d bytes after the resend, equal %v", n, bytes.Equal(out[:n], src[4096:4096+n]))
	}
	if b.clipHi > b.clipLo {
		t.Fatalf("clipped range [%d, %d) left after everything was stored", b.clipLo, b.clipHi)
	}
}

// copySumAt copies what copyAt copies (zeros below base included, across
// the ring's wrap, at odd offsets and lengths) and returns the bytes' sum.
func TestSendBufCopySumAt(t *testing.T) {
	b := newSendBuf(4096, 100)
	rng := rand.New(rand.NewPCG(7, 8))
	src := make([]byte, 3000)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	b.write(src)
	b.release(2100)
	b.write(src) // wraps: [2100, 6100) held, 100..2100 released
	for trial := 0; trial < 500; trial++ {
		dsn := 1900 + uint64(rng.IntN(4000))
		n := rng.IntN(int(6100-dsn) + 1)
		want := make([]byte, n)
		b.copyAt(dsn, want)
		got := make([]byte, n)
		sum := b.copySumAt(dsn, got)
		if !bytes.Equal(got, want) {
			t.Fatalf("copySumAt(%d, %d) copied other bytes than copyAt", dsn, n)
		}
		if ws := header.Sum(want, 0); sum != ws {
			t.Fatalf("copySumAt(%d, %d) sum %#x, header.Sum %#x", dsn, n, sum, ws)
		}
	}
}
