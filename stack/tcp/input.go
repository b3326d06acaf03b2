package tcp

import (
	"time"

	"github.com/mpxdp/mpxdp/stack/seqnum"
	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

// pawsIdle is how long TS.Recent stays valid without updates (RFC 7323 §5.5).
const pawsIdle = 24 * 24 * time.Hour

// Input processes one received segment (RFC 9293 §3.10.7 with RFC 5961,
// 7323, 2018 and 6675). The segment and its payload are only read during
// the call. Afterwards call Output until it reports nothing to send.
func (e *Endpoint) Input(seg *Segment, now time.Duration) {
	e.lastNow = now
	e.counters.SegsIn++
	switch e.state {
	case Closed:
		e.counters.ClosedSegs++
		e.replyRST(seg)
		return
	case SynSent:
		e.inputSynSent(seg, now)
		return
	}

	// RST (RFC 5961 §3.2): exact match resets, in window challenges.
	if seg.Flags&FlagRST != 0 {
		e.inputRST(seg, now)
		return
	}

	// PAWS (RFC 7323 §5.3).
	if e.tsOK && seg.Options.HasTS && int32(seg.Options.TSVal-e.tsRecent) < 0 {
		if now-e.tsRecentAt > pawsIdle {
			e.tsRecent = seg.Options.TSVal // too old to trust (RFC 7323 §5.5)
		} else {
			e.counters.PAWSDrop++
			e.ackNow = true
			return
		}
	}

	if e.state == SynRcvd && seg.Flags&(FlagSYN|FlagACK) == FlagSYN && seg.Seq == e.irs {
		// The peer retransmitted its SYN: our SYN-ACK was lost. Resend it.
		e.needSyn = true
		return
	}

	if !e.acceptable(seg) {
		e.counters.BadSeq++
		if end := seg.Seq.Add(seqnum.Size(len(seg.Payload))); e.sackOK && len(seg.Payload) > 0 &&
			end.LessThanEq(e.rcvNxt) && seg.Seq.Size(e.rcvNxt) < 1<<30 {
			e.dsack = SACKBlock{seg.Seq, end} // an old duplicate: report it (RFC 2883)
			e.dsackPending = true
		}
		if e.state == TimeWait && seg.Flags&FlagFIN != 0 && seg.Flags&FlagSYN == 0 {
			e.restartTimeWait(now) // a retransmitted FIN (RFC 9293 §3.10.7.4)
		}
		e.ackNow = true
		return
	}

	// SYN in a synchronized (or SYN-RECEIVED) state: challenge ACK (RFC 5961 §4).
	if seg.Flags&FlagSYN != 0 {
		e.counters.SYNInSync++
		e.challengeACK(now)
		return
	}

	if seg.Flags&FlagACK == 0 {
		e.counters.NoACKFlag++
		return
	}

	// RFC 7323 §4.3: remember the timestamp to echo.
	if e.tsOK && seg.Options.HasTS && seg.Seq.LessThanEq(e.lastAckSent) &&
		int32(seg.Options.TSVal-e.tsRecent) >= 0 {
		e.tsRecent = seg.Options.TSVal
		e.tsRecentAt = now
	}

	// ACK acceptability (RFC 5961 §5.2).
	if seg.Ack.GreaterThan(e.sndNxt) {
		e.counters.AckTooNew++
		if e.state == SynRcvd {
			e.counters.BadSYNACK++
			e.queueRST(seg.Ack, 0, false)
		} else {
			e.ackNow = true
		}
		return
	}
	if seg.Ack.LessThan(e.sndUna.Sub(seqnum.Size(e.maxSndWnd))) {
		e.counters.AckTooOld++
		e.challengeACK(now)
		return
	}

	if e.state == SynRcvd {
		if !seg.Ack.GreaterThan(e.sndUna) {
			e.counters.BadSYNACK++
			e.queueRST(seg.Ack, 0, false)
			return
		}
		e.establish(now)
		e.sndWl1 = seg.Seq.Sub(1) // take this segment's window
		if e.synSends == 1 {
			e.rttSample(now - e.synAt) // Karn: the SYN-ACK was not retransmitted
		} else if e.tsOK && seg.Options.HasTS {
			e.rttSample(time.Duration(e.tsNow(now)-seg.Options.TSEcr) * time.Millisecond)
		}
	}

	if e.ext != nil {
		e.extInput(seg)
	}
	e.processAck(seg, now)
	if e.state == Closed {
		return
	}
	if e.state == TimeWait {
		if seg.Flags&FlagFIN != 0 {
			e.ackNow = true
			e.restartTimeWait(now)
		}
		return
	}
	e.processData(seg, seg.Seq, seg.Payload, seg.Flags&FlagFIN != 0, now)
}

// acceptable is the segment acceptability test (RFC 9293 §3.10.7.4).
func (e *Endpoint) acceptable(seg *Segment) bool {
	wnd := e.rcvWnd()
	n := seg.Len()
	switch {
	case n == 0 && wnd == 0:
		return seg.Seq == e.rcvNxt
	case n == 0:
		return seg.Seq.InWindow(e.rcvNxt, wnd)
	case wnd == 0:
		return false
	default:
		return seg.Seq.InWindow(e.rcvNxt, wnd) || seg.Seq.Add(n-1).InWindow(e.rcvNxt, wnd)
	}
}

// rcvWnd is the window we advertised, measured from rcv_nxt.
func (e *Endpoint) rcvWnd() seqnum.Size {
	if e.rcvAdvEnd.LessThanEq(e.rcvNxt) {
		return 0
	}
	return e.rcvNxt.Size(e.rcvAdvEnd)
}

func (e *Endpoint) inputRST(seg *Segment, now time.Duration) {
	if e.state == TimeWait && seg.Seq == e.rcvNxt {
		e.state = Closed
		e.stopTimers()
		return
	}
	if seg.Seq == e.rcvNxt {
		e.counters.RSTsIn++
		if e.state == SynRcvd {
			e.fail(ErrConnectionRefused)
		} else {
			e.fail(ErrConnectionReset)
		}
		return
	}
	wnd := e.rcvWnd()
	if wnd == 0 {
		wnd = 1
	}
	if seg.Seq.InWindow(e.rcvNxt, wnd) {
		e.counters.InWindowRST++
		e.challengeACK(now)
		return
	}
	e.counters.OutOfWindowRST++
}

// challengeACK sends an ACK subject to the per-second limit (RFC 5961 §7).
func (e *Endpoint) challengeACK(now time.Duration) {
	if now-e.chalStart >= time.Second || now < e.chalStart {
		e.chalStart = now
		e.chalCount = 0
	}
	if e.chalCount >= e.cfg.ChallengeACKLimit {
		e.counters.ChallengeACKLimit++
		return
	}
	e.chalCount++
	e.counters.ChallengeACK++
	e.ackNow = true
}

// replyRST answers a segment that has no connection (RFC 9293 §3.10.7.1).
func (e *Endpoint) replyRST(seg *Segment) {
	if seg.Flags&FlagRST != 0 {
		return
	}
	if seg.Flags&FlagACK != 0 {
		e.queueRST(seg.Ack, 0, false)
	} else {
		e.queueRST(0, seg.Seq.Add(seg.Len()), true)
	}
}

func (e *Endpoint) inputSynSent(seg *Segment, now time.Duration) {
	f := seg.Flags
	if f&FlagACK != 0 && (seg.Ack.LessThanEq(e.iss) || seg.Ack.GreaterThan(e.sndNxt)) {
		e.counters.BadSYNACK++
		if f&FlagRST == 0 {
			e.queueRST(seg.Ack, 0, false)
		}
		return
	}
	if f&FlagRST != 0 {
		if f&FlagACK != 0 {
			e.counters.RSTsIn++
			e.fail(ErrConnectionRefused)
		} else {
			e.counters.OutOfWindowRST++
		}
		return
	}
	if f&FlagSYN == 0 {
		e.counters.BadSeq++
		return
	}
	e.acceptSYN(seg, now)
	if e.ext != nil {
		e.extInput(seg)
	}
	if f&FlagACK == 0 {
		// Simultaneous open: answer with our SYN-ACK.
		e.state = SynRcvd
		e.needSyn = true
		return
	}
	e.sndUna = seg.Ack
	e.sndWl1, e.sndWl2 = seg.Seq, seg.Ack
	if e.synSends == 1 {
		e.rttSample(now - e.synAt) // Karn: the SYN was not retransmitted
	} else if e.tsOK && seg.Options.HasTS {
		e.rttSample(time.Duration(e.tsNow(now)-seg.Options.TSEcr) * time.Millisecond)
	}
	e.establish(now)
	e.ackNow = true
	e.processData(seg, seg.Seq+1, seg.Payload, f&FlagFIN != 0, now)
}

// establish enters ESTABLISHED (or FIN-WAIT-1 when CloseWrite came first).
func (e *Endpoint) establish(now time.Duration) {
	e.state = Established
	if e.finQueued {
		e.state = FinWait1
	}
	e.needSyn = false
	e.retries = 0
	e.rtoAt = 0
	if e.sndUna == e.iss {
		e.sndUna = e.iss + 1
	}
	e.drsStart = now
	if e.rcvRing != nil {
		e.drsCopied = e.rcvRing.consumed
	}
	e.drsSpace = e.cfg.RecvBufSize / 2
}

func (e *Endpoint) restartTimeWait(now time.Duration) {
	e.twAt = now + e.cfg.TimeWait
}

func (e *Endpoint) enterTimeWait(now time.Duration) {
	e.state = TimeWait
	e.rtoAt, e.persistAt, e.delackAt = 0, 0, 0
	e.restartTimeWait(now)
}

// processAck handles the ACK field, the window and SACK blocks of an
// acceptable segment in a synchronized state.
func (e *Endpoint) processAck(seg *Segment, now time.Duration) {
	ack := seg.Ack
	inflight := e.pipe()
	sackedBefore := e.sackedBytes
	hadSacks, prevHigh := e.sacked.len() > 0, e.highSacked()
	newlySacked := 0
	var qrtt time.Duration // RTT sample from the send times (rack.go)
	if ack.GreaterThan(e.sndUna) {
		qrtt = e.rackAdvance(ack, now)
	}
	if e.sackOK && seg.Options.NumSACK > 0 {
		newlySacked = e.updateScoreboard(seg.Options.Blocks(), ack)
		if newlySacked > 0 {
			e.rackSACKed(seg.Options.Blocks(), now)
		}
	}
	wnd := int(seg.Window) << e.sndShift
	oldWnd := e.sndWnd

	advanced := ack.GreaterThan(e.sndUna)
	acked := 0
	if advanced && hadSacks && !e.rtoRecovery && (!e.rxtHighSet || !e.sndUna.LessThan(e.rxtHigh)) {
		// A hole above everything we ever retransmitted was filled while
		// later data had been SACKed by earlier ACKs: the network reordered.
		e.noteReordering(e.sndUna, prevHigh)
	}
	if advanced {
		acked = int(e.sndUna.Size(ack))
		dataAcked := acked
		if e.finSent && ack == e.finSeq+1 {
			dataAcked-- // our FIN
			switch e.state {
			case FinWait1:
				e.state = FinWait2
				if e.rcvClosed {
					// Orphaned: wait for the peer's FIN only so long,
					// using the TIME-WAIT timer slot.
					e.twAt = now + e.cfg.FinWait2Timeout
				}
			case Closing:
				e.enterTimeWait(now)
			case LastAck:
				e.state = Closed
				e.stopTimers()
			}
		}
		if dataAcked > e.snd.Buffered() {
			dataAcked = e.snd.Buffered()
		}
		e.snd.Consume(dataAcked)
		e.sndUna = ack
		if e.sndNxt.LessThan(ack) {
			e.sndNxt = ack
		}
		e.sacked.trimBelow(ack)
		e.sackedBytes = e.sacked.bytes()
		e.retries = 0
		e.probes = 0
		e.dupAcks = 0
		// RTT sample: timestamps (RFC 7323 §4.1) or Karn's timed segment.
		var rtt time.Duration
		if qrtt > 0 {
			// The newest segment acknowledged was sent once: its send
			// time gives a Karn-safe sample with microsecond resolution.
			rtt = qrtt
			e.rttSample(rtt)
			e.rxtTSSet = false
			if e.rack.minRTTus == 0 {
				e.minRTT = rtt // replaces a millisecond-timestamp handshake sample
			}
			if e.rack.minRTTus == 0 || rtt < e.rack.minRTTus {
				e.rack.minRTTus = rtt
			}
		} else if e.rack.minRTTus > 0 {
			// Retransmitted data: no sample (millisecond timestamps would
			// only add noise to microsecond samples).
		} else if e.tsOK && seg.Options.HasTS {
			if e.rxtTSSet && int32(seg.Options.TSEcr-e.rxtTS) < 0 {
				// The echo predates our last retransmission: it times an
				// earlier transmission whose ACK was lost and would inflate
				// the RTO (the receiver echoes TS.Recent on duplicates).
			} else if rtt = time.Duration(e.tsNow(now)-seg.Options.TSEcr) * time.Millisecond; rtt >= 0 && rtt < 10*time.Minute {
				e.rttSample(rtt)
				e.rxtTSSet = false
			} else {
				rtt = 0
			}
		} else if e.rttTiming && e.rttSeq.LessThanEq(ack) {
			e.rttTiming = false
			rtt = now - e.rttStart
			e.rttSample(rtt)
		}
		if e.inRecovery && e.recoveryPoint.LessThanEq(ack) {
			e.inRecovery = false
			// The log is kept: retransmissions of this episode may still
			// be in flight when the next one starts (enterRecovery).
			if !e.rtoRecovery {
				e.cc.OnRecoveryExit(now)
			}
			e.rtoRecovery = false
		} else if e.inRecovery && !e.sackOK && !e.rtoRecovery {
			// NewReno partial ACK (RFC 6582): the next segment is lost too.
			e.lostEnd = seqnum.Max(e.lostEnd, e.segmentEnd(ack))
			e.highRxt = seqnum.Max(e.highRxt, ack)
		}
		if !e.inRecovery || e.rtoRecovery {
			// Limited by something other than the congestion window: no
			// data, or data it did not send although the window had room
			// for another segment (the peer's window, or a device queue
			// that was full so the stack did not ask for segments). The
			// controller then grows the window only as far as it was used
			// (cc.CwndLimited), as Linux does; without this a lossless
			// path whose queue the stack bounds grows cwnd without limit.
			limited := !e.hasUnsent() || inflight+e.mss <= e.cc.Cwnd()
			e.cc.OnAck(cc.Ack{Now: now, Acked: acked + newlySacked, RTT: rtt, SRTT: e.srtt,
				MinRTT: e.minRTT, InFlight: inflight, AppLimited: limited})
		}
		if e.sndUna == e.sndNxt {
			e.rtoAt = 0
		} else {
			e.rtoAt = now + e.rto
		}
		e.armTLP(now)
		if e.state == Closed {
			return
		}
	} else if ack == e.sndUna && len(seg.Payload) == 0 && seg.Flags&(FlagSYN|FlagFIN) == 0 &&
		e.sndNxt != e.sndUna && ((!e.sackOK && wnd == oldWnd) || newlySacked > 0) {
		// With SACK only ACKs that SACK new data count (RFC 6675 §2), so a
		// duplicated segment's ACK does not start a recovery.
		e.dupAcks++
		e.counters.DupAcks++
	}

	// Window update (RFC 9293 §3.10.7.4, SND.WL1/SND.WL2 rule).
	if e.sndWl1.LessThan(seg.Seq) || (e.sndWl1 == seg.Seq && e.sndWl2.LessThanEq(ack)) {
		e.sndWnd = wnd
		e.sndWl1, e.sndWl2 = seg.Seq, ack
		if wnd > e.maxSndWnd {
			e.maxSndWnd = wnd
		}
		if wnd > 0 {
			e.persistAt = 0
			e.probes = 0
		}
	}

	// Loss detection (RFC 6675 §5 with the DupThresh rule, or NewReno).
	if !e.inRecovery && e.sndNxt != e.sndUna {
		if e.dupAcks >= e.dupThresh || (e.sackOK && e.sackedBytes > (e.dupThresh-1)*e.mss) {
			e.enterRecovery(now, inflight)
		}
	}
	e.tlpAcked(ack, now, inflight)
	if e.inRecovery && e.sackOK {
		if l := e.lossBoundary(); l.GreaterThan(e.lostEnd) {
			e.lostEnd = l
		}
	}
	e.rackDetect(now) // time-based: may start recovery
	if e.inRecovery && e.sackOK && e.rxt.n > 0 {
		e.detectLostRetransmits(now)
	}
	if e.inRecovery && newlySacked > 0 {
		e.armTLP(now) // progress in recovery: restart the probe timer
	}
	if e.prrActive() {
		// RFC 6937 DeliveredData: the cumulative ACK's advance plus the
		// change in SACKed bytes (negative when it covers SACKed data).
		e.prrOnAck(max(acked+e.sackedBytes-sackedBefore, 0))
	}
}

func (e *Endpoint) enterRecovery(now time.Duration, inflight int) {
	e.counters.FastRetransmits++
	e.tlpAt, e.tlpNow = 0, false
	e.inRecovery = true
	e.rtoRecovery = false
	e.recoveryPoint = e.sndNxt
	e.highRxt = e.sndUna
	// Retransmissions of the previous episode that are still in flight
	// (neither delivered nor detected lost) are not sent again: every hole
	// below the last of them was retransmitted then. The log keeps them,
	// so that they are resent if they turn out lost.
	if e.sackOK {
		e.dropDeliveredRetransmits()
		for i := 0; i < e.rxt.n; i++ {
			e.highRxt = seqnum.Max(e.highRxt, e.rxt.at(i).end)
		}
	} else {
		e.resetRecoveryLog()
	}
	e.lostEnd = seqnum.Max(e.segmentEnd(e.sndUna), e.highRxt)
	e.rttTiming = false
	e.firstRxtDone = false
	e.cc.OnCongestion(now, inflight)
	e.prrStart(inflight)
}

// lossBoundary returns the sequence number below which every unSACKed byte
// counts as lost: DupThresh*MSS bytes are SACKed above it (RFC 6675 IsLost).
func (e *Endpoint) lossBoundary() seqnum.Value {
	need := e.dupThresh * e.mss
	got := 0
	for i := len(e.sacked.r) - 1; i >= 0; i-- {
		r := e.sacked.r[i]
		got += int(r.start.Size(r.end))
		if got > need-e.mss {
			return r.start
		}
	}
	return e.sndUna
}

// updateScoreboard merges SACK blocks into the scoreboard and returns the
// bytes newly SACKed.
func (e *Endpoint) updateScoreboard(blocks []SACKBlock, ack seqnum.Value) int {
	before := e.sackedBytes
	for i, b := range blocks {
		if i == 0 && b.Start.LessThan(b.End) && (b.End.LessThanEq(ack) ||
			(len(blocks) > 1 && b.Start.GreaterThanEq(blocks[1].Start) && b.End.LessThanEq(blocks[1].End))) {
			e.onDSACK(b) // RFC 2883: the first block reports a duplicate
			continue
		}
		if !b.Start.LessThan(b.End) || b.End.GreaterThan(e.sndNxt) || !b.End.GreaterThan(ack) ||
			!b.Start.GreaterThanEq(e.sndUna) {
			if !(b.End.LessThanEq(ack) && b.Start.LessThan(b.End)) { // D-SACK below the ACK is legal
				e.counters.InvalidSACK++
			}
			continue
		}
		if e.sacked.add(seqnum.Max(b.Start, ack), b.End) < 0 {
			e.counters.SACKScoreboardFull++
		}
	}
	e.sacked.trimBelow(ack)
	e.sackedBytes = e.sacked.bytes()
	if d := e.sackedBytes - before; d > 0 {
		return d
	}
	return 0
}

// processData queues the payload of an acceptable segment (seq is the
// sequence number of its first payload byte) and its FIN.
func (e *Endpoint) processData(seg *Segment, seq seqnum.Value, data []byte, fin bool, now time.Duration) {
	if !e.state.canRecvData() {
		if len(data) > 0 || fin {
			// Retransmission after our side was closed: acknowledge.
			e.ackNow = true
		}
		return
	}
	if len(data) > 0 {
		e.measureRcvRTT(seg, now)
	}
	finSeq := seq.Add(seqnum.Size(len(data)))
	// Trim what we already have.
	if seq.LessThan(e.rcvNxt) && len(data) > 0 && e.sackOK {
		end := seqnum.Min(seq.Add(seqnum.Size(len(data))), e.rcvNxt)
		e.dsack = SACKBlock{seq, end}
		e.dsackPending = true
	}
	if seq.LessThan(e.rcvNxt) {
		d := int(seq.Size(e.rcvNxt))
		if d >= len(data) {
			if len(data) > 0 {
				e.counters.DuplicateData++
				e.ackNow = true // D-SACK-less duplicate: tell the sender where we are
			}
			data = nil
		} else {
			data = data[d:]
		}
		seq = e.rcvNxt
	}
	// Trim to the advertised window, then to the buffer.
	wnd := int(e.rcvWnd())
	off := int(e.rcvNxt.Size(seq))
	if len(data) > 0 {
		if off+len(data) > wnd {
			if off >= wnd {
				data = nil
			} else {
				data = data[:wnd-off]
			}
			fin = false
		}
		if free := e.rcv.Free(); off+len(data) > free {
			e.counters.RcvBufOverflow += uint64(off + len(data) - free)
			if off >= free {
				data = nil
			} else {
				data = data[:free-off]
			}
			fin = false
		}
	}
	if len(data) > 0 && e.rcvClosed {
		// Data for an application that closed: reset (RFC 9293 §3.10.4).
		e.counters.DataAfterClose++
		e.queueRST(e.sndNxt, e.rcvNxt, true)
		e.fail(ErrAborted)
		return
	}
	if len(data) > 0 {
		if off == 0 {
			e.rcv.WriteAt(0, data)
			hadHoles := e.ooo.len() > 0
			n := len(data)
			end := e.rcvNxt.Add(seqnum.Size(n))
			// Merge out-of-order ranges that are now contiguous.
			for e.ooo.len() > 0 && e.ooo.r[0].start.LessThanEq(end) {
				if e.ooo.r[0].end.GreaterThan(end) {
					end = e.ooo.r[0].end
				}
				e.ooo.trimBelow(end)
			}
			n = int(e.rcvNxt.Size(end))
			e.rcv.Advance(n)
			e.rcvNxt = end
			e.lastOOO = -1
			e.rcvUnacked += n
			short := false
			if e.cfg.QuickACKShort {
				short = len(data) < e.rcvMSS
				e.rcvMSS = max(e.rcvMSS, len(data))
			}
			if hadHoles {
				e.ackNow = true // filled a hole: ACK at once (RFC 5681 §4.2)
			} else if e.rcvUnacked >= 2*e.mss || short {
				e.ackNow = true
			} else if e.delackAt == 0 {
				e.delackAt = now + e.cfg.DelayedACK
			}
			e.autotune(now)
		} else {
			end := seq.Add(seqnum.Size(len(data)))
			if i := e.ooo.find(seq); i >= 0 && e.sackOK && end.LessThanEq(e.ooo.r[i].end) {
				e.dsack = SACKBlock{seq, end} // already held: duplicate
				e.dsackPending = true
			}
			idx := e.ooo.add(seq, end)
			if idx < 0 {
				e.counters.OOOQueueFull++
				e.ackNow = true
				return
			}
			e.counters.OOOSegs++
			e.rcv.WriteAt(off, data)
			e.lastOOO = idx
			e.ackNow = true // out of order: duplicate ACK with SACK at once
		}
	}
	if fin {
		e.finPending = true
		e.finPendSeq = finSeq
	}
	if e.finPending && e.finPendSeq == e.rcvNxt && !e.finRcvd {
		e.finPending = false
		e.finRcvd = true
		e.rcvNxt++
		e.ackNow = true
		switch e.state {
		case Established:
			e.state = CloseWait
		case FinWait1:
			if e.finSent && e.sndUna == e.finSeq+1 {
				e.enterTimeWait(now)
			} else {
				e.state = Closing
			}
		case FinWait2:
			e.enterTimeWait(now)
		}
	}
}

// measureRcvRTT estimates the RTT on the receive side from the echoed
// timestamp of data segments (Linux tcp_rcv_rtt_measure_ts).
func (e *Endpoint) measureRcvRTT(seg *Segment, now time.Duration) {
	if !e.tsOK || !seg.Options.HasTS || seg.Options.TSEcr == 0 {
		return
	}
	r := time.Duration(e.tsNow(now)-seg.Options.TSEcr) * time.Millisecond
	if r < 0 || r > time.Minute {
		return
	}
	if r < time.Millisecond {
		r = time.Millisecond
	}
	if e.rcvRTT == 0 || r < e.rcvRTT {
		e.rcvRTT = r
	} else {
		e.rcvRTT = (7*e.rcvRTT + r) / 8
	}
}

// autotune grows the built-in receive buffer when the application read
// more than the current estimate in one RTT (Linux dynamic right-sizing):
// the buffer becomes twice what was read per RTT, so the window does not
// limit a sender that could go faster.
func (e *Endpoint) autotune(now time.Duration) {
	r := e.rcvRing
	if r == nil || len(r.buf) >= e.cfg.RecvBufMax {
		return
	}
	rtt := e.rcvRTT
	if rtt == 0 {
		rtt = e.srtt
	}
	if rtt == 0 || now-e.drsStart < rtt {
		return
	}
	copied := int(r.consumed - e.drsCopied)
	e.drsStart = now
	e.drsCopied = r.consumed
	if copied <= e.drsSpace {
		return
	}
	e.drsSpace = copied
	want := min(e.cfg.RecvBufMax, 2*copied+16*e.mss)
	if want > len(r.buf) {
		keep := 0
		if k := e.ooo.len(); k > 0 {
			keep = int(e.rcvNxt.Size(e.ooo.r[k-1].end))
		}
		r.grow(want, keep)
		e.counters.RcvBufGrown++
		e.checkWindowUpdate()
	}
}
