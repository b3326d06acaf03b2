package stack

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/mpxdp/mpxdp/stack/header"
	"github.com/mpxdp/mpxdp/stack/neigh"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// reasonDrop maps a parser's Reason to the drop counter.
func reasonDrop(err error) Drop {
	switch err {
	case header.ErrTruncated:
		return DropTruncated
	case header.ErrChecksum:
		return DropBadChecksum
	case header.ErrFragment:
		return DropFragment
	case header.ErrUnsupported, header.ErrVLAN:
		return DropUnsupported
	}
	return DropMalformed
}

// input dispatches one received frame.
func (w *worker) input(p *port, b []byte, now time.Duration) {
	eth, n, err := header.ParseEthernet(b)
	if err != nil {
		w.drop(reasonDrop(err))
		return
	}
	if d := eth.Dst(); d != p.ifc.mac && !d.IsMulticast() {
		w.drop(DropNotForUs)
		return
	}
	if eth.HasVLAN() {
		// Our frames carry no tag, so a tagged peer could not take our
		// answers: VLANs are not supported.
		w.drop(DropUnsupported)
		return
	}
	switch eth.EtherType() {
	case header.EtherTypeIPv4:
		w.ipv4(p, eth, b[n:], b, now)
	case header.EtherTypeIPv6:
		w.ipv6(p, eth, b[n:], b, now)
	case header.EtherTypeARP:
		w.arp(p, eth, b[n:], now)
	default:
		w.drop(DropUnsupported)
	}
}

// arp answers requests for any of the stack's IPv4 addresses (on any
// interface) and learns the sender of requests for us and of replies.
func (w *worker) arp(p *port, eth header.Ethernet, b []byte, now time.Duration) {
	a, _, err := header.ParseARP(b)
	if err != nil {
		w.drop(reasonDrop(err))
		return
	}
	target := netip.AddrFrom4(a.TargetIP())
	sender := netip.AddrFrom4(a.SenderIP())
	ours := w.st.isLocal(target)
	if sender.IsValid() && !sender.IsUnspecified() && (ours || a.Op() == header.ARPReply) {
		w.st.neigh.Update(neigh.Key{Iface: p.ifc.idx, Addr: sender}, a.SenderMAC(), now)
	}
	if a.Op() != header.ARPRequest {
		return
	}
	if !ours {
		w.drop(DropNotForUs)
		return
	}
	f, ok := p.alloc()
	if !ok {
		w.drop(DropTxFull)
		return
	}
	n := header.EncodeEthernet(f.Buf, a.SenderMAC(), p.ifc.mac, header.EtherTypeARP)
	n += header.EncodeARP(f.Buf[n:], header.ARPReply, p.ifc.mac, a.TargetIP(), a.SenderMAC(), a.SenderIP())
	w.send(p, f, n)
	w.c.arpReplies.Add(1)
}

func (w *worker) ipv4(p *port, eth header.Ethernet, b, frame []byte, now time.Duration) {
	ip, n, err := header.ParseIPv4(b)
	if err != nil {
		w.drop(reasonDrop(err))
		return
	}
	dst := netip.AddrFrom4(ip.Dst())
	if !w.st.isLocal(dst) {
		w.drop(DropNotForUs)
		return
	}
	src := netip.AddrFrom4(ip.Src())
	switch ip.Protocol() {
	case header.TCPProtocolNumber:
		w.tcpIn(p, eth, src, dst, ip.Payload(), ip.PseudoHeaderSum(), frame, now)
	case header.ICMPv4ProtocolNumber:
		w.icmp4(p, eth, ip, b[n:len(ip)])
	default:
		w.drop(DropUnsupported)
	}
}

