package conn

import (
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/sched"
	"github.com/mpxdp/mpxdp/stack/seqnum"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// pull maps the next range of connection data onto sf if the scheduler
// picks it: reinjections first, then new data, within the peer's
// connection-level window.
func (c *Conn) pull(sf *Subflow) {
	if !c.bufReady {
		return
	}
	if c.fallback {
		// Plain TCP: everything written goes to the one subflow.
		if c.sndNxt < c.snd.end {
			c.mapRange(sf, c.sndNxt, int(c.snd.end-c.sndNxt))
			c.sndNxt = c.snd.end
		}
		c.maybeSendFin()
		return
	}
	if len(c.reinj) == 0 && c.sndNxt >= c.snd.end && !c.sched.Redundant() {
		return
	}
	if !c.gotDataAck {
		// No DATA_ACK yet: the peer has not advertised a connection-level
		// window, so everything goes in order on the initial subflow
		// (the peer accepts in-order data whatever its window).
		if sf.role != roleMPC || sf.stale {
			return
		}
		c.pullInOrder(sf)
		return
	}
	idx := -1
	cands := c.cands[:0]
	for i, s := range c.subflows {
		if s == sf {
			idx = i
		}
		cd := sched.Candidate{Backup: s.Backup()}
		if s.dataReady() && !s.stale {
			c.shareWindow(s)
			cd.Usable = true
			cd.SRTT = s.ep.SRTT()
			cd.Queued = int(s.txUna.Size(s.txEnd))
			cd.Cwnd = s.ctl.Cwnd()
			if !s.blocked {
				cd.Room = s.room()
			}
		}
		cands = append(cands, cd)
	}
	if idx < 0 {
		return
	}
	chunk := sf.chunk()
	if r := cands[idx].Room; r > chunk {
		// Map up to pullSegments segments at once: fewer, larger mappings
		// leave fewer holes in the connection-level reassembly.
		// A mapping's data-level length is 16 bits on the wire.
		chunk *= max(min(r/chunk, pullSegments, maxMapLen/chunk), 1)
	}
	if c.sched.Redundant() {
		if !sched.Eligible(cands, idx) {
			return
		}
		sf.redNx = max(sf.redNx, c.dataUna)
		lim := min(c.snd.end, c.rwndEnd)
		if sf.redNx >= lim {
			return
		}
		n := int(min(uint64(chunk), lim-sf.redNx))
		c.mapRange(sf, sf.redNx, n)
		sf.redNx += uint64(n)
		if sf.redNx > c.sndNxt {
			c.sndNxt = sf.redNx
			c.sndMax = max(c.sndMax, c.sndNxt)
		}
		return
	}
	// A pick stands until the chosen subflow takes its range (or cannot),
	// so that stateful schedulers (round robin) see one call per decision.
	p := c.picked - 1
	if p < 0 || p >= len(cands) || !sched.Eligible(cands, p) {
		p = c.sched.Pick(cands)
		c.picked = p + 1
	}
	if p != idx {
		return
	}
	c.picked = 0
	c.mapNext(sf, chunk)
}

// mapNext maps at most chunk bytes onto sf: the oldest pending reinjection
// if there is one, else new data up to the peer's window and the end of
// the send buffer.
func (c *Conn) mapNext(sf *Subflow, chunk int) {
	for len(c.reinj) > 0 {
		r := &c.reinj[0]
		r[0] = max(r[0], c.dataUna)
		if r[0] >= r[1] {
			c.reinj = append(c.reinj[:0], c.reinj[1:]...)
			continue
		}
		n := int(min(uint64(chunk), r[1]-r[0]))
		c.mapRange(sf, r[0], n)
		r[0] += uint64(n)
		c.bytesRetrans += uint64(n)
		c.mib.Inc(mptcp.MibMPTCPRetrans)
		return
	}
	lim := min(c.snd.end, c.rwndEnd)
	if c.sndNxt >= lim {
		return
	}
	n := int(min(uint64(chunk), lim-c.sndNxt))
	c.mapRange(sf, c.sndNxt, n)
	c.sndNxt += uint64(n)
	c.sndMax = max(c.sndMax, c.sndNxt)
}

// pullInOrder maps the next range (reinjections first) onto sf without
// asking the scheduler: before the first DATA_ACK only the initial subflow
// carries data.
func (c *Conn) pullInOrder(sf *Subflow) {
	if !sf.dataReady() || sf.room() <= 0 {
		return
	}
	chunk := sf.chunk()
	if r := sf.room(); r > chunk {
		chunk *= max(min(r/chunk, pullSegments, maxMapLen/chunk), 1)
	}
	c.mapNext(sf, chunk)
}

// pullSegments is the most segments one mapping covers.
const pullSegments = 16

// maxMapLen is the largest mapping (the DSS data-level length is 16 bits).
const maxMapLen = 65535

// mapRange appends the mapping of DSNs [dsn, dsn+n) to sf's send space.
func (c *Conn) mapRange(sf *Subflow, dsn uint64, n int) {
	m := txMap{sseq: sf.txEnd, n: uint32(n), dsn: dsn}
	if c.csum && !c.fallback {
		var s uint64
		tmp := c.csumTmp[:]
		for off := 0; off < n; {
			k := min(len(tmp), n-off)
			c.snd.copyAt(dsn+uint64(off), tmp[:k])
			s = mptcp.ChecksumAdd(s, tmp[:k])
			off += k
		}
		m.csum = mptcp.DSSChecksum(c.sndBase+dsn, uint32(m.sseq-sf.iss), uint16(n), s)
	}
	sf.tx = append(sf.tx, m)
	sf.txEnd = sf.txEnd.Add(seqnum.Size(n))
}

// deliver turns the subflow bytes from old to sf.rxNxt, now in order, into
// received connection data through their mappings.
func (c *Conn) deliver(sf *Subflow, old seqnum.Value) {
	seq := old
	k := 0
	for k < len(sf.rx) && sf.rx[k].sseq.LessThan(sf.rxNxt) {
		m := &sf.rx[k]
		if seq.LessThan(m.sseq) {
			c.unmapped(sf, int(seq.Size(m.sseq)))
			seq = m.sseq
		}
		end := m.end()
		if m.hasCsum {
			if end.GreaterThan(sf.rxNxt) {
				break // verify once the whole mapping is in
			}
			if !c.verify(sf, m) {
				if !c.badChecksum(sf, m) {
					return
				}
				seq = end // MP_FAIL sent: skip the mapping, keep the subflow
				k++
				continue
			}
			c.received(sf, m.dsn, m.dsn+uint64(m.n))
			seq = end
			k++
			continue
		}
		stop := seqnum.Min(end, sf.rxNxt)
		if seq.LessThan(stop) {
			s := m.dsn + uint64(m.sseq.Size(seq))
			c.received(sf, s, s+uint64(seq.Size(stop)))
			seq = stop
		}
		if end.GreaterThan(sf.rxNxt) {
			break
		}
		k++
	}
	if k > 0 {
		sf.rx = append(sf.rx[:0], sf.rx[k:]...)
	}
	if len(sf.rx) == 0 && seq.LessThan(sf.rxNxt) {
		c.unmapped(sf, int(seq.Size(sf.rxNxt)))
	}
}

// unmapped counts in-order subflow bytes that no mapping covered: they are
// lost at the data level (the peer reinjects them after its timeout).
func (c *Conn) unmapped(sf *Subflow, n int) {
	if n > 0 {
		c.mib.Inc(mptcp.MibDSSNoMatchTCP)
	}
}

// verify checks a complete mapping's DSS checksum against the bytes in the
// receive buffer. Data the application already read cannot be checked: it
// was a duplicate and is accepted.
func (c *Conn) verify(sf *Subflow, m *rxMap) bool {
	if m.dsn < c.rcv.read || m.dsn+uint64(m.n) > c.rcv.limit() {
		return true
	}
	a, b := c.rcv.slice(m.dsn, int(m.n))
	s := mptcp.ChecksumAdd(0, a)
	if len(b) > 0 {
		if len(a)%2 != 0 {
			return true // cannot happen with a power-of-two ring
		}
		s = mptcp.ChecksumAdd(s, b)
	}
	return mptcp.DSSChecksumOK(c.rcvBase+m.dsn, uint32(m.sseq-sf.irs), uint16(m.n), m.csum, s)
}

// badChecksum handles a DSS checksum failure (RFC 8684 §3.7). On the only
// subflow of a connection that never had another, MP_FAIL is sent with
// the mapping's DSN and the mapping is dropped: the peer answers with an
// infinite mapping and resends from DATA_ACK, and the connection goes on
// as TCP (it reports true: keep the subflow). Otherwise the subflow is
// reset (its data is reinjected by the peer) and it reports false.
func (c *Conn) badChecksum(sf *Subflow, m *rxMap) bool {
	c.mib.Inc(mptcp.MibDataCsumErr)
	if len(c.subflows) == 1 && sf.role == roleMPC {
		if !sf.sendFail && !sf.failSent {
			sf.sendFail = true
			sf.failSent = true
			sf.failDSN = c.rcvBase + m.dsn
			sf.needAck = true
		}
		return true
	}
	sf.rx = sf.rx[:0]
	c.mib.Inc(mptcp.MibDSSCorruptionReset)
	c.resetSubflow(sf, mptcp.ResetMiddleboxInterference)
	return false
}

// onFail handles MP_FAIL from the peer: on the only subflow, fall back to
// TCP by sending an infinite mapping from DATA_UNA on new subflow bytes
// and resending everything from there (RFC 8684 §3.7); otherwise reset
// the subflow.
func (c *Conn) onFail(sf *Subflow) {
	c.mib.Inc(mptcp.MibMPFailRx)
	if c.fallback || !c.bufReady {
		return
	}
	if len(c.subflows) > 1 || sf.role != roleMPC {
		c.resetSubflow(sf, mptcp.ResetMiddleboxInterference)
		return
	}
	c.fallback = true
	c.infPending, c.infSet = true, true
	c.infSeq = sf.txEnd
	if !sf.fbRx {
		sf.fbRx = true
		sf.fbSeq, sf.fbDSN = sf.rxMapEnd, sf.rxMapDSN
	}
	c.infDSN = c.dataUna
	c.sndNxt = c.dataUna
	c.reinj = c.reinj[:0]
	c.rtoAt = 0
	c.release()
}

// received records DSNs [s, e) as received and advances rcv_nxt.
func (c *Conn) received(sf *Subflow, s, e uint64) {
	if e <= c.rcv.nxt {
		c.mib.Inc(mptcp.MibDuplicateData)
		return
	}
	ahead := s > c.rcv.nxt
	if e > c.rcv.limit() || (ahead && c.strictWindow && e > c.rcvWndSent) {
		c.mib.Inc(mptcp.MibNoDSSInWindow)
		if c.strictWindow && ahead {
			return // dropped, as Linux drops it: the peer must reinject
		}
	}
	fresh, ok := c.rcv.mark(s, e)
	if !ok {
		c.reasmDrops++ // no room for another hole: dropped, the peer resends
		return
	}
	if ahead {
		if fresh > 0 {
			c.mib.Inc(mptcp.MibOFOQueue) // only what was stored (not data beyond the buffer)
		}
	} else if len(c.rcv.ooo.r) > 0 {
		c.mib.Inc(mptcp.MibOFOMerge)
	}
	c.bytesRecv += fresh
	if c.rdClosed {
		c.rcv.read = c.rcv.nxt // nobody reads: discard
		c.rcvTaken = c.rcv.nxt
	}
	c.checkFin()
}

// checkFin completes a received DATA_FIN once rcv_nxt reaches it.
func (c *Conn) checkFin() {
	if c.finRcvd || !c.peerFinSet || !c.bufReady || c.rcv.nxt != c.peerFinDSN {
		return
	}
	c.finRcvd = true
	c.ackSoon()
	c.maybeCloseSubflows()
}

// ackSoon makes a usable subflow send an ACK (carrying the DATA_ACK).
func (c *Conn) ackSoon() {
	for _, sf := range c.subflows {
		if sf.dataReady() || (sf.ep != nil && !sf.closed && sf.ep.State() >= tcp.Established && (sf.role == roleMPC || sf.joinOK)) {
			sf.needAck = true
			return
		}
	}
}

// onDataAck processes a DATA_ACK.
func (c *Conn) onDataAck(v uint64) {
	if v < c.dataUna || v > c.sndMax {
		return
	}
	c.dataAcked(v)
}

// dataAcked moves DATA_UNA to v.
func (c *Conn) dataAcked(v uint64) {
	if !c.bufReady || v <= c.dataUna {
		return
	}
	fin := c.snd.end
	if c.finSent && v == fin+1 {
		c.finAcked = true
		c.finAt = 0
		v = fin
		c.maybeCloseSubflows()
	}
	if v > c.snd.end {
		v = c.snd.end
	}
	if v > c.dataUna {
		c.bytesAcked += v - c.dataUna
		c.dataUna = v
		c.rtoShift = 0
		c.lastAckAt = c.now
		c.rtoAt = 0
	}
	c.releaseSend()
}

// releaseSend frees send-buffer bytes no subflow can need any more.
func (c *Conn) releaseSend() {
	if !c.bufReady {
		return
	}
	lo := c.dataUna
	for _, sf := range c.subflows {
		if sf.stale {
			continue // do not let a stalled path pin the buffer
		}
		if d, ok := sf.oldestDSN(); ok && d < lo {
			lo = d
		}
	}
	c.snd.release(lo)
}

// maybeSendFin sends the DATA_FIN once every byte written is mapped.
func (c *Conn) maybeSendFin() {
	if !c.finQueued || c.finSent || !c.bufReady || c.sndNxt < c.snd.end {
		return
	}
	if c.fallback {
		if len(c.subflows) > 0 {
			c.finSent = true
			c.subflows[0].ep.CloseWrite()
		}
		return
	}
	c.finSent = true
	c.sndMax = c.snd.end + 1
	c.sendFin()
	c.finShift = 0
	c.finAt = c.now + c.finRTO()
}

// sendFin sends the DATA_FIN on a pure ACK of every subflow that can
// carry one (as Linux does): a pure ACK is not retransmitted, so one lost
// copy must not leave the peer waiting for the data-level timeout.
func (c *Conn) sendFin() {
	sent := false
	for _, sf := range c.subflows {
		if sf.dataReady() {
			sf.needAck = true
			sent = true
		}
	}
	if !sent {
		c.ackSoon()
	}
}

// finRTO is how long a DATA_FIN waits for its DATA_ACK before it is sent
// again: two of the largest smoothed RTT plus room for a delayed ACK,
// backed off, at most the data-level timeout.
func (c *Conn) finRTO() time.Duration {
	return min(c.orphanDelay()<<c.finShift, c.connRTO())
}

// maybeCloseSubflows closes the subflows once both DATA_FINs are acknowledged.
func (c *Conn) maybeCloseSubflows() {
	if c.fallback || !c.finAcked || !c.finRcvd {
		return
	}
	for _, sf := range c.subflows {
		if sf.ep != nil && !sf.closed {
			sf.ep.CloseWrite()
		}
	}
}

// resetSubflow aborts sf with MP_TCPRST reason.
func (c *Conn) resetSubflow(sf *Subflow, reason mptcp.ResetReason) {
	if sf.closed || sf.ep == nil {
		return
	}
	sf.rstPending = true
	sf.rstReason = reason
	sf.ep.Abort()
}

// fail ends the connection with err: every subflow is reset.
func (c *Conn) fail(err error) {
	if c.err != nil {
		return
	}
	c.err = err
	for _, sf := range c.subflows {
		if sf.ep != nil && !sf.closed {
			sf.ep.Abort()
		}
	}
}

// sfEstablished reports a subflow ready for data.
func (c *Conn) sfEstablished(sf *Subflow) {
	if sf.established {
		return
	}
	sf.established = true
	sf.lastUna = sf.ep.SndUna()
	if c.bufReady && sf.role == roleMPC && !c.gotDataAck && c.rwndEnd < c.dataUna+uint64(sf.ep.SendWindow()) {
		// Before any DATA_ACK the initial subflow's own window bounds
		// the in-order data it carries. A joining subflow's window says
		// nothing about the connection's: only DATA_ACK plus window
		// moves the edge from here on.
		c.rwndEnd = c.dataUna + uint64(sf.ep.SendWindow())
	}
	c.event(Event{Type: EventSubflowEstablished, Subflow: sf})
	if c.pmHook != nil && sf.role != roleMPC {
		c.pmHook.SubflowUp(c, sf, c.now)
	}
}

// Input processes a segment received on subflow sf.
func (c *Conn) Input(sf *Subflow, seg *tcp.Segment, now time.Duration) {
	c.input(sf, seg, now)
	sf.prePtr = nil // a PlaceSum payload is this segment's only
}

func (c *Conn) input(sf *Subflow, seg *tcp.Segment, now time.Duration) {
	c.now = now
	if sf.ep == nil {
		return
	}
	if sf.closed {
		sf.ep.Input(seg, now) // a closed engine answers with a RST
		return
	}
	c.rxHasAck = false
	c.tcpAcked = false
	una := c.dataUna
	if seg.Flags.Has(tcp.FlagSYN) {
		sf.peerWS = seg.Options.HasWScale
	}
	// ParseTCPOptions clears c.rx first.
	if err := mptcp.ParseTCPOptions(seg.Options.Ext, &c.rx); err != nil && c.rx.Invalid != 0 {
		c.mib.Inc(mptcp.MibDSSNotMatching)
	}
	if !c.preInput(sf, seg) {
		return
	}
	if c.fullyEst && !c.fallback && c.rx.Present == 0 && seg.Flags&(tcp.FlagRST|tcp.FlagSYN) == 0 &&
		sf.established && (sf.role == roleMPC || sf.joinOK) &&
		(len(seg.Payload) > 0 || seg.Ack.GreaterThan(sf.ep.SndUna())) {
		// No MPTCP option at all. Once in a while a peer has no room for
		// its DSS (SACK blocks); a middlebox that strips options does it
		// to every segment. Data we could not map is dropped before TCP
		// acknowledges it (the peer resends it); the third segment in a
		// row without options means the options are being stripped.
		sf.noOpt++
		if sf.noOpt >= strippedAfter {
			if !c.optionsStripped(sf) {
				return
			}
		} else if len(seg.Payload) > 0 && !sf.mapped(seg) {
			return
		}
	} else if c.rx.Present != 0 {
		sf.noOpt = 0
	}
	sf.ep.Input(seg, now)
	if sf.poison {
		sf.poison = false
		c.mib.Inc(mptcp.MibDSSCorruptionReset)
		c.resetSubflow(sf, mptcp.ResetMPTCPError)
	}
	if c.fallback && sf.role == roleMPC && !sf.fbRx {
		sf.fbRx = true
		sf.fbSeq, sf.fbDSN = sf.rxNxt, c.rcv.nxt
	}
	if sf.role == roleMPC && !c.fallback && c.client && c.bufReady && sf.ep.State() >= tcp.Established && !sf.established {
		c.sfEstablished(sf)
		if !c.established {
			c.established = true
			c.event(Event{Type: EventEstablished})
		}
	}
	if sf.role == roleJoinServer && sf.joinOK && !sf.established && sf.ep.State() >= tcp.Established {
		c.sfEstablished(sf)
	}
	if c.fallback && sf.ep.State() >= tcp.Established && !sf.established {
		c.sfEstablished(sf)
		if !c.established {
			c.established = true
			c.event(Event{Type: EventEstablished})
		}
	}
	if c.rxHasAck && c.bufReady {
		// The window counts from the DATA_ACK of the same segment, not
		// from DATA_UNA: a newer DATA_ACK that came on a faster path
		// would move the edge past what the peer offered.
		if e := c.rxAck + uint64(sf.ep.SendWindow()); e > c.rwndEnd {
			c.rwndEnd = e
		}
	} else if c.fallback && c.bufReady {
		if e := c.dataUna + uint64(sf.ep.SendWindow()); e > c.rwndEnd {
			c.rwndEnd = e
		}
	} else if c.bufReady && !c.gotDataAck && sf.role == roleMPC && sf.established {
		// Still no DATA_ACK: the initial subflow's window bounds the
		// in-order data (see pull).
		if e := c.dataUna + uint64(sf.ep.SendWindow()); e > c.rwndEnd {
			c.rwndEnd = e
		}
	}
	c.watchOrphans(una, now)
	if (c.fallback || sf.fbRx) && sf.ep.PeerClosed() && !c.finRcvd {
		c.finRcvd = true
	}
	c.checkSubflow(sf, now)
}

// watchOrphans arms the orphan check after a segment that advanced some
// subflow's TCP ACK while data is outstanding (una is DATA_UNA before the
// segment). Data a subflow delivered, that DATA_ACK does not cover and
// that no subflow still holds, was dropped by the peer at the data level
// (Linux drops out-of-order data beyond its window after acknowledging it
// on the subflow): it is reinjected within a few round trips instead of
// after the data-level timeout.
func (c *Conn) watchOrphans(una uint64, now time.Duration) {
	if !c.bufReady || c.fallback || c.dataUna >= c.sndNxt {
		c.orphanAt = 0
		return
	}
	if c.tcpAcked && c.orphanAt == 0 {
		c.orphanAt = now + c.orphanDelay()
		c.orphanUna = c.dataUna
	}
}

// orphanDelay is how long a DATA_ACK may lag behind the subflow ACKs: two
// of the largest smoothed RTT plus room for a delayed ACK.
func (c *Conn) orphanDelay() time.Duration {
	var r time.Duration
	for _, sf := range c.subflows {
		if sf.ep != nil && !sf.closed && !sf.stale {
			r = max(r, sf.ep.SRTT())
		}
	}
	return 2*r + orphanSlack
}

// orphanSlack is the time a peer may take beyond the round trip to send
// its DATA_ACK (a delayed ACK).
const orphanSlack = 50 * time.Millisecond

// maxOrphanReinject bounds the DSNs one orphan check looks at (from
// DATA_UNA on).
const maxOrphanReinject = 2 << 20

// checkOrphans runs the orphan check due at now (see watchOrphans). When
// DATA_UNA moved since the check was armed, it looks again one delay
// later; when it did not, every DSN from DATA_UNA on (up to
// maxOrphanReinject) that no subflow holds unacknowledged is reinjected.
func (c *Conn) checkOrphans(now time.Duration) {
	if c.orphanAt == 0 || now < c.orphanAt {
		return
	}
	c.orphanAt = 0
	if c.dataUna >= c.sndNxt {
		return
	}
	if c.dataUna != c.orphanUna {
		c.orphanAt = now + c.orphanDelay()
		c.orphanUna = c.dataUna
		return
	}
	if c.noOrphans {
		return
	}
	lim := min(c.sndNxt, c.dataUna+maxOrphanReinject)
	d := c.dataUna
	if covered, _ := c.cover(d); covered {
		// Still on its way (or waiting for reinjection): look again.
		c.orphanAt = now + c.orphanDelay()
		return
	}
	for i := 0; d < lim && i < 64 && len(c.reinj) < cap(c.reinj); i++ {
		covered, end := c.cover(d)
		end = min(end, lim)
		if !covered {
			if d == c.dataUna {
				c.orphanReinj++
			}
			c.queueReinject(d, end)
		}
		if end <= d {
			break
		}
		d = end
	}
}

// cover reports whether a live subflow holds DSN d unacknowledged (or a
// reinjection waits for it) and where that stops: the end of the covering
// range when covered, else the start of the next covered DSN (or sndNxt).
func (c *Conn) cover(d uint64) (bool, uint64) {
	covered, end := false, c.sndNxt
	note := func(s, e uint64) {
		switch {
		case s <= d && d < e:
			if !covered {
				covered, end = true, e
			} else {
				end = max(end, e)
			}
		case s > d && !covered:
			end = min(end, s)
		}
	}
	for _, r := range c.reinj {
		note(r[0], r[1])
	}
	for _, sf := range c.subflows {
		if sf.closed || sf.stale {
			continue
		}
		for i := range sf.tx {
			m := &sf.tx[i]
			s, e := m.dsn, m.dsn+uint64(m.n)
			if sf.txUna.GreaterThan(m.sseq) {
				s += uint64(min(m.sseq.Size(sf.txUna), seqnum.Size(m.n)))
			}
			if s < e {
				note(s, e)
			}
		}
	}
	return covered, end
}

// checkSubflow notices progress, stalls and the end of sf.
func (c *Conn) checkSubflow(sf *Subflow, now time.Duration) {
	ep := sf.ep
	if sf.closed {
		return
	}
	if ep.State() == tcp.Closed || ep.State() == tcp.TimeWait || ep.Err() != nil {
		c.subflowDone(sf, now)
		return
	}
	if !sf.wrShut && ep.State() == tcp.CloseWait && c.peerLeft(sf) {
		c.closeHalf(sf)
	}
	if una := ep.SndUna(); una != sf.lastUna {
		sf.lastUna = una
		sf.staleRTOs = ep.Counters().RTOs
		if sf.stale {
			sf.stale = false
			sf.staleBlocked = false
			c.mib.Inc(mptcp.MibSubflowRecover)
		}
		return
	}
	if !sf.stale && ep.SndUna() != ep.SndNxt() && ep.Counters().RTOs >= sf.staleRTOs+uint64(c.cfg.StaleRTOs) {
		sf.stale = true
		sf.staleAt = now
		c.mib.Inc(mptcp.MibSubflowStale)
		c.reinject(sf)
	}
	if sf.stale && c.cfg.StaleReset > 0 && now-sf.staleAt >= c.cfg.StaleReset && ep.State() != tcp.Closed && c.otherCarrier(sf) {
		// Stale for long while another subflow carries the data: give
		// it up so that the path manager can open a fresh one.
		c.resetSubflow(sf, mptcp.ResetUnacceptablePerformance)
	}
}

// peerLeft reports whether the peer's FIN on sf (in CLOSE-WAIT) closes
// that subflow only: no DATA_FIN came, the connection goes on, and another
// subflow is left to carry it. The Linux kernel sends such a FIN when its
// path manager removes a subflow (`ip mptcp endpoint delete`); it resets
// the subflow if data arrives after it. As Linux does, we then close our
// half too. The last one that can carry data is left half open, as
// before: the connection stays up, and the peer may join new subflows.
func (c *Conn) peerLeft(sf *Subflow) bool {
	if c.fallback || sf.fbRx || c.peerFinSet || c.err != nil || c.closing || !sf.ep.PeerClosed() {
		return false
	}
	for _, x := range c.subflows {
		if x != sf && x.dataReady() && x.ep.State() != tcp.CloseWait {
			return true
		}
	}
	return false
}

// closeHalf closes our half of a subflow the peer closed (see peerLeft):
// it is no longer scheduled, mappings it has not started sending go back
// to the connection, everything it holds beyond DATA_ACK is reinjected on
// the other subflows, and its FIN follows what it already sent. Once the
// FIN is acknowledged the subflow is reported closed (SF_CLOSED, the path
// manager's SubflowClosed), which lets the path manager open it again.
func (c *Conn) closeHalf(sf *Subflow) {
	sf.wrShut = true
	if c.picked > 0 && c.picked <= len(c.subflows) && c.subflows[c.picked-1] == sf {
		c.picked = 0
	}
	c.reinject(sf)
	nxt := sf.ep.SndNxt()
	k := len(sf.tx)
	for k > 0 && sf.tx[k-1].sseq.GreaterThanEq(nxt) {
		k--
	}
	if k < len(sf.tx) {
		sf.txEnd = sf.tx[k].sseq
		sf.tx = sf.tx[:k]
	}
	sf.ep.CloseWrite()
	c.releaseSend()
}

// checkBlocked runs in Output for a subflow the stack just reported
// blocked: once its device has taken nothing for several RTOs it is as
// good as a path whose timer fired, and goes stale (one with nothing
// outstanding would never see its own timer fire).
func (c *Conn) checkBlocked(sf *Subflow, now time.Duration) {
	if sf.stale || sf.closed || c.fallback || now < sf.blockedStaleAt() {
		return
	}
	sf.stale = true
	sf.staleBlocked = true
	sf.staleAt = now
	c.mib.Inc(mptcp.MibSubflowStale)
	c.reinject(sf)
}

// unblocked recovers a subflow that went stale only because it was
// blocked, now that the stack reports its device free again.
func (c *Conn) unblocked(sf *Subflow) {
	sf.staleBlocked = false
	if sf.stale {
		sf.stale = false
		sf.lastUna = sf.ep.SndUna()
		sf.staleRTOs = sf.ep.Counters().RTOs
		c.mib.Inc(mptcp.MibSubflowRecover)
	}
}

// otherCarrier reports whether a subflow other than sf can carry data.
func (c *Conn) otherCarrier(sf *Subflow) bool {
	for _, x := range c.subflows {
		if x != sf && !x.stale && x.dataReady() {
			return true
		}
	}
	return false
}

// reinject queues sf's unacknowledged mapped data for the other subflows.
func (c *Conn) reinject(sf *Subflow) {
	for i := range sf.tx {
		m := &sf.tx[i]
		e := m.dsn + uint64(m.n)
		if e <= c.dataUna {
			continue
		}
		c.queueReinject(max(m.dsn, c.dataUna), e)
	}
}

func (c *Conn) queueReinject(s, e uint64) {
	for i := range c.reinj {
		r := &c.reinj[i]
		if s <= r[1] && r[0] <= e { // overlaps or touches: widen it
			r[0], r[1] = min(r[0], s), max(r[1], e)
			return
		}
	}
	if len(c.reinj) < cap(c.reinj) {
		c.reinj = append(c.reinj, [2]uint64{s, e})
	}
}

// subflowDone removes a subflow that ended.
func (c *Conn) subflowDone(sf *Subflow, now time.Duration) {
	if sf.closed {
		return
	}
	sf.closed = true
	if !c.fallback {
		c.reinject(sf)
	}
	sf.tx = sf.tx[:0]
	c.group.Remove(sf.ctl)
	c.mib.Inc(mptcp.MibRmSubflow)
	c.event(Event{Type: EventSubflowClosed, Subflow: sf})
	if c.pmHook != nil {
		c.pmHook.SubflowClosed(c, sf, sf.ep.Err(), now)
	}
	c.releaseSend()
	if c.live() == 0 {
		if c.err == nil && !(c.finAcked && c.finRcvd) && !c.fallback {
			c.err = ErrNoSubflow
		}
		if c.fallback && c.err == nil && sf.ep.Err() != nil {
			c.err = sf.ep.Err()
		}
		c.closeConn()
	}
}

func (c *Conn) closeConn() {
	if c.closing {
		return
	}
	c.closing = true
	if c.fullyEst {
		c.mib.Dec(mptcp.MibMPCurrEstab)
	}
	c.release()
	c.event(Event{Type: EventClosed})
}

// Output returns the next segment any subflow has to send, the subflow it
// belongs to, and false when none has anything. Payload bytes are copied
// into payload (the transmit frame). Call it until it returns false after
// every Input, OnTimer, Write, Read or close call. Blocked subflows
// (SetBlocked) are skipped: a segment is only built for a subflow whose
// device can take it.
func (c *Conn) Output(now time.Duration, payload []byte) (*Subflow, tcp.Segment, bool) {
	var seg tcp.Segment
	sf, ok := c.OutputTo(&seg, now, payload)
	return sf, seg, ok
}

// OutputTo is Output that builds the segment in *seg (overwritten whole)
// instead of returning it by value: the transmit loop reuses one
// Segment. It returns the subflow the segment belongs to, or false when
// no subflow has anything to send.
func (c *Conn) OutputTo(seg *tcp.Segment, now time.Duration, payload []byte) (*Subflow, bool) {
	c.now = now
	c.runTimers(now)
	n := len(c.subflows)
	for k := 0; k < n; k++ {
		i := (c.next + k) % n
		sf := c.subflows[i]
		if sf.ep == nil {
			continue
		}
		if sf.blocked {
			if !sf.blockedSeen {
				sf.blockedSeen, sf.blockedAt = true, now
			}
			c.checkBlocked(sf, now)
			continue
		}
		if sf.staleBlocked {
			c.unblocked(sf)
		}
		if sf.needAck && !sf.closed {
			sf.needAck = false
			if !sf.ep.SendACK() {
				// No synchronized ACK exists yet: keep the request
				// until the handshake completes.
				st := sf.ep.State()
				sf.needAck = st == tcp.SynSent || st == tcp.SynRcvd
			}
		}
		c.shareWindow(sf)
		sf.payPtr = nil
		if !sf.ep.OutputTo(seg, now, payload) {
			c.checkSubflow(sf, now)
			continue
		}
		c.next = i
		if seg.Flags.Has(tcp.FlagRST) {
			c.rstOptions(sf, seg)
		}
		return sf, true
	}
	*seg = tcp.Segment{}
	return nil, false
}

// rstOptions adds MP_TCPRST or MP_FASTCLOSE to a RST the engine built.
func (c *Conn) rstOptions(sf *Subflow, seg *tcp.Segment) {
	var o mptcp.Option
	switch {
	case c.fastClose:
		o.Subtype = mptcp.SubtypeFastClose
		o.FastClose = mptcp.FastClose{ReceiverKey: c.remoteKey}
		c.mib.Inc(mptcp.MibMPFastcloseTx)
	case sf.rstPending && (c.mpc || c.fullyEst):
		sf.rstPending = false
		o.Subtype = mptcp.SubtypeTCPRST
		o.TCPRST = mptcp.TCPRST{Reason: sf.rstReason, Flags: mptcp.TCPRSTFlagT}
		c.mib.Inc(mptcp.MibMPRstTx)
	default:
		return
	}
	n := o.Write(c.rstBuf[:])
	seg.Options.Ext = c.rstBuf[:n]
}

// runTimers runs the connection-level timers due at now.
func (c *Conn) runTimers(now time.Duration) {
	if !c.bufReady || c.fallback || c.err != nil {
		c.rtoAt = 0
		c.announced = c.announced[:0]
		return
	}
	c.resendAnnouncements(now)
	c.maybeSendFin()
	if c.finSent && !c.finAcked && c.finAt != 0 && now >= c.finAt {
		c.sendFin()
		c.finShift = min(c.finShift+1, 6)
		c.finAt = now + c.finRTO()
	}
	c.checkOrphans(now)
	outstanding := c.dataUna < c.sndMax
	if !outstanding {
		c.rtoAt = 0
		// Connection-level zero window with data waiting: probe with one
		// byte beyond the window after a timeout (persist), in case the
		// window update was lost.
		if c.sndNxt < c.snd.end && c.sndNxt >= c.rwndEnd {
			if c.probeAt == 0 {
				c.probeAt = now + c.connRTO()
			} else if now >= c.probeAt {
				c.probeAt = 0
				c.rwndEnd = c.sndNxt + 1
				c.mib.Inc(mptcp.MibWinProbe)
			}
		} else {
			c.probeAt = 0
		}
		return
	}
	c.probeAt = 0
	if c.rtoAt == 0 {
		c.rtoAt = now + c.connRTO()
		return
	}
	if now < c.rtoAt {
		return
	}
	// Connection-level timeout: DATA_ACK did not move. Resend from DATA_UNA.
	end := min(c.sndNxt, c.dataUna+256<<10)
	if end > c.dataUna {
		c.queueReinject(c.dataUna, end)
	}
	if c.finSent && !c.finAcked {
		c.ackSoon()
	}
	c.rtoShift = min(c.rtoShift+1, maxConnRTOShift)
	c.rtoAt = now + c.connRTO()
}

// maxConnRTOShift and maxConnRTO cap the back-off of the data-level
// timeout: a subflow that stalls is handled by the stale rule, and data
// the peer dropped at the data level must not wait for a long back-off.
const (
	maxConnRTOShift = 3
	maxConnRTO      = 2 * time.Second
)

// connRTO is the connection-level retransmission timeout: twice the
// largest subflow RTO, backed off.
func (c *Conn) connRTO() time.Duration {
	r := 200 * time.Millisecond
	for _, sf := range c.subflows {
		if sf.ep != nil && !sf.closed && !sf.stale {
			r = max(r, 2*sf.ep.RTO())
		}
	}
	return min(r<<c.rtoShift, max(r, maxConnRTO))
}

// NextTimer returns the earliest deadline of the connection or its
// subflows, 0 when none. Call OnTimer (or Output) then.
func (c *Conn) NextTimer() time.Duration {
	var t time.Duration
	for _, sf := range c.subflows {
		if sf.ep == nil || sf.closed {
			continue
		}
		if x := sf.ep.NextTimer(); x != 0 && (t == 0 || x < t) {
			t = x
		}
	}
	if c.rtoAt != 0 && c.err == nil && (t == 0 || c.rtoAt < t) {
		t = c.rtoAt
	}
	if a := c.announceTimer(); a != 0 && c.err == nil && !c.fallback && (t == 0 || a < t) {
		t = a
	}
	if c.probeAt != 0 && c.err == nil && !c.fallback && (t == 0 || c.probeAt < t) {
		t = c.probeAt
	}
	if c.orphanAt != 0 && c.err == nil && !c.fallback && (t == 0 || c.orphanAt < t) {
		t = c.orphanAt
	}
	if c.finAt != 0 && c.finSent && !c.finAcked && c.err == nil && !c.fallback && (t == 0 || c.finAt < t) {
		t = c.finAt
	}
	for _, sf := range c.subflows {
		if sf.blocked && sf.blockedSeen && !sf.stale && !sf.closed && !c.fallback && sf.ep != nil {
			if x := sf.blockedStaleAt(); t == 0 || x < t {
				t = x
			}
		}
		if sf.stale && !sf.closed && c.cfg.StaleReset > 0 && sf.ep != nil && sf.ep.State() != tcp.Closed && c.otherCarrier(sf) {
			if x := sf.staleAt + c.cfg.StaleReset; t == 0 || x < t {
				t = x
			}
		}
	}
	return t
}

// OnTimer runs the timers due at now; then call Output until it reports
// nothing to send.
func (c *Conn) OnTimer(now time.Duration) {
	c.now = now
	for _, sf := range c.subflows {
		if sf.ep == nil || sf.closed {
			continue
		}
		if t := sf.ep.NextTimer(); t != 0 && t <= now {
			sf.ep.OnTimer(now)
		}
		c.checkSubflow(sf, now)
	}
	c.runTimers(now)
}

// Write queues p for sending and returns how many bytes fit in the
// connection's send buffer; call Output afterwards. With Config.SendMem
// it takes nothing: use CommitSend.
func (c *Conn) Write(p []byte) int {
	if c.sndShared || !c.bufReady || c.finQueued || c.err != nil || c.closing {
		return 0
	}
	return c.snd.write(p)
}

// CommitSend hands over the next n bytes the owner stored in
// Config.SendMem (see there) and returns how many the connection took (0
// before the handshake gave it its buffers, after CloseWrite, or on a
// failed connection; never more than fit); call Output afterwards. It
// does nothing without Config.SendMem.
func (c *Conn) CommitSend(n int) int {
	if !c.sndShared || !c.bufReady || c.finQueued || c.err != nil || c.closing {
		return 0
	}
	n = min(n, c.snd.space())
	c.snd.end += uint64(n)
	return n
}

// SendReleased returns the relative DSN below which the connection keeps
// no sent bytes any more (0 is the first data byte): with
// Config.SendMem, the owner may reuse that memory.
func (c *Conn) SendReleased() uint64 { return c.snd.base }

// Writable returns how many bytes Write would accept now.
func (c *Conn) Writable() int {
	if !c.bufReady || c.finQueued || c.err != nil || c.closing {
		return 0
	}
	return c.snd.space()
}

// RecvCommit returns how many more received bytes are in order in
// Config.RecvMem since the last call (the owner publishes them to the
// application; see Config.RecvMem). It returns 0 without Config.RecvMem.
func (c *Conn) RecvCommit() int {
	if !c.rcvShared || !c.bufReady || c.rdClosed {
		return 0
	}
	n := int(c.rcv.nxt - c.rcvTaken)
	c.rcvTaken = c.rcv.nxt
	return n
}

// RecvConsumed tells the connection that the application read the bytes
// of Config.RecvMem up to relative DSN pos (0 is the first byte): their
// memory may take new data, and the connection-level window opens. Call
// it as the application reads; it does nothing without Config.RecvMem.
func (c *Conn) RecvConsumed(pos uint64) {
	if !c.rcvShared || !c.bufReady || c.rdClosed {
		return
	}
	pos = min(pos, c.rcvTaken)
	if pos <= c.rcv.read {
		return
	}
	c.rcv.read = pos
	c.windowOpened()
}

// Read copies in-order received bytes into p and returns the count (0
// with Config.RecvMem: see RecvCommit).
func (c *Conn) Read(p []byte) int {
	if !c.bufReady || c.rcvShared {
		return 0
	}
	if c.rdClosed {
		return 0
	}
	n := c.rcv.readInto(p)
	if n > 0 {
		c.windowOpened()
	}
	return n
}

// windowOpened runs after the application freed receive buffer space.
func (c *Conn) windowOpened() {
	if c.rcv.limit()-c.rcvAdvEnd >= uint64(len(c.rcv.buf)/4) && !c.fallback {
		// The connection-level window opened by a quarter of the buffer
		// since we last told the peer: tell it now on one subflow
		// (SendACK), whatever that subflow's own SWS rule would decide.
		c.ackSoon()
	}
	// The connection-level window grew: let the subflows decide whether
	// it is worth a window update (receiver SWS rule).
	for _, sf := range c.subflows {
		if sf.ep != nil && !sf.closed {
			sf.ep.RecvBufferFreed()
		}
	}
}

// Readable returns how many bytes Read (or, with Config.RecvMem,
// RecvCommit) would return now.
func (c *Conn) Readable() int {
	if !c.bufReady {
		return 0
	}
	if c.rcvShared {
		return int(c.rcv.nxt - c.rcvTaken)
	}
	return c.rcv.readable()
}

// PeerClosed reports whether the peer's DATA_FIN (or, in fallback, FIN)
// arrived and every byte before it was read.
func (c *Conn) PeerClosed() bool {
	return c.finRcvd && c.Readable() == 0
}

// CloseWrite shuts the sending direction: a DATA_FIN follows the data
// written so far.
func (c *Conn) CloseWrite() {
	if c.finQueued {
		return
	}
	c.finQueued = true
	c.maybeSendFin()
}

// Close shuts both directions: CloseWrite, and Read returns nothing from
// now on (data that arrives is acknowledged and discarded; use Abort to
// reset instead).
func (c *Conn) Close() {
	c.rdClosed = true
	if c.bufReady {
		c.rcv.read = c.rcv.nxt
		c.rcvTaken = c.rcv.nxt
	}
	c.CloseWrite()
}

// Abort closes the connection at once with MP_FASTCLOSE on every subflow.
func (c *Conn) Abort() {
	if c.err != nil {
		return
	}
	c.fastClose = c.fullyEst && !c.fallback
	c.fail(ErrAborted)
}

// SetBackup changes the local backup flag of sf and tells the peer with
// MP_PRIO.
func (c *Conn) SetBackup(sf *Subflow, backup bool) {
	if sf.backup == backup {
		return
	}
	sf.backup = backup
	sf.sendPrio = true
	sf.needAck = true
	c.event(Event{Type: EventSubflowPriority, Subflow: sf})
}

// strippedAfter is how many segments in a row without any MPTCP option
// make a subflow conclude that a middlebox strips them.
const strippedAfter = 3

// mapped reports whether the new payload of seg is covered by mappings
// already received.
func (sf *Subflow) mapped(seg *tcp.Segment) bool {
	seq, end := seg.Seq, seg.Seq.Add(seqnum.Size(len(seg.Payload)))
	if sf.fbRx || !sf.rxNxt.LessThan(end) {
		return true
	}
	seq = seqnum.Max(seq, sf.rxNxt)
	for i := sf.findRx(seq); i < len(sf.rx) && seq.LessThan(end); i++ {
		if sf.rx[i].sseq.GreaterThan(seq) {
			return false
		}
		seq = sf.rx[i].end()
	}
	return !seq.LessThan(end)
}

// optionsStripped handles data or a new ACK without any MPTCP option on an
// established subflow: a middlebox strips the options (RFC 8684 §3.7).
// The only subflow of a connection that never had another falls back to
// TCP: data maps 1:1 from where the last mapping received ended (an
// implicit infinite mapping), and subflow ACKs acknowledge data. Otherwise
// the subflow is reset. It reports whether the segment may go on to the
// engine.
func (c *Conn) optionsStripped(sf *Subflow) bool {
	if len(c.subflows) > 1 || sf.role != roleMPC {
		c.resetSubflow(sf, mptcp.ResetMiddleboxInterference)
		return false
	}
	c.mib.Inc(mptcp.MibDssFallback)
	c.fallback = true
	c.reinj = c.reinj[:0]
	c.rtoAt = 0
	if !sf.fbRx {
		sf.fbRx = true
		sf.fbSeq, sf.fbDSN = sf.rxMapEnd, sf.rxMapDSN
	}
	c.release()
	return true
}
