package header

import (
	"bytes"
	"reflect"
	"testing"
)

func TestTCPOptionsStrict(t *testing.T) {
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"mss len 3", []byte{2, 3, 5, 1}, ErrOptionLength},
		{"mss len 5", []byte{2, 5, 5, 0xb4, 0}, ErrOptionLength},
		{"ws len 2", []byte{3, 2, 1, 1}, ErrOptionLength},
		{"ws len 4", []byte{3, 4, 7, 0}, ErrOptionLength},
		{"sackok len 3", []byte{4, 3, 0, 1}, ErrOptionLength},
		{"ts len 9", append([]byte{8, 9}, make([]byte, 7)...), ErrOptionLength},
		{"ts len 11", append([]byte{8, 11}, make([]byte, 9)...), ErrOptionLength},
		{"sack len 2", []byte{5, 2, 1, 1}, ErrOptionLength},
		{"sack len 9", append([]byte{5, 9}, make([]byte, 7)...), ErrOptionLength},
		{"sack len 11", append([]byte{5, 11}, make([]byte, 9)...), ErrOptionLength},
		{"len 0", []byte{99, 0, 1, 1}, ErrOptionLength},
		{"len 1", []byte{99, 1, 1, 1}, ErrOptionLength},
		{"mptcp len 2", []byte{30, 2, 1, 1}, ErrOptionLength},
		{"past end", []byte{1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0}, ErrOptionTruncated},
		{"unknown past end", []byte{99, 6, 0, 0}, ErrOptionTruncated},
		{"missing length byte", []byte{1, 1, 1, 2}, ErrOptionTruncated},
		{"five mptcp", []byte{30, 3, 0, 30, 3, 0, 30, 3, 0, 30, 3, 0, 30, 3, 0}, ErrOptionCount},
		{"five sack blocks", append(append([]byte{5, 34}, make([]byte, 32)...), append([]byte{5, 10}, make([]byte, 8)...)...), ErrOptionCount},
	}
	for _, c := range cases {
		var o TCPOptions
		if _, err := ParseTCPOptions(c.b, &o); err != c.want {
			t.Errorf("%s: err=%v, want %v", c.name, err, c.want)
		}
	}
}

func TestTCPOptionsParse(t *testing.T) {
	b := []byte{
		1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, // NOP NOP TS 1/2
		30, 4, 0x20, 0x01, // an MPTCP option (subtype DSS), passed on raw
		99, 4, 0xaa, 0xbb, // unknown kind, skipped
		5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40, // SACK x2
		0, 2, 4, 6, // EOL then bytes that must be ignored
	}
	var o TCPOptions
	o.MSS = 1 // Parse must reset
	n, err := ParseTCPOptions(b, &o)
	if err != nil || n != len(b)-3 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	if o.HasMSS || o.MSS != 0 || !o.HasTimestamps || o.TSVal != 1 || o.TSEcr != 2 || o.NumSACK != 2 ||
		o.SACK[0] != (SACKBlock{10, 20}) || o.SACK[1] != (SACKBlock{30, 40}) || o.NumMPTCP != 1 {
		t.Fatalf("parsed %+v", o)
	}
	if !bytes.Equal(o.MPTCP[0], []byte{30, 4, 0x20, 0x01}) || &o.MPTCP[0][0] != &b[12] {
		t.Fatal("MPTCP option is not the packet's own bytes")
	}
	o.Reset()
	if !reflect.DeepEqual(o, TCPOptions{}) {
		t.Fatal("Reset left state behind")
	}
}

