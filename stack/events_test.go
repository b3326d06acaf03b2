package stack

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/pm"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// twoPathCfg is testTwoPathsAnnounce's configuration: the server (b)
// announces its second address, the client (a) joins it.
func twoPathCfg() (cfgA, cfgB func(*Config, []netip.Addr, []netip.Addr)) {
	return func(c *Config, a, b []netip.Addr) {
			c.MPTCPLimits = pm.Limits{Subflows: 2, AddAddrAccepted: 2}
		}, func(c *Config, a, b []netip.Addr) {
			c.Endpoints = []pm.Endpoint{{ID: 1, Addr: b[1], Ifname: "b1", Flags: pm.Signal}}
			c.MPTCPLimits = pm.Limits{Subflows: 2, AddAddrAccepted: 2}
		}
}

// needSubflows waits (at most 5 s) until c has n live subflows.
func needSubflows(t *testing.T, c *Conn, n int) {
	t.Helper()
	if in := waitSubflows(c, n); int(in.SubflowsTotal) != n {
		t.Errorf("%v: info %+v: want %d live subflows", c.LocalAddr(), in, n)
	}
}

// collectUntilClosed reads ch until a CLOSED event arrives (or 10 s pass)
// and returns what it read.
func collectUntilClosed(t *testing.T, name string, ch <-chan MPTCPEvent) []MPTCPEvent {
	t.Helper()
	var evs []MPTCPEvent
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("%s: the event channel closed before CLOSED; got %s", name, evNames(evs))
			}
			evs = append(evs, e)
			if e.Type == MPTCPClosed {
				return evs
			}
		case <-deadline:
			t.Fatalf("%s: no CLOSED event within 10 s; got %s", name, evNames(evs))
		}
	}
}

func evNames(evs []MPTCPEvent) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString("\n\t")
		b.WriteString(e.String())
	}
	return b.String()
}

// checkOrder checks that evs, reduced to its types, is want.
func checkOrder(t *testing.T, name string, evs []MPTCPEvent, want ...MPTCPEventType) {
	t.Helper()
	ok := len(evs) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = evs[i].Type == want[i]
	}
	if !ok {
		t.Errorf("%s: events %s\nwant the types %v", name, evNames(evs), want)
	}
}