func (w *worker) icmp4(p *port, eth header.Ethernet, ip header.IPv4, b []byte) {
	m, _, err := header.ParseICMPv4(b)
	if err != nil {
		w.drop(reasonDrop(err))
		return
	}
	if m.Type() != header.ICMPv4EchoRequest {
		w.drop(DropUnsupported)
		return
	}
	f, ok := p.alloc()
	if !ok || len(f.Buf) < 14+20+len(m) {
		if ok {
			p.unalloc(f)
		}
		w.drop(DropTxFull)
		return
	}
	n := header.EncodeEthernet(f.Buf, eth.Src(), p.ifc.mac, header.EtherTypeIPv4)
	w.ipID++
	n += header.EncodeIPv4(f.Buf[n:], &header.IPv4Fields{
		TotalLen: uint16(20 + len(m)), ID: w.ipID, TTL: header.IPv4DefaultTTL,
		Protocol: header.ICMPv4ProtocolNumber, Src: ip.Dst(), Dst: ip.Src(),
	})
	n += header.EncodeICMPv4Echo(f.Buf[n:], header.ICMPv4EchoReply, m.Ident(), m.Seq(), m.Payload())
	w.send(p, f, n)
	w.c.echoReps.Add(1)
}

func (w *worker) ipv6(p *port, eth header.Ethernet, b, frame []byte, now time.Duration) {
	ip, _, err := header.ParseIPv6(b)
	if err != nil {
		w.drop(reasonDrop(err))
		return
	}
	proto, payload, err := ip.Transport()
	if err != nil {
		w.drop(reasonDrop(err))
		return
	}
	dst := ip.DstAddr()
	local := w.st.isLocal(dst)
	if !local && !(dst.IsMulticast() && w.st.wantMulticast6(dst)) {
		w.drop(DropNotForUs)
		return
	}
	switch proto {
	case header.TCPProtocolNumber:
		if !local {
			w.drop(DropNotForUs)
			return
		}
		w.tcpIn(p, eth, ip.SrcAddr(), dst, payload, ip.PseudoHeaderSum(proto, len(payload)), frame, now)
	case header.ICMPv6ProtocolNumber:
		w.icmp6(p, eth, ip, payload, local, now)
	default:
		w.drop(DropUnsupported)
	}
}

func (w *worker) icmp6(p *port, eth header.Ethernet, ip header.IPv6, b []byte, local bool, now time.Duration) {
	m, _, err := header.ParseICMPv6(b)
	if err != nil {
		w.drop(reasonDrop(err))
		return
	}
	if !m.ChecksumValid(ip.PseudoHeaderSum(header.ICMPv6ProtocolNumber, len(m))) {
		w.drop(DropBadChecksum)
		return
	}
	switch m.Type() {
	case header.ICMPv6EchoRequest:
		if !local {
			w.drop(DropNotForUs)
			return
		}
		f, ok := p.alloc()
		if !ok || len(f.Buf) < 14+40+len(m) {
			if ok {
				p.unalloc(f)
			}
			w.drop(DropTxFull)
			return
		}
		n := header.EncodeEthernet(f.Buf, eth.Src(), p.ifc.mac, header.EtherTypeIPv6)
		n += header.EncodeIPv6(f.Buf[n:], &header.IPv6Fields{
			PayloadLen: uint16(len(m)), NextHeader: header.ICMPv6ProtocolNumber,
			HopLimit: header.IPv6DefaultHopLimit, Src: ip.Dst(), Dst: ip.Src(),
		})
		n += header.EncodeICMPv6Echo(f.Buf[n:], ip.Dst(), ip.Src(), header.ICMPv6EchoReply, m.Ident(), m.Seq(), m.EchoPayload())
		w.send(p, f, n)
		w.c.echoReps.Add(1)
	case header.ICMPv6NeighborSolicitation, header.ICMPv6NeighborAdvertisement:
		w.nd(p, eth, ip, m, now)
	default:
		w.drop(DropUnsupported)
	}
}

