package stack

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"github.com/mpxdp/mpxdp/stack/header"
	"github.com/mpxdp/mpxdp/stack/link"
	"github.com/mpxdp/mpxdp/stack/neigh"
	"github.com/mpxdp/mpxdp/stack/seqnum"
	"github.com/mpxdp/mpxdp/stack/tcp"
	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

const (
	ethLen  = header.EthernetHeaderLen
	maxSegs = 128 // segments one flow may emit per service round
)

func ipHeaderLen(v6 bool) int {
	if v6 {
		return header.IPv6HeaderLen
	}
	return header.IPv4MinHeaderLen
}

// newFlow creates a flow owned by w on route rt. syn is the peer's SYN for
// a passive flow, nil for an active one.
func (w *worker) newFlow(p *port, key *flowKey, c *Conn, mac header.MAC, iss seqnum.Value, now time.Duration, syn *tcp.Segment) (*flow, bool) {
	rt := route{p: p, src: key.laddr, dst: key.raddr, lport: key.lport, rport: key.rport, nextHop: key.raddr, mac: mac, macOK: true}
	return w.newFlowRoute(rt, key, c, iss, now, syn)
}

func (w *worker) newFlowRoute(rt route, key *flowKey, c *Conn, iss seqnum.Value, now time.Duration, syn *tcp.Segment) (*flow, bool) {
	return w.newFlowFull(rt, key, c, iss, now, syn, nil)
}

// newFlowFull creates a flow: active (syn and cookie nil), passive from a
// SYN, or established from a verified cookie ACK (syn is then the ACK).
func (w *worker) newFlowFull(rt route, key *flowKey, c *Conn, iss seqnum.Value, now time.Duration, syn *tcp.Segment, cookie *tcp.CookieInfo) (*flow, bool) {
	v6 := key.laddr.Is6()
	cfg := w.flowConfig(rt.p.ifc, key)
	cfg.ISS = iss
	ctrl, err := cc.New(w.st.cfg.CC)
	if err != nil {
		w.drop(DropUnsupported)
		return nil, false
	}
	cfg.CC = ctrl
	f := &flow{key: *key, rt: rt, conn: c, heapIdx: -1}
	f.snd.c = c
	cfg.Send = &f.snd
	f.rcv.r = c.rcv
	cfg.Recv = &f.rcv
	f.maxPay = rt.p.ifc.pkt - ipHeaderLen(v6) - header.TCPMinHeaderLen
	var ep *tcp.Endpoint
	switch {
	case cookie != nil:
		ep, err = tcp.NewFromCookie(cfg, syn, *cookie, now)
	case syn != nil:
		ep, err = tcp.NewPassive(cfg, syn, now)
	default:
		ep, err = tcp.NewActive(cfg, now)
	}
	if err != nil {
		w.drop(DropMalformed)
		return nil, false
	}
	f.ep = ep
	c.fl = f
	w.flows[*key] = f
	w.flowCnt++
	w.nbusy.Add(1)
	w.c.flowsOpen.Add(1)
	return f, true
}

// flowConfig returns the engine configuration of a connection on ifc for
// key (without ISS and CC): the stack's TCP defaults, the MSS the
// interface allows and the tuple's timestamp offset.
func (w *worker) flowConfig(ifc *iface, key *flowKey) tcp.Config {
	cfg := w.st.tcpCfg
	if m := w.st.mssFor(ifc, key.laddr.Is6()); cfg.MSS == 0 || cfg.MSS > m {
		cfg.MSS = m
	}
	cfg.TSOffset = w.st.sec.tsOffset(key)
	return cfg
}

// writeTCP serialises seg (Ethernet, IP, TCP with options and full
// checksum) into buf for route rt. The payload either already sits at
// buf[payAt:] (the engine copied it there) or, with payAt < 0, is copied.
// It returns the frame length and the option bytes used.
func (w *worker) writeTCP(buf []byte, rt *route, seg *tcp.Segment, payAt int) (int, int) {
	return w.buildTCP(buf, rt, seg, payAt, nil)
}