func TestTCPOptionsWrite(t *testing.T) {
	cases := []struct {
		name string
		o    TCPOptions
		want []byte
	}{
		{"linux syn", TCPOptions{HasMSS: true, MSS: 1460, SACKPermitted: true, HasTimestamps: true, TSVal: 0x01020304, HasWindowScale: true, WindowScale: 7},
			[]byte{2, 4, 5, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7}},
		{"data ts", TCPOptions{HasTimestamps: true, TSVal: 5, TSEcr: 6},
			[]byte{1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6}},
		{"syn no ts", TCPOptions{HasMSS: true, MSS: 1400, SACKPermitted: true, HasWindowScale: true, WindowScale: 9},
			[]byte{2, 4, 5, 0x78, 1, 1, 4, 2, 1, 3, 3, 9}},
		{"ts+sack", TCPOptions{HasTimestamps: true, TSVal: 1, TSEcr: 2, NumSACK: 1, SACK: [4]SACKBlock{{100, 200}}},
			[]byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 10, 0, 0, 0, 100, 0, 0, 0, 200}},
		{"ts+reserve 20", TCPOptions{HasTimestamps: true, TSVal: 1, TSEcr: 2, ReserveLen: 20},
			append([]byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, bytes.Repeat([]byte{1}, 20)...)},
		{"reserve 3", TCPOptions{ReserveLen: 3}, []byte{1, 1, 1, 1}},
		{"empty", TCPOptions{}, []byte{}},
	}
	for _, c := range cases {
		o := c.o
		n, err := TCPOptionsSize(&o)
		if err != nil || n != len(c.want) {
			t.Errorf("%s: size %d err %v, want %d", c.name, n, err, len(c.want))
			continue
		}
		buf := bytes.Repeat([]byte{0xee}, 48)
		w, res := WriteTCPOptions(buf, &o)
		if w != n || !bytes.Equal(buf[:w], c.want) || buf[w] != 0xee {
			t.Errorf("%s: wrote % x, want % x", c.name, buf[:w], c.want)
			continue
		}
		if o.ReserveLen > 0 && ((res+o.ReserveLen)%4 != 0 || res+o.ReserveLen > w) {
			t.Errorf("%s: reserved area [%d,%d) misplaced in %d bytes", c.name, res, res+o.ReserveLen, w)
		}
		var p TCPOptions
		if _, err := ParseTCPOptions(buf[:w], &p); err != nil {
			t.Errorf("%s: written options do not parse: %v", c.name, err)
		}
		o.ReserveLen = 0
		if !reflect.DeepEqual(p, o) {
			t.Errorf("%s: round trip %+v, want %+v", c.name, p, o)
		}
	}
}

func TestTCPOptionsSizeDecides(t *testing.T) {
	full := [4]SACKBlock{{1, 2}, {3, 4}, {5, 6}, {7, 8}}
	cases := []struct {
		o        TCPOptions
		size     int
		numSACK  int
		wantErr  error
		describe string
	}{
		{TCPOptions{NumSACK: 4, SACK: full}, 36, 4, nil, "4 blocks alone"},
		{TCPOptions{NumSACK: 4, SACK: full, HasTimestamps: true}, 40, 3, nil, "timestamps leave room for 3"},
		{TCPOptions{NumSACK: 4, SACK: full, HasTimestamps: true, ReserveLen: 12}, 36, 1, nil, "ts + 12 reserved: 1"},
		{TCPOptions{NumSACK: 4, SACK: full, HasTimestamps: true, ReserveLen: 8}, 40, 2, nil, "ts + 8-byte DATA_ACK: 2"},
		{TCPOptions{NumSACK: 4, SACK: full, HasTimestamps: true, ReserveLen: 20}, 32, 0, nil, "ts + 20-byte DSS: no SACK"},
		{TCPOptions{NumSACK: 2, SACK: full, HasTimestamps: true, ReserveLen: 26}, 40, 0, nil, "no room: SACK dropped"},
		{TCPOptions{HasMSS: true, ReserveLen: 40}, 0, 0, ErrOptionsTooLong, "over budget"},
		{TCPOptions{NumSACK: 5}, 0, 0, ErrOptionCount, "bad NumSACK"},
		{TCPOptions{ReserveLen: -1}, 0, 0, ErrOptionCount, "negative reserve"},
	}
	for _, c := range cases {
		o := c.o
		n, err := TCPOptionsSize(&o)
		if err != c.wantErr || (err == nil && (n != c.size || o.NumSACK != c.numSACK)) {
			t.Errorf("%s: size %d NumSACK %d err %v; want %d %d %v", c.describe, n, o.NumSACK, err, c.size, c.numSACK, c.wantErr)
		}
		if err == nil {
			buf := make([]byte, TCPMaxOptionsLen)
			if w, _ := WriteTCPOptions(buf, &o); w != n {
				t.Errorf("%s: wrote %d bytes, sized %d", c.describe, w, n)
			}
		}
	}
}

