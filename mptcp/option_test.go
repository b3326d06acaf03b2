package mptcp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// hx decodes hex with spaces allowed.
func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

type golden struct {
	name string
	wire string // hex, built by hand from the figures of RFC 8684 §3
	opt  Option
}

var hmac20 = [20]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}

// goldens: kind 0x1e, length, subtype<<4|low nibble, then fields big-endian.
var goldens = []golden{
	{"MP_CAPABLE SYN", "1e 04 01 01",
		Option{Subtype: SubtypeCapable, Capable: Capable{Version: 1, Flags: CapableHMACSHA256}}},
	{"MP_CAPABLE SYN checksum", "1e 04 01 81",
		Option{Subtype: SubtypeCapable, Capable: Capable{Version: 1, Flags: CapableChecksum | CapableHMACSHA256}}},
	{"MP_CAPABLE SYN/ACK", "1e 0c 01 21 0102030405060708",
		Option{Subtype: SubtypeCapable, Capable: Capable{Version: 1, Flags: CapableNoJoinID0 | CapableHMACSHA256,
			Keys: 1, SenderKey: 0x0102030405060708}}},
	{"MP_CAPABLE ACK", "1e 14 01 01 0102030405060708 a1a2a3a4a5a6a7a8",
		Option{Subtype: SubtypeCapable, Capable: Capable{Version: 1, Flags: CapableHMACSHA256,
			Keys: 2, SenderKey: 0x0102030405060708, ReceiverKey: 0xa1a2a3a4a5a6a7a8}}},
	{"MP_CAPABLE data", "1e 16 01 01 0102030405060708 a1a2a3a4a5a6a7a8 0005",
		Option{Subtype: SubtypeCapable, Capable: Capable{Version: 1, Flags: CapableHMACSHA256,
			Keys: 2, SenderKey: 0x0102030405060708, ReceiverKey: 0xa1a2a3a4a5a6a7a8, HasDataLen: true, DataLen: 5}}},
	{"MP_CAPABLE data checksum", "1e 18 01 81 0102030405060708 a1a2a3a4a5a6a7a8 05dc beef",
		Option{Subtype: SubtypeCapable, Capable: Capable{Version: 1, Flags: CapableChecksum | CapableHMACSHA256,
			Keys: 2, SenderKey: 0x0102030405060708, ReceiverKey: 0xa1a2a3a4a5a6a7a8,
			HasDataLen: true, DataLen: 1500, HasChecksum: true, Checksum: 0xbeef}}},
	{"MP_JOIN SYN backup", "1e 0c 11 02 deadbeef 01020304",
		Option{Subtype: SubtypeJoin, Join: Join{Form: JoinSYN, Backup: true, AddrID: 2, Token: 0xdeadbeef, Nonce: 0x01020304}}},
	{"MP_JOIN SYN", "1e 0c 10 00 deadbeef 01020304",
		Option{Subtype: SubtypeJoin, Join: Join{Form: JoinSYN, Token: 0xdeadbeef, Nonce: 0x01020304}}},
	{"MP_JOIN SYN/ACK", "1e 10 10 05 1112131415161718 a0b0c0d0",
		Option{Subtype: SubtypeJoin, Join: Join{Form: JoinSYNACK, AddrID: 5, TruncatedHMAC: 0x1112131415161718, Nonce: 0xa0b0c0d0}}},
	{"MP_JOIN ACK", "1e 18 10 00 000102030405060708090a0b0c0d0e0f10111213",
		Option{Subtype: SubtypeJoin, Join: Join{Form: JoinACK, HMAC: hmac20}}},
	{"DSS ack32", "1e 08 20 01 11223344",
		Option{Subtype: SubtypeDSS, DSS: DSS{HasAck: true, DataAck: 0x11223344}}},
	{"DSS ack64", "1e 0c 20 03 0102030411223344",
		Option{Subtype: SubtypeDSS, DSS: DSS{HasAck: true, Ack64: true, DataAck: 0x0102030411223344}}},
	{"DSS map32", "1e 0e 20 04 aabbccdd 00000001 0100",
		Option{Subtype: SubtypeDSS, DSS: DSS{HasMap: true, DSN: 0xaabbccdd, SubflowSeq: 1, DataLen: 256}}},
	{"DSS map32 checksum", "1e 10 20 04 aabbccdd 00000001 0100 1234",
		Option{Subtype: SubtypeDSS, DSS: DSS{HasMap: true, DSN: 0xaabbccdd, SubflowSeq: 1, DataLen: 256,
			HasChecksum: true, Checksum: 0x1234}}},
	{"DSS ack64 map64 checksum", "1e 1c 20 0f 0000000100000002 0000000300000004 00000005 05a0 ffff",
		Option{Subtype: SubtypeDSS, DSS: DSS{HasAck: true, Ack64: true, DataAck: 0x100000002,
			HasMap: true, DSN64: true, DSN: 0x300000004, SubflowSeq: 5, DataLen: 1440, HasChecksum: true, Checksum: 0xffff}}},
	{"DSS ack32 map32 DATA_FIN", "1e 12 20 15 00000010 00000020 00000030 0001",
		Option{Subtype: SubtypeDSS, DSS: DSS{HasAck: true, DataAck: 0x10, HasMap: true, DSN: 0x20, SubflowSeq: 0x30,
			DataLen: 1, DataFin: true}}},
	{"DSS ack64 map64", "1e 1a 20 0f 0000000100000002 0000000300000004 00000005 05a0",
		Option{Subtype: SubtypeDSS, DSS: DSS{HasAck: true, Ack64: true, DataAck: 0x100000002,
			HasMap: true, DSN64: true, DSN: 0x300000004, SubflowSeq: 5, DataLen: 1440}}},
	{"ADD_ADDR v4", "1e 10 30 03 0a000201 f0b7b31bce6829ca",
		Option{Subtype: SubtypeAddAddr, AddAddr: AddAddr{ID: 3, Addr: netip.MustParseAddr("10.0.2.1"), HMAC: 0xf0b7b31bce6829ca}}},
	{"ADD_ADDR v4 port", "1e 12 30 03 0a000201 1f90 10c76f32ab383846",
		Option{Subtype: SubtypeAddAddr, AddAddr: AddAddr{ID: 3, Addr: netip.MustParseAddr("10.0.2.1"), HasPort: true, Port: 8080,
			HMAC: 0x10c76f32ab383846}}},
	{"ADD_ADDR v4 echo", "1e 08 31 03 0a000201",
		Option{Subtype: SubtypeAddAddr, AddAddr: AddAddr{Echo: true, ID: 3, Addr: netip.MustParseAddr("10.0.2.1")}}},
	{"ADD_ADDR v4 port echo", "1e 0a 31 03 0a000201 1f90",
		Option{Subtype: SubtypeAddAddr, AddAddr: AddAddr{Echo: true, ID: 3, Addr: netip.MustParseAddr("10.0.2.1"), HasPort: true, Port: 8080}}},
	{"ADD_ADDR v6", "1e 1c 30 07 20010db8000000000000000000000001 6e968a01292d5ea7",
		Option{Subtype: SubtypeAddAddr, AddAddr: AddAddr{ID: 7, Addr: netip.MustParseAddr("2001:db8::1"), HMAC: 0x6e968a01292d5ea7}}},
	{"ADD_ADDR v6 port", "1e 1e 30 07 20010db8000000000000000000000001 01bb 6e968a01292d5ea7",
		Option{Subtype: SubtypeAddAddr, AddAddr: AddAddr{ID: 7, Addr: netip.MustParseAddr("2001:db8::1"), HasPort: true, Port: 443,
			HMAC: 0x6e968a01292d5ea7}}},
	{"ADD_ADDR v6 echo", "1e 14 31 07 20010db8000000000000000000000001",
		Option{Subtype: SubtypeAddAddr, AddAddr: AddAddr{Echo: true, ID: 7, Addr: netip.MustParseAddr("2001:db8::1")}}},
	{"ADD_ADDR v6 port echo", "1e 16 31 07 20010db8000000000000000000000001 01bb",
		Option{Subtype: SubtypeAddAddr, AddAddr: AddAddr{Echo: true, ID: 7, Addr: netip.MustParseAddr("2001:db8::1"), HasPort: true, Port: 443}}},
	{"REMOVE_ADDR one", "1e 04 40 09",
		Option{Subtype: SubtypeRemoveAddr, RemoveAddr: RemoveAddr{IDs: []uint8{9}}}},
	{"REMOVE_ADDR three", "1e 06 40 01 02 03",
		Option{Subtype: SubtypeRemoveAddr, RemoveAddr: RemoveAddr{IDs: []uint8{1, 2, 3}}}},
	{"MP_PRIO backup", "1e 03 51",
		Option{Subtype: SubtypePrio, Prio: Prio{Backup: true}}},
	{"MP_PRIO regular", "1e 03 50",
		Option{Subtype: SubtypePrio, Prio: Prio{}}},
	{"MP_FAIL", "1e 0c 60 00 0102030405060708",
		Option{Subtype: SubtypeFail, Fail: Fail{DSN: 0x0102030405060708}}},
	{"MP_FASTCLOSE", "1e 0c 70 00 a1a2a3a4a5a6a7a8",
		Option{Subtype: SubtypeFastClose, FastClose: FastClose{ReceiverKey: 0xa1a2a3a4a5a6a7a8}}},
	{"MP_TCPRST transient middlebox", "1e 04 81 06",
		Option{Subtype: SubtypeTCPRST, TCPRST: TCPRST{Flags: TCPRSTFlagT, Reason: ResetMiddleboxInterference}}},
	{"MP_TCPRST all flags", "1e 04 8f 01",
		Option{Subtype: SubtypeTCPRST, TCPRST: TCPRST{Flags: TCPRSTFlagU | TCPRSTFlagV | TCPRSTFlagW | TCPRSTFlagT, Reason: ResetMPTCPError}}},
}