// buildTCP is writeTCP with the payload's checksum known in advance when
// ps holds it for exactly seg.Payload (sendAdapter summed the bytes while
// copying them into the frame): only the headers are summed then.
func (w *worker) buildTCP(buf []byte, rt *route, seg *tcp.Segment, payAt int, ps *sendAdapter) (int, int) {
	o := &w.optsOut
	o.Reset()
	so := &seg.Options
	if so.MSS != 0 {
		o.MSS, o.HasMSS = so.MSS, true
	}
	if so.HasWScale {
		o.WindowScale, o.HasWindowScale = so.WScale, true
	}
	o.SACKPermitted = so.SACKPermitted
	if so.HasTS {
		o.TSVal, o.TSEcr, o.HasTimestamps = so.TSVal, so.TSEcr, true
	}
	o.NumSACK = int(so.NumSACK)
	for i := 0; i < o.NumSACK; i++ {
		o.SACK[i] = header.SACKBlock{Start: so.SACK[i].Start, End: so.SACK[i].End}
	}
	o.ReserveLen = len(so.Ext)
	optLen, err := header.TCPOptionsSize(o)
	if err != nil {
		o.ReserveLen = 0
		optLen, _ = header.TCPOptionsSize(o)
	}
	v6 := rt.src.Is6()
	ipHL := ipHeaderLen(v6)
	tcpOff := ethLen + ipHL
	payStart := tcpOff + header.TCPMinHeaderLen + optLen
	pl := len(seg.Payload)
	if pl > 0 && payStart != payAt {
		copy(buf[payStart:payStart+pl], seg.Payload)
	}
	tcpLen := header.TCPMinHeaderLen + optLen + pl
	var pseudo uint32
	if v6 {
		header.EncodeEthernet(buf, rt.mac, rt.p.ifc.mac, header.EtherTypeIPv6)
		s, d := rt.src.As16(), rt.dst.As16()
		header.EncodeIPv6(buf[ethLen:], &header.IPv6Fields{
			PayloadLen: uint16(tcpLen), NextHeader: header.TCPProtocolNumber,
			HopLimit: header.IPv6DefaultHopLimit, Src: s, Dst: d,
		})
		pseudo = header.PseudoHeaderSumIPv6(s, d, header.TCPProtocolNumber, uint32(tcpLen))
	} else {
		header.EncodeEthernet(buf, rt.mac, rt.p.ifc.mac, header.EtherTypeIPv4)
		s, d := rt.src.As4(), rt.dst.As4()
		w.ipID++
		header.EncodeIPv4(buf[ethLen:], &header.IPv4Fields{
			TotalLen: uint16(ipHL + tcpLen), ID: w.ipID, DF: true, TTL: header.IPv4DefaultTTL,
			Protocol: header.TCPProtocolNumber, Src: s, Dst: d,
		})
		pseudo = header.PseudoHeaderSumIPv4(s, d, header.TCPProtocolNumber, uint16(tcpLen))
	}
	tf := header.TCPFields{
		SrcPort: rt.lport, DstPort: rt.rport, Seq: seg.Seq, Ack: seg.Ack,
		Flags: header.TCPFlags(seg.Flags), Window: seg.Window, OptionsLen: optLen,
	}
	header.EncodeTCP(buf[tcpOff:], &tf)
	if optLen > 0 {
		_, res := header.WriteTCPOptions(buf[tcpOff+header.TCPMinHeaderLen:tcpOff+header.TCPMinHeaderLen+optLen], o)
		if o.ReserveLen > 0 {
			copy(buf[tcpOff+header.TCPMinHeaderLen+res:], so.Ext)
		}
	}
	if ps != nil && pl > 0 && ps.sumLen == pl && ps.sumPtr == &seg.Payload[0] {
		// The header is 20 plus a multiple of 4 bytes long, so the
		// payload's sum starts at an even offset and adds in directly.
		t := header.TCP(buf[tcpOff : tcpOff+tcpLen])
		hs := header.TCPHeaderSum(&tf, buf[tcpOff+header.TCPMinHeaderLen:payStart], pseudo)
		t.SetChecksum(^header.Fold(header.Combine(hs, payStart-tcpOff, ps.sum)))
	} else {
		header.TCP(buf[tcpOff : tcpOff+tcpLen]).FinishChecksum(pseudo)
	}
	if ps != nil {
		ps.sumPtr = nil
	}
	return tcpOff + tcpLen, optLen
}

