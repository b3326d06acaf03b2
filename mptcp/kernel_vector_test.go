package mptcp

import (
	"bytes"
	"testing"
)

// One MPTCP v1 exchange between two Linux 6.18 kernel sockets with DSS
// checksums on, captured on lo by TestKernelMPTCPKnownAnswer: the TCP option
// areas of the handshake, the client's first data and the server's reply,
// and the tokens the kernel reported through MPTCP_INFO.
var kernelVec = struct {
	synOpts, synAckOpts, ackOpts, dataOpts string
	request                                string
	replyOpts, replyRetransOpts            string
	reply                                  string
	clientToken, serverToken               uint32 // MPTCP_INFO mptcpi_token
	clientWriteSeq, serverWriteSeq         uint64 // MPTCP_INFO mptcpi_write_seq after the exchange
}{
	synOpts:          "0204ffd7 0402 080af65a9bbd00000000 01 03030a 1e040181",
	synAckOpts:       "0204ffd7 0402 080aad97f9b8f65a9bbd 01 03030a 1e0c0181c94c37856187d4c9",
	ackOpts:          "0101 080af65a9bbdad97f9b8 1e14018123e954e5aadb1990c94c37856187d4c9",
	dataOpts:         "0101 080af65a9bbdad97f9b8 1e18018123e954e5aadb1990c94c37856187d4c9000cdcdc",
	request:          "hello, mptcp",
	replyOpts:        "0101 080aad97f9b8f65a9bbd 1e1c200f60f6a7cc034bdec30d69868e358953e000000001001ecf35",
	replyRetransOpts: "0101 080aad97fa88f65a9bbd 1e1c200f60f6a7cc034bdec30d69868e358953e00000001f001ecf17",
	reply:            "known answers, from the kernel",
	clientToken:      883177804,
	serverToken:      2937105839,
	clientWriteSeq:   6986956366582374083,
	serverWriteSeq:   966451540389352446,
}

func TestKernelCaptureGolden(t *testing.T) {
	v := kernelVec
	var r Received
	parse := func(name, opts string, want Subtype) Received {
		t.Helper()
		if err := ParseTCPOptions(hx(t, opts), &r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Present != Set(0).With(want) || r.Invalid != 0 {
			t.Fatalf("%s: present %b invalid %b", name, r.Present, r.Invalid)
		}
		return r
	}
	syn := parse("SYN", v.synOpts, SubtypeCapable)
	if syn.Capable.Size() != CapableLenSYN || syn.Capable.Version != 1 || syn.Capable.Flags != CapableChecksum|CapableHMACSHA256 {
		t.Fatalf("SYN MP_CAPABLE %+v", syn.Capable)
	}
	synAck := parse("SYN/ACK", v.synAckOpts, SubtypeCapable)
	serverKey := synAck.Capable.SenderKey
	ack := parse("ACK", v.ackOpts, SubtypeCapable)
	clientKey := ack.Capable.SenderKey
	if ack.Capable.ReceiverKey != serverKey || ack.Capable.Size() != CapableLenACK {
		t.Fatalf("third ACK %+v", ack.Capable)
	}

	// Tokens: the kernel's, from MPTCP_INFO.
	if clientKey.Token() != v.clientToken || serverKey.Token() != v.serverToken {
		t.Fatalf("tokens %#x %#x, kernel %#x %#x", clientKey.Token(), serverKey.Token(), v.clientToken, v.serverToken)
	}
	// Data-level sequence numbers after the exchange: IDSN + 1 + bytes sent.
	if clientKey.IDSN()+1+uint64(len(v.request)) != v.clientWriteSeq || serverKey.IDSN()+1+uint64(len(v.reply)) != v.serverWriteSeq {
		t.Fatalf("IDSNs %#x %#x do not match the kernel's write_seq %#x %#x", clientKey.IDSN(), serverKey.IDSN(), v.clientWriteSeq, v.serverWriteSeq)
	}

	// The client's first data: implicit mapping at IDSN+1, subflow seq 1.
	data := parse("first data", v.dataOpts, SubtypeCapable)
	c := data.Capable
	if !c.HasChecksum || int(c.DataLen) != len(v.request) {
		t.Fatalf("first data MP_CAPABLE %+v", c)
	}
	if want := DSSChecksum(clientKey.IDSN()+1, 1, c.DataLen, ChecksumAdd(0, []byte(v.request))); c.Checksum != want {
		t.Fatalf("first data checksum %#04x, ours %#04x", c.Checksum, want)
	}

	// The server's reply and its MPTCP-level retransmission.
	for _, opts := range []string{v.replyOpts, v.replyRetransOpts} {
		rep := parse("reply", opts, SubtypeDSS)
		d := rep.DSS
		if !d.HasAck || !d.Ack64 || d.DataAck != clientKey.IDSN()+1+uint64(len(v.request)) {
			t.Fatalf("reply DATA_ACK %+v", d)
		}
		if !d.HasMap || !d.DSN64 || d.DSN != serverKey.IDSN()+1 || int(d.DataLen) != len(v.reply) {
			t.Fatalf("reply mapping %+v, want DSN %#x", d, serverKey.IDSN()+1)
		}
		if want := DSSChecksum(d.DSN, d.SubflowSeq, d.DataLen, ChecksumAdd(0, []byte(v.reply))); d.Checksum != want {
			t.Fatalf("reply checksum %#04x (subflow seq %d), ours %#04x", d.Checksum, d.SubflowSeq, want)
		}
	}

	// Our writers produce the kernel's bytes.
	o := Out{Want: Set(0).With(SubtypeCapable), Capable: Capable{Version: 1, Flags: CapableChecksum | CapableHMACSHA256,
		Keys: 2, SenderKey: clientKey, ReceiverKey: serverKey, HasDataLen: true, DataLen: uint16(len(v.request)), HasChecksum: true,
		Checksum: DSSChecksum(clientKey.IDSN()+1, 1, uint16(len(v.request)), ChecksumAdd(0, []byte(v.request)))}}
	send, _, size := o.Fit(MaxTCPOptionSpace - 12)
	buf := make([]byte, size)
	o.Write(buf, send)
	if want := hx(t, v.dataOpts)[12:]; !bytes.Equal(buf, want) {
		t.Fatalf("our first-data option %x, kernel's %x", buf, want)
	}
	o = Out{Want: Set(0).With(SubtypeDSS), DSS: DSS{HasAck: true, Ack64: true, DataAck: clientKey.IDSN() + 1 + uint64(len(v.request)),
		HasMap: true, DSN64: true, DSN: serverKey.IDSN() + 1, SubflowSeq: 1, DataLen: uint16(len(v.reply)), HasChecksum: true}}
	o.DSS.Checksum = DSSChecksum(o.DSS.DSN, 1, o.DSS.DataLen, ChecksumAdd(0, []byte(v.reply)))
	send, _, size = o.Fit(MaxTCPOptionSpace - 12)
	buf = make([]byte, size)
	o.Write(buf, send)
	if want := hx(t, v.replyOpts)[12:]; !bytes.Equal(buf, want) {
		t.Fatalf("our reply DSS %x, kernel's %x", buf, want)
	}
}
