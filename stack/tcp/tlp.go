package tcp

import (
	"time"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// Tail loss probes (RFC 8985 §7): when data is outstanding and no ACK came
// for a probe timeout (PTO = 2*SRTT + 2 ms, plus the worst-case delayed ACK
// when one segment is in flight), send one probe (new data if the windows
// allow, else the last segment again) instead of waiting for the RTO. The
// ACK of the probe then reveals tail losses: if it SACKs the probe while
// holes remain below it, those holes are deemed lost and recovery starts at
// once. Only with SACK; the RTO stays armed behind it.
//
// Unlike RFC 8985, probes are also sent during a fast recovery that
// stalls: when a retransmission and everything sent after it are lost (or
// their ACKs are), no ACK comes back to clock out more and RACK has nothing
// to compare with. At a 100 µs RTT the RTO is 2000 RTTs, so one probe
// after PTO of silence (restarted by every ACK that SACKs new data) is far
// cheaper; the probe's SACK then marks the lost retransmission.

const (
	tlpMinPTO    = 2 * time.Millisecond   // added to 2*SRTT, as Linux's TCP_TIMEOUT_MIN
	tlpWorstDAck = 200 * time.Millisecond // the peer's worst-case delayed ACK
)

// armTLP schedules a probe if one may be sent now.
func (e *Endpoint) armTLP(now time.Duration) {
	e.tlpAt = 0
	if !e.sackOK || !e.hasRTT || e.rtoRecovery || e.tlpOutstanding || e.sndNxt == e.sndUna ||
		e.state == SynSent || e.state == SynRcvd {
		return
	}
	pto := 2*e.srtt + tlpMinPTO
	if int(e.sndUna.Size(e.sndNxt)) <= e.mss {
		pto += tlpWorstDAck
	}
	at := now + pto
	if e.rtoAt != 0 && at >= e.rtoAt {
		return // the RTO comes first anyway
	}
	e.tlpAt = at
}

// onTLP fires the probe timer.
func (e *Endpoint) onTLP() {
	if e.rtoRecovery || e.sndNxt == e.sndUna || e.tlpOutstanding {
		return
	}
	e.tlpNow = true
}

// sendProbe builds the probe: one new segment when the peer's window
// allows (congestion window ignored), else the last segment sent.
func (e *Endpoint) sendProbe(seg *Segment, now time.Duration, payload []byte) bool {
	e.tlpNow = false
	switch e.state {
	case Established, CloseWait, FinWait1, Closing, LastAck:
	default:
		return false
	}
	e.counters.TailLossProbes++
	e.tlpOutstanding = true
	if e.sendNewForced(seg, now, payload) {
		e.tlpEnd = e.sndNxt
		return true
	}
	// Retransmit the last segment (or its FIN).
	room := e.header(seg, now, e.sndNxt, 0)
	dataEnd := e.dataEnd()
	end := seqnum.Min(e.sndNxt, dataEnd)
	n := min(room, len(payload), int(e.sndUna.Size(end)))
	s := end.Sub(seqnum.Size(n))
	for tries := 0; n > 0; tries++ {
		// A short copy stopped at a boundary of the buffer (an MPTCP
		// mapping's end) before the tail: probe the piece after it, so
		// that the probe still ends with the last byte sent.
		c := e.snd.CopyAt(int(e.sndUna.Size(s)), payload[:n])
		if c >= n || c <= 0 || tries == 3 {
			n = max(c, 0)
			break
		}
		s = s.Add(seqnum.Size(c))
		n -= c
	}
	seg.Seq = s
	if n > 0 {
		seg.Payload = payload[:n]
	}
	after := s.Add(seqnum.Size(n))
	if e.finSent && after == e.finSeq {
		seg.Flags |= FlagFIN
		after++
	}
	if after == s {
		e.tlpOutstanding = false
		return false
	}
	e.tlpEnd = e.sndNxt
	e.rackRecordRetransmit(s, after, now)
	e.counters.RetransSegs++
	e.rxtTS, e.rxtTSSet = e.tsNow(now), true
	e.rtoAt = now + e.backoffRTO()
	e.finish(seg)
	return true
}

// sendNewForced sends one new segment ignoring the congestion window (the
// probe), if there is unsent data and room in the peer's window.
func (e *Endpoint) sendNewForced(seg *Segment, now time.Duration, payload []byte) bool {
	if !e.hasUnsent() || e.finQueued && !e.sndNxt.LessThan(e.dataEnd()) {
		return false
	}
	saved := e.forceSend
	e.forceSend = true
	ok := e.sendNew(seg, now, payload)
	e.forceSend = saved
	return ok
}

// tlpAcked handles the ACK of an outstanding probe (called from
// processAck after the scoreboard update).
func (e *Endpoint) tlpAcked(ack seqnum.Value, now time.Duration, inflight int) {
	if !e.tlpOutstanding {
		return
	}
	probeSeen := ack.GreaterThanEq(e.tlpEnd) || e.sacked.find(e.tlpEnd-1) >= 0
	if !probeSeen {
		return
	}
	e.tlpOutstanding = false
	if !e.inRecovery && e.sacked.len() > 0 && e.sndUna.LessThan(e.highSacked()) {
		e.counters.TLPRecoveries++
		e.enterRecovery(now, inflight)
		e.lostEnd = seqnum.Max(e.lostEnd, e.highSacked())
	}
}