// sendSegment builds and sends a segment that does not come from a flow's
// engine (RSTs, cookie SYN-ACKs): its payload, if any, is copied.
func (w *worker) sendSegment(rt *route, seg *tcp.Segment) bool {
	f, ok := rt.p.alloc()
	if !ok {
		w.drop(DropTxFull)
		return false
	}
	n, _ := w.writeTCP(f.Buf, rt, seg, -1)
	w.emit(rt, f, n)
	return true
}

// emit sends a built frame to rt's next hop, or parks a copy until the
// neighbour is resolved.
func (w *worker) emit(rt *route, f link.Frame, n int) {
	if !rt.macOK {
		k := neigh.Key{Iface: rt.p.ifc.idx, Addr: rt.nextHop}
		if e, ok := w.st.neigh.Lookup(k); ok {
			rt.mac, rt.macOK = e.MAC, true
			header.Ethernet(f.Buf).SetDst(e.MAC)
		} else {
			switch w.pending.Add(k, f.Buf[:n], w.now) {
			case neigh.QueuedRequest:
				w.solicit(k)
			case neigh.DroppedFull:
				w.drop(DropNeighbour)
			}
			rt.p.unalloc(f)
			return
		}
	}
	w.send(rt.p, f, n)
}

// service runs one flow after input, a timer or a command: it moves
// received bytes to the application, reports state changes, sends what
// the engine has, re-arms the timer and retires a closed flow.
func (w *worker) service(f *flow, now time.Duration) {
	if f.mp != nil {
		w.mpService(f.mp, now)
		return
	}
	ep := f.ep
	w.deliver(f)
	p := f.rt.p
	v6 := f.key.laddr.Is6()
	base := ethLen + ipHeaderLen(v6) + header.TCPMinHeaderLen
	sent := 0
	for ; sent < maxSegs; sent++ {
		fr, ok := p.alloc()
		if !ok {
			w.again = append(w.again, f)
			break
		}
		off := base + f.optPred
		room := min(len(fr.Buf)-off, f.maxPay)
		seg := &w.segOut
		if !ep.OutputTo(seg, now, fr.Buf[off:off+room]) {
			p.unalloc(fr)
			break
		}
		n, optLen := w.buildTCP(fr.Buf, &f.rt, seg, off, &f.snd)
		if len(seg.Payload) > 0 {
			f.optPred = optLen
		}
		w.emit(&f.rt, fr, n)
	}
	if sent == maxSegs {
		w.again = append(w.again, f)
	}
	w.timers.set(f, ep.NextTimer())
	if st := ep.State(); !f.inTW && (st == tcp.TimeWait || (st == tcp.FinWait2 && f.appClosed)) {
		// Quiet: our side is fully sent and acknowledged; Stack.Close
		// need not wait for the peer's FIN.
		f.inTW = true
		w.nbusy.Add(-1)
		if c := f.conn; c != nil {
			ctr := ep.Counters()
			c.final.Store(&ctr)
		}
	}
	if ep.State() == tcp.Closed {
		w.retire(f)
	}
}

