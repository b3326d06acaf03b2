package stack

import (
	"errors"
	"net/netip"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/conn"
	"github.com/mpxdp/mpxdp/mptcp/pm"
	"github.com/mpxdp/mpxdp/mptcp/sched"
	"github.com/mpxdp/mpxdp/stack/header"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// mpConn is an MPTCP connection as its owner worker sees it: the sans-IO
// connection (package mptcp/conn), the application's Conn, a master flow
// that stands for the connection in the worker's timer heap and dirty
// list, and one flow per subflow (in the worker's flow table, for input
// and for the route its frames take). Only the owner worker touches it.
type mpConn struct {
	w      *worker
	c      *Conn // application side
	mc     *conn.Conn
	master *flow
	subs   []*flow
	lst    *listener // passive connection not yet handed to Accept
	estab  bool
	// wantFin: the application asked for CloseWrite; the DATA_FIN is
	// queued once the send ring is drained into the connection.
	wantFin   bool
	appClosed bool
	retired   bool
	lastPort  *port
	optPred   int
	acts      []pm.Action
	server    bool
	ev        *mpEvents // the connection's event sink (SubscribeEvents)
	// sndShared: the application's send ring is the connection's send
	// buffer (conn.Config.SendMem): ring position p holds relative DSN p;
	// sndKnown is the ring position up to which the connection took the
	// bytes (CommitSend), and the ring's head follows SendReleased.
	sndShared bool
	sndKnown  uint64
	// rcvShared: the application's receive ring is the connection's
	// receive buffer (conn.Config.RecvMem): ring position p holds
	// relative DSN p; RecvCommit moves the ring's tail, its head goes
	// back to the connection with RecvConsumed.
	rcvShared bool
}

// mptcpConfig returns the connection configuration for a new MPTCP
// connection of c owned by w whose first subflow leaves through ifc; its
// events go to ev. The connection's send buffer is c's send ring when
// sendShared(c) (each byte is copied once, from the ring into frames).
func (w *worker) mptcpConfig(c *Conn, ifc *iface, key *flowKey, ev *mpEvents) conn.Config {
	s := w.st
	tc := w.flowConfig(ifc, key)
	tc.ISS = 0
	// The subflow engine sizes payload for mss minus its own options and
	// the 16 bytes it reserves for MPTCP, but the connection writes up to
	// the whole option space (a 24-byte DSS, an ADD_ADDR next to it): take
	// the difference off the MSS so that no frame exceeds the MTU.
	tc.MSS -= mptcpOptionSlack
	// A subflow's bytes move to the connection at once; a delayed ACK of
	// its tail would pin the peer's connection send buffer (see
	// tcp.Config.QuickACKShort).
	tc.QuickACKShort = true
	sc, _ := sched.New(s.cfg.MPTCPScheduler) // checked by newHost; a fresh one per connection
	var sndMem, rcvMem []byte
	if sendShared(c) {
		sndMem = c.snd.buf
	}
	if recvShared(c) {
		rcvMem = c.rcv.buf
	}
	return conn.Config{
		SendMem:     sndMem,
		RecvMem:     rcvMem,
		Scheduler:   sc,
		Tokens:      s.tokens,
		MIB:         s.mib.Worker(w.id),
		TCP:         tc,
		CC:          s.cfg.MPTCPCC,
		Checksum:    s.cfg.MPTCPChecksum,
		SendBufSize: max(s.cfg.SendBuffer, 256<<10),
		RecvBufSize: max(s.cfg.RecvBuffer, 256<<10),
		Events:      ev.sink,
	}
}

// sendShared reports whether an MPTCP connection of c uses c's send ring
// as its send buffer: the ring must be large enough for the connection
// (a power of two of at least 4 KiB) and must not have released any byte.
func sendShared(c *Conn) bool {
	return len(c.snd.buf) >= 4096 && c.snd.head.Load() == 0
}

// recvShared reports whether an MPTCP connection of c uses c's receive
// ring as its receive buffer (the ring must be a power of two of at
// least 4 KiB and hold nothing yet).
func recvShared(c *Conn) bool {
	return len(c.rcv.buf) >= 4096 && c.rcv.tail.Load() == 0
}

// mptcpOptionSlack is the option space the MPTCP options may use beyond
// what the subflow engine reserves (40 bytes in all, less timestamps and
// the reserved 16).
const mptcpOptionSlack = 40 - 12 - 16

// newMPConn registers mc (whose first subflow is sf on route rt, whose
// events go to ev) with w.
func (w *worker) newMPConn(c *Conn, mc *conn.Conn, sf *conn.Subflow, rt route, server bool, ev *mpEvents) *mpConn {
	m := &mpConn{w: w, c: c, mc: mc, lastPort: rt.p, server: server, ev: ev, sndShared: sendShared(c), rcvShared: recvShared(c)}
	m.master = &flow{mp: m, heapIdx: -1}
	c.mp = m
	c.fl = m.master
	w.addSubflow(m, sf, rt)
	ev.m = m
	if ev.created {
		ev.created = false
		ev.report(conn.Event{Type: conn.EventCreated, Token: mc.Token()})
	}
	w.st.mpOwners.Store(mc, m)
	w.nbusy.Add(1)
	w.c.flowsOpen.Add(1)
	if pmCfg, ok := w.st.pmConfig(server); ok {
		if mgr, err := pm.New(pmCfg); err == nil {
			mc.UsePathManager(mgr)
		}
	}
	return m
}

// pmConfig returns the path manager configuration for a connection, and
// false when the stack has no endpoints and no limits (no path manager).
func (s *Stack) pmConfig(server bool) (pm.Config, bool) {
	cfg := pm.Config{Role: pm.Client, Endpoints: s.cfg.Endpoints, Limits: s.cfg.MPTCPLimits}
	if server {
		cfg.Role = pm.Server
	}
	if len(cfg.Endpoints) == 0 && cfg.Limits == (pm.Limits{}) {
		return cfg, false
	}
	return cfg, true
}

// addSubflow puts sf in w's flow table on route rt.
func (w *worker) addSubflow(m *mpConn, sf *conn.Subflow, rt route) *flow {
	t := sf.Tuple()
	key := flowKey{laddr: t.LocalAddr, raddr: t.RemoteAddr, lport: t.LocalPort, rport: t.RemotePort}
	f := &flow{key: key, rt: rt, ep: sf.Endpoint(), mp: m, sf: sf, heapIdx: -1}
	f.maxPay = rt.p.ifc.pkt - ipHeaderLen(key.laddr.Is6()) - header.TCPMinHeaderLen
	sf.SetIfname(rt.p.ifc.name)
	w.flows[key] = f
	w.flowCnt++
	m.subs = append(m.subs, f)
	return f
}

// flowOf returns the flow of subflow sf.
func (m *mpConn) flowOf(sf *conn.Subflow) *flow {
	for _, f := range m.subs {
		if f.sf == sf {
			return f
		}
	}
	return nil
}

// mpCopyVerify is copyVerify for a subflow of an MPTCP connection: the
// connection places the payload in its receive buffer while summing it
// (conn.Subflow.PlaceSum) when it can, and the segment's checksum is
// finished from the headers.
func mpCopyVerify(f *flow, t header.TCP, pseudo uint32) (ok, done bool) {
	pay := t.Payload()
	if len(pay) < minCopyVerify {
		return false, false
	}
	sum, placed := f.sf.PlaceSum(t.Seq(), pay, t.Options())
	if !placed {
		return false, false
	}
	hl := len(t) - len(pay) // a multiple of 4: the payload's sum adds in directly
	if header.Fold(header.Combine(header.Sum(t[:hl], pseudo), hl, sum)) != 0xffff {
		f.sf.Unplace()
		return false, true
	}
	return true, true
}

// mpInput gives the segment in w.seg to its subflow's connection.
func (w *worker) mpInput(f *flow, now time.Duration) {
	m := f.mp
	if w.seg.Flags.Has(tcp.FlagRST) && w.st.events.active() {
		m.ev.noteReset(f.sf, &w.seg)
	}
	m.mc.Input(f.sf, &w.seg, now)
	w.markDirty(m.master)
}

// mpListenSYN handles a SYN for a listener that asks for MPTCP. It
// reports false when the SYN is to be handled as plain TCP.
func (w *worker) mpListenSYN(p *port, eth header.Ethernet, key *flowKey, l *listener, now time.Duration) bool {
	kind, token := conn.ClassifySYN(&w.seg)
	switch kind {
	case conn.SYNJoin:
		w.mpJoinSYN(p, eth, key, token, now)
		return true
	case conn.SYNNewConn:
		if w.st.cfg.NoMPTCPListen || int(l.pending.Load()) >= l.backlog {
			return false // plain TCP (a SYN cookie carries no MPTCP state)
		}
	default:
		return false
	}
	c := w.st.newConn(key, w)
	rt := route{p: p, src: key.laddr, dst: key.raddr, lport: key.lport, rport: key.rport, nextHop: key.raddr, mac: eth.Src(), macOK: true}
	ev := &mpEvents{w: w}
	mc, sf, err := conn.Accept(w.mptcpConfig(c, p.ifc, key, ev), key.tuple(), &w.seg, w.st.sec.isn(key, now), now)
	if err != nil {
		w.drop(DropMalformed)
		return true
	}
	m := w.newMPConn(c, mc, sf, rt, true, ev)
	m.lst = l
	l.pending.Add(1)
	w.markDirty(m.master)
	return true
}

// mpJoinSYN handles an MP_JOIN SYN: the connection with token is looked
// up in the stack's token table; its owner worker creates the subflow. A
// SYN that reached another worker is handed to the owner, and this worker
// keeps a redirect for the tuple so that the subflow's later segments
// follow. Unknown tokens and refused joins are answered with a RST.
func (w *worker) mpJoinSYN(p *port, eth header.Ethernet, key *flowKey, token uint32, now time.Duration) {
	if mc, ok := w.st.tokens.Lookup(token); ok {
		if v, ok := w.st.mpOwners.Load(mc); ok {
			if o := v.(*mpConn).w; o != w {
				if w.curFrame == nil {
					w.drop(DropHandoffFull)
					return
				}
				w.flows[*key] = &flow{key: *key, redirect: true, fwd: o.id, heapIdx: -1}
				w.flowCnt++
				w.handoffDirect(o.id, p, w.curFrame)
				return
			}
		}
	}
	mib := w.st.mib.Worker(w.id)
	mc, sf, err := conn.AcceptJoin(w.st.tokens, mib, key.tuple(), &w.seg, w.st.sec.isn(key, now), now)
	if err != nil {
		if w.direct && w.directFrom != w.id {
			// The worker that redirected this tuple to us can forget it.
			w.st.workers[w.directFrom].post(command{op: opUnredirect, key: *key, from: w.id})
		}
		w.drop(DropJoinRefused)
		reason := mptcp.ResetAdministrativelyDenied
		if errors.Is(err, conn.ErrUnknownToken) {
			reason = mptcp.ResetMPTCPError
		}
		out := conn.RefuseSYN(&w.seg, reason, w.rstBuf[:])
		rt := route{p: p, src: key.laddr, dst: key.raddr, lport: key.lport, rport: key.rport, mac: eth.Src(), macOK: true}
		if w.sendSegment(&rt, &out) {
			w.c.rstOut.Add(1)
		}
		return
	}
	v, ok := w.st.mpOwners.Load(mc)
	if !ok {
		return
	}
	m := v.(*mpConn)
	rt := route{p: p, src: key.laddr, dst: key.raddr, lport: key.lport, rport: key.rport, nextHop: key.raddr, mac: eth.Src(), macOK: true}
	w.addSubflow(m, sf, rt)
	w.markDirty(m.master)
}

// handoffDirect copies frame to worker o, which processes it as the
// owner whatever the tuple's hash says.
func (w *worker) handoffDirect(o int, p *port, frame []byte) {
	w.handoff(o, p, frame, true)
}

// mpDial opens an MPTCP connection for c (opDial with Config.MPTCP).
func (w *worker) mpDial(c *Conn, key *flowKey, rt route, now time.Duration) {
	ev := &mpEvents{w: w}
	mc, sf, err := conn.Dial(w.mptcpConfig(c, rt.p.ifc, key, ev), key.tuple(), w.st.sec.isn(key, now), now)
	if err != nil {
		c.fail(err)
		return
	}
	m := w.newMPConn(c, mc, sf, rt, false, ev)
	w.markDirty(m.master)
}

// mpUpdate applies the application's requests to an MPTCP connection.
func (w *worker) mpUpdate(m *mpConn, bits uint32) {
	if m.retired {
		return
	}
	if bits&wantAbort != 0 {
		m.mc.Abort()
		m.appClosed = true
	}
	if bits&wantClose != 0 {
		m.appClosed = true
		if m.c.rcv.Len() > 0 || m.mc.Readable() > 0 {
			m.mc.Abort()
		} else {
			m.wantFin = true
		}
	}
	if bits&wantCloseWrite != 0 {
		m.wantFin = true
	}
	w.markDirty(m.master)
}

// mpService runs an MPTCP connection after input, a timer or a command:
// it moves bytes between the application's rings and the connection, runs
// the path manager, publishes state changes, sends what the subflows
// have, re-arms the timer and retires the connection once it ended.
func (w *worker) mpService(m *mpConn, now time.Duration) {
	if m.retired {
		return
	}
	mc, c := m.mc, m.c
	w.mpPath(m, now)
	// application -> connection
	moved := false
	drained := true // every byte of the send ring is the connection's
	if m.sndShared {
		// The ring is the connection's send buffer: hand the new bytes
		// over and free what the connection released.
		if t := c.snd.tail.Load(); t > m.sndKnown {
			m.sndKnown += uint64(mc.CommitSend(int(t - m.sndKnown)))
			drained = m.sndKnown == t
		}
		if r, h := mc.SendReleased(), c.snd.head.Load(); r > h {
			c.snd.Consume(int(r - h))
			moved = true
		}
	} else {
		for c.snd.Len() > 0 {
			n := mc.Write(c.snd.Peek())
			if n == 0 {
				break
			}
			c.snd.Consume(n)
			moved = true
		}
		drained = c.snd.Len() == 0
	}
	if moved && c.wrWait.Load() && c.snd.Free() >= min(c.snd.Cap()/4, 256<<10) {
		// As for TCP (sendAdapter): wake the writer for a good share of
		// the ring, not for every few segments acknowledged.
		w.wakeApp(c.wrCh)
	}
	if m.wantFin && drained {
		m.wantFin = false
		mc.CloseWrite()
		if m.appClosed {
			mc.Close()
		}
	}
	// connection -> application
	got := false
	if m.appClosed {
		if m.rcvShared {
			c.rcv.Commit(mc.RecvCommit())
		}
		c.rcv.Discard()
		if m.rcvShared {
			mc.RecvConsumed(c.rcv.head.Load()) // keep the window open until Close
		}
		for mc.Read(w.discard) > 0 {
		}
	} else if m.rcvShared {
		// The ring is the connection's receive buffer: publish what is
		// in order, give back what the reader consumed.
		if n := mc.RecvCommit(); n > 0 {
			c.rcv.Commit(n)
			got = true
		}
		mc.RecvConsumed(c.rcv.head.Load())
		if c.rcv.Free() < c.rcv.Cap()/2 {
			// Have the reader tell us when it freed room (readDone),
			// so that the window opens.
			c.rcvFull.Store(true)
		}
	} else {
		for c.rcv.Free() > 0 {
			n := mc.Read(c.rcv.WriteSpace())
			if n == 0 {
				break
			}
			c.rcv.Commit(n)
			got = true
		}
		if mc.Readable() > 0 || c.rcv.Free() < c.rcv.Cap()/2 {
			// The ring is filling: have the reader tell us when it freed
			// room (readDone), so that the rest moves over.
			c.rcvFull.Store(true)
			if c.rcv.Free() > 0 && mc.Readable() > 0 {
				w.again = append(w.again, m.master)
			}
		}
	}
	w.mpStatus(m, got)
	w.mpOutput(m, now)
	t := mc.NextTimer()
	if pt := mc.PathTimer(); pt != 0 && mc.FullyEstablished() && (t == 0 || pt < t) {
		t = max(pt, now+time.Millisecond)
	}
	w.timers.set(m.master, t)
	if mc.Closed() && (m.appClosed || mc.Readable() == 0 || mc.Err() != nil) {
		done := true
		for _, f := range m.subs {
			if st := f.ep.State(); st != tcp.Closed && st != tcp.TimeWait {
				done = false
			}
		}
		if done || mc.Err() != nil {
			w.mpRetire(m)
		}
	}
}

// mpStatus publishes establishment, EOF and failure to the application.
func (w *worker) mpStatus(m *mpConn, got bool) {
	c, mc := m.c, m.mc
	if !m.estab && len(m.subs) > 0 {
		st := m.subs[0].ep.State()
		ready := st != tcp.Closed && st != tcp.SynSent && st != tcp.SynRcvd && mc.Err() == nil
		if ready && !mc.Fallback() && m.lst != nil && !mc.FullyEstablished() {
			ready = false // the server waits for the keys in the third ACK
		}
		if ready {
			m.estab = true
			l := m.lst
			m.lst = nil
			if !w.handOver(c, l) {
				mc.Abort()
				m.appClosed = true
			}
		}
	}
	if mc.PeerClosed() && !c.hasStatus(stEOF) && m.estab {
		c.setStatus(stEOF)
		got = true
	}
	if err := mc.Err(); err != nil && !c.hasStatus(stFailed) {
		if !m.estab && len(m.subs) > 0 {
			if e := m.subs[0].ep.Err(); e != nil {
				err = e
			}
		}
		c.fail(err)
		if l := m.lst; l != nil {
			m.lst = nil
			l.pending.Add(-1)
		}
	}
	if got && c.rdWait.Load() {
		// Coalesced as for TCP (deliver): at once for an eighth of the
		// ring or the end of the stream, else once the worker's queues
		// are caught up (flushWakes).
		if r := c.rcv; r.Len() >= r.Cap()/8 || c.hasStatus(stEOF) {
			w.wakeApp(c.rdCh)
		} else if f := m.master; !f.wakeRd {
			f.wakeRd = true
			w.wakeRd = append(w.wakeRd, f)
		}
	}
}

// mpOutput transmits every segment the connection's subflows have. Before
// each segment, every subflow whose port has no transmit frame is marked
// blocked (conn.Subflow.SetBlocked): the connection builds no segment for
// it and schedules new data onto the others, so a full path pushes back
// instead of dropping a segment the engine already counts as sent. The
// frame comes from the port the last segment left through (or any port
// that has one); a segment for another interface is copied into a frame
// of its own port, which was checked to have one.
func (w *worker) mpOutput(m *mpConn, now time.Duration) {
	if len(m.subs) == 0 {
		return
	}
	v6 := m.subs[0].key.laddr.Is6()
	w.outGen++
	for sent := 0; ; sent++ {
		if sent == 2*maxSegs {
			w.again = append(w.again, m.master)
			return
		}
		p, blocked := m.block(w.outGen)
		if p == nil {
			// No port has a frame: come back when they are returned.
			w.again = append(w.again, m.master)
			return
		}
		fr, _ := p.alloc()
		off := ethLen + ipHeaderLen(v6) + header.TCPMinHeaderLen + m.optPred
		room := min(len(fr.Buf)-off, p.ifc.pkt-ipHeaderLen(v6)-header.TCPMinHeaderLen)
		seg := &w.segOut
		sf, ok := m.mc.OutputTo(seg, now, fr.Buf[off:off+room])
		if !ok {
			p.unalloc(fr)
			if blocked {
				// Blocked subflows may have more to send once their
				// ports get frames back.
				w.again = append(w.again, m.master)
			}
			return
		}
		f := m.flowOf(sf)
		if f == nil {
			p.unalloc(fr)
			w.drop(DropNoRoute)
			continue
		}
		// The subflow summed the payload while copying it into the
		// frame: only the headers are summed here.
		var ps sendAdapter
		if sum, ok := sf.PayloadSum(seg.Payload); ok {
			ps.sumPtr, ps.sumLen, ps.sum = &seg.Payload[0], len(seg.Payload), sum
		}
		if f.rt.p == p && f.key.laddr.Is6() == v6 {
			n, optLen := w.buildTCP(fr.Buf, &f.rt, seg, off, &ps)
			if len(seg.Payload) > 0 {
				m.optPred = optLen
			}
			w.emit(&f.rt, fr, n)
			continue
		}
		fr2, ok := f.rt.p.alloc()
		if !ok {
			// Cannot happen: block saw a frame in this port's stock.
			p.unalloc(fr)
			w.drop(DropTxFull)
			w.again = append(w.again, m.master)
			return
		}
		n, _ := w.buildTCP(fr2.Buf, &f.rt, seg, -1, &ps)
		p.unalloc(fr)
		w.emit(&f.rt, fr2, n)
		m.lastPort = f.rt.p
	}
}

// block marks each subflow of m blocked when its port cannot lend a
// transmit frame, and returns the port to build the next segment in (the
// last one used when it has a frame, else any that has one; nil when
// none has) and whether any subflow is blocked. A port that had none
// earlier in round gen is not asked again.
func (m *mpConn) block(gen uint64) (*port, bool) {
	var p *port
	if m.lastPort.readyIn(gen) {
		p = m.lastPort
	}
	blocked := false
	for _, f := range m.subs {
		ok := f.rt.p.readyIn(gen)
		if f.sf.Blocked() != !ok {
			f.sf.SetBlocked(!ok)
		}
		if !ok {
			blocked = true
		} else if p == nil {
			p = f.rt.p
		}
	}
	if p != nil && p != m.lastPort {
		m.lastPort = p
	}
	return p, blocked
}

// mpPath runs the path manager: announcements go out with the next
// segments; subflows it asks for are opened from the right interface.
func (w *worker) mpPath(m *mpConn, now time.Duration) {
	mc := m.mc
	if mc.PathManager() == nil || !mc.FullyEstablished() {
		// A join before the connection is fully established fails (and
		// the manager would retry only after its back-off): wait.
		return
	}
	m.acts = mc.PathActions(now, m.acts[:0])
	for _, a := range m.acts {
		if a.Kind != pm.OpenSubflow {
			continue
		}
		if err := w.mpOpenSubflow(m, a, now); err != nil {
			mc.PathManager().SubflowDown(a.Local.Addr, a.Remote, now)
		}
	}
}

var errNoSubflowRoute = errors.New("stack: no interface reaches the subflow's remote address from its local address")

// mpOpenSubflow opens the subflow a path manager asked for: the local
// address (the endpoint's, or the stack's address on the interface that
// reaches the remote one) fixes the interface.
func (w *worker) mpOpenSubflow(m *mpConn, a pm.Action, now time.Duration) error {
	s := w.st
	raddr := a.Remote.Addr().Unmap()
	var ifc *iface
	var src, hop netip.Addr
	if a.Local.Addr.IsValid() {
		src = a.Local.Addr.Unmap()
		ifc = s.ifaceOf(src)
		if a.Local.Ifname != "" {
			for _, x := range s.ifaces {
				if x.name == a.Local.Ifname {
					ifc = x
				}
			}
		}
		if ifc == nil {
			return errNoSubflowRoute
		}
		hop = raddr
		if !ifc.onLink(raddr) {
			g, ok := s.gatewayOn(ifc, raddr)
			if !ok {
				return errNoSubflowRoute
			}
			hop = g
		}
	} else {
		var err error
		ifc, src, hop, err = s.route(raddr, netip.Addr{})
		if err != nil {
			return err
		}
	}
	key := flowKey{laddr: src, raddr: raddr, rport: a.Remote.Port()}
	if key.rport == 0 {
		// An ADD_ADDR without a port that arrived before the path manager
		// learnt the connection's ports: the port is the connection's.
		key.rport = m.subs[0].key.rport
	}
	if !w.pickPort(&key) {
		return errNoPorts
	}
	id := a.Local.ID
	if !a.Local.Addr.IsValid() {
		id = s.addrID(src, m.subs[0].key.laddr)
	}
	sf, err := m.mc.Join(key.tuple(), s.sec.isn(&key, now), id, a.Backup, now)
	if err != nil {
		return err
	}
	rt := route{p: w.ports[ifc.idx], src: src, dst: raddr, lport: key.lport, rport: key.rport, nextHop: hop}
	w.addSubflow(m, sf, rt)
	return nil
}

// addrID returns the address id of local address a: 0 for the
// connection's initial address, the endpoint's id when a is a configured
// endpoint, else one derived from the interface.
func (s *Stack) addrID(a, initial netip.Addr) uint8 {
	if a == initial {
		return 0
	}
	for _, e := range s.cfg.Endpoints {
		if e.Addr.Unmap() == a {
			return e.ID
		}
	}
	if ifc := s.ifaceOf(a); ifc != nil {
		return uint8(100 + ifc.idx)
	}
	return 100
}

// ifaceOf returns the interface that has local address a, or nil.
func (s *Stack) ifaceOf(a netip.Addr) *iface {
	for _, ifc := range s.ifaces {
		for _, p := range ifc.v4 {
			if p.Addr() == a {
				return ifc
			}
		}
		for _, p := range ifc.v6 {
			if p.Addr() == a {
				return ifc
			}
		}
	}
	return nil
}

// onLink reports whether dst is on one of ifc's prefixes.
func (ifc *iface) onLink(dst netip.Addr) bool {
	ps := ifc.v4
	if dst.Is6() {
		ps = ifc.v6
	}
	for _, p := range ps {
		if p.Contains(dst) {
			return true
		}
	}
	return false
}

// gatewayOn returns a configured gateway on ifc's prefixes for dst's family.
func (s *Stack) gatewayOn(ifc *iface, dst netip.Addr) (netip.Addr, bool) {
	for _, g := range s.cfg.Gateways {
		g = g.Unmap()
		if g.Is4() == dst.Is4() && ifc.onLink(g) {
			return g, true
		}
	}
	return netip.Addr{}, false
}

// mpRetire removes a connection that ended and its subflows.
func (w *worker) mpRetire(m *mpConn) {
	if m.retired {
		return
	}
	m.retired = true
	w.timers.remove(m.master)
	for _, f := range m.subs {
		if w.flows[f.key] == f {
			delete(w.flows, f.key)
			w.flowCnt--
		}
		f.removed = true
		if w.last == f {
			w.last = nil
		}
		for _, o := range w.st.workers {
			if o != w {
				o.post(command{op: opUnredirect, key: f.key, from: w.id})
			}
		}
	}
	w.st.mpOwners.Delete(m.mc)
	w.nbusy.Add(-1)
	finishConn(m.c, &m.lst)
}

// post queues a command from another worker (control plane, rare).
func (w *worker) post(cmd command) {
	for i := 0; !w.cmds.Enqueue(cmd); i++ {
		if w.stop.Load() || i > 1000 {
			return
		}
		time.Sleep(10 * time.Microsecond)
	}
	w.wake()
}

// unredirect removes the redirect for key that pointed at worker from.
func (w *worker) unredirect(key flowKey, from int) {
	if f := w.flows[key]; f != nil && f.redirect && f.fwd == from {
		delete(w.flows, key)
		w.flowCnt--
	}
}

// plainBytes returns the payload a plain TCP connection sent (new data:
// the engine keeps no byte count of retransmissions), had acknowledged,
// and received in order. The application's rings count in 64 bits: the
// send ring's consumed bytes are the acknowledged ones, the receive
// ring's committed bytes the in-order ones.
func plainBytes(c *Conn, ep *tcp.Endpoint) (sent, acked, recv uint64) {
	acked, recv = c.snd.head.Load(), c.rcv.tail.Load()
	sent = acked
	switch ep.State() {
	case tcp.Closed, tcp.SynSent, tcp.SynRcvd:
	default:
		// In flight: snd_una to snd_nxt, without a FIN (the ring holds
		// every byte not yet acknowledged).
		sent += uint64(min(int(ep.SndUna().Size(ep.SndNxt())), c.snd.Len()))
	}
	return sent, acked, recv
}

// mpInfo answers an application's Info/Subflows request.
func (w *worker) mpInfo(q *infoReq) {
	defer close(q.done)
	c := q.c
	m := c.mp
	if m == nil {
		q.info = conn.Info{Fallback: true, Flags: conn.InfoFlagFallback}
		if f := c.fl; f != nil && f.ep != nil && !f.removed {
			ctr := f.ep.Counters()
			si := conn.SubflowInfo{
				Tuple: f.key.tuple(), Ifname: f.rt.p.ifc.name, State: f.ep.State(), Cwnd: f.ep.Controller().Cwnd(),
				SRTT: f.ep.SRTT(), Retransmits: ctr.RetransSegs,
			}
			si.BytesSent, si.BytesAcked, si.BytesRecv = plainBytes(c, f.ep)
			q.info.BytesSent, q.info.BytesAcked, q.info.BytesReceived = si.BytesSent, si.BytesAcked, si.BytesRecv
			q.subs = append(q.subs, si)
			q.mss = append(q.mss, f.ep.MSS())
		}
		return
	}
	q.info = m.mc.Info()
	q.subs = m.mc.Subflows(q.subs)
	for _, sf := range m.mc.SubflowList() {
		mss := 0
		if ep := sf.Endpoint(); ep != nil {
			mss = ep.MSS()
		}
		q.mss = append(q.mss, mss)
	}
}
