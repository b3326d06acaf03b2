package stack

import (
	"errors"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/conn"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// MPTCPEventType names an MPTCP connection event as `ip mptcp monitor`
// does (its String gives "CREATED", "SF_ESTABLISHED", ...).
type MPTCPEventType = conn.EventType

// MPTCP event types (SubscribeEvents).
const (
	// MPTCPCreated: a connection was created (SYN sent, or an MP_CAPABLE
	// SYN accepted); the event carries the initial subflow.
	MPTCPCreated = conn.EventCreated
	// MPTCPEstablished: the MPTCP handshake completed; the event carries
	// the initial subflow.
	MPTCPEstablished = conn.EventEstablished
	// MPTCPClosed: the connection ended (Err says why, when it failed).
	MPTCPClosed = conn.EventClosed
	// MPTCPAnnounced: the peer announced an address (ADD_ADDR): RemoteID
	// and Remote (port 0 when the announcement had none).
	MPTCPAnnounced = conn.EventAnnounced
	// MPTCPRemoved: the peer withdrew address RemoteID (REMOVE_ADDR).
	MPTCPRemoved = conn.EventRemoved
	// MPTCPSubflowEstablished: a joined subflow (MP_JOIN) can carry data.
	MPTCPSubflowEstablished = conn.EventSubflowEstablished
	// MPTCPSubflowClosed: a subflow ended (the initial one included).
	MPTCPSubflowClosed = conn.EventSubflowClosed
	// MPTCPSubflowPriority: a subflow's backup flag changed (MP_PRIO).
	MPTCPSubflowPriority = conn.EventSubflowPriority
)

// MPTCPEvent is one event of an MPTCP connection of the stack, as `ip
// mptcp monitor` reports the kernel's. It is a value: a subscriber may
// keep and read it from any goroutine.
type MPTCPEvent struct {
	Type MPTCPEventType
	// Time is when the connection's worker saw the event (the clock its
	// loop read last, so events of one batch share it).
	Time time.Time
	// Token is the connection's local token (0 for a connection that fell
	// back to TCP before keys existed).
	Token uint32
	// Server: the connection was accepted by a listener, not dialed.
	Server bool
	// LocalID and RemoteID are the address ids of the subflow (0 for the
	// initial one). For ANNOUNCED and REMOVED, RemoteID is the id the
	// peer announced or withdrew.
	LocalID, RemoteID uint8
	// Local and Remote are the subflow's addresses and ports: the initial
	// subflow's for CREATED and ESTABLISHED, the subflow's own for SF_*.
	// For ANNOUNCED, Remote is the announced address (port 0 when none
	// was given); Local is zero. Both are zero for CLOSED and REMOVED.
	Local, Remote netip.AddrPort
	// Ifname is the interface the subflow leaves through (SF_*, CREATED,
	// ESTABLISHED).
	Ifname string
	// Backup: the subflow is a backup one, by either end's flag (SF_*).
	Backup bool
	// Err is why the subflow ended (SF_CLOSED; nil for an orderly close)
	// or why the connection failed (CLOSED; nil after both DATA_FINs).
	Err error
	// HasReset: the peer reset the subflow with MP_TCPRST (SF_CLOSED),
	// whose reason and flags are ResetReason and ResetFlags.
	HasReset    bool
	ResetReason mptcp.ResetReason
	ResetFlags  uint8
}

// String formats the event as `ip mptcp monitor` prints the kernel's:
//
//	[  SF_ESTABLISHED] token=1a2b3c4d remid=1 locid=1 saddr4=10.1.0.1 daddr4=10.1.0.2 sport=40001 dport=5000 backup=0 ifname=eth1
//
// Differences: the interface is named (ifname=) where the kernel gives
// its index (ifindex=), error= is the Linux errno of Err only where one
// corresponds (reset, refused, timed out, aborted), and SF_PRIORITY is
// printed as the monitor names it (SF_PRIO).
func (e MPTCPEvent) String() string {
	b := make([]byte, 0, 160)
	name := e.Type.String()
	if e.Type == MPTCPSubflowPriority {
		name = "SF_PRIO"
	}
	b = append(b, '[')
	for i := len(name); i < 16; i++ {
		b = append(b, ' ')
	}
	b = append(b, name...)
	b = append(b, "] token="...)
	tok := strconv.FormatUint(uint64(e.Token), 16)
	for i := len(tok); i < 8; i++ {
		b = append(b, '0')
	}
	b = append(b, tok...)
	sub := false
	switch e.Type {
	case MPTCPClosed:
		return string(b)
	case MPTCPRemoved:
		b = appendUint(b, " remid=", uint64(e.RemoteID))
		return string(b)
	case MPTCPAnnounced:
		b = appendUint(b, " remid=", uint64(e.RemoteID))
		b = appendAddr(b, " daddr", e.Remote.Addr())
		if p := e.Remote.Port(); p != 0 {
			b = appendUint(b, " dport=", uint64(p))
		}
		return string(b)
	case MPTCPSubflowEstablished, MPTCPSubflowClosed, MPTCPSubflowPriority:
		sub = true
	}
	b = appendUint(b, " remid=", uint64(e.RemoteID))
	b = appendUint(b, " locid=", uint64(e.LocalID))
	b = appendAddr(b, " saddr", e.Local.Addr())
	b = appendAddr(b, " daddr", e.Remote.Addr())
	b = appendUint(b, " sport=", uint64(e.Local.Port()))
	b = appendUint(b, " dport=", uint64(e.Remote.Port()))
	if !sub {
		return string(b)
	}
	bk := uint64(0)
	if e.Backup {
		bk = 1
	}
	b = appendUint(b, " backup=", bk)
	if n := linuxErrno(e.Err); n != 0 {
		b = appendUint(b, " error=", uint64(n))
	}
	if e.Ifname != "" {
		b = append(b, " ifname="...)
		b = append(b, e.Ifname...)
	}
	if e.HasReset {
		b = appendUint(b, " reset_reason=", uint64(e.ResetReason))
		b = append(b, " reset_flags=0x"...)
		b = strconv.AppendUint(b, uint64(e.ResetFlags), 16)
	}
	return string(b)
}

func appendUint(b []byte, key string, v uint64) []byte {
	b = append(b, key...)
	return strconv.AppendUint(b, v, 10)
}

// appendAddr appends " saddr4=A" (or 6) for a valid address.
func appendAddr(b []byte, key string, a netip.Addr) []byte {
	if !a.IsValid() {
		return b
	}
	b = append(b, key...)
	if a.Is4() || a.Is4In6() {
		b = append(b, "4="...)
		return a.Unmap().AppendTo(b)
	}
	b = append(b, "6="...)
	return a.AppendTo(b)
}

// linuxErrno returns the Linux errno number the kernel would report for a
// subflow that ended with err, or 0 when none corresponds. The numbers
// are Linux's on every platform: they mirror the kernel's monitor.
func linuxErrno(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, tcp.ErrConnectionReset), errors.Is(err, conn.ErrFastClose):
		return 104 // ECONNRESET
	case errors.Is(err, tcp.ErrConnectionRefused):
		return 111 // ECONNREFUSED
	case errors.Is(err, tcp.ErrTimeout):
		return 110 // ETIMEDOUT
	case errors.Is(err, tcp.ErrAborted), errors.Is(err, conn.ErrAborted):
		return 103 // ECONNABORTED
	}
	return 0
}

