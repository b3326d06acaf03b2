package conn

import (
	"net/netip"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/simnet"
	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/pm"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// addrWatch records, on the receiving side of a path, the first segment
// carrying a given ADD_ADDR and the segment that follows it.
type addrWatch struct {
	echo    bool
	id      uint8
	seen    bool
	at      time.Duration
	opt     mptcp.AddAddr
	withDSS bool
	payload int
	ts      bool // the segment carries timestamps
	path    int
	// the segment after it on the same path
	nextSeen bool
	nextAt   time.Duration
	nextAck  bool // it carries a DSS with a DATA_ACK
}

// hook returns a drop function for a host that watches for the option.
func (w *addrWatch) hook(sim *simnet.Sim) func(int, *tcp.Segment) bool {
	return func(path int, seg *tcp.Segment) bool {
		var r mptcp.Received
		if mptcp.ParseTCPOptions(seg.Options.Ext, &r) != nil {
			return false
		}
		if w.seen && !w.nextSeen && path == w.path {
			w.nextSeen, w.nextAt = true, sim.Now()
			w.nextAck = r.Present.Has(mptcp.SubtypeDSS) && r.DSS.HasAck
			return false
		}
		if !w.seen && r.Present.Has(mptcp.SubtypeAddAddr) && r.AddAddr.Echo == w.echo && r.AddAddr.ID == w.id {
			w.seen, w.at, w.opt, w.path = true, sim.Now(), r.AddAddr, path
			w.withDSS = r.Present.Has(mptcp.SubtypeDSS)
			w.payload = len(seg.Payload)
			w.ts = seg.Options.HasTS
		}
		return false
	}
}

var v6Announced = netip.MustParseAddr("fd00:6::1")

// TestAddAddrIPv6WithTimestamps: the server's path manager announces an
// IPv6 address while it sends a download with timestamps on (Linux's
// default). Every data segment carries a DSS, and 28 bytes of option space
// are left after timestamps: the 28-byte ADD_ADDR must go alone on a pure
// ACK, within one RTT, the DATA_ACK on the segment right after it, and the
// client's path manager must get the address.
func TestAddAddrIPv6WithTimestamps(t *testing.T) {
	const rtt = 10 * time.Millisecond
	p := simnet.LinkConfig{Delay: rtt / 2}
	sim, cl, sv := pair(t, 61, Config{}, Config{}, p)
	sv.pmCfg = &pm.Config{Endpoints: []pm.Endpoint{{ID: 1, Addr: v6Announced, Flags: pm.Signal}}}
	cl.pmCfg = &pm.Config{Limits: pm.Limits{AddAddrAccepted: 1}} // accept, open nothing (the harness is IPv4)
	const n = 4 << 20
	sv.toSend = n
	var est time.Duration
	sv.app2 = func() {
		if est == 0 && len(sv.conns) > 0 && sv.conns[0].FullyEstablished() {
			est = sim.Now() // the path manager announces in this same step
		}
	}
	add := &addrWatch{id: 1}
	echo := &addrWatch{id: 1, echo: true}
	var c *Conn
	estBefore, estAfter := false, false // client fully established at the ADD_ADDR, at the segment after it
	watch := add.hook(sim)
	cl.drop = func(path int, seg *tcp.Segment) bool {
		seen, next := add.seen, add.nextSeen
		watch(path, seg)
		if !seen && add.seen {
			estBefore = c.FullyEstablished()
		}
		if !next && add.nextSeen {
			estAfter = c.FullyEstablished()
		}
		return false
	}
	sv.drop = echo.hook(sim)
	c = cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return sv.eof && cl.eof })
	if !cl.eof || cl.recvd != n || !equalHash(cl, n) {
		t.Fatalf("download: eof %v, %d of %d bytes", cl.eof, cl.recvd, n)
	}
	if est == 0 {
		t.Fatal("the server never became fully established")
	}
	if !add.seen {
		t.Fatalf("ADD_ADDR never sent: server AddAddrTx %d AddAddrTxDrop %d", sv.count(mptcp.MibAddAddrTx), sv.count(mptcp.MibAddAddrTxDrop))
	}
	if !add.ts {
		t.Fatal("the ADD_ADDR segment has no timestamps: the test does not exercise the 28-byte limit")
	}
	if add.at-est > rtt {
		t.Errorf("ADD_ADDR reached the client %v after the announcement, want within one RTT (%v)", add.at-est, rtt)
	}
	if add.opt.Addr != v6Announced || add.opt.HasPort {
		t.Errorf("ADD_ADDR carries %v (port %v), want %v", add.opt.Addr, add.opt.HasPort, v6Announced)
	}
	if add.withDSS || add.payload != 0 {
		t.Errorf("ADD_ADDR segment: DSS %v, payload %d; want a pure ACK without DSS (no room next to it)", add.withDSS, add.payload)
	}
	if !add.nextSeen || !add.nextAck || add.nextAt != add.at {
		t.Errorf("segment after the ADD_ADDR: seen %v, DATA_ACK %v, %v later; want a DATA_ACK right behind it", add.nextSeen, add.nextAck, add.nextAt-add.at)
	}
	if !estAfter {
		// Linux's client counts an ADD_ADDR as the ACK that completes the
		// MP_CAPABLE handshake; ours must too.
		t.Errorf("client not fully established after the ADD_ADDR (before it: %v)", estBefore)
	}
	t.Logf("ADD_ADDR at +%v (client fully established before it: %v), echo at +%v", add.at-est, estBefore, echo.at-est)
	if !echo.seen || echo.at-est > rtt+time.Millisecond {
		t.Errorf("echo seen %v at +%v, want within one RTT of the announcement", echo.seen, echo.at-est)
	}
	if _, _, acc := c.PathManager().Counts(); acc != 1 {
		t.Errorf("client path manager accepted %d announcements, want 1", acc)
	}
	got := false
	for _, e := range cl.events {
		if e.Type == EventAnnounced && e.Remote == v6Announced && e.RemoteID == 1 {
			got = true
		}
	}
	if !got {
		t.Error("no ANNOUNCED event for the IPv6 address")
	}
	if sv.count(mptcp.MibAddAddrTx) != 1 || sv.count(mptcp.MibAddAddrTxDrop) != 0 || cl.count(mptcp.MibAddAddr) != 1 || sv.count(mptcp.MibEchoAdd) != 1 {
		t.Errorf("AddAddrTx %d AddAddrTxDrop %d (server), AddAddr %d (client), EchoAdd %d (server)",
			sv.count(mptcp.MibAddAddrTx), sv.count(mptcp.MibAddAddrTxDrop), cl.count(mptcp.MibAddAddr), sv.count(mptcp.MibEchoAdd))
	}
	if in := sv.conns[0].Info(); in.AddAddrSignal != 1 {
		t.Errorf("server Info.AddAddrSignal %d, want 1", in.AddAddrSignal)
	}
}