// deliver publishes what the engine received (it writes straight into
// the application's ring), keeps the advertised window in step with the
// room the reader freed, and publishes connection state changes.
func (w *worker) deliver(f *flow) {
	ep := f.ep
	c := f.conn
	if c == nil || f.appClosed {
		// Nobody reads any more: free what arrived and keep the window
		// open until the close completes.
		f.rcv.moved = false
		if c != nil {
			c.rcv.Discard()
		}
		ep.RecvBufferFreed()
		return
	}
	moved := f.rcv.moved
	f.rcv.moved = false
	if r := c.rcv; r.Free() < r.Cap()/2 {
		// The window we advertise is getting small: flag first, then let
		// the engine look at the room. Either it sees what the reader
		// freed before the flag, or the reader sees the flag and asks us
		// to come back (readDone).
		c.rcvFull.Store(true)
	}
	ep.RecvBufferFreed()
	st := ep.State()
	if !f.estab && st != tcp.Closed && st != tcp.SynSent && st != tcp.SynRcvd {
		f.estab = true
		l := f.lst
		f.lst = nil
		if !w.handOver(c, l) {
			ep.Abort()
			f.appClosed = true
		}
	}
	if ep.PeerClosed() && !c.hasStatus(stEOF) {
		c.setStatus(stEOF)
		moved = true
	}
	if err := ep.Err(); err != nil && !c.hasStatus(stFailed) {
		c.fail(err)
		if l := f.lst; l != nil {
			f.lst = nil
			l.pending.Add(-1)
		}
		return
	}
	if moved && c.rdWait.Load() {
		// Coalesce: wake a waiting reader at once for a good share of
		// the ring (or the end of the stream), otherwise when the worker
		// runs out of received frames (flushWakes), so that a stream of
		// batches costs one wake-up rather than one per batch.
		if r := c.rcv; r.Len() >= r.Cap()/8 || c.hasStatus(stEOF) {
			w.wakeApp(c.rdCh)
		} else if !f.wakeRd {
			f.wakeRd = true
			w.wakeRd = append(w.wakeRd, f)
		}
	}
}

// retire removes a closed flow.
func (w *worker) retire(f *flow) {
	if f.removed {
		return
	}
	f.removed = true
	w.timers.remove(f)
	delete(w.flows, f.key)
	w.flowCnt--
	if !f.inTW {
		w.nbusy.Add(-1)
	}
	if w.last == f {
		w.last = nil
	}
	if c := f.conn; c != nil {
		ctr := f.ep.Counters()
		c.final.Store(&ctr)
		finishConn(c, &f.lst)
		c.fl = nil
	}
}

// finishConn ends the application's side of a retired TCP flow or MPTCP
// connection: a connection still waiting in the accept queue (*lst) gives
// its place back, one that never got established fails, and both of the
// application's waiters are woken.
func finishConn(c *Conn, lst **listener) {
	if l := *lst; l != nil {
		*lst = nil
		l.pending.Add(-1)
	}
	if !c.hasStatus(stFailed) {
		c.setStatus(stDone)
		if !c.hasStatus(stEstablished) {
			c.fail(errConnClosed)
		}
	}
	c.wakeReader()
	c.wakeWriter()
}

var errConnClosed = errors.New("stack: connection closed before it was established")

// solicit sends an ARP request (IPv4) or a Neighbor Solicitation (IPv6)
// for k.
func (w *worker) solicit(k neigh.Key) {
	p := w.ports[k.Iface]
	src, ok := w.st.sourceFor(p.ifc, k.Addr)
	if !ok {
		return
	}
	f, ok := p.alloc()
	if !ok {
		w.drop(DropTxFull)
		return
	}
	var n int
	if k.Addr.Is4() {
		n = header.EncodeEthernet(f.Buf, header.BroadcastMAC, p.ifc.mac, header.EtherTypeARP)
		n += header.EncodeARP(f.Buf[n:], header.ARPRequest, p.ifc.mac, src.As4(), header.MAC{}, k.Addr.As4())
		w.c.arpReqs.Add(1)
	} else {
		t := k.Addr.As16()
		dst := header.SolicitedNodeMulticast(t)
		n = header.EncodeEthernet(f.Buf, header.IPv6MulticastMAC(dst), p.ifc.mac, header.EtherTypeIPv6)
		ipAt := n
		n += header.IPv6HeaderLen
		mac := p.ifc.mac
		l := header.EncodeNeighborSolicitation(f.Buf[n:], src.As16(), dst, t, &mac)
		header.EncodeIPv6(f.Buf[ipAt:], &header.IPv6Fields{
			PayloadLen: uint16(l), NextHeader: header.ICMPv6ProtocolNumber,
			HopLimit: header.NDHopLimit, Src: src.As16(), Dst: dst,
		})
		n += l
		w.c.ndSolicits.Add(1)
	}
	w.send(p, f, n)
}

