package mptcp

import (
	"net/netip"
	"testing"
)

var (
	benchDSS  = []byte{30, 28, 0x20, 0x0f, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0x05, 0xa0, 0xff, 0xff}
	benchArea = []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2,
		30, 26, 0x20, 0x0f, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0x05, 0xa0, 1, 1}
)

func TestParseAndWriteNoAllocs(t *testing.T) {
	var r Received
	var o Out
	o.Want = Set(0).With(SubtypeDSS).With(SubtypeAddAddr)
	o.DSS = DSS{HasAck: true, DataAck: 1, HasMap: true, DSN: 2, SubflowSeq: 3, DataLen: 4}
	o.AddAddr = AddAddr{ID: 1, Addr: netip.MustParseAddr("2001:db8::2"), HasPort: true, Port: 1}
	buf := make([]byte, 40)
	n := testing.AllocsPerRun(100, func() {
		if _, _, err := ParseOption(benchDSS); err != nil {
			t.Fatal(err)
		}
		if err := ParseTCPOptions(benchArea, &r); err != nil {
			t.Fatal(err)
		}
		send, _, _ := o.Fit(28)
		o.Write(buf, send)
	})
	if n != 0 {
		t.Fatalf("%v allocations per parse+fit+write", n)
	}
}

func BenchmarkParseOptionDSS(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseOption(benchDSS); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDSS(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDSS(benchDSS); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTCPOptions(b *testing.B) {
	var r Received
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseTCPOptions(benchArea, &r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOutFitWriteDSS(b *testing.B) {
	var o Out
	o.Want = Set(0).With(SubtypeDSS)
	o.DSS = DSS{HasAck: true, Ack64: true, DataAck: 1, HasMap: true, DSN64: true, DSN: 2, SubflowSeq: 3, DataLen: 1448}
	buf := make([]byte, 40)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		o.DSS.DSN += 1448
		send, _, _ := o.Fit(28)
		o.Write(buf, send)
	}
}
