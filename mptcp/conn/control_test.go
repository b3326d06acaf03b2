package conn

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/pm"
	"github.com/mpxdp/mpxdp/mptcp/sched"
)

// A path that corrupts payload bytes is caught by DSS checksums: the
// subflow is reset, and the data arrives intact over the other path.
func TestChecksumCatchesCorruption(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 40, Config{Checksum: true}, Config{Checksum: true}, a, b)
	cl.joinTo = 2
	corrupted := 0
	cl.mangle = func(p int, _ tcpTuple, s *tcpSegment) {
		if p == 1 && len(s.Payload) > 100 && corrupted < 1 && sim.Now() > 300*time.Millisecond {
			corrupted++
			s.Payload[50] ^= 0x5a // the frame buffer belongs to the sender: corrupt "on the wire"
		}
	}
	transfer(t, sim, cl, sv, 8<<20, 2*time.Minute)
	if corrupted == 0 {
		t.Fatal("nothing was corrupted")
	}
	if sv.count(mptcp.MibDataCsumErr) != 1 || sv.count(mptcp.MibDSSCorruptionReset) != 1 {
		t.Fatalf("DataCsumErr %d DSSCorruptionReset %d, want 1 and 1", sv.count(mptcp.MibDataCsumErr), sv.count(mptcp.MibDSSCorruptionReset))
	}
	if cl.count(mptcp.MibMPRstRx) == 0 {
		t.Error("client did not get MP_TCPRST")
	}
}

func TestFastClose(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 41, Config{}, Config{}, a, b)
	cl.joinTo = 2
	cl.toSend = 32 << 20
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return sv.recvd > 1<<20 && len(sv.conns[0].subflows) == 2 })
	c.Abort()
	cl.flush(sim.Now())
	sim.RunUntil(sim.Now()+time.Second, nil)
	s := sv.conns[0]
	if s.Err() != ErrFastClose {
		t.Fatalf("server Err = %v, want ErrFastClose", s.Err())
	}
	if cl.count(mptcp.MibMPFastcloseTx) == 0 || sv.count(mptcp.MibMPFastcloseRx) == 0 {
		t.Fatalf("FastcloseTx %d FastcloseRx %d", cl.count(mptcp.MibMPFastcloseTx), sv.count(mptcp.MibMPFastcloseRx))
	}
	for i, sf := range s.subflows {
		if !sf.closed {
			t.Errorf("server subflow %d still open", i)
		}
	}
	if !sv.hasEvent(EventClosed) {
		t.Error("no CLOSED event")
	}
	if sv.tokens.Len() != 0 {
		t.Error("server still holds the token")
	}
}

// MP_PRIO: the client marks path 0 backup; the server sees it and sends
// on path 1 only; data moves both ways.
func TestPrioBackup(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 42, Config{}, Config{}, a, b)
	cl.joinTo = 2
	sv.toSend = 8 << 20
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool {
		return len(c.subflows) == 2 && c.subflows[1].dataReady() && len(sv.conns) == 1 && len(sv.conns[0].subflows) == 2
	})
	c.SetBackup(c.subflows[0], true)
	cl.flush(sim.Now())
	sim.RunUntil(sim.Now()+100*time.Millisecond, nil)
	s := sv.conns[0]
	if !s.subflows[0].Backup() {
		t.Fatal("server did not mark subflow 0 backup")
	}
	if sv.count(mptcp.MibMPPrioRx) != 1 || cl.count(mptcp.MibMPPrioTx) != 1 {
		t.Fatalf("MPPrioRx %d MPPrioTx %d", sv.count(mptcp.MibMPPrioRx), cl.count(mptcp.MibMPPrioTx))
	}
	before := s.subflows[0].bytesSent
	sim.RunUntil(2*time.Minute, func() bool { return cl.eof && sv.eof })
	if !cl.eof || cl.recvd != 8<<20 || !equalHash(cl, 8<<20) {
		t.Fatalf("download incomplete: %d bytes", cl.recvd)
	}
	if d := s.subflows[0].bytesSent - before; d > 64<<10 {
		t.Errorf("backup subflow carried %d bytes while the other one was usable", d)
	}
	if !sv.hasEvent(EventSubflowPriority) {
		t.Error("no SF_PRIORITY event")
	}
}

func TestCongestionControlPerConnection(t *testing.T) {
	for _, name := range []string{"lia", "olia", "balia", "cubic", "reno"} {
		t.Run(name, func(t *testing.T) {
			a, b := twoPaths()
			sim, cl, sv := pair(t, 43, Config{CC: name}, Config{CC: name}, a, b)
			cl.joinTo = 2
			transfer(t, sim, cl, sv, 4<<20, time.Minute)
			for i, sf := range cl.conns[0].subflows {
				if got := sf.ctl.Name(); got != name {
					t.Errorf("subflow %d runs %q, want %q", i, got, name)
				}
			}
		})
	}
	if _, err := newConn(Config{Tokens: mptcp.NewTokenTable[*Conn](), CC: "nope"}, true); err == nil {
		t.Error("unknown CC name accepted")
	}
}