// eventHub fans MPTCP events out to subscribers. The list of subscribers
// is copied on change and read with one atomic load, so a worker with no
// subscriber pays a load per event and nothing per packet.
type eventHub struct {
	mu      sync.Mutex // serialises subscribe/cancel/close (control plane)
	subs    atomic.Pointer[[]*eventSub]
	closed  bool
	dropped atomic.Uint64
}

// eventSub is one subscriber. Its mutex is taken by a worker only to hand
// an event over (rare), so that cancel can close the channel safely.
type eventSub struct {
	mu     sync.Mutex
	ch     chan MPTCPEvent
	closed bool
}

// active reports whether anyone listens.
func (h *eventHub) active() bool {
	p := h.subs.Load()
	return p != nil && len(*p) > 0
}

// publish hands e to every subscriber without blocking: a subscriber
// whose channel is full misses it, and the drop is counted.
func (h *eventHub) publish(e MPTCPEvent) {
	p := h.subs.Load()
	if p == nil {
		return
	}
	for _, s := range *p {
		s.mu.Lock()
		if !s.closed {
			select {
			case s.ch <- e:
			default:
				h.dropped.Add(1)
			}
		}
		s.mu.Unlock()
	}
}

// subscribe adds a subscriber with a channel of buf events.
func (h *eventHub) subscribe(buf int) (*eventSub, func()) {
	s := &eventSub{ch: make(chan MPTCPEvent, max(buf, 0))}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(s.ch)
		s.closed = true
		return s, func() {}
	}
	h.setSubs(s, nil)
	var once sync.Once
	return s, func() { once.Do(func() { h.cancel(s) }) }
}