// TestMPTCPEventsTwoPaths: the events of a two-path connection reach
// subscribers on both ends in order, with the subflows' addresses, ids and
// interfaces, one token per connection and times that do not go back.
func TestMPTCPEventsTwoPaths(t *testing.T) {
	cfgA, cfgB := twoPathCfg()
	p := newMPPair(t, 2, 1, cfgA, cfgB)
	chA, cancelA := p.a.SubscribeEvents(64)
	defer cancelA()
	chB, cancelB := p.b.SubscribeEvents(64)
	defer cancelB()
	cli, srv := mpTransfer(t, p, 1<<20, func(c *Conn) { needSubflows(t, c, 2) })
	tokA, tokB := cli.Info().Token, srv.Info().Token
	cli.Close()
	srv.Close()
	evA := collectUntilClosed(t, "client", chA)
	evB := collectUntilClosed(t, "server", chB)
	t.Logf("client:%s\nserver:%s", evNames(evA), evNames(evB))

	checkOrder(t, "client", evA, MPTCPCreated, MPTCPEstablished, MPTCPAnnounced, MPTCPSubflowEstablished,
		MPTCPSubflowClosed, MPTCPSubflowClosed, MPTCPClosed)
	checkOrder(t, "server", evB, MPTCPCreated, MPTCPEstablished, MPTCPSubflowEstablished,
		MPTCPSubflowClosed, MPTCPSubflowClosed, MPTCPClosed)
	for _, side := range []struct {
		name   string
		evs    []MPTCPEvent
		tok    uint32
		server bool
	}{{"client", evA, tokA, false}, {"server", evB, tokB, true}} {
		var last time.Time
		for _, e := range side.evs {
			if e.Token != side.tok || e.Token == 0 {
				t.Errorf("%s: %v: token %08x, want the connection's %08x", side.name, e, e.Token, side.tok)
			}
			if e.Server != side.server {
				t.Errorf("%s: %v: Server %v", side.name, e, e.Server)
			}
			if e.Time.Before(last) || e.Time.IsZero() {
				t.Errorf("%s: %v: time %v before the previous event's %v", side.name, e, e.Time, last)
			}
			last = e.Time
		}
	}
	if t.Failed() {
		return
	}
	// Client: CREATED and ESTABLISHED carry the initial subflow; the
	// server announced b1's address with id 1; the join leaves a1 for it.
	local := cli.LocalAddr().(*net.TCPAddr).AddrPort()
	remote := netip.AddrPortFrom(p.addrB[0], 5000)
	for _, e := range evA[:2] {
		if e.Local != local || e.Remote != remote || e.Ifname != "a0" || e.LocalID != 0 || e.RemoteID != 0 {
			t.Errorf("client %v: want the initial subflow %v -> %v via a0, ids 0", e, local, remote)
		}
	}
	if e := evA[2]; e.RemoteID != 1 || e.Remote.Addr() != p.addrB[1] {
		t.Errorf("client %v: want the server's address id 1 = %v", e, p.addrB[1])
	}
	join := evA[3]
	if join.Local.Addr() != p.addrA[1] || join.Remote != netip.AddrPortFrom(p.addrB[1], 5000) || join.Ifname != "a1" ||
		join.RemoteID != 1 || join.LocalID == 0 || join.Backup {
		t.Errorf("client join %v: want %v -> %v:5000 via a1, remote id 1, a local id other than 0, not backup", join, p.addrA[1], p.addrB[1])
	}
	sj := evB[2]
	if sj.Local != join.Remote || sj.Remote != join.Local || sj.Ifname != "b1" || sj.LocalID != 1 || sj.RemoteID != join.LocalID {
		t.Errorf("server join %v: want the mirror of the client's %v via b1", sj, join)
	}
	// Both subflows close, each once, cleanly.
	for _, side := range []struct {
		name string
		evs  []MPTCPEvent
	}{{"client", evA}, {"server", evB}} {
		n := len(side.evs)
		a, b := side.evs[n-3], side.evs[n-2]
		if a.Local == b.Local {
			t.Errorf("%s: SF_CLOSED twice for one subflow: %v, %v", side.name, a, b)
		}
		for _, e := range side.evs[n-3:] {
			if e.Err != nil || e.HasReset {
				t.Errorf("%s: %v: an orderly close reports error %v, reset %v", side.name, e, e.Err, e.HasReset)
			}
		}
	}
	if got := evA[3].String(); !strings.HasPrefix(got, "[  SF_ESTABLISHED] token=") ||
		!strings.Contains(got, fmt.Sprintf(" saddr4=%v daddr4=%v sport=%d dport=5000 backup=0 ifname=a1", p.addrA[1], p.addrB[1], join.Local.Port())) {
		t.Errorf("SF_ESTABLISHED prints as %q", got)
	}
	if d := p.a.EventsDropped() + p.b.EventsDropped(); d != 0 {
		t.Errorf("%d events dropped with 64 slots per subscriber", d)
	}
}

// TestMPTCPEventsSlowSubscriber: a subscriber that does not read loses
// the events its channel has no room for, each counted, while the data
// moves and a second subscriber gets every event.
func TestMPTCPEventsSlowSubscriber(t *testing.T) {
	cfgA, cfgB := twoPathCfg()
	p := newMPPair(t, 2, 1, cfgA, cfgB)
	// The slow one subscribes first: the worker offers each event to it
	// before the fast one, so its drop is counted before the fast one
	// has the event.
	slow, cancelSlow := p.a.SubscribeEvents(1)
	defer cancelSlow()
	fast, cancelFast := p.a.SubscribeEvents(64)
	defer cancelFast()
	cli, srv := mpTransfer(t, p, 4<<20, func(c *Conn) { needSubflows(t, c, 2) })
	cli.Close()
	srv.Close()
	all := collectUntilClosed(t, "fast subscriber", fast)
	if len(all) < 5 {
		t.Fatalf("fast subscriber: only %d events: %s", len(all), evNames(all))
	}
	if d := p.a.EventsDropped(); d != uint64(len(all)-1) {
		t.Errorf("EventsDropped %d, want %d: the slow subscriber has room for 1 of %d events", d, len(all)-1, len(all))
	}
	select {
	case e := <-slow:
		if e.Type != MPTCPCreated || e.Token != all[0].Token {
			t.Errorf("the slow subscriber kept %v, want the first event %v", e, all[0])
		}
	default:
		t.Error("the slow subscriber's one slot is empty")
	}
	cancelSlow()
	cancelSlow() // a second cancel does nothing
	if _, ok := <-slow; ok {
		t.Error("the channel is open after cancel")
	}
}

// TestMPTCPEventsClose: Stack.Close closes subscribers' channels, and a
// subscription after Close gets a closed channel.
func TestMPTCPEventsClose(t *testing.T) {
	p := newMPPair(t, 1, 1, nil, nil)
	ch, cancel := p.a.SubscribeEvents(4)
	p.a.Close()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("an event arrived on a stack with no connection")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stack.Close left the event channel open")
	}
	cancel() // after Close: no panic
	ch2, cancel2 := p.a.SubscribeEvents(4)
	defer cancel2()
	if _, ok := <-ch2; ok {
		t.Fatal("SubscribeEvents after Close returned an open channel")
	}
}