// sf0 returns the initial subflow.
func (c *Conn) sf0() *Subflow { return c.subflows[0] }

// TestAddAddrSizes: every ADD_ADDR form, announcement and echo, with
// timestamps on and off, is sent while data flows the other way: next to
// the DSS where both fit, alone on a pure ACK (the DATA_ACK right after)
// where only it fits, and dropped and counted where it cannot fit at all
// (IPv6 with a port and timestamps: 30 bytes, 28 left), without holding
// up what is queued behind it.
func TestAddAddrSizes(t *testing.T) {
	v4 := netip.MustParseAddr("10.9.9.9")
	type kind struct {
		name string
		addr netip.Addr
		port uint16
	}
	kinds := []kind{{"v4", v4, 0}, {"v4port", v4, 8080}, {"v6", v6Announced, 0}, {"v6port", v6Announced, 8080}}
	// With timestamps a pure ACK has 28 option bytes; its DSS (DATA_ACK
	// only) takes 8. Without timestamps there are 40.
	cases := []struct {
		k          kind
		echo, ts   bool
		alone, bad bool
	}{
		{kinds[0], false, true, false, false}, // 16 + 8
		{kinds[1], false, true, false, false}, // 18 + 8
		{kinds[2], false, true, true, false},  // 28
		{kinds[3], false, true, false, true},  // 30: never fits
		{kinds[0], true, true, false, false},  // 8 + 8
		{kinds[1], true, true, false, false},  // 10 + 8
		{kinds[2], true, true, false, false},  // 20 + 8
		{kinds[3], true, true, true, false},   // 22 + 8 > 28
		{kinds[2], false, false, false, false},
		{kinds[3], false, false, false, false},
		{kinds[3], true, false, false, false},
	}
	const rtt = 10 * time.Millisecond
	for i, tc := range cases {
		name := tc.k.name
		if tc.echo {
			name += "-echo"
		}
		if !tc.ts {
			name += "-nots"
		}
		t.Run(name, func(t *testing.T) {
			var cfg Config
			cfg.TCP.NoTimestamps = !tc.ts
			sim, cl, sv := pair(t, uint64(70+i), cfg, cfg, simnet.LinkConfig{Delay: rtt / 2})
			const n = 1 << 20
			// The sender of the option sends nothing but ACKs: the data
			// flows towards it, so its pure ACKs are what can carry it.
			from, to := sv, cl
			if tc.echo {
				from, to = cl, sv
			}
			to.toSend = n
			w := &addrWatch{id: 9, echo: tc.echo}
			to.drop = w.hook(sim)
			var queued time.Duration
			from.app2 = func() {
				if queued != 0 || len(from.conns) == 0 || !from.conns[0].FullyEstablished() || from.recvd < 64<<10 {
					return
				}
				c := from.conns[0]
				queued = sim.Now()
				if tc.echo {
					// What onAddAddr queues for a received announcement.
					sf := c.sf0()
					sf.addAddr = append(sf.addAddr, mptcp.AddAddr{Echo: true, ID: 9, Addr: tc.k.addr, HasPort: tc.k.port != 0, Port: tc.k.port})
					sf.needAck = true
					return
				}
				if !c.Announce(9, tc.k.addr, tc.k.port) || !c.Announce(10, v4, 0) {
					t.Error("Announce refused")
				}
			}
			cl.dial(0)
			sim.RunUntil(time.Minute, func() bool { return sv.eof && cl.eof })
			if !from.eof || from.recvd != n || !equalHash(from, n) {
				t.Fatalf("transfer: eof %v, %d of %d bytes", from.eof, from.recvd, n)
			}
			if queued == 0 {
				t.Fatal("option never queued")
			}
			if tc.bad {
				if w.seen || from.count(mptcp.MibAddAddrTxDrop) == 0 {
					t.Fatalf("unsendable ADD_ADDR: seen %v, AddAddrTxDrop %d", w.seen, from.count(mptcp.MibAddAddrTxDrop))
				}
				// The announcement queued behind it still went out.
				if to.count(mptcp.MibAddAddr) != 1 || from.count(mptcp.MibEchoAdd) != 1 {
					t.Fatalf("second announcement: AddAddr %d, echo %d; want 1, 1", to.count(mptcp.MibAddAddr), from.count(mptcp.MibEchoAdd))
				}
				return
			}
			if !w.seen {
				t.Fatalf("option never received (AddAddrTxDrop %d EchoAddTxDrop %d)", from.count(mptcp.MibAddAddrTxDrop), from.count(mptcp.MibEchoAddTxDrop))
			}
			if w.at-queued > rtt/2 {
				t.Errorf("received %v after it was queued, want one-way delay (%v)", w.at-queued, rtt/2)
			}
			if w.opt.Addr != tc.k.addr || w.opt.HasPort != (tc.k.port != 0) || w.opt.Port != tc.k.port {
				t.Errorf("option carries %v port %d, want %v port %d", w.opt.Addr, w.opt.Port, tc.k.addr, tc.k.port)
			}
			if w.ts != tc.ts {
				t.Errorf("timestamps on the segment %v, want %v", w.ts, tc.ts)
			}
			if w.withDSS == tc.alone {
				t.Errorf("with DSS %v, want %v", w.withDSS, !tc.alone)
			}
			if tc.alone && (w.payload != 0 || !w.nextSeen || !w.nextAck || w.nextAt != w.at) {
				t.Errorf("alone: payload %d; next segment seen %v, DATA_ACK %v, %v later", w.payload, w.nextSeen, w.nextAck, w.nextAt-w.at)
			}
			if tc.echo {
				if from.count(mptcp.MibEchoAddTx) != 1 || to.count(mptcp.MibEchoAdd) != 1 {
					t.Errorf("EchoAddTx %d EchoAdd %d, want 1, 1", from.count(mptcp.MibEchoAddTx), to.count(mptcp.MibEchoAdd))
				}
			} else if from.count(mptcp.MibAddAddrTx) != 2 || to.count(mptcp.MibAddAddr) != 2 || from.count(mptcp.MibEchoAdd) != 2 {
				t.Errorf("AddAddrTx %d AddAddr %d EchoAdd %d, want 2 each", from.count(mptcp.MibAddAddrTx), to.count(mptcp.MibAddAddr), from.count(mptcp.MibEchoAdd))
			}
		})
	}
}