// nd handles Neighbor Solicitations for our addresses (answered with an
// advertisement) and learns link-layer addresses from NS and NA.
func (w *worker) nd(p *port, eth header.Ethernet, ip header.IPv6, m header.ICMPv6, now time.Duration) {
	if ip.HopLimit() != header.NDHopLimit {
		w.drop(DropBadND)
		return
	}
	var o header.NDOptions
	if err := header.ParseNDOptions(m.NDOptionsBytes(), &o); err != nil {
		w.drop(DropBadND)
		return
	}
	target := netip.AddrFrom16(m.NDTarget())
	src := ip.SrcAddr()
	if m.Type() == header.ICMPv6NeighborAdvertisement {
		if o.HasTargetLinkLayer {
			w.st.neigh.Update(neigh.Key{Iface: p.ifc.idx, Addr: target}, o.TargetLinkLayer, now)
		}
		return
	}
	if !w.st.isLocal(target) {
		w.drop(DropNotForUs)
		return
	}
	if src.IsUnspecified() && o.HasSourceLinkLayer {
		w.drop(DropBadND) // RFC 4861 §7.1.1
		return
	}
	dstMAC := eth.Src()
	dst := ip.Src()
	flags := uint8(header.NDFlagSolicited | header.NDFlagOverride)
	if src.IsUnspecified() {
		dst = netip.IPv6LinkLocalAllNodes().As16()
		dstMAC = header.IPv6MulticastMAC(dst)
		flags = header.NDFlagOverride
	} else if o.HasSourceLinkLayer {
		w.st.neigh.Update(neigh.Key{Iface: p.ifc.idx, Addr: src}, o.SourceLinkLayer, now)
		dstMAC = o.SourceLinkLayer
	}
	f, ok := p.alloc()
	if !ok {
		w.drop(DropTxFull)
		return
	}
	n := header.EncodeEthernet(f.Buf, dstMAC, p.ifc.mac, header.EtherTypeIPv6)
	ipAt := n
	n += header.IPv6HeaderLen
	mac := p.ifc.mac
	l := header.EncodeNeighborAdvertisement(f.Buf[n:], m.NDTarget(), dst, m.NDTarget(), flags, &mac)
	header.EncodeIPv6(f.Buf[ipAt:], &header.IPv6Fields{
		PayloadLen: uint16(l), NextHeader: header.ICMPv6ProtocolNumber,
		HopLimit: header.NDHopLimit, Src: m.NDTarget(), Dst: dst,
	})
	w.send(p, f, n+l)
	w.c.ndAdverts.Add(1)
}

// tcpIn checks a TCP segment, converts it and gives it to its flow, the
// listener, or answers it with a RST.
func (w *worker) tcpIn(p *port, eth header.Ethernet, src, dst netip.Addr, b []byte, pseudo uint32, frame []byte, now time.Duration) {
	t, _, err := header.ParseTCP(b)
	if err != nil {
		w.drop(reasonDrop(err))
		return
	}
	key := flowKey{laddr: dst, raddr: src, lport: t.DstPort(), rport: t.SrcPort()}
	var f *flow
	if l := w.last; l != nil && l.key == key {
		f = l
	} else {
		if n := len(w.st.workers); n > 1 && !w.direct {
			if o := ownerOf(&key, n); o != w.id {
				w.handoffTo(o, p, frame) // the owner verifies the checksum
				return
			}
		}
		f = w.flows[key]
		if f != nil && f.redirect {
			w.handoffDirect(f.fwd, p, frame)
			return
		}
	}
	if ok, done := w.copyVerify(f, t, pseudo); !(ok || !done && t.ChecksumValid(pseudo)) {
		w.drop(DropBadChecksum)
		return
	}
	if !w.toSegment(t) {
		if f != nil {
			f.rcv.prePtr = nil // that copy is not the engine's to use
			if f.sf != nil {
				f.sf.Unplace()
			}
		}
		return
	}
	if f == nil {
		w.curFrame = frame
		w.noFlow(p, eth, &key, now)
		w.curFrame = nil
		return
	}
	w.last = f
	if f.mp != nil {
		w.mpInput(f, now)
		return
	}
	f.ep.Input(&w.seg, now)
	f.rcv.prePtr = nil
	w.markDirty(f)
}

// minCopyVerify is the smallest payload the receive fast path copies and
// sums in one pass; a shorter one is verified the usual way.
const minCopyVerify = 256

