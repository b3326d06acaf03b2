package tcp

import (
	"time"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// RACK (RFC 8985 §6): time-based loss detection for every segment.
//
// The sender keeps one record per transmitted segment (txQueue, in
// sequence order, trimmed as snd_una advances) with the time of its last
// transmission. Each ACK finds the most recently sent segment it delivers
// (RACK.xmit_ts, RACK.rtt); a segment not yet delivered that was sent
// before it, and RACK.rtt + reo_wnd ago or more, is lost. One still inside
// that window arms the reordering timer (rackAt). Because originals are
// sent in sequence order, the lost originals are exactly the unSACKed bytes
// below some sequence number, which is the lostEnd boundary the recovery
// code already uses; lost retransmissions go through the retransmission log
// (recovery.go) with the same rule.
//
// The records also give microsecond RTT samples: the cumulative ACK of a
// segment that was never retransmitted times it exactly (Karn), where the
// timestamp option only resolves milliseconds.

// txRec is one transmitted segment.
type txRec struct {
	end seqnum.Value  // sequence number after the segment
	at  time.Duration // time of its last (re)transmission
	rxt bool          // retransmitted at least once
}

// txQueue is a ring of txRec in sequence order. It grows by doubling when
// the flight outgrows it (rare: slow start), never per segment otherwise.
type txQueue struct {
	r    []txRec
	head int
	n    int
}

func (q *txQueue) at(i int) *txRec {
	j := q.head + i
	if j >= len(q.r) {
		j -= len(q.r)
	}
	return &q.r[j]
}

func (q *txQueue) push(end seqnum.Value, at time.Duration) {
	if q.n == len(q.r) {
		nr := make([]txRec, max(64, 2*len(q.r)))
		for i := 0; i < q.n; i++ {
			nr[i] = *q.at(i)
		}
		q.r, q.head = nr, 0
	}
	*q.at(q.n) = txRec{end: end, at: at}
	q.n++
}

// pop drops the oldest record.
func (q *txQueue) pop() {
	q.head++
	if q.head == len(q.r) {
		q.head = 0
	}
	q.n--
}

// find returns the index of the first record whose end lies after seq
// (the one holding seq when seq is outstanding), or q.n.
func (q *txQueue) find(seq seqnum.Value) int {
	lo, hi := 0, q.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if q.at(m).end.LessThanEq(seq) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// rackState is the RACK part of an Endpoint.
type rackState struct {
	txq      txQueue
	xmit     time.Duration // RACK.xmit_ts: send time of the newest delivered segment
	end      seqnum.Value  // RACK.end_seq
	rtt      time.Duration // RACK.rtt
	set      bool          // xmit/end/rtt are valid
	reord    bool          // reordering was observed (reo_wnd stays open in recovery)
	wndMult  int           // reo_wnd multiplier, raised by D-SACKs
	at       time.Duration // reordering timer, 0 = off
	minRTTus time.Duration // lowest RTT sample from the queue
}

// rackRecordSent notes the first transmission of [seq, end).
func (e *Endpoint) rackRecordSent(end seqnum.Value, now time.Duration) {
	e.rack.txq.push(end, now)
}

// rackRecordRetransmit notes the retransmission of [s, end) at now.
func (e *Endpoint) rackRecordRetransmit(s, end seqnum.Value, now time.Duration) {
	q := &e.rack.txq
	for i := q.find(s); i < q.n; i++ {
		r := q.at(i)
		r.at, r.rxt = now, true
		if !r.end.LessThan(end) {
			break
		}
	}
}

// rackAdvance trims the queue to the cumulative ACK ack (called before the
// scoreboard is trimmed), feeds the newly delivered records to RACK and
// returns an RTT sample, or 0. As in Linux, the sample times the oldest
// record newly acknowledged, and there is none when the ACK covers any
// retransmitted record (Karn) or only records SACKed before.
func (e *Endpoint) rackAdvance(ack seqnum.Value, now time.Duration) time.Duration {
	q := &e.rack.txq
	var first time.Duration
	haveFirst, anyRxt := false, false
	start := e.sndUna
	for q.n > 0 {
		r := q.at(0)
		if r.end.GreaterThan(ack) {
			break
		}
		anyRxt = anyRxt || r.rxt
		sacked := false
		if e.sacked.len() > 0 {
			if j := e.sacked.find(start); j >= 0 && r.end.LessThanEq(e.sacked.r[j].end) {
				sacked = true
			}
		}
		if !sacked {
			e.rackDelivered(*r, now)
			if !r.rxt && !haveFirst {
				first, haveFirst = r.at, true
			}
		}
		start = r.end
		q.pop()
	}
	if anyRxt || !haveFirst {
		return 0
	}
	return max(now-first, time.Microsecond)
}

// rackDelivered updates RACK.xmit_ts, end_seq and rtt with a delivered
// segment (RFC 8985 §6.2 step 2). A retransmitted segment delivered sooner
// than the minimum RTT after its retransmission was delivered by the
// original: its time says nothing.
func (e *Endpoint) rackDelivered(r txRec, now time.Duration) {
	rtt := now - r.at
	if r.rxt && e.hasRTT && rtt < e.rackMinRTT() {
		return
	}
	k := &e.rack
	if !k.set || r.at > k.xmit || (r.at == k.xmit && r.end.GreaterThan(k.end)) {
		k.xmit, k.end, k.rtt, k.set = r.at, r.end, rtt, true
	}
}

// rackSACKed updates RACK from the SACK blocks of an ACK: the newest
// original segment in a block is at its end.
func (e *Endpoint) rackSACKed(blocks []SACKBlock, now time.Duration) {
	q := &e.rack.txq
	for _, b := range blocks {
		if !b.End.GreaterThan(e.sndUna) || b.End.GreaterThan(e.sndNxt) || e.sacked.find(b.End-1) < 0 {
			continue
		}
		if i := q.find(b.End - 1); i < q.n {
			e.rackDelivered(*q.at(i), now)
		}
	}
}

// segmentEnd returns the end of the segment sent that holds seq: the
// record's end when there is one, else seq plus one MSS (at most snd_nxt).
// Loss marking by segment keeps retransmissions aligned with the original
// segments, whose payload is shorter than the MSS by the options.
func (e *Endpoint) segmentEnd(seq seqnum.Value) seqnum.Value {
	q := &e.rack.txq
	if i := q.find(seq); i < q.n {
		return seqnum.Min(q.at(i).end, e.sndNxt)
	}
	return seqnum.Min(seq.Add(seqnum.Size(e.mss)), e.sndNxt)
}

// rackMinRTT is the minimum RTT for RACK: the queue's microsecond samples
// when there are any.
func (e *Endpoint) rackMinRTT() time.Duration {
	if e.rack.minRTTus > 0 {
		return e.rack.minRTTus
	}
	return e.minRTT
}

// rackReoWnd is the reordering window (RFC 8985 §6.2 step 4): zero in
// recovery or once DupThresh segments are SACKed, as long as no reordering
// was seen; otherwise a quarter of the minimum RTT (times the D-SACK
// multiplier), at most SRTT.
func (e *Endpoint) rackReoWnd() time.Duration {
	if !e.rack.reord && (e.inRecovery || e.sackedBytes >= e.dupThresh*e.mss) {
		return 0
	}
	w := e.rackMinRTT() / 4 * time.Duration(max(e.rack.wndMult, 1))
	if e.srtt > 0 {
		w = min(w, e.srtt)
	}
	return w
}

// rackLostEnd runs RACK's detection over the originals from seq from on:
// it returns the sequence number below which every unSACKed byte is lost
// (from when none is), and arms or clears the reordering timer.
func (e *Endpoint) rackLostEnd(from seqnum.Value, now time.Duration) seqnum.Value {
	k := &e.rack
	k.at = 0
	if !k.set {
		return from
	}
	q := &k.txq
	deadline := k.rtt + e.rackReoWnd()
	lost := from
	for i := q.find(from); i < q.n; {
		start := e.sndUna
		if i > 0 {
			start = seqnum.Max(q.at(i-1).end, e.sndUna)
		}
		r := q.at(i)
		if j := e.sacked.find(start); j >= 0 {
			// SACKed: skip to the first record after this SACKed range.
			se := e.sacked.r[j].end
			if se.GreaterThanEq(r.end) {
				i = q.find(se - 1)
				if i < q.n && q.at(i).end == se {
					i++
				}
				continue
			}
		}
		if !(r.at < k.xmit || (r.at == k.xmit && r.end.LessThanEq(k.end))) {
			break // sent after the newest delivered segment
		}
		if left := r.at + deadline - now; left > 0 {
			k.at = now + left
			break
		}
		lost = r.end
		i++
	}
	return lost
}

// rackDetect applies RACK after an ACK or when the reordering timer fires:
// it starts recovery when an original is lost and moves lostEnd.
func (e *Endpoint) rackDetect(now time.Duration) {
	if !e.sackOK || e.sndNxt == e.sndUna || e.rtoRecovery {
		e.rack.at = 0
		return
	}
	from := e.sndUna
	if e.inRecovery {
		from = seqnum.Max(e.lostEnd, e.sndUna)
	}
	l := e.rackLostEnd(from, now)
	if !l.GreaterThan(from) {
		return
	}
	if !e.inRecovery {
		e.counters.RACKRecoveries++
		e.enterRecovery(now, e.pipe())
	}
	if l.GreaterThan(e.lostEnd) {
		e.lostEnd = l
	}
}

// onRACKTimer fires the reordering timer.
func (e *Endpoint) onRACKTimer(now time.Duration) {
	e.counters.RACKReoTimeouts++
	e.rackDetect(now)
	if e.inRecovery && e.rxt.n > 0 {
		e.detectLostRetransmits(now)
	}
}
