package mptcp

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzParseOption: whatever parses must write back to the same length,
// re-parse to the same value, and re-write to the same bytes.
func FuzzParseOption(f *testing.F) {
	for _, g := range goldens {
		f.Add(hx(f, g.wire))
	}
	f.Add([]byte{30, 3, 0x90})
	f.Fuzz(func(t *testing.T, b []byte) {
		o, n, err := ParseOption(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("error %v with n=%d", err, n)
			}
			return
		}
		if n < 3 || n > len(b) || n != int(b[1]) {
			t.Fatalf("consumed %d of %d bytes, length byte %d", n, len(b), b[1])
		}
		if o.Size() != n {
			t.Fatalf("Size() = %d, parsed %d bytes: %+v", o.Size(), n, o)
		}
		w := make([]byte, n)
		if m := o.Write(w); m != n {
			t.Fatalf("Write = %d, want %d", m, n)
		}
		// The writer may only differ from the input in reserved bits.
		if w[0] != b[0] || w[1] != b[1] || w[2]>>4 != b[2]>>4 {
			t.Fatalf("header %x, input %x", w[:3], b[:3])
		}
		o2, n2, err := ParseOption(w)
		if err != nil || n2 != n {
			t.Fatalf("re-parse of %x: n=%d err=%v", w, n2, err)
		}
		if !reflect.DeepEqual(o, o2) {
			t.Fatalf("round trip changed the option\n in  %+v\n out %+v", o, o2)
		}
		w2 := make([]byte, n)
		o2.Write(w2)
		if !bytes.Equal(w, w2) {
			t.Fatalf("second write %x differs from first %x", w2, w)
		}
	})
}

// FuzzParseTCPOptions: never panics; every option reported present
// survives a write/parse round trip through Out.
func FuzzParseTCPOptions(f *testing.F) {
	f.Add([]byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 30, 8, 0x20, 1, 0, 0, 0, 9})
	f.Add(hx(f, "1e 03 51 1e 0c 60 00 0102030405060708"))
	f.Add(hx(f, "1e 14 01 01 0102030405060708 a1a2a3a4a5a6a7a8"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Received
		_ = ParseTCPOptions(b, &r)
		o := Out{Want: r.Present, Capable: r.Capable, Join: r.Join, DSS: r.DSS, AddAddr: r.AddAddr,
			RemoveAddr: r.RemoveAddr, Prio: r.Prio, Fail: r.Fail, FastClose: r.FastClose, TCPRST: r.TCPRST}
		total := 0
		for _, st := range FitOrder {
			if r.Present.Has(st) {
				total += o.SizeOf(st)
			}
		}
		buf := make([]byte, pad4(total))
		n := o.Write(buf, r.Present)
		if n != pad4(total) {
			t.Fatalf("Write = %d, want %d", n, pad4(total))
		}
		var r2 Received
		if err := ParseTCPOptions(buf, &r2); err != nil {
			t.Fatalf("re-parse of %x: %v", buf, err)
		}
		if r2.Present != r.Present || r2.Invalid != 0 {
			t.Fatalf("Present %b -> %b (invalid %b)", r.Present, r2.Present, r2.Invalid)
		}
		r.Invalid = 0
		if !reflect.DeepEqual(r, r2) {
			t.Fatalf("round trip changed options\n in  %+v\n out %+v", r, r2)
		}
	})
}