// copyVerify is the receive fast path for the next in-order payload of an
// established flow: it copies the payload to the receive ring's tail
// (room the reader cannot see until the engine publishes it) and sums it
// in the same pass, then checks the segment's checksum. done reports
// whether it checked (ok: the checksum verified); when it did not, the
// caller verifies the usual way. Only an in-order segment with no
// out-of-order data held is copied, so a corrupt segment can overwrite
// nothing the engine stored.
func (w *worker) copyVerify(f *flow, t header.TCP, pseudo uint32) (ok, done bool) {
	if f != nil && f.sf != nil {
		return mpCopyVerify(f, t, pseudo)
	}
	if f == nil || f.conn == nil || f.appClosed {
		return false, false
	}
	f.rcv.prePtr = nil
	pay := t.Payload()
	if len(pay) < minCopyVerify || t.Seq() != f.ep.RcvNxt() || f.ep.OOOBytes() != 0 || len(pay) > f.rcv.r.Free() {
		return false, false
	}
	hl := len(t) - len(pay) // a multiple of 4: the payload's sum adds in directly
	sum := header.Combine(header.Sum(t[:hl], pseudo), hl, f.rcv.r.CopySumIn(pay))
	if header.Fold(sum) != 0xffff {
		return false, true
	}
	f.rcv.prePtr, f.rcv.preLen = &pay[0], len(pay)
	return true, true
}

// toSegment converts a checked TCP view into w.seg; it counts and reports
// false for segments the engine must not see.
func (w *worker) toSegment(t header.TCP) bool {
	s := &w.seg
	fl := t.Flags()
	if fl.Has(header.TCPFlagSYN) && fl&(header.TCPFlagRST|header.TCPFlagFIN) != 0 {
		w.drop(DropBadFlags)
		return false
	}
	if opts := t.Options(); len(opts) == 12 && opts[0] == header.TCPOptionNOP && opts[1] == header.TCPOptionNOP &&
		opts[2] == header.TCPOptionTimestamps && opts[3] == header.TCPOptionTimestampsLen {
		// Fast path: the options of a bulk segment are two NOPs and the
		// timestamps (RFC 7323 Appendix A layout).
		s.Seq = t.Seq()
		s.Ack = t.Ack()
		s.Flags = tcp.Flags(fl &^ header.TCPFlagURG)
		s.Window = t.Window()
		s.Payload = t.Payload()
		s.Options = tcp.Options{HasTS: true, TSVal: binary.BigEndian.Uint32(opts[4:]), TSEcr: binary.BigEndian.Uint32(opts[8:])}
		return true
	}
	o := &w.optsIn
	if _, err := header.ParseTCPOptions(t.Options(), o); err != nil {
		w.drop(DropMalformed)
		return false
	}
	s.Seq = t.Seq()
	s.Ack = t.Ack()
	s.Flags = tcp.Flags(fl &^ header.TCPFlagURG)
	s.Window = t.Window()
	s.Payload = t.Payload()
	so := &s.Options
	*so = tcp.Options{}
	if o.HasMSS {
		so.MSS = o.MSS
	}
	if o.HasWindowScale {
		so.HasWScale, so.WScale = true, o.WindowScale
	}
	so.SACKPermitted = o.SACKPermitted
	if o.HasTimestamps {
		so.HasTS, so.TSVal, so.TSEcr = true, o.TSVal, o.TSEcr
	}
	so.NumSACK = uint8(o.NumSACK)
	for i := 0; i < o.NumSACK; i++ {
		so.SACK[i] = tcp.SACKBlock{Start: o.SACK[i].Start, End: o.SACK[i].End}
	}
	switch {
	case o.NumMPTCP == 1:
		so.Ext = o.MPTCP[0]
	case o.NumMPTCP > 1:
		// Several MPTCP options (a DSS with an ADD_ADDR, say): package
		// mptcp walks the whole option area and skips the other kinds.
		so.Ext = t.Options()
	}
	return true
}

