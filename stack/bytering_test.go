package stack

import (
	"bytes"
	"testing"
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
