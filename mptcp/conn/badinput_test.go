package conn

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

func TestJoinUnknownTokenRefused(t *testing.T) {
	tokens := mptcp.NewTokenTable[*Conn]()
	mib := mptcp.NewMIB(1)
	j := mptcp.Join{Form: mptcp.JoinSYN, Token: 0xdeadbeef, Nonce: 7}
	var opt [mptcp.JoinLenSYN]byte
	j.Write(opt[:])
	syn := tcp.Segment{Seq: 100, Flags: tcp.FlagSYN, Options: tcp.Options{MSS: 1460, Ext: opt[:]}}
	if k, tok := ClassifySYN(&syn); k != SYNJoin || tok != 0xdeadbeef {
		t.Fatalf("ClassifySYN = %v %x", k, tok)
	}
	_, _, err := AcceptJoin(tokens, mib.Worker(0), tcp.FourTuple{}, &syn, 1, 0)
	if err != ErrUnknownToken {
		t.Fatalf("err = %v, want ErrUnknownToken", err)
	}
	s := mib.Snapshot()
	if s.Get(mptcp.MibMPJoinNoTokenFound) != 1 || s.Get(mptcp.MibMPJoinSynRx) != 1 {
		t.Fatalf("NoTokenFound %d SynRx %d", s.Get(mptcp.MibMPJoinNoTokenFound), s.Get(mptcp.MibMPJoinSynRx))
	}
}

func TestClassifySYN(t *testing.T) {
	var b [4]byte
	(&mptcp.Capable{Version: 1, Flags: mptcp.CapableHMACSHA256}).Write(b[:])
	syn := tcp.Segment{Flags: tcp.FlagSYN, Options: tcp.Options{Ext: b[:]}}
	if k, _ := ClassifySYN(&syn); k != SYNNewConn {
		t.Errorf("MP_CAPABLE SYN classified %v", k)
	}
	syn.Options.Ext = nil
	if k, _ := ClassifySYN(&syn); k != SYNPlain {
		t.Errorf("plain SYN classified %v", k)
	}
	b[2] = 0x00 // version 0
	syn.Options.Ext = b[:]
	if k, _ := ClassifySYN(&syn); k != SYNPlain {
		t.Errorf("MP_CAPABLE v0 SYN classified %v, want plain", k)
	}
}

// corruptJoin flips a bit of the HMAC in MP_JOIN options of the given form.
func corruptJoin(form mptcp.JoinForm) func(int, tcpTuple, *tcpSegment) {
	done := false
	return func(_ int, _ tcpTuple, s *tcpSegment) {
		var r mptcp.Received
		_ = mptcp.ParseTCPOptions(s.Options.Ext, &r)
		if done || !r.Present.Has(mptcp.SubtypeJoin) || r.Join.Form != form {
			return
		}
		done = true
		b := append([]byte(nil), s.Options.Ext...)
		b[len(b)-1] ^= 1 // last byte of the HMAC (or nonce/HMAC tail)
		if form == mptcp.JoinSYNACK {
			// the truncated HMAC sits at bytes 4..11
			b[len(b)-1] ^= 1
			b[5] ^= 1
		}
		s.Options.Ext = b
	}
}

func joinWithCorruption(t *testing.T, seed uint64, client bool, form mptcp.JoinForm) (*host, *host) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, seed, Config{}, Config{}, a, b)
	cl.joinTo = 2
	if client {
		cl.mangle = corruptJoin(form)
	} else {
		sv.mangle = corruptJoin(form)
	}
	transfer(t, sim, cl, sv, 2<<20, time.Minute)
	return cl, sv
}

func TestJoinBadACKHMAC(t *testing.T) {
	cl, sv := joinWithCorruption(t, 30, true, mptcp.JoinACK)
	if sv.count(mptcp.MibMPJoinAckHMacFailure) != 1 || sv.count(mptcp.MibMPJoinAckRx) != 0 {
		t.Fatalf("server JoinAckHMacFailure %d JoinAckRx %d", sv.count(mptcp.MibMPJoinAckHMacFailure), sv.count(mptcp.MibMPJoinAckRx))
	}
	if cl.count(mptcp.MibMPRstRx) == 0 || sv.count(mptcp.MibMPRstTx) == 0 {
		t.Errorf("MP_TCPRST: server sent %d, client got %d", sv.count(mptcp.MibMPRstTx), cl.count(mptcp.MibMPRstRx))
	}
}

func TestJoinBadSYNACKHMAC(t *testing.T) {
	cl, _ := joinWithCorruption(t, 31, false, mptcp.JoinSYNACK)
	if cl.count(mptcp.MibMPJoinSynAckHMacFailure) != 1 {
		t.Fatalf("client JoinSynAckHMacFailure = %d", cl.count(mptcp.MibMPJoinSynAckHMacFailure))
	}
	if n := len(cl.conns[0].subflows); n != 2 || !cl.conns[0].subflows[1].closed {
		t.Fatalf("the join with a bad HMAC should be closed")
	}
}