// setSubs publishes a new list: the old one plus add, less del.
func (h *eventHub) setSubs(add, del *eventSub) {
	var old []*eventSub
	if p := h.subs.Load(); p != nil {
		old = *p
	}
	next := make([]*eventSub, 0, len(old)+1)
	for _, s := range old {
		if s != del {
			next = append(next, s)
		}
	}
	if add != nil {
		next = append(next, add)
	}
	h.subs.Store(&next)
}

// cancel removes s and closes its channel.
func (h *eventHub) cancel(s *eventSub) {
	h.mu.Lock()
	h.setSubs(nil, s)
	h.mu.Unlock()
	s.close()
}

func (s *eventSub) close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
	s.mu.Unlock()
}

// closeAll closes every subscriber's channel (the stack closed).
func (h *eventHub) closeAll() {
	h.mu.Lock()
	h.closed = true
	var old []*eventSub
	if p := h.subs.Load(); p != nil {
		old = *p
	}
	h.subs.Store(nil)
	h.mu.Unlock()
	for _, s := range old {
		s.close()
	}
}

// SubscribeEvents returns a channel that receives the events of every
// MPTCP connection of the stack (CREATED, ESTABLISHED, ANNOUNCED,
// SF_ESTABLISHED, SF_CLOSED, CLOSED, ...: see MPTCPEvent), in the order
// each connection produced them, and a function that ends the
// subscription and closes the channel. Events reach the channel without
// ever blocking the workers: when its buf slots are full, the event is
// dropped and counted (EventsDropped), so read promptly and size buf for
// bursts (64 is plenty for a few connections). Stack.Close closes the
// channel too. Only connections created after the call report their
// CREATED; older ones report their later events.
func (s *Stack) SubscribeEvents(buf int) (<-chan MPTCPEvent, func()) {
	sub, cancel := s.events.subscribe(buf)
	return sub.ch, cancel
}

// EventsDropped returns how many events subscribers missed because their
// channel was full (all subscribers together, since the stack started).
func (s *Stack) EventsDropped() uint64 { return s.events.dropped.Load() }

// mpEvents is the conn.Config.Events sink of one connection: it runs on
// the connection's owner worker, inside the connection's calls.
type mpEvents struct {
	w *worker
	m *mpConn // nil until newMPConn
	// created: CREATED arrived before m existed (inside conn.Dial or
	// conn.Accept); newMPConn reports it.
	created bool
	// resets are the MP_TCPRST options the peer sent on subflows, until
	// the subflow's SF_CLOSED reports them (rare; only with subscribers).
	resets  []sfReset
	scratch []conn.SubflowInfo
}

type sfReset struct {
	sf  *conn.Subflow
	rst mptcp.TCPRST
}

