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

// A second capture (same test, "join" case): the in-kernel path manager
// opened two extra subflows and both ends announced 127.0.0.3.
var kernelJoinVec = struct {
	clientKey, serverKey       Key
	addAddrServer, addAddrEcho string // server's announcement, client's echo
	addAddrClient              string // client's announcement
	joins                      [2][3]string
}{
	clientKey:     0x5aed3a67103c4cd5,
	serverKey:     0x6b098bcee029ba45,
	addAddrServer: "1e1030037f000003e71066782c352687",
	addAddrEcho:   "1e0831037f000003",
	addAddrClient: "1e1030037f000003df3c128cf0f88d0d",
	joins: [2][3]string{
		{"1e0c1000219cbe98f072c835", "1e101003ab23d4d921f068daba463241", "1e181000433242e8fe2801bd48d046662d04ed37a7c95d95"},
		{"1e0c1002219cbe9838bce6f4", "1e101000d1b495081eeec745cc4c1c4b", "1e18100064d811feea7ff92392ceb7147b05a2b1b492ba75"},
	},
}

func TestKernelJoinCaptureGolden(t *testing.T) {
	v := kernelJoinVec
	var h Hasher
	for i, j := range v.joins {
		syn, err := ParseJoin(hx(t, j[0]))
		if err != nil || syn.Form != JoinSYN {
			t.Fatalf("join %d SYN: %+v %v", i, syn, err)
		}
		if syn.Token != v.serverKey.Token() {
			t.Fatalf("join %d: token %#x, server's %#x", i, syn.Token, v.serverKey.Token())
		}
		synAck, err := ParseJoin(hx(t, j[1]))
		if err != nil || synAck.Form != JoinSYNACK {
			t.Fatalf("join %d SYN/ACK: %+v %v", i, synAck, err)
		}
		ack, err := ParseJoin(hx(t, j[2]))
		if err != nil || ack.Form != JoinACK {
			t.Fatalf("join %d ACK: %+v %v", i, ack, err)
		}
		// Server (B) answers with HMAC(KeyB||KeyA, R_B||R_A), leftmost 64 bits.
		macB := h.JoinHMAC(v.serverKey, v.clientKey, synAck.Nonce, syn.Nonce)
		if TruncatedJoinHMAC(&macB) != synAck.TruncatedHMAC {
			t.Fatalf("join %d: SYN/ACK HMAC %#x, ours %#x", i, synAck.TruncatedHMAC, TruncatedJoinHMAC(&macB))
		}
		// Client (A) proves itself with HMAC(KeyA||KeyB, R_A||R_B), 160 bits.
		macA := h.JoinHMAC(v.clientKey, v.serverKey, syn.Nonce, synAck.Nonce)
		if !bytes.Equal(ack.HMAC[:], macA[:JoinHMACLen]) {
			t.Fatalf("join %d: ACK HMAC %x, ours %x", i, ack.HMAC, macA[:JoinHMACLen])
		}
		// And our writer reproduces the three options.
		for k, o := range []Join{syn, synAck, ack} {
			buf := make([]byte, o.Size())
			o.Write(buf)
			if !bytes.Equal(buf, hx(t, j[k])) {
				t.Fatalf("join %d option %d: wrote %x, kernel sent %s", i, k, buf, j[k])
			}
		}
	}
	for _, c := range []struct {
		wire             string
		sender, receiver Key
	}{{v.addAddrServer, v.serverKey, v.clientKey}, {v.addAddrClient, v.clientKey, v.serverKey}} {
		a, err := ParseAddAddr(hx(t, c.wire))
		if err != nil || a.Echo || a.HasPort || a.Addr.String() != "127.0.0.3" || a.ID != 3 {
			t.Fatalf("ADD_ADDR %s: %+v %v", c.wire, a, err)
		}
		if want := h.AddAddrHMAC(c.sender, c.receiver, a.ID, a.Addr, 0); a.HMAC != want {
			t.Fatalf("ADD_ADDR HMAC %#x, ours %#x", a.HMAC, want)
		}
	}
	echo, err := ParseAddAddr(hx(t, v.addAddrEcho))
	if err != nil || !echo.Echo || echo.Addr.String() != "127.0.0.3" || echo.Size() != AddAddrLenV4Echo {
		t.Fatalf("ADD_ADDR echo: %+v %v", echo, err)
	}
}

// Options the kernel sent in the "join" case after the endpoints changed
// and the client aborted: MP_PRIO (note: 3 bytes, then a NOP), REMOVE_ADDR,
// MP_FASTCLOSE with the server's key, MP_TCPRST on the RST.
func TestKernelSentOptionsGolden(t *testing.T) {
	cases := []struct {
		area string
		want Option
	}{
		{"1e035101", Option{Subtype: SubtypePrio, Prio: Prio{Backup: true}}},
		{"1e044003", Option{Subtype: SubtypeRemoveAddr, RemoveAddr: RemoveAddr{IDs: []uint8{3}}}},
		{"1e0c7000756b84a28d6098cb1e048000", Option{Subtype: SubtypeFastClose, FastClose: FastClose{ReceiverKey: 0x756b84a28d6098cb}}},
		{"1e0c7000756b84a28d6098cb1e048000", Option{Subtype: SubtypeTCPRST, TCPRST: TCPRST{Reason: ResetUnspecified}}},
	}
	for _, c := range cases {
		var r Received
		if err := ParseTCPOptions(hx(t, c.area), &r); err != nil || !r.Present.Has(c.want.Subtype) {
			t.Fatalf("%s: present %b err %v", c.area, r.Present, err)
		}
		var got Option
		got.Subtype = c.want.Subtype
		switch c.want.Subtype {
		case SubtypePrio:
			got.Prio = r.Prio
		case SubtypeRemoveAddr:
			got.RemoveAddr = r.RemoveAddr
		case SubtypeFastClose:
			got.FastClose = r.FastClose
		case SubtypeTCPRST:
			got.TCPRST = r.TCPRST
		}
		w := make([]byte, got.Size())
		got.Write(w)
		if !bytes.Contains(hx(t, c.area), w) {
			t.Fatalf("%s: our %s bytes %x are not what the kernel sent", c.area, c.want.Subtype, w)
		}
		if got.Size() != c.want.Size() || got.Prio != c.want.Prio || got.FastClose != c.want.FastClose || got.TCPRST != c.want.TCPRST ||
			!bytes.Equal(got.RemoveAddr.IDs, c.want.RemoveAddr.IDs) {
			t.Fatalf("%s: parsed %+v, want %+v", c.area, got, c.want)
		}
	}
}