func TestSchedulersEndToEnd(t *testing.T) {
	for _, name := range []string{"default", "roundrobin", "redundant"} {
		t.Run(name, func(t *testing.T) {
			s, err := sched.New(name)
			if err != nil {
				t.Fatal(err)
			}
			a, b := twoPaths()
			sim, cl, sv := pair(t, 44, Config{Scheduler: s}, Config{}, a, b)
			cl.joinTo = 2
			n := int64(4 << 20)
			transfer(t, sim, cl, sv, n, time.Minute)
			sfs := cl.conns[0].subflows
			if name == "redundant" {
				for i, sf := range sfs {
					if sf.bytesSent < uint64(n)/2 {
						t.Errorf("redundant: subflow %d sent %d of %d bytes", i, sf.bytesSent, n)
					}
				}
			}
			if name == "roundrobin" && (sfs[0].bytesSent < uint64(n)/4 || sfs[1].bytesSent < uint64(n)/4) {
				t.Errorf("roundrobin: %d / %d bytes", sfs[0].bytesSent, sfs[1].bytesSent)
			}
		})
	}
}

// On a single-subflow connection a DSS checksum failure makes the receiver
// send MP_FAIL; the sender answers with an infinite mapping, resends from
// DATA_ACK, and both continue as TCP: the stream stays intact.
func TestChecksumFailureSingleSubflowFallsBack(t *testing.T) {
	a, _ := twoPaths()
	sim, cl, sv := pair(t, 45, Config{Checksum: true}, Config{}, a)
	corrupted := 0
	cl.mangle = func(p int, _ tcpTuple, s *tcpSegment) {
		if len(s.Payload) > 100 && corrupted < 1 && sim.Now() > 200*time.Millisecond {
			corrupted++
			s.Payload[70] ^= 0x11
		}
	}
	transfer(t, sim, cl, sv, 6<<20, 2*time.Minute)
	if corrupted == 0 {
		t.Fatal("nothing was corrupted")
	}
	for _, x := range []struct {
		h *host
		c mptcp.Counter
	}{{sv, mptcp.MibDataCsumErr}, {sv, mptcp.MibMPFailTx}, {cl, mptcp.MibMPFailRx}, {cl, mptcp.MibInfiniteMapTx}, {sv, mptcp.MibInfiniteMapRx}} {
		if x.h.count(x.c) == 0 {
			t.Errorf("%s: %v = 0", x.h.name, x.c)
		}
	}
	if !cl.conns[0].Fallback() || !sv.conns[0].Fallback() {
		t.Errorf("fallback: client %v server %v", cl.conns[0].Fallback(), sv.conns[0].Fallback())
	}
}

// A backup subflow (MP_JOIN with the B flag, from a pm backup endpoint)
// carries nothing while the primary path works, and takes over when the
// primary stalls.
func TestBackupSubflowTakesOver(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 46, Config{}, Config{}, a, b)
	cl.pmCfg = &pm.Config{Endpoints: []pm.Endpoint{{ID: 1, Addr: addr(0, 1), Flags: pm.Subflow | pm.Backup}}}
	n := int64(40 << 20)
	cl.toSend = n
	var down bool
	cl.drop = func(p int, _ *tcpSegment) bool { return down && p == 0 }
	sv.drop = cl.drop
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return sv.recvd > n/4 })
	if len(c.subflows) != 2 || !c.subflows[1].Backup() {
		t.Fatalf("no backup subflow (%d subflows)", len(c.subflows))
	}
	if sv.count(mptcp.MibMPJoinSynBackupRx) != 1 || !sv.conns[0].subflows[1].Backup() {
		t.Fatal("server did not see the backup flag of the MP_JOIN SYN")
	}
	before := c.subflows[1].bytesSent
	if before > 256<<10 {
		t.Fatalf("backup subflow carried %d bytes while the primary worked", before)
	}
	down = true
	sim.RunUntil(sim.Now()+10*time.Second, nil)
	after := c.subflows[1].bytesSent
	down = false
	sim.RunUntil(5*time.Minute, func() bool { return sv.eof })
	if !sv.eof || sv.recvd != n || !equalHash(sv, n) {
		t.Fatalf("transfer: eof %v, %d of %d", sv.eof, sv.recvd, n)
	}
	if after-before < 4<<20 {
		t.Errorf("backup subflow carried only %d bytes while the primary was down", after-before)
	}
}