func TestAddAddrBadHMACDropped(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 32, Config{}, Config{}, a, b)
	cl.toSend = 8 << 20
	cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return len(sv.conns) == 1 && sv.conns[0].FullyEstablished() })
	s := sv.conns[0]
	bad := true
	sv.mangle = func(_ int, _ tcpTuple, seg *tcpSegment) {
		var r mptcp.Received
		_ = mptcp.ParseTCPOptions(seg.Options.Ext, &r)
		if bad && r.Present.Has(mptcp.SubtypeAddAddr) {
			bad = false
			b := append([]byte(nil), seg.Options.Ext...)
			// flip a bit in the last HMAC byte of the ADD_ADDR
			for i := 0; i+1 < len(b); {
				if b[i] == 1 {
					i++
					continue
				}
				if b[i] == 30 && b[i+2]>>4 == 3 {
					b[i+int(b[i+1])-1] ^= 0x80
				}
				i += int(b[i+1])
			}
			seg.Options.Ext = b
		}
	}
	if !s.Announce(9, addr(1, 1), 0) {
		t.Fatal("Announce refused on an established connection")
	}
	sv.flush(sim.Now())
	sim.RunUntil(sim.Now()+200*time.Millisecond, nil)
	if !s.Announce(9, addr(1, 1), 0) {
		t.Fatal("second Announce refused")
	}
	sv.flush(sim.Now())
	sim.RunUntil(time.Minute, func() bool { return sv.eof })
	if cl.count(mptcp.MibAddAddrDrop) != 1 || cl.count(mptcp.MibAddAddr) != 1 {
		t.Fatalf("client AddAddrDrop %d (want 1), AddAddr %d (want 1)", cl.count(mptcp.MibAddAddrDrop), cl.count(mptcp.MibAddAddr))
	}
	if sv.count(mptcp.MibEchoAdd) != 1 {
		t.Errorf("server EchoAdd = %d, want 1 (client EchoAddTx %d)", sv.count(mptcp.MibEchoAdd), cl.count(mptcp.MibEchoAddTx))
	}
	if !cl.hasEvent(EventAnnounced) {
		t.Error("no ANNOUNCED event")
	}
	if len(s.announced) != 0 {
		t.Errorf("announcements still waiting for an echo: %+v", s.announced)
	}
	if sv.recvd != 8<<20 || !equalHash(sv, 8<<20) {
		t.Fatal("transfer damaged")
	}
}

// Forged data segments with mappings outside the window or contradicting
// an earlier mapping are refused and counted; the transfer still delivers
// the exact stream (the sender resends what the forged bytes displaced).
func TestForgedMappingsRefused(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 33, Config{}, Config{}, a, b, b)
	n := int64(8 << 20)
	cl.toSend = n
	cl.joinTo = 3
	cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return sv.recvd > n/3 })
	s := sv.conns[0]
	forgeOn := func(sf *Subflow, seqOff uint32, dsn uint64) {
		d := mptcp.DSS{HasMap: true, DSN64: true, DSN: dsn, SubflowSeq: uint32(sf.rxNxt-sf.irs) + seqOff, DataLen: 100}
		var opt [32]byte
		k := d.Write(opt[:])
		seg := tcp.Segment{Seq: sf.rxNxt + tcpSeq(seqOff), Ack: sf.ep.SndNxt(), Flags: tcp.FlagACK, Window: 1000,
			Options: tcp.Options{Ext: opt[:k]}, Payload: make([]byte, 100)}
		s.Input(sf, &seg, sim.Now())
	}
	far := s.rcvBase + s.rcv.limit() + 1<<40
	forgeOn(s.subflows[1], 30000, far) // outside the connection window
	if sv.count(mptcp.MibNoDSSInWindow) != 1 {
		t.Fatalf("NoDSSInWindow = %d, want 1", sv.count(mptcp.MibNoDSSInWindow))
	}
	if sv.count(mptcp.MibDSSCorruptionReset) != 1 {
		t.Fatalf("DSSCorruptionReset = %d: the subflow with the refused mapping was not reset", sv.count(mptcp.MibDSSCorruptionReset))
	}
	old := s.rcvBase + s.rcv.nxt - 5000
	forgeOn(s.subflows[2], 40000, old) // plausible (a duplicate of old data)
	before := sv.count(mptcp.MibDSSNotMatching)
	forgeOn(s.subflows[2], 40000, old-4000) // contradicts the previous one
	if got := sv.count(mptcp.MibDSSNotMatching) - before; got != 1 {
		t.Fatalf("DSSNotMatching grew by %d, want 1", got)
	}
	if sv.count(mptcp.MibDSSCorruptionReset) != 2 {
		t.Fatalf("DSSCorruptionReset = %d, want 2", sv.count(mptcp.MibDSSCorruptionReset))
	}
	sv.flush(sim.Now())
	sim.RunUntil(2*time.Minute, func() bool { return sv.eof })
	if !sv.eof || sv.recvd != n || !equalHash(sv, n) {
		dumpConn(t, "client", cl.conns[0])
		dumpConn(t, "server", s)
		t.Fatalf("stream damaged by forged mappings: eof %v, %d of %d bytes", sv.eof, sv.recvd, n)
	}
}