// TestMPTCPEventString: the monitor's layout for each kind of event.
func TestMPTCPEventString(t *testing.T) {
	l4 := netip.MustParseAddrPort("10.1.0.1:40001")
	r4 := netip.MustParseAddrPort("10.1.0.2:5000")
	l6 := netip.MustParseAddrPort("[fd00::1]:40002")
	r6 := netip.MustParseAddrPort("[fd00::2]:443")
	for _, c := range []struct {
		e    MPTCPEvent
		want string
	}{
		{MPTCPEvent{Type: MPTCPCreated, Token: 0xab, Local: l4, Remote: r4, Ifname: "eth0"},
			"[         CREATED] token=000000ab remid=0 locid=0 saddr4=10.1.0.1 daddr4=10.1.0.2 sport=40001 dport=5000"},
		{MPTCPEvent{Type: MPTCPEstablished, Token: 0x1234abcd, Local: l6, Remote: r6},
			"[     ESTABLISHED] token=1234abcd remid=0 locid=0 saddr6=fd00::1 daddr6=fd00::2 sport=40002 dport=443"},
		{MPTCPEvent{Type: MPTCPAnnounced, Token: 1, RemoteID: 3, Remote: netip.AddrPortFrom(netip.MustParseAddr("10.2.0.2"), 0)},
			"[       ANNOUNCED] token=00000001 remid=3 daddr4=10.2.0.2"},
		{MPTCPEvent{Type: MPTCPAnnounced, Token: 1, RemoteID: 4, Remote: netip.MustParseAddrPort("10.3.0.2:8080")},
			"[       ANNOUNCED] token=00000001 remid=4 daddr4=10.3.0.2 dport=8080"},
		{MPTCPEvent{Type: MPTCPRemoved, Token: 1, RemoteID: 3},
			"[         REMOVED] token=00000001 remid=3"},
		{MPTCPEvent{Type: MPTCPSubflowEstablished, Token: 0xffffffff, LocalID: 2, RemoteID: 1, Local: l4, Remote: r4, Ifname: "eth1", Backup: true},
			"[  SF_ESTABLISHED] token=ffffffff remid=1 locid=2 saddr4=10.1.0.1 daddr4=10.1.0.2 sport=40001 dport=5000 backup=1 ifname=eth1"},
		{MPTCPEvent{Type: MPTCPSubflowPriority, Token: 7, LocalID: 2, RemoteID: 1, Local: l4, Remote: r4, Backup: true},
			"[         SF_PRIO] token=00000007 remid=1 locid=2 saddr4=10.1.0.1 daddr4=10.1.0.2 sport=40001 dport=5000 backup=1"},
		{MPTCPEvent{Type: MPTCPSubflowClosed, Token: 7, LocalID: 2, RemoteID: 1, Local: l4, Remote: r4, Ifname: "eth1",
			Err: tcp.ErrConnectionReset, HasReset: true, ResetReason: mptcp.ResetUnacceptablePerformance, ResetFlags: mptcp.TCPRSTFlagT},
			"[       SF_CLOSED] token=00000007 remid=1 locid=2 saddr4=10.1.0.1 daddr4=10.1.0.2 sport=40001 dport=5000 backup=0 error=104 ifname=eth1 reset_reason=5 reset_flags=0x1"},
		{MPTCPEvent{Type: MPTCPSubflowClosed, Token: 7, Local: l4, Remote: r4, Err: errors.New("something else")},
			"[       SF_CLOSED] token=00000007 remid=0 locid=0 saddr4=10.1.0.1 daddr4=10.1.0.2 sport=40001 dport=5000 backup=0"},
		{MPTCPEvent{Type: MPTCPSubflowClosed, Token: 7, Local: l4, Remote: r4, Err: fmt.Errorf("subflow: %w", tcp.ErrTimeout)},
			"[       SF_CLOSED] token=00000007 remid=0 locid=0 saddr4=10.1.0.1 daddr4=10.1.0.2 sport=40001 dport=5000 backup=0 error=110"},
		{MPTCPEvent{Type: MPTCPClosed, Token: 0xdead, Local: l4, Remote: r4},
			"[          CLOSED] token=0000dead"},
	} {
		if got := c.e.String(); got != c.want {
			t.Errorf("String:\n got %q\nwant %q", got, c.want)
		}
	}
}