// sink is the conn.Config.Events function.
func (ev *mpEvents) sink(e conn.Event) {
	if !ev.w.st.events.active() {
		return
	}
	if ev.m == nil {
		if e.Type == conn.EventCreated {
			ev.created = true
		}
		return
	}
	ev.report(e)
}

// report turns e into an MPTCPEvent and publishes it.
func (ev *mpEvents) report(e conn.Event) {
	m := ev.m
	w := ev.w
	out := MPTCPEvent{Type: e.Type, Token: e.Token, Server: m.server, Time: w.st.epoch.Add(w.now)}
	var sf *conn.Subflow
	switch e.Type {
	case conn.EventCreated, conn.EventEstablished:
		if l := m.mc.SubflowList(); len(l) > 0 {
			sf = l[0]
		}
	case conn.EventSubflowEstablished, conn.EventSubflowClosed, conn.EventSubflowPriority:
		sf = e.Subflow
		if sf == nil {
			return
		}
		if e.Type == conn.EventSubflowEstablished && sf.ID() == 0 {
			// The initial subflow: ESTABLISHED reports it (as the
			// kernel does).
			return
		}
	case conn.EventAnnounced:
		out.RemoteID = e.RemoteID
		out.Remote = netip.AddrPortFrom(e.Remote, e.RemotePort)
	case conn.EventRemoved:
		out.RemoteID = e.RemoteID
	case conn.EventClosed:
		out.Err = m.mc.Err()
	}
	if sf != nil {
		ev.describe(&out, sf)
	}
	w.st.events.publish(out)
}

// describe fills the subflow fields of out from sf.
func (ev *mpEvents) describe(out *MPTCPEvent, sf *conn.Subflow) {
	t := sf.Tuple()
	out.Local = netip.AddrPortFrom(t.LocalAddr, t.LocalPort)
	out.Remote = netip.AddrPortFrom(t.RemoteAddr, t.RemotePort)
	out.Backup = sf.Backup()
	if f := ev.m.flowOf(sf); f != nil {
		out.Ifname = f.rt.p.ifc.name
	}
	// The ids are in the connection's subflow descriptions, in the order
	// of SubflowList.
	for i, x := range ev.m.mc.SubflowList() {
		if x != sf {
			continue
		}
		ev.scratch = ev.m.mc.Subflows(ev.scratch[:0])
		if i < len(ev.scratch) {
			out.LocalID, out.RemoteID = ev.scratch[i].LocalID, ev.scratch[i].RemoteID
			if out.Ifname == "" {
				out.Ifname = ev.scratch[i].Ifname
			}
		}
		break
	}
	if out.Type != conn.EventSubflowClosed {
		return
	}
	if ep := sf.Endpoint(); ep != nil {
		out.Err = ep.Err()
	}
	for i, r := range ev.resets {
		if r.sf == sf {
			out.HasReset, out.ResetReason, out.ResetFlags = true, r.rst.Reason, r.rst.Flags
			ev.resets = append(ev.resets[:i], ev.resets[i+1:]...)
			break
		}
	}
}

// noteReset records the MP_TCPRST of a RST the peer sent on sf, for the
// SF_CLOSED that follows. Called for RST segments only, with subscribers.
func (ev *mpEvents) noteReset(sf *conn.Subflow, seg *tcp.Segment) {
	if sf == nil || sf.Closed() {
		return // its SF_CLOSED is out already
	}
	var r mptcp.Received
	_ = mptcp.ParseTCPOptions(seg.Options.Ext, &r)
	if !r.Present.Has(mptcp.SubtypeTCPRST) {
		return
	}
	for i := range ev.resets {
		if ev.resets[i].sf == sf {
			ev.resets[i].rst = r.TCPRST
			return
		}
	}
	if len(ev.resets) < 8 {
		ev.resets = append(ev.resets, sfReset{sf: sf, rst: r.TCPRST})
	}
}