func TestGoldenParse(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			b := hx(t, g.wire)
			if int(b[1]) != len(b) {
				t.Fatalf("golden %q: length byte %d, %d bytes", g.name, b[1], len(b))
			}
			// Trailing bytes after the option must not be consumed.
			in := append(append([]byte{}, b...), 0x01, 0x01, 0x00)
			o, n, err := ParseOption(in)
			if err != nil {
				t.Fatalf("ParseOption(%s): %v", g.wire, err)
			}
			if n != len(b) {
				t.Fatalf("consumed %d, want %d", n, len(b))
			}
			if !reflect.DeepEqual(o, g.opt) {
				t.Fatalf("parsed\n %+v\nwant\n %+v", o, g.opt)
			}
		})
	}
}

func TestGoldenWrite(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			want := hx(t, g.wire)
			o := g.opt
			if got := o.Size(); got != len(want) {
				t.Fatalf("Size() = %d, want %d", got, len(want))
			}
			buf := bytes.Repeat([]byte{0xee}, 64)
			n := o.Write(buf)
			if n != len(want) || !bytes.Equal(buf[:n], want) {
				t.Fatalf("Write wrote %d bytes %x, want %x", n, buf[:n], want)
			}
			if buf[n] != 0xee {
				t.Fatalf("Write touched byte %d past the option", n)
			}
		})
	}
}

