package mptcp

import (
	"net/netip"
	"testing"
)

func TestFitDefersAddAddrBehindTimestamps(t *testing.T) {
	var o Out
	o.Want = Set(0).With(SubtypeDSS).With(SubtypeAddAddr)
	o.DSS = DSS{HasAck: true, DataAck: 1000, HasMap: true, DSN: 5000, SubflowSeq: 1, DataLen: 1400} // 18 bytes
	o.AddAddr = AddAddr{ID: 1, Addr: netip.MustParseAddr("192.0.2.1"), HMAC: 42}                    // 16 bytes

	// No timestamps: 40 bytes of space, 18+16 = 34, padded 36: both fit.
	send, deferred, size := o.Fit(MaxTCPOptionSpace)
	if send != o.Want || deferred != 0 || size != 36 {
		t.Fatalf("40 bytes: send=%b deferred=%b size=%d, want both and 36", send, deferred, size)
	}
	// Timestamps take 12 (NOP NOP TS): 28 left, 34 does not fit: ADD_ADDR waits.
	send, deferred, size = o.Fit(MaxTCPOptionSpace - 12)
	if send != Set(0).With(SubtypeDSS) || deferred != Set(0).With(SubtypeAddAddr) || size != 20 {
		t.Fatalf("28 bytes: send=%b deferred=%b size=%d", send, deferred, size)
	}
	buf := make([]byte, size)
	if n := o.Write(buf, send); n != size {
		t.Fatalf("Write = %d, want %d", n, size)
	}
	if buf[18] != tcpOptNOP || buf[19] != tcpOptNOP {
		t.Fatalf("padding %x, want NOP NOP", buf[18:])
	}
	var r Received
	if err := ParseTCPOptions(buf, &r); err != nil || r.Present != send || r.DSS != o.DSS {
		t.Fatalf("read back %+v err %v", r, err)
	}

	// A pure ACK (DATA_ACK only, 8 bytes) leaves room for the ADD_ADDR.
	o.DSS = DSS{HasAck: true, DataAck: 1000}
	send, deferred, size = o.Fit(MaxTCPOptionSpace - 12)
	if send != o.Want || deferred != 0 || size != 24 {
		t.Fatalf("pure ACK: send=%b deferred=%b size=%d", send, deferred, size)
	}
}

func TestFitPriorityAndWrite(t *testing.T) {
	var o Out
	o.Want = Set(0).With(SubtypePrio).With(SubtypeDSS).With(SubtypeFail).With(SubtypeRemoveAddr)
	o.DSS = DSS{HasAck: true, Ack64: true, DataAck: 1, HasMap: true, DSN64: true, DSN: 2, SubflowSeq: 3, DataLen: 4,
		HasChecksum: true, Checksum: 5} // 28
	o.Fail = Fail{DSN: 7}                                                  // 12
	o.Prio = Prio{Backup: true}                                            // 3
	o.RemoveAddr = RemoveAddr{IDs: []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}} // 13
	send, deferred, size := o.Fit(MaxTCPOptionSpace)
	// MP_FAIL comes before DSS: 12+28 = 40; REMOVE_ADDR and MP_PRIO wait.
	if send != Set(0).With(SubtypeFail).With(SubtypeDSS) || deferred != Set(0).With(SubtypeRemoveAddr).With(SubtypePrio) || size != 40 {
		t.Fatalf("send=%b deferred=%b size=%d", send, deferred, size)
	}
	buf := make([]byte, 40)
	o.Write(buf, send)
	if buf[2]>>4 != uint8(SubtypeFail) || buf[12+2]>>4 != uint8(SubtypeDSS) {
		t.Fatalf("order wrong: %x", buf)
	}
	// With room, the small ones still get in after a deferral.
	o.Want = o.Want.Without(SubtypeFail)
	send, deferred, size = o.Fit(MaxTCPOptionSpace)
	if send != Set(0).With(SubtypeDSS).With(SubtypePrio) || deferred != Set(0).With(SubtypeRemoveAddr) || size != 32 {
		t.Fatalf("send=%b deferred=%b size=%d", send, deferred, size)
	}
	// Nothing wanted: nothing written.
	o.Want = 0
	if send, deferred, size = o.Fit(40); send != 0 || deferred != 0 || size != 0 {
		t.Fatalf("empty: %b %b %d", send, deferred, size)
	}
	// A Join without a form has no size and is skipped.
	o.Want = Set(0).With(SubtypeJoin)
	if send, _, size = o.Fit(40); send != 0 || size != 0 {
		t.Fatalf("formless join: %b %d", send, size)
	}
}

func TestOutHandshakeOptions(t *testing.T) {
	var o Out
	o.Want = Set(0).With(SubtypeCapable)
	o.Capable = Capable{Version: Version1, Flags: CapableHMACSHA256, Keys: 2, SenderKey: 1, ReceiverKey: 2}
	// Third ACK with timestamps: 20 bytes in 28.
	send, _, size := o.Fit(28)
	if send != o.Want || size != 20 {
		t.Fatalf("MP_CAPABLE ACK: %b %d", send, size)
	}
	o.Want = Set(0).With(SubtypeJoin)
	o.Join = Join{Form: JoinACK}
	if send, _, size = o.Fit(28); send != o.Want || size != 24 {
		t.Fatalf("MP_JOIN ACK: %b %d", send, size)
	}
}