// noFlow handles a segment without a connection: a listener's SYN or
// cookie ACK, or a RST in reply.
func (w *worker) noFlow(p *port, eth header.Ethernet, key *flowKey, now time.Duration) {
	s := &w.seg
	if s.Flags.Has(tcp.FlagRST) {
		w.drop(DropNoFlowRST)
		return
	}
	l := w.st.listenerFor(key.lport, key.laddr)
	if l == nil {
		w.drop(DropNoFlow)
		w.replyRST(p, eth, key)
		return
	}
	switch {
	case s.Flags&(tcp.FlagSYN|tcp.FlagACK) == tcp.FlagSYN:
		w.listenSYN(p, eth, key, l, now)
	case s.Flags&(tcp.FlagSYN|tcp.FlagACK) == tcp.FlagACK:
		if !w.cookieACK(p, eth, key, l, now) {
			w.drop(DropBadCookie)
			w.replyRST(p, eth, key)
		}
	default:
		w.drop(DropNoFlow)
		w.replyRST(p, eth, key)
	}
}

// listenSYN opens a passive flow for a SYN, or answers with a SYN cookie
// when the listener's backlog is full.
func (w *worker) listenSYN(p *port, eth header.Ethernet, key *flowKey, l *listener, now time.Duration) {
	if l.closed.Load() {
		w.drop(DropNoFlow)
		w.replyRST(p, eth, key)
		return
	}
	if len(w.seg.Options.Ext) > 0 && w.mpListenSYN(p, eth, key, l, now) {
		return
	}
	if int(l.pending.Load()) >= l.backlog {
		w.sendCookie(p, eth, key, now)
		return
	}
	c := w.st.newConn(key, w)
	f, ok := w.newFlow(p, key, c, eth.Src(), w.st.sec.isn(key, now), now, &w.seg)
	if !ok {
		return
	}
	l.pending.Add(1)
	f.lst = l
	w.markDirty(f)
}

// sendCookie answers a SYN statelessly with a SYN-ACK whose sequence
// number is a cookie (package tcp's SYNCookies).
func (w *worker) sendCookie(p *port, eth header.Ethernet, key *flowKey, now time.Duration) {
	cfg := w.flowConfig(p.ifc, key)
	out := w.st.sec.cookies.SYNACK(&cfg, key.tuple(), &w.seg, now)
	rt := route{p: p, src: key.laddr, dst: key.raddr, lport: key.lport, rport: key.rport, mac: eth.Src(), macOK: true}
	if w.sendSegment(&rt, &out) {
		w.c.synCookies.Add(1)
	}
}

// cookieACK creates an established flow from the ACK that completes a
// cookie handshake, if the cookie verifies.
func (w *worker) cookieACK(p *port, eth header.Ethernet, key *flowKey, l *listener, now time.Duration) bool {
	if l.closed.Load() || int(l.pending.Load()) >= 2*l.backlog {
		return false
	}
	info, ok := w.st.sec.cookies.Check(key.tuple(), &w.seg, now)
	if !ok {
		return false
	}
	c := w.st.newConn(key, w)
	rt := route{p: p, src: key.laddr, dst: key.raddr, lport: key.lport, rport: key.rport, nextHop: key.raddr, mac: eth.Src(), macOK: true}
	f, ok := w.newFlowFull(rt, key, c, 0, now, &w.seg, &info)
	if !ok {
		return false
	}
	l.pending.Add(1)
	f.lst = l
	w.c.cookieOK.Add(1)
	w.markDirty(f)
	return true
}

// replyRST answers the segment in w.seg (for key) with a RST (RFC 9293
// §3.10.7.1).
func (w *worker) replyRST(p *port, eth header.Ethernet, key *flowKey) {
	in := &w.seg
	var out tcp.Segment
	if in.Flags.Has(tcp.FlagACK) {
		out.Seq = in.Ack
		out.Flags = tcp.FlagRST
	} else {
		out.Ack = in.Seq.Add(in.Len())
		out.Flags = tcp.FlagRST | tcp.FlagACK
	}
	rt := route{p: p, src: key.laddr, dst: key.raddr, lport: key.lport, rport: key.rport, mac: eth.Src(), macOK: true}
	if w.sendSegment(&rt, &out) {
		w.c.rstOut.Add(1)
	}
}