// TestAddAddrIPv6UnderLoss: the server announces an IPv6 address while it
// receives an upload over a lossy path, so many of its pure ACKs carry a
// SACK block and leave no room even for the ADD_ADDR alone: it waits for
// one that does (or its resend) and is neither lost for good nor dropped.
func TestAddAddrIPv6UnderLoss(t *testing.T) {
	p := simnet.LinkConfig{Bandwidth: 100e6, Delay: 5 * time.Millisecond, QueueBytes: 256 << 10, Loss: 0.02}
	sim, cl, sv := pair(t, 62, Config{}, Config{}, p)
	cl.pmCfg = &pm.Config{Limits: pm.Limits{AddAddrAccepted: 1}}
	const n = 8 << 20
	announced, lastSACK := false, false
	var annAt, sentAt time.Duration
	sv.app2 = func() {
		// Announce while the server reports a hole (its last ACK had a
		// SACK block), so that its next ACKs have SACK blocks too.
		if !announced && lastSACK && len(sv.conns) > 0 && sv.recvd >= 256<<10 {
			announced = sv.conns[0].Announce(1, v6Announced, 0)
			annAt = sim.Now()
		}
	}
	sacked, sent := 0, false // server segments with SACK blocks between the announcement and the ADD_ADDR
	sv.mangle = func(_ int, _ tcp.FourTuple, seg *tcp.Segment) {
		var r mptcp.Received
		_ = mptcp.ParseTCPOptions(seg.Options.Ext, &r)
		if r.Present.Has(mptcp.SubtypeAddAddr) && !sent {
			sent, sentAt = true, sim.Now()
		}
		lastSACK = seg.Options.NumSACK > 0
		if announced && !sent && lastSACK {
			sacked++
		}
	}
	transfer(t, sim, cl, sv, n, 2*time.Minute)
	if !announced {
		t.Fatal("never announced: no ACK with a SACK block after 256 KiB, or Announce refused")
	}
	c := cl.conns[0]
	if _, _, acc := c.PathManager().Counts(); acc != 1 || cl.count(mptcp.MibAddAddr) == 0 || sv.count(mptcp.MibEchoAdd) == 0 {
		t.Fatalf("client PM accepted %d, AddAddr %d, server EchoAdd %d", acc, cl.count(mptcp.MibAddAddr), sv.count(mptcp.MibEchoAdd))
	}
	if d := sv.count(mptcp.MibAddAddrTxDrop); d != 0 {
		t.Errorf("AddAddrTxDrop %d, want 0", d)
	}
	if sacked == 0 {
		t.Error("no ACK with SACK blocks went out while the ADD_ADDR waited: the test does not exercise that case")
	}
	t.Logf("AddAddrTx %d; %d ACKs with SACK blocks before it, sent %v after the announcement", sv.count(mptcp.MibAddAddrTx), sacked, sentAt-annAt)
}
