package mptcp

import (
	"bytes"
	"net/netip"
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

// FuzzOutFit: for any wanted set and space, Fit splits the wanted options
// into sent and deferred, stays within the space, and what Write produces
// parses back to exactly the sent options.
func FuzzOutFit(f *testing.F) {
	f.Add(uint16(0x1ff), uint8(28), uint8(0x0f), uint8(5), true, false)
	f.Add(uint16(0x00c), uint8(40), uint8(0x05), uint8(1), false, true)
	f.Add(uint16(0x004), uint8(8), uint8(0x01), uint8(0), false, false)
	f.Fuzz(func(t *testing.T, want uint16, space uint8, dssFlags uint8, nIDs uint8, v6, echo bool) {
		var o Out
		o.Want = Set(want) & 0x1ff
		o.Capable = Capable{Version: 1, Keys: 2, HasDataLen: dssFlags&0x20 != 0}
		o.Join = Join{Form: JoinForm(dssFlags%3 + 1)}
		o.DSS = DSS{HasAck: dssFlags&1 != 0, Ack64: dssFlags&2 != 0, HasMap: dssFlags&4 != 0, DSN64: dssFlags&8 != 0,
			HasChecksum: dssFlags&4 != 0 && dssFlags&0x40 != 0, DataFin: dssFlags&0x10 != 0}
		if !o.DSS.HasAck {
			o.DSS.Ack64 = false
		}
		if !o.DSS.HasMap {
			o.DSS.DSN64 = false
		}
		o.AddAddr = AddAddr{Echo: echo, Addr: netip.MustParseAddr("192.0.2.7"), HasPort: dssFlags&0x80 != 0}
		if v6 {
			o.AddAddr.Addr = netip.MustParseAddr("2001:db8::7")
		}
		o.RemoveAddr = RemoveAddr{IDs: make([]uint8, 1+int(nIDs)%MaxRemoveAddrIDs)}
		sp := int(space) % (MaxTCPOptionSpace + 1)
		send, deferred, size := o.Fit(sp)
		if send&deferred != 0 || send|deferred != o.Want&Set(0x1ff) {
			t.Fatalf("want %b split into send %b deferred %b", o.Want, send, deferred)
		}
		if size > sp || size%4 != 0 {
			t.Fatalf("size %d for space %d", size, sp)
		}
		buf := make([]byte, size)
		if n := o.Write(buf, send); n != size {
			t.Fatalf("Write = %d, Fit said %d", n, size)
		}
		var r Received
		if err := ParseTCPOptions(buf, &r); err != nil || r.Present != send {
			t.Fatalf("wrote %x: present %b (sent %b), err %v", buf, r.Present, send, err)
		}
		if send.Has(SubtypeDSS) && r.DSS != o.DSS {
			t.Fatalf("DSS %+v read back as %+v", o.DSS, r.DSS)
		}
		if send.Has(SubtypeAddAddr) && r.AddAddr != o.AddAddr {
			t.Fatalf("ADD_ADDR %+v read back as %+v", o.AddAddr, r.AddAddr)
		}
	})
}

// FuzzFindDSS: the receive fast path's DSS lookup agrees with the full
// parser: whatever FindDSS returns is the DSS ParseTCPOptions parsed from
// the same bytes, and a DSS the full parser accepted with no malformed
// DSS beside it is found.
func FuzzFindDSS(f *testing.F) {
	f.Add(hx(f, "01 01 08 0a 00000001 00000002 1e 14 20 05 00000009 0102030405060708 00000001 2328"))
	f.Add(hx(f, "1e 14 01 01 0102030405060708 a1a2a3a4a5a6a7a8"))
	f.Add(hx(f, "1e 04 20 00 1e 08 20 01 00000007"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, ok := FindDSS(b)
		var r Received
		_ = ParseTCPOptions(b, &r)
		if ok && (!r.Present.Has(SubtypeDSS) || r.DSS != d) {
			t.Fatalf("FindDSS %+v, ParseTCPOptions present %b dss %+v", d, r.Present, r.DSS)
		}
		if !ok && r.Present.Has(SubtypeDSS) && !r.Invalid.Has(SubtypeDSS) {
			t.Fatalf("FindDSS missed the DSS ParseTCPOptions parsed: %+v", r.DSS)
		}
	})
}