// TestGoldenTruncated feeds every proper prefix of each golden option: the
// length byte then claims more than the buffer holds.
func TestGoldenTruncated(t *testing.T) {
	for _, g := range goldens {
		b := hx(t, g.wire)
		for i := 0; i < len(b); i++ {
			_, n, err := ParseOption(b[:i])
			if !errors.Is(err, ErrTruncated) || n != 0 {
				t.Errorf("%s: prefix of %d bytes: n=%d err=%v, want ErrTruncated", g.name, i, n, err)
			}
		}
	}
}

// TestGoldenBadLength shrinks and grows each golden option's length byte
// (with the buffer to match) and checks that the strict parser refuses any
// length RFC 8684 does not define for that subtype and flags.
func TestGoldenBadLength(t *testing.T) {
	valid := func(b []byte) bool {
		st := Subtype(b[2] >> 4)
		n := len(b)
		switch st {
		case SubtypeCapable:
			return n == 4 || n == 12 || n == 20 || n == 22 || n == 24
		case SubtypeJoin:
			return n == 12 || n == 16 || n == 24
		case SubtypeDSS:
			if n < 4 {
				return false
			}
			base := testDSSLen(b[3])
			return n == base || (b[3]&DSSFlagMap != 0 && n == base+2)
		case SubtypeAddAddr:
			if b[2]&1 != 0 {
				return n == 8 || n == 10 || n == 20 || n == 22
			}
			return n == 16 || n == 18 || n == 28 || n == 30
		case SubtypeRemoveAddr:
			return n >= 4
		case SubtypePrio:
			return n == 3
		case SubtypeFail, SubtypeFastClose:
			return n == 12
		case SubtypeTCPRST:
			return n == 4
		}
		return false
	}
	for _, g := range goldens {
		orig := hx(t, g.wire)
		for n := 0; n <= 40; n++ {
			b := make([]byte, 40)
			copy(b, orig)
			b[1] = byte(n)
			b = b[:max(n, 3)]
			_, _, err := ParseOption(b)
			ok := n >= 3 && valid(b[:n])
			if ok && err != nil {
				t.Errorf("%s with length %d: %v, want success", g.name, n, err)
			}
			if !ok && err == nil {
				t.Errorf("%s with length %d: parsed, want an error", g.name, n)
			}
			if !ok && err != nil && !errors.Is(err, ErrLength) {
				t.Errorf("%s with length %d: %v, want ErrLength", g.name, n, err)
			}
		}
	}
}

