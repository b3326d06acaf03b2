package conn

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// FuzzConnOptions feeds arbitrary MPTCP option bytes (on a segment with a
// fuzzed sequence offset, flags and payload length) to an established
// connection: it must not panic, and its buffers must stay consistent.
func FuzzConnOptions(f *testing.F) {
	add := func(o mptcp.Option, off int32, flags uint8, plen uint16) {
		b := make([]byte, 40)
		n := o.Write(b)
		f.Add(b[:n], off, flags, plen)
	}
	add(mptcp.Option{Subtype: mptcp.SubtypeDSS, DSS: mptcp.DSS{HasAck: true, DataAck: 12345, HasMap: true, DSN: 99, SubflowSeq: 1, DataLen: 100}}, 0, 0x10, 100)
	add(mptcp.Option{Subtype: mptcp.SubtypeDSS, DSS: mptcp.DSS{HasMap: true, DSN64: true, DSN: 1 << 40, SubflowSeq: 5, DataLen: 0}}, 0, 0x10, 10)
	add(mptcp.Option{Subtype: mptcp.SubtypeDSS, DSS: mptcp.DSS{HasMap: true, DSN: 7, DataLen: 1, DataFin: true}}, 0, 0x11, 0)
	add(mptcp.Option{Subtype: mptcp.SubtypePrio, Prio: mptcp.Prio{Backup: true}}, 0, 0x10, 0)
	add(mptcp.Option{Subtype: mptcp.SubtypeFastClose, FastClose: mptcp.FastClose{ReceiverKey: 1}}, 0, 0x04, 0)
	add(mptcp.Option{Subtype: mptcp.SubtypeTCPRST, TCPRST: mptcp.TCPRST{Reason: 1}}, 0, 0x14, 0)
	add(mptcp.Option{Subtype: mptcp.SubtypeFail, Fail: mptcp.Fail{DSN: 3}}, 0, 0x10, 0)
	add(mptcp.Option{Subtype: mptcp.SubtypeRemoveAddr, RemoveAddr: mptcp.RemoveAddr{IDs: []uint8{1, 2}}}, 0, 0x10, 0)
	add(mptcp.Option{Subtype: mptcp.SubtypeJoin, Join: mptcp.Join{Form: mptcp.JoinACK}}, 0, 0x10, 0)
	add(mptcp.Option{Subtype: mptcp.SubtypeCapable, Capable: mptcp.Capable{Version: 1, Keys: 2, HasDataLen: true, DataLen: 50}}, 0, 0x10, 50)
	f.Add([]byte{30, 2}, int32(-100), uint8(0x12), uint16(3))
	f.Fuzz(func(t *testing.T, opts []byte, off int32, flags uint8, plen uint16) {
		if len(opts) > 40 {
			opts = opts[:40]
		}
		a, _ := twoPaths()
		sim, cl, sv := pair(t, 7, Config{Checksum: off&1 == 0}, Config{}, a)
		cl.toSend = 256 << 10
		cl.dial(0)
		sim.RunUntil(time.Minute, func() bool { return sv.recvd > 64<<10 })
		if len(sv.conns) == 0 {
			t.Fatal("no connection")
		}
		s := sv.conns[0]
		sf := s.subflows[0]
		payload := make([]byte, int(plen)%1500)
		seg := tcp.Segment{Seq: sf.ep.RcvNxt() + tcpSeq(off), Ack: sf.ep.SndNxt(), Flags: tcp.Flags(flags) | tcp.FlagACK, Window: 500,
			Options: tcp.Options{Ext: opts}, Payload: payload}
		s.Input(sf, &seg, sim.Now())
		sv.flush(sim.Now())
		sim.RunUntil(sim.Now()+30*time.Second, func() bool { return sv.eof })
		if s.bufReady && (s.rcv.read > s.rcv.nxt || s.dataUna > s.sndMax || s.snd.base > s.snd.end) {
			t.Fatalf("inconsistent: read %d nxt %d dataUna %d sndMax %d", s.rcv.read, s.rcv.nxt, s.dataUna, s.sndMax)
		}
		if sv.eof && sv.recvd == 256<<10 && !equalHash(sv, 256<<10) {
			// Forged in-window payload under a valid mapping can change
			// bytes without checksums (as in TCP); with checksums it must not.
			if cl.conns[0].Checksums() {
				t.Fatal("stream changed although DSS checksums are on")
			}
		}
	})
}