// TestMPTCPEventsReset: the server withdraws its second address (hand-
// driven hosts, virtual time): it resets the subflow there with MP_TCPRST
// "administratively prohibited". The client reports REMOVED and the
// subflow's SF_CLOSED with the peer's reset reason (and its own abort or
// ECONNRESET, whichever of REMOVE_ADDR and the RST it handled first); the
// server reports its own SF_CLOSED (aborted locally), and the data goes on
// over the first subflow.
func TestMPTCPEventsReset(t *testing.T) {
	h := newMPHandPath(t, 2, 1500, "roundrobin")
	chA, cancelA := h.sa.SubscribeEvents(64)
	defer cancelA()
	chB, cancelB := h.sb.SubscribeEvents(64)
	defer cancelB()
	var srv *mpConn
	h.sb.mpOwners.Range(func(_, v any) bool { srv = v.(*mpConn); return false })
	if srv == nil {
		t.Fatal("no server connection")
	}
	if !srv.mc.Withdraw(1) {
		t.Fatal("Withdraw(1) refused")
	}
	srv.w.markDirty(srv.master)
	for range 20 {
		h.move()
	}
	drain := func(ch <-chan MPTCPEvent) []MPTCPEvent {
		var evs []MPTCPEvent
		for {
			select {
			case e := <-ch:
				evs = append(evs, e)
			default:
				return evs
			}
		}
	}
	evA, evB := drain(chA), drain(chB)
	t.Logf("client:%s\nserver:%s", evNames(evA), evNames(evB))
	find := func(evs []MPTCPEvent, typ MPTCPEventType) (MPTCPEvent, bool) {
		for _, e := range evs {
			if e.Type == typ {
				return e, true
			}
		}
		return MPTCPEvent{}, false
	}
	if e, ok := find(evA, MPTCPRemoved); !ok || e.RemoteID != 1 {
		t.Errorf("client: REMOVED %v (found %v), want remid=1", e, ok)
	}
	e, ok := find(evA, MPTCPSubflowClosed)
	if !ok || e.Remote.Addr() != netip.MustParseAddr("10.1.0.2") || !e.HasReset ||
		e.ResetReason != mptcp.ResetAdministrativelyDenied || e.ResetFlags != mptcp.TCPRSTFlagT ||
		!errors.Is(e.Err, tcp.ErrConnectionReset) && !errors.Is(e.Err, tcp.ErrAborted) {
		t.Errorf("client: SF_CLOSED %v (found %v, err %v), want the subflow to 10.1.0.2 reset with reason 3", e, ok, e.Err)
	}
	if s := e.String(); !strings.Contains(s, " ifname=a1 reset_reason=3 reset_flags=0x1") || !strings.Contains(s, " backup=0 error=10") {
		t.Errorf("client: SF_CLOSED prints as %q", s)
	}
	e, ok = find(evB, MPTCPSubflowClosed)
	if !ok || e.Local.Addr() != netip.MustParseAddr("10.1.0.2") || e.HasReset || !errors.Is(e.Err, tcp.ErrAborted) {
		t.Errorf("server: SF_CLOSED %v (found %v, err %v), want its subflow on 10.1.0.2, aborted locally", e, ok, e.Err)
	}
	if _, ok := find(evA, MPTCPClosed); ok {
		t.Error("client: the connection closed; the first subflow should carry on")
	}
}

// TestMPTCPEventsNoAllocPerPacket: with a subscriber, steady-state
// segments of a two-subflow connection still allocate nothing (events are
// built only when one happens).
func TestMPTCPEventsNoAllocPerPacket(t *testing.T) {
	h := newMPHandPath(t, 2, 1500, "roundrobin")
	ch, cancel := h.sa.SubscribeEvents(8)
	defer cancel()
	_, cancelB := h.sb.SubscribeEvents(8)
	defer cancelB()
	if n := testing.AllocsPerRun(20, h.move); n != 0 {
		t.Fatalf("%v allocations per 64 KiB moved with event subscribers", n)
	}
	select {
	case e := <-ch:
		t.Errorf("an event in the steady state: %v", e)
	default:
	}
}

// BenchmarkMPTCPEventPublish: the worker's cost of one event with no
// subscriber, and with one whose channel is full (the drop path).
func BenchmarkMPTCPEventPublish(b *testing.B) {
	e := MPTCPEvent{Type: MPTCPSubflowEstablished, Token: 1, Local: netip.MustParseAddrPort("10.0.0.1:1"), Ifname: "x"}
	b.Run("none", func(b *testing.B) {
		var h eventHub
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if h.active() {
				h.publish(e)
			}
		}
	})
	b.Run("full", func(b *testing.B) {
		var h eventHub
		_, cancel := h.subscribe(0)
		defer cancel()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if h.active() {
				h.publish(e)
			}
		}
		if h.dropped.Load() != uint64(b.N) {
			b.Fatalf("%d drops for %d events", h.dropped.Load(), b.N)
		}
	})
}