// testDSSLen is the test's own reading of RFC 8684 Figure 9.
func testDSSLen(flags uint8) int {
	n := 4
	if flags&1 != 0 { // A
		n += 4
		if flags&2 != 0 { // a
			n += 4
		}
	}
	if flags&4 != 0 { // M
		n += 4 + 4 + 2
		if flags&8 != 0 { // m
			n += 4
		}
	}
	return n
}

// TestDSSAllFlags builds every flag combination, with and without checksum,
// by hand and checks that each field lands where RFC 8684 Figure 9 puts it.
func TestDSSAllFlags(t *testing.T) {
	for flags := 0; flags < 32; flags++ {
		for _, csum := range []bool{false, true} {
			f := uint8(flags)
			hasMap := f&4 != 0
			if csum && !hasMap {
				continue
			}
			var b []byte
			b = append(b, 30, 0, 0x20, f)
			if f&1 != 0 {
				if f&2 != 0 {
					b = append(b, 0xa0, 0xa1, 0xa2, 0xa3)
				}
				b = append(b, 0xa4, 0xa5, 0xa6, 0xa7)
			}
			if hasMap {
				if f&8 != 0 {
					b = append(b, 0xd0, 0xd1, 0xd2, 0xd3)
				}
				b = append(b, 0xd4, 0xd5, 0xd6, 0xd7, 0x50, 0x51, 0x52, 0x53, 0x0b, 0xb8)
				if csum {
					b = append(b, 0xcc, 0xcd)
				}
			}
			b[1] = byte(len(b))
			d, err := ParseDSS(b)
			if err != nil {
				t.Fatalf("flags %05b csum %v: %v", f, csum, err)
			}
			if d.HasAck != (f&1 != 0) || d.HasMap != hasMap || d.DataFin != (f&16 != 0) || d.HasChecksum != csum {
				t.Fatalf("flags %05b: presence bits wrong: %+v", f, d)
			}
			if d.HasAck {
				want := uint64(0xa4a5a6a7)
				if f&2 != 0 {
					want = 0xa0a1a2a3a4a5a6a7
				}
				if d.DataAck != want || d.Ack64 != (f&2 != 0) {
					t.Fatalf("flags %05b: DataAck %#x ack64 %v", f, d.DataAck, d.Ack64)
				}
			}
			if hasMap {
				want := uint64(0xd4d5d6d7)
				if f&8 != 0 {
					want = 0xd0d1d2d3d4d5d6d7
				}
				if d.DSN != want || d.DSN64 != (f&8 != 0) || d.SubflowSeq != 0x50515253 || d.DataLen != 3000 {
					t.Fatalf("flags %05b: mapping %+v", f, d)
				}
				if csum && d.Checksum != 0xcccd {
					t.Fatalf("flags %05b: checksum %#x", f, d.Checksum)
				}
			}
			w := make([]byte, d.Size())
			if n := d.Write(w); n != len(b) {
				t.Fatalf("flags %05b: wrote %d bytes, want %d", f, n, len(b))
			}
			// Reserved bits aside (a and m without A and M are not sent),
			// the writer reproduces the input.
			exp := append([]byte{}, b...)
			if f&1 == 0 {
				exp[3] &^= 2
			}
			if f&4 == 0 {
				exp[3] &^= 8
			}
			if !bytes.Equal(w, exp) {
				t.Fatalf("flags %05b: wrote %x, want %x", f, w, exp)
			}
		}
	}
}