// A lost ADD_ADDR is sent again until its echo arrives.
func TestAddAddrResentUntilEchoed(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 34, Config{}, Config{}, a, b)
	cl.toSend = 100 << 20
	cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return len(sv.conns) == 1 && sv.conns[0].FullyEstablished() })
	drops := 0
	cl.drop = func(_ int, seg *tcpSegment) bool {
		var r mptcp.Received
		_ = mptcp.ParseTCPOptions(seg.Options.Ext, &r)
		if drops < 2 && r.Present.Has(mptcp.SubtypeAddAddr) {
			drops++
			return true
		}
		return false
	}
	s := sv.conns[0]
	s.Announce(3, addr(1, 1), 0)
	sv.flush(sim.Now())
	sim.RunUntil(time.Minute, func() bool { return sv.eof })
	if drops != 2 || sv.count(mptcp.MibAddAddrTx) != 3 || cl.count(mptcp.MibAddAddr) != 1 || sv.count(mptcp.MibEchoAdd) != 1 {
		t.Fatalf("drops %d AddAddrTx %d (want 3) client AddAddr %d EchoAdd %d", drops, sv.count(mptcp.MibAddAddrTx), cl.count(mptcp.MibAddAddr), sv.count(mptcp.MibEchoAdd))
	}
}

func TestRefuseSYN(t *testing.T) {
	syn := tcp.Segment{Seq: 1000, Flags: tcp.FlagSYN}
	var buf [8]byte
	rst := RefuseSYN(&syn, mptcp.ResetMPTCPError, buf[:])
	if rst.Flags != tcp.FlagRST|tcp.FlagACK || rst.Ack != 1001 || rst.Seq != 0 {
		t.Fatalf("RST %+v", rst)
	}
	var r mptcp.Received
	if err := mptcp.ParseTCPOptions(rst.Options.Ext, &r); err != nil || !r.Present.Has(mptcp.SubtypeTCPRST) || r.TCPRST.Reason != mptcp.ResetMPTCPError {
		t.Fatalf("options %x: %v %+v", rst.Options.Ext, err, r.TCPRST)
	}
	if want := []byte{30, 4, 0x80, 0x01}; string(rst.Options.Ext) != string(want) {
		t.Fatalf("MP_TCPRST bytes %x, want %x", rst.Options.Ext, want)
	}
}

// A mapping far beyond the receive buffer (DATA_ACK + 8 MiB, 4 MiB
// buffer) on in-order subflow data: the data is dropped and counted as
// NoDSSInWindow, never as queued out of order (OFOQueue), and nothing is
// recorded; data ahead but within the buffer is queued and counted.
func TestMappingBeyondBufferNotQueued(t *testing.T) {
	const buf = 4 << 20
	sim, cl, sv := pair(t, 35, Config{}, Config{RecvBufSize: buf}, fastPath)
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return len(sv.conns) == 1 && sv.conns[0].FullyEstablished() && c.FullyEstablished() })
	s := sv.conns[0]
	sf := s.sf0()
	if got := s.rcv.limit() - s.rcv.nxt; got != buf {
		t.Fatalf("receive buffer %d bytes, want %d", got, buf)
	}
	// forge delivers 100 in-order subflow bytes mapped at DATA_ACK + ahead.
	forge := func(ahead uint64) {
		d := mptcp.DSS{HasMap: true, DSN64: true, DSN: s.dataAck() + ahead, SubflowSeq: uint32(sf.rxNxt - sf.irs), DataLen: 100}
		var opt [32]byte
		k := d.Write(opt[:])
		seg := tcp.Segment{Seq: sf.rxNxt, Ack: sf.ep.SndNxt(), Flags: tcp.FlagACK, Window: 1000,
			Options: tcp.Options{Ext: opt[:k]}, Payload: make([]byte, 100)}
		s.Input(sf, &seg, sim.Now())
	}
	nxt := s.rcv.nxt
	ofo, oow := sv.count(mptcp.MibOFOQueue), sv.count(mptcp.MibNoDSSInWindow)
	forge(1 << 20) // ahead, within the buffer: queued
	if sv.count(mptcp.MibOFOQueue) != ofo+1 || len(s.rcv.ooo.r) != 1 {
		t.Fatalf("in-buffer data ahead: OFOQueue +%d, %d ranges held; want +1, 1", sv.count(mptcp.MibOFOQueue)-ofo, len(s.rcv.ooo.r))
	}
	forge(8 << 20) // beyond the buffer: dropped
	if d := sv.count(mptcp.MibNoDSSInWindow) - oow; d != 1 {
		t.Errorf("NoDSSInWindow +%d, want +1", d)
	}
	if d := sv.count(mptcp.MibOFOQueue) - ofo; d != 1 {
		t.Errorf("OFOQueue +%d after the data beyond the buffer, want +1 (only the in-buffer one)", d)
	}
	if s.rcv.nxt != nxt || len(s.rcv.ooo.r) != 1 || s.rcv.ooo.bytes() != 100 {
		t.Errorf("receive state changed by dropped data: nxt +%d, ranges %v", s.rcv.nxt-nxt, s.rcv.ooo.r)
	}
}
