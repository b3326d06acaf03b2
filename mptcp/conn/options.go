package conn

import (
	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/stack/seqnum"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// dssOnly is the option set of an ordinary data segment or ACK.
const dssOnly = mptcp.Set(1) << mptcp.SubtypeDSS

// optNOP is the TCP NOP option kind that pads the MPTCP options to a
// multiple of 4 bytes.
const optNOP = 1

// writeDSSOnly writes d alone into buf, padded with NOPs to a multiple of
// 4 bytes, as Out.Fit and Out.Write would for a set holding only the DSS.
// It returns false, writing nothing, when the padded DSS does not fit.
func writeDSSOnly(d *mptcp.DSS, buf []byte) (int, bool) {
	if (d.Size()+3)&^3 > len(buf) {
		return 0, false
	}
	n := d.Write(buf)
	for n&3 != 0 {
		buf[n] = optNOP
		n++
	}
	return n, true
}

// writeOptions builds the MPTCP options of an outgoing segment of sf.
func (sf *Subflow) writeOptions(seg *tcp.Segment, buf []byte) int {
	c := sf.c
	o := &sf.out
	o.Want = 0
	syn := seg.Flags.Has(tcp.FlagSYN)
	if syn {
		sf.sentWS, sf.wsShift = seg.Options.HasWScale, seg.Options.WScale
	}
	switch sf.role {
	case roleMPC:
		if c.infPending && !syn && len(seg.Payload) > 0 && seg.Seq.GreaterThanEq(c.infSeq) {
			if sf.ep.SndUna().GreaterThan(c.infSeq) {
				c.infPending = false // the peer has the infinite mapping
				return 0
			}
			o.DSS = mptcp.DSS{HasMap: true, DSN64: true, DSN: c.sndBase + c.infDSN, SubflowSeq: uint32(c.infSeq - sf.iss)}
			o.Want = o.Want.With(mptcp.SubtypeDSS)
			c.mib.Inc(mptcp.MibInfiniteMapTx)
			break
		}
		if c.fallback || (!c.mpc && !c.fullyEst) {
			return 0
		}
		switch {
		case syn && !seg.Flags.Has(tcp.FlagACK): // client SYN
			o.Capable = mptcp.Capable{Version: mptcp.Version1, Flags: c.capFlags()}
			o.Want = o.Want.With(mptcp.SubtypeCapable)
		case syn: // server SYN/ACK
			o.Capable = mptcp.Capable{Version: mptcp.Version1, Flags: c.capFlags(), Keys: 1, SenderKey: c.localKey}
			o.Want = o.Want.With(mptcp.SubtypeCapable)
		case c.client && !c.fullyEst:
			// Third ACK, repeated until the server shows it is fully
			// established; the first data carries its mapping in it.
			o.Capable = mptcp.Capable{Version: mptcp.Version1, Flags: c.capFlags(), Keys: 2, SenderKey: c.localKey, ReceiverKey: c.remoteKey}
			if len(seg.Payload) > 0 {
				if i := sf.findTx(seg.Seq); i >= 0 && sf.tx[i].sseq == sf.iss+1 {
					m := &sf.tx[i]
					o.Capable.HasDataLen = true
					o.Capable.DataLen = uint16(m.n)
					if c.csum {
						o.Capable.HasChecksum = true
						o.Capable.Checksum = m.csum
					}
					sf.mpcDataSent = true
				} else {
					// Later data: a DSS only (the keys do not fit next to it).
					sf.dss(seg, o)
					o.Want = o.Want.With(mptcp.SubtypeDSS)
					break
				}
			}
			o.Want = o.Want.With(mptcp.SubtypeCapable)
		case c.fullyEst:
			sf.dss(seg, o)
			o.Want = o.Want.With(mptcp.SubtypeDSS)
		}
	case roleJoinClient:
		switch {
		case syn:
			o.Join = mptcp.Join{Form: mptcp.JoinSYN, Backup: sf.backup, AddrID: sf.localID, Token: c.remoteToken, Nonce: sf.localNonce}
			o.Want = o.Want.With(mptcp.SubtypeJoin)
		case !sf.joinOK:
			mac := c.hasher.JoinHMAC(c.localKey, c.remoteKey, sf.localNonce, sf.remoteNonce)
			o.Join = mptcp.Join{Form: mptcp.JoinACK}
			copy(o.Join.HMAC[:], mac[:mptcp.JoinHMACLen])
			o.Want = o.Want.With(mptcp.SubtypeJoin)
			sf.joinAckSent = true
		default:
			sf.dss(seg, o)
			o.Want = o.Want.With(mptcp.SubtypeDSS)
		}
	case roleJoinServer:
		switch {
		case syn:
			mac := c.hasher.JoinHMAC(c.localKey, c.remoteKey, sf.localNonce, sf.remoteNonce)
			o.Join = mptcp.Join{Form: mptcp.JoinSYNACK, Backup: sf.backup, AddrID: sf.localID, TruncatedHMAC: mptcp.TruncatedJoinHMAC(&mac), Nonce: sf.localNonce}
			o.Want = o.Want.With(mptcp.SubtypeJoin)
		case sf.joinOK:
			sf.dss(seg, o)
			o.Want = o.Want.With(mptcp.SubtypeDSS)
		}
	}
	if !syn && c.fullyEst {
		if sf.sendPrio {
			o.Prio = mptcp.Prio{Backup: sf.backup}
			o.Want = o.Want.With(mptcp.SubtypePrio)
		}
		if sf.sendFail {
			o.Fail = mptcp.Fail{DSN: sf.failDSN}
			o.Want = o.Want.With(mptcp.SubtypeFail)
		}
		if len(sf.addAddr) > 0 {
			o.AddAddr = sf.addAddr[0]
			o.Want = o.Want.With(mptcp.SubtypeAddAddr)
		}
		if len(sf.rmAddr) > 0 {
			o.RemoveAddr = mptcp.RemoveAddr{IDs: sf.rmAddr}
			o.Want = o.Want.With(mptcp.SubtypeRemoveAddr)
		}
	}
	if o.Want == dssOnly {
		// The common case of every data segment and ACK: a DSS alone.
		// Fit and Write would walk all subtypes for it; when it fits as
		// it is, write it directly (same bytes, same padding).
		if n, ok := writeDSSOnly(&o.DSS, buf); ok {
			return n
		}
	}
	send, deferred, size := o.Fit(len(buf))
	if deferred != 0 && o.Want.Has(mptcp.SubtypeDSS) && o.DSS.HasMap {
		// Shrink the DSS to make room: a 32-bit DSN, then no DATA_ACK
		// when the mapping itself does not fit.
		o.DSS.DSN64 = false
		o.DSS.DSN &= 0xffffffff
		if send, _, size = o.Fit(len(buf)); !send.Has(mptcp.SubtypeDSS) {
			o.DSS.HasAck = false
			send, _, size = o.Fit(len(buf))
		}
	}
	if deferred.Has(mptcp.SubtypeAddAddr) && len(sf.addAddr) > 0 {
		send, size = sf.addAddrAlone(seg, o, len(buf), send, size)
	}
	if size > len(buf) {
		return 0
	}
	n := o.Write(buf, send)
	if send.Has(mptcp.SubtypePrio) {
		sf.sendPrio = false
		c.mib.Inc(mptcp.MibMPPrioTx)
	}
	if send.Has(mptcp.SubtypeFail) {
		sf.sendFail = false
		c.mib.Inc(mptcp.MibMPFailTx)
	}
	if send.Has(mptcp.SubtypeAddAddr) {
		if o.AddAddr.Echo {
			c.mib.Inc(mptcp.MibEchoAddTx)
		} else {
			c.mib.Inc(mptcp.MibAddAddrTx)
		}
		sf.addAddr = append(sf.addAddr[:0], sf.addAddr[1:]...)
	}
	if send.Has(mptcp.SubtypeRemoveAddr) {
		c.mib.Add(mptcp.MibRmAddrTx, uint64(len(sf.rmAddr)))
		sf.rmAddr = sf.rmAddr[:0]
	}
	return n
}

// addAddrAlone handles an ADD_ADDR (or echo) that did not fit in a
// segment of space option bytes next to the other options: an IPv6
// ADD_ADDR with its HMAC is 28 bytes, all that is left after timestamps.
// As Linux does, a pure ACK that carries no mapping sends it without the
// DSS, and the DATA_ACK follows on a pure ACK of its own (asked for here).
// An option that cannot fit even alone in a pure ACK without SACK blocks
// never will on this subflow: it is dropped and counted (AddAddrTxDrop or
// EchoAddTxDrop) so that it does not hold up the options queued behind it;
// an announcement is tried again by its resend timer. It returns the set
// to send and its size (send and size unchanged when nothing changes).
func (sf *Subflow) addAddrAlone(seg *tcp.Segment, o *mptcp.Out, space int, send mptcp.Set, size int) (mptcp.Set, int) {
	if len(seg.Payload) > 0 || seg.Flags&(tcp.FlagSYN|tcp.FlagFIN|tcp.FlagRST) != 0 {
		return send, size // data and FINs keep their DSS; the next pure ACK carries it
	}
	if o.Want.Has(mptcp.SubtypeDSS) && o.DSS.HasMap {
		return send, size // a DATA_FIN (or infinite) mapping goes first
	}
	dss := o.Want.Has(mptcp.SubtypeDSS)
	o.Want = o.Want.Without(mptcp.SubtypeDSS)
	s, _, n := o.Fit(space)
	if s.Has(mptcp.SubtypeAddAddr) {
		if dss {
			sf.needAck = true // the DATA_ACK goes on the next segment
		}
		return s, n
	}
	if dss {
		o.Want = o.Want.With(mptcp.SubtypeDSS)
	}
	if seg.Options.NumSACK == 0 && (o.AddAddr.Size()+3)&^3 > space {
		// Too large for this subflow's option space (an IPv6 ADD_ADDR
		// with a port and timestamps): it can never be sent here.
		c := sf.c
		if o.AddAddr.Echo {
			c.mib.Inc(mptcp.MibEchoAddTxDrop)
		} else {
			c.mib.Inc(mptcp.MibAddAddrTxDrop)
		}
		sf.addAddr = append(sf.addAddr[:0], sf.addAddr[1:]...)
		if len(sf.addAddr) > 0 {
			sf.needAck = true // the next one may fit
		}
	}
	return send, size
}

// capFlags are the MP_CAPABLE flags we send.
func (c *Conn) capFlags() uint8 {
	f := uint8(mptcp.CapableHMACSHA256)
	if c.csum {
		f |= mptcp.CapableChecksum
	}
	return f
}

// dss fills o.DSS for seg: the DATA_ACK, the mapping of its payload, and
// the DATA_FIN when it is due.
func (sf *Subflow) dss(seg *tcp.Segment, o *mptcp.Out) {
	c := sf.c
	d := &o.DSS
	ack := sf.windowAck(seg)
	*d = mptcp.DSS{HasAck: true, DataAck: ack & 0xffffffff}
	c.rcvAdvEnd = c.rcv.limit() // the right edge this DATA_ACK's window shows
	if c.bufReady {
		wnd := uint64(seg.Window)
		if sf.sentWS && sf.peerWS {
			wnd <<= sf.wsShift
		}
		if e := ack - c.rcvBase + wnd; e > c.rcvWndSent && !c.finRcvd {
			c.rcvWndSent = e
		}
	}
	if len(seg.Payload) > 0 {
		if i := sf.findTx(seg.Seq); i >= 0 {
			m := &sf.tx[i]
			d.HasMap, d.DSN64 = true, true
			d.DSN = c.sndBase + m.dsn
			d.SubflowSeq = uint32(m.sseq - sf.iss)
			d.DataLen = uint16(m.n)
			if c.csum {
				d.HasChecksum, d.Checksum = true, m.csum
			}
		}
		return
	}
	if c.finSent && !c.finAcked {
		d.HasMap, d.DSN64 = true, true
		d.DSN = c.sndBase + c.snd.end
		d.DataLen = 1
		d.DataFin = true
		if c.csum {
			d.HasChecksum = true
			d.Checksum = mptcp.DSSChecksum(c.sndBase+c.snd.end, 0, 1, 0)
		}
	}
}

// dataAck is the DATA_ACK we send (on the wire, 64-bit): rcv_nxt, plus
// one for a received DATA_FIN.
func (c *Conn) dataAck() uint64 {
	if !c.bufReady {
		return 0
	}
	if c.finRcvd {
		return c.rcvBase + c.rcv.nxt + 1
	}
	return c.rcvBase + c.rcv.nxt
}

// preInput checks the handshake options of seg before the engine sees it.
// It returns false when the segment must not reach the engine (the subflow
// is being reset).
func (c *Conn) preInput(sf *Subflow, seg *tcp.Segment) bool {
	r := &c.rx
	if seg.Flags.Has(tcp.FlagRST) {
		if r.Present.Has(mptcp.SubtypeTCPRST) {
			c.mib.Inc(mptcp.MibMPRstRx)
		}
		if r.Present.Has(mptcp.SubtypeFastClose) && c.mpc && r.FastClose.ReceiverKey == c.localKey {
			c.mib.Inc(mptcp.MibMPFastcloseRx)
			c.fail(ErrFastClose)
		}
		return true
	}
	st := sf.ep.State()
	switch sf.role {
	case roleMPC:
		if c.client && st == tcp.SynSent && seg.Flags.Has(tcp.FlagSYN|tcp.FlagACK) {
			if c.mpc && r.Present.Has(mptcp.SubtypeCapable) && r.Capable.Keys >= 1 {
				c.mib.Inc(mptcp.MibMPCapableSYNACKRX)
				if r.Capable.Flags&mptcp.CapableChecksum != 0 {
					c.csum = true
				}
				c.setRemoteKey(r.Capable.SenderKey)
			} else if c.mpc || c.cfg.NoMPTCP {
				if c.mpc {
					c.mib.Inc(mptcp.MibMPCapableFallbackSYNACK)
				}
				c.enterFallback(sf)
			}
			sf.irs = seg.Seq
			sf.rxNxt = seg.Seq + 1
			sf.rxMapEnd = sf.rxNxt
			if c.fallback {
				sf.fbSeq, sf.fbDSN = sf.rxNxt, 0
			}
			return true
		}
		if !c.client && c.mpc && !c.fullyEst && !seg.Flags.Has(tcp.FlagSYN) {
			switch {
			case r.Present.Has(mptcp.SubtypeCapable) && r.Capable.Keys == 2:
				if r.Capable.ReceiverKey != c.localKey {
					c.mib.Inc(mptcp.MibMPCapableFallbackACK)
					c.enterFallback(sf)
					sf.fbSeq, sf.fbDSN = sf.rxNxt, 0
					return true
				}
				c.mib.Inc(mptcp.MibMPCapableACKRX)
				c.setRemoteKey(r.Capable.SenderKey)
				c.fullyEstablish()
			case r.Present.Has(mptcp.SubtypeDSS) && c.bufReady:
				c.fullyEstablish()
			case r.Present.Has(mptcp.SubtypeDSS):
				// Data after a lost third ACK and a lost first data
				// segment: we cannot map it without the client's key.
				// Drop it; the client resends its first data with the key.
				return false
			default:
				if len(seg.Payload) > 0 {
					c.mib.Inc(mptcp.MibMPCapableDataFallback)
				} else {
					c.mib.Inc(mptcp.MibMPCapableFallbackACK)
				}
				c.enterFallback(sf)
				sf.fbSeq, sf.fbDSN = sf.rxNxt, 0
			}
		}
		if c.client && c.mpc && !c.fullyEst && st != tcp.SynSent && !seg.Flags.Has(tcp.FlagSYN) {
			switch {
			case r.Present.Has(mptcp.SubtypeDSS):
				c.fullyEstablish()
			case r.Present.Has(mptcp.SubtypeAddAddr) && !r.AddAddr.Echo:
				// The server's announcement may come first, on a pure
				// ACK without a DSS (see addAddrAlone): like Linux, any
				// further MPTCP ACK completes the handshake.
				c.fullyEstablish()
			case r.Present == 0 && (len(seg.Payload) > 0 || seg.Ack.GreaterThan(sf.iss+1)):
				// The server sends data or acknowledges ours without any
				// MPTCP option: a middlebox strips them, or the server
				// fell back. Fall back too.
				c.mib.Inc(mptcp.MibMPCapableDataFallback)
				c.enterFallback(sf)
				sf.fbSeq, sf.fbDSN = sf.rxNxt, c.rcv.nxt
			}
		}
	case roleJoinClient:
		if st == tcp.SynSent && seg.Flags.Has(tcp.FlagSYN|tcp.FlagACK) {
			if !r.Present.Has(mptcp.SubtypeJoin) || r.Join.Form != mptcp.JoinSYNACK {
				c.resetSubflow(sf, mptcp.ResetMPTCPError)
				return false
			}
			c.mib.Inc(mptcp.MibMPJoinSynAckRx)
			if r.Join.Backup {
				c.mib.Inc(mptcp.MibMPJoinSynAckBackupRx)
				sf.peerBackup = true
			}
			mac := c.hasher.JoinHMAC(c.remoteKey, c.localKey, r.Join.Nonce, sf.localNonce)
			if mptcp.TruncatedJoinHMAC(&mac) != r.Join.TruncatedHMAC {
				c.mib.Inc(mptcp.MibMPJoinSynAckHMacFailure)
				c.resetSubflow(sf, mptcp.ResetMPTCPError)
				return false
			}
			sf.remoteNonce = r.Join.Nonce
			sf.remoteID = r.Join.AddrID
			sf.irs = seg.Seq
			sf.rxNxt = seg.Seq + 1
			return true
		}
		if !sf.joinOK && st >= tcp.Established && seg.Flags.Has(tcp.FlagACK) && !seg.Flags.Has(tcp.FlagSYN) {
			sf.joinOK = true // the fourth ACK
			c.sfEstablished(sf)
		}
	case roleJoinServer:
		if st == tcp.SynRcvd && !seg.Flags.Has(tcp.FlagSYN) {
			if !r.Present.Has(mptcp.SubtypeJoin) || r.Join.Form != mptcp.JoinACK {
				c.mib.Inc(mptcp.MibMPJoinAckHMacFailure)
				c.resetSubflow(sf, mptcp.ResetMPTCPError)
				return false
			}
			mac := c.hasher.JoinHMAC(c.remoteKey, c.localKey, sf.remoteNonce, sf.localNonce)
			if [mptcp.JoinHMACLen]byte(mac[:mptcp.JoinHMACLen]) != r.Join.HMAC {
				c.mib.Inc(mptcp.MibMPJoinAckHMacFailure)
				c.resetSubflow(sf, mptcp.ResetMPTCPError)
				return false
			}
			c.mib.Inc(mptcp.MibMPJoinAckRx)
			sf.joinOK = true
			sf.needAck = true
		}
	}
	return true
}

// fullyEstablish marks the MP_CAPABLE handshake complete.
func (c *Conn) fullyEstablish() {
	if c.fullyEst {
		return
	}
	c.fullyEst = true
	c.mib.Inc(mptcp.MibMPCurrEstab)
	if c.finSent && !c.finAcked {
		c.ackSoon() // the DATA_FIN could not go out with the keys
	}
	if c.pmHook != nil {
		defer c.pmHook.Established(c, c.now)
	}
	if !c.established {
		c.established = true
		c.event(Event{Type: EventEstablished})
	}
	for _, sf := range c.subflows {
		if sf.role == roleMPC {
			c.sfEstablished(sf)
		}
	}
}

// onSegment handles the MPTCP options of a segment the engine accepted.
func (sf *Subflow) onSegment(seg *tcp.Segment) {
	c := sf.c
	r := &c.rx
	if sf.ep == nil || seg.Flags.Has(tcp.FlagSYN) || c.fallback {
		return
	}
	if !c.fullyEst && !(c.client && c.bufReady) {
		return
	}
	if r.Present.Has(mptcp.SubtypeCapable) && r.Capable.HasDataLen && !c.client && sf.role == roleMPC {
		// First data with MP_CAPABLE: the mapping starts at the peer's IDSN+1.
		m := rxMap{sseq: sf.irs + 1, n: uint32(r.Capable.DataLen), dsn: 0, csum: r.Capable.Checksum, hasCsum: r.Capable.HasChecksum}
		sf.addRx(m, seg)
	}
	if r.Present.Has(mptcp.SubtypeDSS) {
		d := &r.DSS
		if d.HasAck {
			v := d.DataAckFrom(c.sndBase+c.sndMax) - c.sndBase
			if v <= c.sndMax {
				c.rxAck, c.rxHasAck = v, true
				c.gotDataAck = true
			}
			c.onDataAck(v)
		}
		if d.HasMap {
			sf.onMapping(d, seg)
		}
	}
	if r.Present.Has(mptcp.SubtypePrio) {
		c.mib.Inc(mptcp.MibMPPrioRx)
		if sf.peerBackup != r.Prio.Backup {
			sf.peerBackup = r.Prio.Backup
			c.event(Event{Type: EventSubflowPriority, Subflow: sf})
		}
	}
	if r.Present.Has(mptcp.SubtypeAddAddr) {
		c.onAddAddr(sf, &r.AddAddr)
	}
	if r.Present.Has(mptcp.SubtypeRemoveAddr) {
		for _, id := range r.RemoveAddr.IDs {
			c.mib.Inc(mptcp.MibRmAddr)
			for _, x := range c.subflows {
				// The peer withdrew the address: close the subflows to it.
				if x != sf && !x.closed && x.remoteID == id && x.role != roleMPC {
					c.resetSubflow(x, mptcp.ResetAdministrativelyDenied)
				}
			}
			c.event(Event{Type: EventRemoved, RemoteID: id})
			if c.pmHook != nil {
				c.pmHook.RemoveAddr(c, id, c.now)
			}
		}
	}
	if r.Present.Has(mptcp.SubtypeFail) {
		c.onFail(sf)
	}
}

// onAddAddr checks an ADD_ADDR's HMAC and hands it to the path manager.
func (c *Conn) onAddAddr(sf *Subflow, a *mptcp.AddAddr) {
	if a.Echo {
		c.mib.Inc(mptcp.MibEchoAdd)
		c.onEcho(a)
		return
	}
	port := uint16(0)
	if a.HasPort {
		port = a.Port
		c.mib.Inc(mptcp.MibPortAdd)
	}
	if c.hasher.AddAddrHMAC(c.remoteKey, c.localKey, a.ID, a.Addr, port) != a.HMAC {
		c.mib.Inc(mptcp.MibAddAddrDrop)
		return
	}
	c.mib.Inc(mptcp.MibAddAddr)
	c.addAddrAccepted++
	e := *a
	e.Echo = true
	e.HMAC = 0
	sf.addAddr = append(sf.addAddr, e)
	sf.needAck = true
	c.event(Event{Type: EventAnnounced, RemoteID: a.ID, Remote: a.Addr, RemotePort: port})
	if c.pmHook != nil {
		c.pmHook.AddAddr(c, a, c.now)
	}
}

// onMapping validates a received DSS mapping and records it.
func (sf *Subflow) onMapping(d *mptcp.DSS, seg *tcp.Segment) {
	c := sf.c
	m := sf.rxMapOf(d, uint32(d.DataLen))
	if len(seg.Payload) == 0 && !(d.DataFin && d.DataLen == 1) {
		return // a mapping only counts on the data it arrives with
	}
	if d.DataLen == 0 {
		// Infinite mapping: the peer fell back; data maps 1:1 from here.
		if sf.fbRx {
			return
		}
		c.mib.Inc(mptcp.MibInfiniteMapRx)
		sf.fbRx = true
		sf.fbSeq, sf.fbDSN = m.sseq, m.dsn
		if c.dataUna == c.snd.end && len(c.subflows) == 1 {
			// Nothing of ours is outstanding: fall back in both directions.
			c.fallback = true
			c.rtoAt = 0
			c.release()
		}
		return
	}
	n := uint32(d.DataLen)
	if d.DataFin {
		fin := m.dsn + uint64(n) - 1
		if !c.peerFinSet || fin == c.peerFinDSN {
			c.peerFinSet, c.peerFinDSN = true, fin
		}
		if c.finRcvd && fin == c.peerFinDSN {
			c.ackSoon() // the DATA_FIN again: our DATA_ACK of it was lost
		}
		n--
		if n == 0 {
			c.checkFin()
			return
		}
	}
	m.n = n
	sf.addRx(m, seg)
	if d.DataFin {
		c.checkFin()
	}
}

// rxMapOf returns the receive mapping of d for its first n data-level
// bytes: subflow sequence numbers from the subflow's ISN, the DSN relative
// to the connection's first, a 32-bit DSN expanded against rcv_nxt.
func (sf *Subflow) rxMapOf(d *mptcp.DSS, n uint32) rxMap {
	c := sf.c
	return rxMap{sseq: sf.irs + seqnum.Value(d.SubflowSeq), n: n, dsn: d.DSNFrom(c.rcvBase+c.rcv.nxt) - c.rcvBase,
		csum: d.Checksum, hasCsum: d.HasChecksum}
}

// addRx records mapping m after checking it against the segment, the
// subflow's window and the mappings already known.
func (sf *Subflow) addRx(m rxMap, seg *tcp.Segment) {
	ok := sf.acceptRx(m, seg)
	if ok && m.end().GreaterThan(sf.rxMapEnd) {
		sf.rxMapEnd, sf.rxMapDSN = m.end(), m.dsn+uint64(m.n)
	}
	if !ok && len(seg.Payload) > 0 {
		// The data came with a mapping we refused: like the kernel, do
		// not use it and reset the subflow (the peer reinjects).
		sf.poison = true
	}
}

// acceptRx records m unless it is invalid; it reports false when refused.
func (sf *Subflow) acceptRx(m rxMap, seg *tcp.Segment) bool {
	c := sf.c
	end := m.end()
	if end.LessThanEq(sf.rxNxt) {
		return true // old: all its data is in already
	}
	// Within what the subflow can have advertised (never more than the
	// connection buffer), with slack for a mapping that starts early.
	win := seqnum.Size(len(c.rcv.buf) + 1<<16)
	if !m.sseq.InWindow(sf.rxNxt.Sub(seqnum.Size(m.n)), win+seqnum.Size(m.n)) ||
		(len(seg.Payload) > 0 && !seg.Seq.InWindow(m.sseq, seqnum.Size(m.n))) {
		c.mib.Inc(mptcp.MibDSSNoMatchTCP)
		return false
	}
	// Data beyond the connection window (a window probe, or a peer that
	// read an old window differently) is dropped when it arrives; only
	// mappings no sender could produce are refused.
	if m.dsn >= c.rcv.limit()+1<<31 || m.dsn+uint64(m.n)+1<<31 < c.rcv.nxt {
		c.mib.Inc(mptcp.MibNoDSSInWindow)
		return false
	}
	if c.csum && !m.hasCsum {
		c.mib.Inc(mptcp.MibDSSNotMatching)
		return false
	}
	// Conflicts: an overlapping mapping must place the same bytes at the
	// same DSNs (and, with checksums, be the same mapping).
	i := 0
	for i < len(sf.rx) && sf.rx[i].end().LessThan(m.sseq) {
		i++
	}
	for j := i; j < len(sf.rx) && sf.rx[j].sseq.LessThan(end); j++ {
		x := &sf.rx[j]
		if !x.end().GreaterThan(m.sseq) {
			continue // adjacent, not overlapping
		}
		if !consistent(x, &m) {
			c.mib.Inc(mptcp.MibDSSNotMatching)
			return false
		}
		if x.sseq.LessThanEq(m.sseq) && end.LessThanEq(x.end()) {
			return true // the same mapping again (or part of it)
		}
		if c.csum {
			c.mib.Inc(mptcp.MibDSSNotMatching)
			return false
		}
	}
	if c.csum {
		if len(sf.rx) >= maxRxMaps {
			c.mib.Inc(mptcp.MibOFOQueue)
			return false
		}
		for i < len(sf.rx) && sf.rx[i].end().LessThanEq(m.sseq) {
			i++
		}
		sf.rx = append(sf.rx, rxMap{})
		copy(sf.rx[i+1:], sf.rx[i:])
		sf.rx[i] = m
		return true
	}
	// Without checksums, merge with every overlapping or contiguous
	// consistent mapping.
	if i < len(sf.rx) && sf.rx[i].end() == m.sseq && !consistent(&sf.rx[i], &m) {
		i++
	}
	j := i
	start, stop := m.sseq, end
	for j < len(sf.rx) && sf.rx[j].sseq.LessThanEq(end) {
		x := &sf.rx[j]
		if !consistent(x, &m) {
			break // contiguous in sequence space only
		}
		start = seqnum.Min(start, x.sseq)
		stop = seqnum.Max(stop, x.end())
		j++
	}
	if start.Size(stop) >= 1<<31 {
		j, start, stop = i, m.sseq, end
	}
	m.dsn -= uint64(start.Size(m.sseq))
	m.sseq, m.n = start, uint32(start.Size(stop))
	if i < j {
		sf.rx[i] = m
		sf.rx = append(sf.rx[:i+1], sf.rx[j:]...)
		return true
	}
	if len(sf.rx) >= maxRxMaps {
		c.mib.Inc(mptcp.MibOFOQueue)
		return false
	}
	sf.rx = append(sf.rx, rxMap{})
	copy(sf.rx[i+1:], sf.rx[i:])
	sf.rx[i] = m
	return true
}

// maxRxMaps bounds the receive mappings a subflow keeps.
const maxRxMaps = 8192

// consistent reports whether two mappings put the same subflow bytes at the
// same DSNs.
func consistent(x, m *rxMap) bool {
	return m.dsn-x.dsn == uint64(int64(int32(m.sseq-x.sseq)))
}

// windowAck returns the DATA_ACK to send with seg. The peer adds the
// segment's window to its DATA_ACK to find the connection-level right edge
// (RFC 8684 §3.3.4), but the engine never moves a subflow's right edge left
// in subflow space: once DATA_ACK has moved on through other subflows, the
// window a subflow still has to show would put that edge beyond the
// receive buffer. The DATA_ACK is then lowered (an old DATA_ACK, which the
// peer only uses for the window) so that the sum is the buffer's limit.
func (sf *Subflow) windowAck(seg *tcp.Segment) uint64 {
	c := sf.c
	ack := c.dataAck()
	if !c.bufReady || c.finRcvd || c.fallback {
		return ack
	}
	wnd := uint64(seg.Window)
	if sf.sentWS && sf.peerWS {
		wnd <<= sf.wsShift
	}
	lim := c.rcvBase + c.rcv.limit()
	if ack+wnd > lim && wnd <= lim-c.rcvBase {
		ack = lim - wnd
	}
	return ack
}