// drainCommands runs the application's requests.
func (w *worker) drainCommands(now time.Duration) {
	if len(w.again) > 0 {
		for _, f := range w.again {
			w.markDirty(f)
		}
		clear(w.again)
		w.again = w.again[:0]
	}
	for {
		n := w.cmds.DequeueBatch(w.cmdBuf)
		for i := 0; i < n; i++ {
			cmd := w.cmdBuf[i]
			w.cmdBuf[i] = command{}
			switch cmd.op {
			case opDial:
				w.dial(cmd.c, now)
			case opUpdate:
				w.update(cmd.c)
			case opUnredirect:
				w.unredirect(cmd.key, cmd.from)
			case opInfo:
				w.mpInfo(cmd.q)
			}
		}
		if n < len(w.cmdBuf) {
			return
		}
	}
}

// update applies the requests a connection's application side posted.
func (w *worker) update(c *Conn) {
	c.queued.Store(false)
	bits := c.want.Swap(0)
	if m := c.mp; m != nil {
		w.mpUpdate(m, bits)
		return
	}
	f := c.fl
	if f == nil || f.removed {
		return
	}
	if bits&wantAbort != 0 {
		f.ep.Abort()
		f.appClosed = true
	}
	if bits&wantClose != 0 {
		f.appClosed = true
		if c.rcv.Len() > 0 {
			// Unread data: reset, as Linux does (RFC 2525 §2.17).
			f.ep.Abort()
		} else {
			f.ep.Close()
		}
	}
	if bits&wantCloseWrite != 0 {
		f.ep.CloseWrite()
	}
	w.markDirty(f)
}

// dial opens an active flow for c.
func (w *worker) dial(c *Conn, now time.Duration) {
	raddr := c.raddr.Addr()
	ifc, src, hop, err := w.st.route(raddr, c.laddr.Addr())
	if err != nil {
		c.fail(err)
		return
	}
	key := flowKey{laddr: src, raddr: raddr, rport: c.raddr.Port()}
	if lp := c.laddr.Port(); lp != 0 {
		key.lport = lp
		if ownerOf(&key, len(w.st.workers)) != w.id || w.flows[key] != nil {
			c.fail(errAddrInUse)
			return
		}
	} else if !w.pickPort(&key) {
		c.fail(errNoPorts)
		return
	}
	c.laddr = netip.AddrPortFrom(src, key.lport)
	rt := route{p: w.ports[ifc.idx], src: src, dst: raddr, lport: key.lport, rport: key.rport, nextHop: hop}
	if w.st.cfg.MPTCP {
		w.mpDial(c, &key, rt, now)
		return
	}
	f, ok := w.newFlowRoute(rt, &key, c, w.st.sec.isn(&key, now), now, nil)
	if !ok {
		c.fail(errNoPorts)
		return
	}
	w.markDirty(f)
}

var (
	// errAddrInUse wraps EADDRINUSE, as the net package's error does, so
	// that errors.Is(err, syscall.EADDRINUSE) holds.
	errAddrInUse = fmt.Errorf("stack: local %w: choose another port or let the stack pick one", syscall.EADDRINUSE)
	errNoPorts   = errors.New("stack: no free local port for this destination: close some connections")
)

// pickPort chooses an ephemeral local port such that this worker owns the
// resulting tuple and no flow uses it.
func (w *worker) pickPort(k *flowKey) bool {
	const lo, span = 32768, 28232
	for range span * 2 {
		w.portSeq++
		k.lport = uint16(lo + w.portSeq%span)
		if ownerOf(k, len(w.st.workers)) == w.id && w.flows[*k] == nil {
			return true
		}
	}
	return false
}

// handOver publishes a connection that just became established: to its
// listener's accept queue, or to the dialer waiting to write when l is nil.
// It reports false, counted, when the accept queue is closed or full; the
// caller then aborts the connection.
func (w *worker) handOver(c *Conn, l *listener) bool {
	c.setStatus(stEstablished)
	if l == nil {
		c.wakeWriter()
		return true
	}
	if l.closed.Load() || !l.acceptQ.Enqueue(c) {
		l.pending.Add(-1)
		w.drop(DropAcceptQueue)
		return false
	}
	l.wake()
	return true
}