func TestParseOptionErrors(t *testing.T) {
	cases := []struct {
		name string
		in   string
		err  OptionError
	}{
		{"empty", "", ErrTruncated},
		{"two bytes", "1e 04", ErrTruncated},
		{"other kind", "08 0a 00 00 00 00 00 00 00 00", ErrNotMPTCP},
		{"length below 3", "1e 02 00 00", ErrLength},
		{"length past buffer", "1e 0c 01 01 00", ErrTruncated},
		{"unknown subtype 9", "1e 04 90 00", ErrSubtype},
		{"experimental subtype", "1e 04 f0 00", ErrSubtype},
		{"MP_CAPABLE length 8", "1e 08 01 01 00 00 00 00", ErrLength},
		{"ADD_ADDR echo length with E clear", "1e 08 30 01 0a000001", ErrLength},
		{"ADD_ADDR HMAC length with E set", "1e 10 31 01 0a000001 0000000000000000", ErrLength},
		{"REMOVE_ADDR empty", "1e 03 40", ErrLength},
		{"MP_PRIO v0 with address id", "1e 04 51 01", ErrLength},
		{"DSS ack32 length 12", "1e 0c 20 01 0000000000000000", ErrLength},
		{"DSS checksum without mapping", "1e 0a 20 01 00000000 0000", ErrLength},
	}
	for _, c := range cases {
		_, n, err := ParseOption(hx(t, c.in))
		if err != c.err || n != 0 {
			t.Errorf("%s: n=%d err=%v, want %v", c.name, n, err, c.err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "mptcp: ") {
			t.Errorf("%s: error text %q lacks the package prefix", c.name, err)
		}
	}
}

// TestReceivedInvalidLeavesFieldZero checks that a malformed option of
// each kind marks its subtype invalid and leaves its field zero (the parse
// methods must not half-fill a struct before rejecting the length).
func TestReceivedInvalidLeavesFieldZero(t *testing.T) {
	cases := []struct {
		in string
		st Subtype
	}{
		{"1e 08 01 01 00 00 00 00", SubtypeCapable},
		{"1e 0d 11 01 0000000000000000 0000000000", SubtypeJoin},
		{"1e 0a 20 01 00000000 0000", SubtypeDSS},
		{"1e 08 30 01 0a000001", SubtypeAddAddr},                         // echo length, E clear
		{"1e 10 31 01 0a000001 0000000000000000", SubtypeAddAddr},        // HMAC length, E set
		{"1e 14 30 07 20010db8000000000000000000000001", SubtypeAddAddr}, // v6 echo length, E clear
		{"1e 03 40", SubtypeRemoveAddr},
		{"1e 04 51 01", SubtypePrio},
		{"1e 0b 60 00 00000000000000", SubtypeFail},
		{"1e 0b 70 00 00000000000000", SubtypeFastClose},
		{"1e 05 81 06 00", SubtypeTCPRST},
	}
	for _, c := range cases {
		var r Received
		area := hx(t, c.in)
		if err := ParseTCPOptions(area, &r); err == nil {
			t.Errorf("%s: parsed without error", c.in)
			continue
		}
		if r.Present != 0 || r.Invalid != Set(0).With(c.st) {
			t.Errorf("%s: present %b invalid %b, want only %v invalid", c.in, r.Present, r.Invalid, c.st)
		}
		if !reflect.DeepEqual(r, Received{Invalid: r.Invalid}) {
			t.Errorf("%s: a rejected %v left fields set: %+v", c.in, c.st, r)
		}
	}
}

func TestTypedParsersRejectOtherSubtypes(t *testing.T) {
	dss := hx(t, "1e 08 20 01 11223344")
	if _, err := ParseCapable(dss); err != ErrSubtype {
		t.Errorf("ParseCapable(DSS) = %v, want ErrSubtype", err)
	}
	if _, err := ParseJoin(dss); err != ErrSubtype {
		t.Errorf("ParseJoin(DSS) = %v, want ErrSubtype", err)
	}
	if _, err := ParseAddAddr(dss); err != ErrSubtype {
		t.Errorf("ParseAddAddr(DSS) = %v, want ErrSubtype", err)
	}
	if _, err := ParseRemoveAddr(dss); err != ErrSubtype {
		t.Errorf("ParseRemoveAddr(DSS) = %v, want ErrSubtype", err)
	}
	if _, err := ParseDSS(hx(t, "1e 04 01 01")); err != ErrSubtype {
		t.Errorf("ParseDSS(MP_CAPABLE) = %v, want ErrSubtype", err)
	}
	for name, f := range map[string]func([]byte) error{
		"ParsePrio":      func(b []byte) error { _, err := ParsePrio(b); return err },
		"ParseFail":      func(b []byte) error { _, err := ParseFail(b); return err },
		"ParseFastClose": func(b []byte) error { _, err := ParseFastClose(b); return err },
		"ParseTCPRST":    func(b []byte) error { _, err := ParseTCPRST(b); return err },
	} {
		if err := f(dss); err != ErrSubtype {
			t.Errorf("%s(DSS) = %v, want ErrSubtype", name, err)
		}
		if err := f(dss[:2]); err != ErrTruncated {
			t.Errorf("%s(2 bytes) = %v, want ErrTruncated", name, err)
		}
	}
	if p, err := ParsePrio(hx(t, "1e 03 51")); err != nil || !p.Backup {
		t.Errorf("ParsePrio = %+v, %v", p, err)
	}
	if f, err := ParseFail(hx(t, "1e 0c 60 00 0000000000000009")); err != nil || f.DSN != 9 {
		t.Errorf("ParseFail = %+v, %v", f, err)
	}
	if f, err := ParseFastClose(hx(t, "1e 0c 70 00 000000000000000a")); err != nil || f.ReceiverKey != 10 {
		t.Errorf("ParseFastClose = %+v, %v", f, err)
	}
	if r, err := ParseTCPRST(hx(t, "1e 04 81 02")); err != nil || !r.Transient() || r.Reason != ResetLackOfResources {
		t.Errorf("ParseTCPRST = %+v, %v", r, err)
	}
	if d, err := ParseDSS(dss); err != nil || d.DataAck != 0x11223344 {
		t.Errorf("ParseDSS = %+v, %v", d, err)
	}
}

func TestParseTCPOptions(t *testing.T) {
	// NOP NOP TS(10) | DSS ack32+map32 (18) | MP_PRIO (3) | NOP | second DSS (ignored) | EOL + junk
	area := hx(t, "0101 080a 00000001 00000002"+
		"1e 12 20 05 00000010 00000020 00000030 0100"+
		"1e 03 51"+"01"+
		"1e 08 20 01 99999999"+
		"00 ffff")
	var r Received
	if err := ParseTCPOptions(area, &r); err != nil {
		t.Fatal(err)
	}
	if want := Set(0).With(SubtypeDSS).With(SubtypePrio); r.Present != want {
		t.Fatalf("Present = %b, want %b", r.Present, want)
	}
	if r.DSS.DataAck != 0x10 || r.DSS.DSN != 0x20 || r.DSS.SubflowSeq != 0x30 || r.DSS.DataLen != 256 || !r.Prio.Backup {
		t.Fatalf("parsed %+v %+v", r.DSS, r.Prio)
	}

	// A malformed MPTCP option is flagged; the walk continues.
	area = hx(t, "1e 04 51 00 1e 08 20 01 00000007")
	if err := ParseTCPOptions(area, &r); err != ErrLength {
		t.Fatalf("err = %v, want ErrLength", err)
	}
	if !r.Invalid.Has(SubtypePrio) || !r.Present.Has(SubtypeDSS) || r.DSS.DataAck != 7 {
		t.Fatalf("Invalid=%b Present=%b DSS=%+v", r.Invalid, r.Present, r.DSS)
	}

	for _, bad := range []string{"1e", "1e 01", "02 05 0000", "1e 09 20 01 00000000"} {
		if err := ParseTCPOptions(hx(t, bad), &r); err != ErrBadOptionArea {
			t.Errorf("ParseTCPOptions(%s) = %v, want ErrBadOptionArea", bad, err)
		}
	}
}

func TestSubtypeAndSetHelpers(t *testing.T) {
	if SubtypeDSS.String() != "DSS" || SubtypeTCPRST.String() != "MP_TCPRST" || Subtype(9).String() != "subtype(9)" {
		t.Fatalf("Subtype.String: %q %q %q", SubtypeDSS, SubtypeTCPRST, Subtype(9))
	}
	s := Set(0).With(SubtypeJoin).With(SubtypeFail)
	if !s.Has(SubtypeJoin) || !s.Has(SubtypeFail) || s.Has(SubtypeDSS) || s.Without(SubtypeJoin).Has(SubtypeJoin) {
		t.Fatalf("Set ops wrong: %b", s)
	}
	if ResetTooMuchOutstandingData.String() != "too much outstanding data" || ResetReason(200).String() != "reason(200)" {
		t.Fatalf("ResetReason.String wrong")
	}
	if JoinSYNACK.String() != "SYN/ACK" {
		t.Fatalf("JoinForm.String wrong")
	}
	r := TCPRST{Flags: TCPRSTFlagT}
	if !r.Transient() {
		t.Fatal("Transient false with T set")
	}
}

// TestFindDSS finds the mapping of a data segment's option area
// (timestamps, then a DSS with a DATA_ACK and a 64-bit mapping) and
// refuses areas without a well-formed DSS.
func TestFindDSS(t *testing.T) {
	area := hx(t, "01 01 08 0a 00000001 00000002 1e 1a 20 0f 0000000000000005 0000000000001000 00000001 22f4")
	d, ok := FindDSS(area)
	want := DSS{HasAck: true, Ack64: true, DataAck: 5, HasMap: true, DSN64: true, DSN: 0x1000, SubflowSeq: 1, DataLen: 0x22f4}
	if !ok || d != want {
		t.Fatalf("FindDSS = %+v %v, want %+v", d, ok, want)
	}
	for _, bad := range []string{
		"01 01 08 0a 00000001 00000002",            // no MPTCP option
		"1e 1c 20 0d 00",                           // truncated
		"1e 06 20 05 0000",                         // length contradicts the flags
		"02 04 05 b4 1e 0c 00 81 0000000000000001", // MP_CAPABLE, no DSS
		"08 01 1e 08 20 01 00000007",               // bad length byte before the DSS
	} {
		if d, ok := FindDSS(hx(t, bad)); ok {
			t.Errorf("FindDSS(%s) = %+v, want none", bad, d)
		}
	}
}
