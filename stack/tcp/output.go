package tcp

import (
	"time"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// maxOptionSpace is the TCP option space in a header (60 - 20 bytes).
const maxOptionSpace = 40

// Output returns the next segment to send, and false when there is
// nothing to send now. Payload bytes are copied from the send buffer into
// payload (the transmit frame: one copy) and the returned segment's Payload
// aliases it; at most len(payload) bytes are used. Output first runs the
// timers due at now. Call it until it returns false after every Input,
// OnTimer, Write, Read or close call.
func (e *Endpoint) Output(now time.Duration, payload []byte) (Segment, bool) {
	var seg Segment
	ok := e.OutputTo(&seg, now, payload)
	return seg, ok
}

// OutputTo is Output that builds the segment in *seg (overwritten whole)
// instead of returning it: the transmit loop reuses one Segment.
func (e *Endpoint) OutputTo(seg *Segment, now time.Duration, payload []byte) bool {
	e.lastNow = now
	if t := e.NextTimer(); t != 0 && now >= t {
		e.OnTimer(now)
	}
	*seg = Segment{}
	if e.rstPending {
		e.rstPending = false
		seg.Seq = e.rstSeq
		seg.Flags = FlagRST
		if e.rstHasAck {
			seg.Flags |= FlagACK
			seg.Ack = e.rstAck
		}
		e.counters.RSTsOut++
		e.counters.SegsOut++
		return true
	}
	switch e.state {
	case Closed:
		return false
	case SynSent, SynRcvd:
		if e.needSyn {
			e.synSegment(seg, now)
			return true
		}
		if e.state == SynSent {
			return false
		}
	}
	if e.forceACK {
		e.forceACK = false
		switch e.state {
		case Established, FinWait1, FinWait2, CloseWait, Closing, LastAck, TimeWait:
			e.header(seg, now, e.sndNxt, FlagACK)
			e.finish(seg)
			e.counters.ForcedACKs++
			return true
		}
	}
	if e.inRecovery && e.retransmit(seg, now, payload) {
		return true
	}
	if e.tlpNow && e.sendProbe(seg, now, payload) {
		return true
	}
	if e.probeNow {
		e.probeNow = false
		e.header(seg, now, e.sndUna.Sub(1), FlagACK)
		e.finish(seg)
		return true
	}
	if e.sendNew(seg, now, payload) {
		return true
	}
	if e.ackNow && e.state != SynSent {
		e.header(seg, now, e.sndNxt, FlagACK)
		e.finish(seg)
		return true
	}
	return false
}

// synSegment builds our SYN or SYN-ACK.
func (e *Endpoint) synSegment(seg *Segment, now time.Duration) {
	active := e.state == SynSent
	seg.Seq = e.iss
	seg.Flags = FlagSYN
	o := &seg.Options
	o.MSS = uint16(min(e.cfg.MSS, 65535))
	if !e.cfg.NoWindowScale && (active || e.wsOK) {
		o.HasWScale = true
		o.WScale = e.rcvShift
	}
	o.SACKPermitted = !e.cfg.NoSACK && (active || e.sackOK)
	if !e.cfg.NoTimestamps && (active || e.tsOK) {
		o.HasTS = true
		o.TSVal = e.tsNow(now)
		if !active {
			o.TSEcr = e.tsRecent
		}
	}
	w := min(e.recvSpace(), 65535)
	seg.Window = uint16(w)
	e.synWnd = w
	if !active {
		seg.Flags |= FlagACK
		seg.Ack = e.rcvNxt
		e.rcvAdvEnd = e.rcvNxt.Add(seqnum.Size(w))
		e.lastAckSent = e.rcvNxt
	}
	if e.ext != nil {
		o.Ext = e.extOptions(seg, maxOptionSpace-o.OptionLen(true))
	}
	e.needSyn = false
	e.synAt = now
	e.synSends++
	e.sndNxt = e.iss + 1
	if e.retries > 0 {
		e.counters.RetransSegs++
	}
	e.rtoAt = now + e.backoffRTO()
	e.counters.SegsOut++
}

// header fills the fields every non-SYN segment carries: sequence numbers,
// ACK, window, timestamps and SACK blocks. It returns the payload room
// left by the options.
func (e *Endpoint) header(seg *Segment, now time.Duration, seq seqnum.Value, flags Flags) int {
	seg.Seq = seq
	seg.Flags = flags | FlagACK
	seg.Ack = e.rcvNxt
	seg.Window = e.windowField()
	o := &seg.Options
	used := e.cfg.ExtOptionSpace
	if e.tsOK {
		o.HasTS = true
		o.TSVal = e.tsNow(now)
		o.TSEcr = e.tsRecent
		used += 12
	}
	if e.sackOK && (e.ooo.len() > 0 || e.dsackPending) {
		room := min((maxOptionSpace-used-4)/8, MaxSACKBlocks)
		n := 0
		if e.dsackPending && room > 0 {
			o.SACK[0] = e.dsack
			n = 1
		}
		if e.lastOOO >= 0 && e.lastOOO < e.ooo.len() && n < room {
			r := e.ooo.r[e.lastOOO]
			o.SACK[n] = SACKBlock{r.start, r.end}
			n++
		}
		for i := e.ooo.len() - 1; i >= 0 && n < room; i-- {
			if i == e.lastOOO {
				continue
			}
			r := e.ooo.r[i]
			o.SACK[n] = SACKBlock{r.start, r.end}
			n++
		}
		o.NumSACK = uint8(n)
		if n > 0 {
			used += 4 + 8*n
		}
	}
	return e.mss - used
}

// finish runs the extension hook and the bookkeeping of a segment about to
// be sent: every non-SYN segment acknowledges rcv_nxt.
func (e *Endpoint) finish(seg *Segment) {
	if e.ext != nil {
		seg.Options.Ext = e.extOptions(seg, maxOptionSpace-seg.Options.OptionLen(false))
	}
	if e.dsackPending && seg.Options.NumSACK > 0 && seg.Options.SACK[0] == e.dsack {
		e.dsackPending = false
		e.counters.DSACKsOut++
	}
	e.lastAckSent = e.rcvNxt
	e.rcvUnacked = 0
	e.ackNow = false
	e.delackAt = 0
	e.counters.SegsOut++
}

// recvSpace is the window we could offer from rcv_nxt: the receive
// buffer's free space, capped by the extension's WindowLimiter.
func (e *Endpoint) recvSpace() int {
	free := e.rcv.Free()
	if e.wl != nil {
		if l := e.wl.RecvWindowLimit(); l < free {
			free = max(l, 0)
		}
	}
	return free
}

// windowField computes the window to advertise and records its right edge.
// The edge never moves left (RFC 9293 §3.8.6.2.2).
func (e *Endpoint) windowField() uint16 {
	edge := e.rcvNxt.Add(seqnum.Size(e.recvSpace()))
	if edge.LessThan(e.rcvAdvEnd) {
		edge = e.rcvAdvEnd
	}
	wnd := int(e.rcvNxt.Size(edge))
	f := wnd >> e.rcvShift
	if f > 65535 {
		f = 65535
	}
	adv := e.rcvNxt.Add(seqnum.Size(f << e.rcvShift))
	if adv.LessThan(e.rcvAdvEnd) && f < 65535 {
		f++ // rounding down would shrink the window
		adv = e.rcvNxt.Add(seqnum.Size(f << e.rcvShift))
	}
	if adv.GreaterThan(e.rcvAdvEnd) {
		e.rcvAdvEnd = adv
	}
	return uint16(f)
}

// pipe estimates the bytes in the network (RFC 6675 §4): outstanding,
// minus SACKed, minus holes deemed lost and not yet retransmitted.
func (e *Endpoint) pipe() int {
	out := int(e.sndUna.Size(e.sndNxt)) - e.sackedBytes
	if e.inRecovery {
		lo := seqnum.Max(e.highRxt, e.sndUna)
		if lo.LessThan(e.lostEnd) {
			out -= int(lo.Size(e.lostEnd)) - e.sacked.bytesIn(lo, e.lostEnd)
		}
		out -= e.relost.bytes()
	}
	return max(out, 0)
}

// retransmit sends the next lost, unSACKed range (RFC 6675 NextSeg rule 1).
func (e *Endpoint) retransmit(seg *Segment, now time.Duration, payload []byte) bool {
	switch e.state {
	case Established, CloseWait, FinWait1, Closing, LastAck:
	default:
		return false
	}
	s, end, relost := e.nextRelost()
	if !relost {
		s = seqnum.Max(e.highRxt, e.sndUna)
		for s.LessThan(e.lostEnd) {
			i := e.sacked.find(s)
			if i < 0 {
				break
			}
			s = e.sacked.r[i].end
		}
		if !s.LessThan(e.lostEnd) {
			return false
		}
		end = e.lostEnd
		if ns, ok := e.sacked.nextStartAfter(s); ok && ns.LessThan(end) {
			end = ns
		}
	}
	if !s.LessThan(e.sndNxt) {
		return false // never "retransmit" what was not sent
	}
	end = seqnum.Min(end, e.sndNxt)
	if pipe := e.pipe(); e.firstRxtDone && pipe >= e.sendCwnd(pipe) {
		return false
	}
	room := e.header(seg, now, s, 0)
	dataEnd := e.dataEnd()
	n := 0
	if s.LessThan(dataEnd) {
		n = min(int(s.Size(seqnum.Min(end, dataEnd))), room, len(payload))
		n = e.snd.CopyAt(int(e.sndUna.Size(s)), payload[:n])
		seg.Payload = payload[:n]
	}
	after := s.Add(seqnum.Size(n))
	if e.finSent && after == e.finSeq && end.GreaterThan(e.finSeq) {
		seg.Flags |= FlagFIN
		after++
	}
	if after == s {
		return false // nothing fits (payload buffer empty)
	}
	if after == dataEnd {
		seg.Flags |= FlagPSH
	}
	if relost {
		e.relost.r[0].start = after
		if !after.LessThan(e.relost.r[0].end) {
			e.relost.trimBelow(after)
		}
	} else {
		e.highRxt = after
	}
	e.prrOut += int(s.Size(after))
	e.logRetransmit(s, after, now)
	e.rackRecordRetransmit(s, after, now)
	e.rxtTS, e.rxtTSSet = e.tsNow(now), true
	e.firstRxtDone = true
	e.counters.RetransSegs++
	if e.rtoAt == 0 {
		e.rtoAt = now + e.backoffRTO()
	}
	if e.tlpAt == 0 {
		e.armTLP(now)
	}
	e.finish(seg)
	return true
}

// sendNew sends data (and the FIN) not sent before, within the peer's
// window and the congestion window.
func (e *Endpoint) sendNew(seg *Segment, now time.Duration, payload []byte) bool {
	switch e.state {
	case Established, CloseWait, FinWait1, Closing, LastAck:
	default:
		return false
	}
	if e.finSent {
		return false
	}
	dataEnd := e.dataEnd()
	if !e.sndNxt.LessThan(dataEnd) && !e.finQueued {
		return false // nothing unsent (hasUnsent)
	}
	avail := 0
	if e.sndNxt.LessThan(dataEnd) {
		avail = int(e.sndNxt.Size(dataEnd))
	}
	wndEnd := e.sndUna.Add(seqnum.Size(e.sndWnd))
	wndRoom := 0
	if e.sndNxt.LessThan(wndEnd) {
		wndRoom = int(e.sndNxt.Size(wndEnd))
	}
	if wndRoom == 0 {
		if e.sndNxt == e.sndUna && e.persistAt == 0 {
			e.armPersist(now)
		}
		return false
	}
	pipe := e.pipe()
	cwnd := e.sendCwnd(pipe)
	if e.forceSend {
		cwnd = pipe + e.mss + 1 // the probe ignores the congestion window
	}
	if pipe >= cwnd {
		return false
	}
	room := e.header(seg, now, e.sndNxt, 0)
	n := min(avail, wndRoom, room, len(payload))
	fin := e.finQueued && n == avail && wndRoom > n
	if n == 0 && !fin {
		return false
	}
	if pipe > 0 && pipe+n > cwnd {
		return false
	}
	if n < room && n < avail {
		// Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a short segment only
		// when it is at least half the largest window the peer offered, or
		// nothing is in flight.
		if n < e.maxSndWnd/2 && e.sndNxt != e.sndUna {
			return false
		}
	}
	if e.cfg.Nagle && n > 0 && n < room && e.sndNxt != e.sndUna {
		return false
	}
	if n > 0 {
		// The buffer may copy less than asked (an MPTCP copy stops at the
		// end of a DSS mapping). The FIN goes only with the last byte
		// actually copied, so that it never precedes unsent data.
		n = e.snd.CopyAt(int(e.sndUna.Size(e.sndNxt)), payload[:n])
		if n < avail {
			fin = false
		}
		if n <= 0 && !fin {
			*seg = Segment{} // nothing came from the buffer: send nothing
			return false
		}
		seg.Payload = payload[:n]
		if n == avail {
			seg.Flags |= FlagPSH
		}
	}
	seq := e.sndNxt
	e.sndNxt = seq.Add(seqnum.Size(n))
	if fin {
		seg.Flags |= FlagFIN
		e.finSent = true
		e.finSeq = e.sndNxt
		e.sndNxt++
	}
	e.rackRecordSent(e.sndNxt, now)
	if e.inRecovery {
		e.prrOut += int(seq.Size(e.sndNxt))
	}
	if !e.tsOK && !e.rttTiming && !e.inRecovery {
		e.rttTiming = true
		e.rttSeq = e.sndNxt
		e.rttStart = now
	}
	if e.rtoAt == 0 {
		e.rtoAt = now + e.backoffRTO()
	}
	if e.tlpAt == 0 && !e.forceSend {
		e.armTLP(now)
	}
	e.finish(seg)
	return true
}

// extOptions asks the extension for the options of seg, with room bytes
// of space. The extension sees a copy held in the endpoint, so that the
// caller's segment does not escape to the heap through the interface call.
func (e *Endpoint) extOptions(seg *Segment, room int) []byte {
	e.extSeg = *seg
	k := e.ext.WriteOptions(&e.extSeg, e.extScratch[:max(room, 0)])
	e.extSeg = Segment{}
	return e.extScratch[:min(max(k, 0), max(room, 0))]
}

// extInput shows an incoming segment to the extension (through a copy, for
// the same reason as extOptions).
func (e *Endpoint) extInput(seg *Segment) {
	e.extSeg = *seg
	e.ext.OnSegment(&e.extSeg)
	e.extSeg = Segment{}
}