// TestTCPEncodeWithMPTCP walks the full two-phase write with a reserved
// area filled by the caller, as package mptcp will do.
func TestTCPEncodeWithMPTCP(t *testing.T) {
	mp := []byte{30, 7, 0x20, 0x01, 1, 2, 3} // a short kind-30 option (odd length: padding goes before it)
	o := TCPOptions{HasTimestamps: true, TSVal: 9, TSEcr: 8, ReserveLen: len(mp), NumSACK: 1, SACK: [4]SACKBlock{{1000, 2000}}}
	size, err := TCPOptionsSize(&o)
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte("hello, multipath")
	seg := make([]byte, TCPMinHeaderLen+size+len(payload))
	h := EncodeTCP(seg, &TCPFields{SrcPort: 1, DstPort: 2, Seq: 100, Ack: 200, Flags: TCPFlagACK | TCPFlagPSH, Window: 512, OptionsLen: size})
	w, res := WriteTCPOptions(seg[h:], &o)
	copy(seg[h+res:], mp)
	copy(seg[h+w:], payload)
	ps := PseudoHeaderSumIPv4(ip1, ip2, TCPProtocolNumber, uint16(len(seg)))
	TCP(seg).FinishChecksum(ps)

	tcp, n, err := ParseTCP(seg)
	if err != nil || n != TCPMinHeaderLen+size || !tcp.ChecksumValid(ps) || string(tcp.Payload()) != string(payload) {
		t.Fatalf("ParseTCP: n=%d err=%v", n, err)
	}
	var p TCPOptions
	if _, err := ParseTCPOptions(tcp.Options(), &p); err != nil {
		t.Fatal(err)
	}
	if p.NumMPTCP != 1 || !bytes.Equal(p.MPTCP[0], mp) || !p.HasTimestamps || p.TSVal != 9 || p.NumSACK != 1 || p.SACK[0] != o.SACK[0] {
		t.Fatalf("parsed back %+v", p)
	}
	// Incremental update of the ack number keeps the checksum valid.
	old := uint32(tcp.Ack())
	tcp.SetAck(0xdeadbeef)
	tcp.SetChecksum(UpdateChecksum32(tcp.Checksum(), old, 0xdeadbeef))
	if !tcp.ChecksumValid(ps) {
		t.Fatal("checksum invalid after incremental ack update")
	}
}

func TestEncodeTCPPanicsOnBadOptionsLen(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("EncodeTCP accepted OptionsLen 6")
		}
	}()
	EncodeTCP(make([]byte, 60), &TCPFields{OptionsLen: 6})
}

func TestTCPFlagsString(t *testing.T) {
	if s := (TCPFlagSYN | TCPFlagACK).String(); s != "SYN|ACK" {
		t.Fatal(s)
	}
	if s := TCPFlags(0).String(); s != "none" {
		t.Fatal(s)
	}
	if !(TCPFlagSYN | TCPFlagACK).Has(TCPFlagACK) || TCPFlagSYN.Has(TCPFlagSYN|TCPFlagACK) {
		t.Fatal("Has")
	}
}

func TestTCPOptionsRemaining(t *testing.T) {
	cases := []struct {
		o    TCPOptions
		want int
	}{
		{TCPOptions{}, 40},
		{TCPOptions{HasTimestamps: true, NumSACK: 3, ReserveLen: 12}, 28},
		{TCPOptions{HasMSS: true, SACKPermitted: true, HasTimestamps: true, HasWindowScale: true}, 20},
		{TCPOptions{HasMSS: true, SACKPermitted: true, HasWindowScale: true}, 28},
	}
	for _, c := range cases {
		got := TCPOptionsRemaining(&c.o)
		if got != c.want {
			t.Errorf("%+v: remaining %d, want %d", c.o, got, c.want)
		}
		// Reserving exactly what is left fits; one byte more (rounded up to
		// the next 4) does not.
		o := c.o
		o.ReserveLen = got
		if n, err := TCPOptionsSize(&o); err != nil || n > TCPMaxOptionsLen {
			t.Errorf("%+v: reserving %d: size %d err %v", c.o, got, n, err)
		}
		o.ReserveLen = got + 1
		if _, err := TCPOptionsSize(&o); err != ErrOptionsTooLong {
			t.Errorf("%+v: reserving %d: err %v, want ErrOptionsTooLong", c.o, got+1, err)
		}
	}
}
