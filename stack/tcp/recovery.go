package tcp

import (
	"time"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// Loss-recovery helpers beyond RFC 6675's basic rules:
//
//   - Reordering: the duplicate threshold (dupThresh, in segments) starts
//     at 3 and grows to the reordering distance the sender observes, as
//     Linux's tp->reordering does: when a cumulative ACK fills a hole that
//     was never retransmitted while data above it was already SACKed, and
//     when a D-SACK (RFC 2883) reports that a retransmission was not needed.
//   - Lost retransmissions: every retransmission is logged with the
//     snd_nxt and the time of its sending. When data sent after it is
//     SACKed while it is still not acknowledged, or RACK's time rule
//     (rack.go) says so, it was lost again and is queued (relost) for
//     another retransmission without waiting for the RTO. The log outlives
//     the episode, so that the next episode neither resends retransmissions
//     still in flight nor forgets to detect their loss.

// maxDupThresh bounds the adaptive duplicate threshold.
const maxDupThresh = 256

// rxtScan bounds the retransmission-log entries examined per ACK.
const rxtScan = 256

// rxtEntry is one logged retransmission.
type rxtEntry struct {
	start, end seqnum.Value
	nxtAt      seqnum.Value  // snd_nxt when it was sent
	at         time.Duration // when it was sent
	done       bool          // delivered or lost (being removed)
}

// rxtRing is the retransmission log in transmission order. It grows by
// doubling when a loss episode retransmits more than it holds (a burst
// loss), so that no retransmission is forgotten; otherwise it does not
// allocate.
type rxtRing struct {
	r       []rxtEntry
	head, n int
}

func (q *rxtRing) at(i int) *rxtEntry {
	j := q.head + i
	if j >= len(q.r) {
		j -= len(q.r)
	}
	return &q.r[j]
}

func (q *rxtRing) push(x rxtEntry) {
	if q.n == len(q.r) {
		nr := make([]rxtEntry, max(64, 2*len(q.r)))
		for i := 0; i < q.n; i++ {
			nr[i] = *q.at(i)
		}
		q.r, q.head = nr, 0
	}
	*q.at(q.n) = x
	q.n++
}

// compact removes the entries marked done among the first w, keeping the
// order.
func (q *rxtRing) compact(w int) {
	j := w
	for i := w - 1; i >= 0; i-- {
		if x := q.at(i); !x.done {
			j--
			*q.at(j) = *x
		}
	}
	q.head += j
	if q.head >= len(q.r) && len(q.r) > 0 {
		q.head -= len(q.r)
	}
	q.n -= j
}

// highSacked returns the highest SACKed sequence number, or snd_una.
func (e *Endpoint) highSacked() seqnum.Value {
	if n := e.sacked.len(); n > 0 {
		return e.sacked.r[n-1].end
	}
	return e.sndUna
}

// noteReordering raises dupThresh to the reordering distance from seq up
// to hs, the highest SACKed sequence number when seq arrived.
func (e *Endpoint) noteReordering(seq, hs seqnum.Value) {
	if !seq.LessThan(hs) {
		return
	}
	dist := int(seq.Size(hs))/e.mss + 1
	if dist > e.dupThresh {
		e.dupThresh = min(dist, maxDupThresh)
		e.counters.ReorderingRaised++
		e.rack.reord = true
	}
}

// logRetransmit records a retransmission of [start, end).
func (e *Endpoint) logRetransmit(start, end seqnum.Value, now time.Duration) {
	e.rxt.push(rxtEntry{start: start, end: end, nxtAt: e.sndNxt, at: now})
	if !e.rtoRecovery {
		e.rxtHist[e.rxtHistI%len(e.rxtHist)] = seqRange{start, end}
		e.rxtHistI++
	}
	if end.GreaterThan(e.rxtHigh) || !e.rxtHighSet {
		e.rxtHigh = end
		e.rxtHighSet = true
	}
}

// detectLostRetransmits moves retransmissions that were lost again to the
// relost queue. The log is in transmission order, so the lost entries are
// a prefix of it; only the oldest rxtScan entries are examined per ACK.
func (e *Endpoint) detectLostRetransmits(now time.Duration) {
	q := &e.rxt
	w := min(q.n, rxtScan)
	// A delivered retransmission may be the newest delivered segment.
	for i := 0; i < w; i++ {
		if x := q.at(i); e.rxtDelivered(*x) {
			x.done = true
			e.rackDelivered(txRec{end: x.end, at: x.at, rxt: true}, now)
		}
	}
	// Lost: data sent after it was SACKed, or RACK's rule (RFC 8985 §6.2):
	// sent before the newest delivered segment, and at least RACK.rtt +
	// reo_wnd ago. The first one still inside that window arms the
	// reordering timer; the ones after it were sent later.
	hs := e.highSacked()
	k := &e.rack
	wait := k.rtt + e.rackReoWnd()
	for i := 0; i < w; i++ {
		x := q.at(i)
		if x.done {
			continue
		}
		before := k.set && x.at < k.xmit
		if !hs.GreaterThan(x.nxtAt) && !(before && x.at+wait <= now) {
			if before && (k.at == 0 || x.at+wait < k.at) {
				k.at = x.at + wait
			}
			break
		}
		if e.relost.add(seqnum.Max(x.start, e.sndUna), x.end) < 0 {
			break // no room: try again on a later ACK
		}
		e.counters.LostRetransmits++
		x.done = true
	}
	q.compact(w)
}

// dropDeliveredRetransmits removes acknowledged or SACKed retransmissions
// from the log.
func (e *Endpoint) dropDeliveredRetransmits() {
	q := &e.rxt
	for i := 0; i < q.n; i++ {
		if x := q.at(i); e.rxtDelivered(*x) {
			x.done = true
		}
	}
	q.compact(q.n)
}

// rxtDelivered reports whether a logged retransmission is acknowledged or
// entirely SACKed.
func (e *Endpoint) rxtDelivered(x rxtEntry) bool {
	if x.end.LessThanEq(e.sndUna) {
		return true
	}
	start := seqnum.Max(x.start, e.sndUna)
	return e.sacked.bytesIn(start, x.end) == int(start.Size(x.end))
}

// nextRelost returns the next range queued by detectLostRetransmits that is
// neither acknowledged nor SACKed.
func (e *Endpoint) nextRelost() (s, end seqnum.Value, ok bool) {
	for e.relost.len() > 0 {
		r := &e.relost.r[0]
		if r.start.LessThan(e.sndUna) {
			r.start = e.sndUna
		}
		if i := e.sacked.find(r.start); i >= 0 {
			r.start = e.sacked.r[i].end
		}
		if !r.start.LessThan(r.end) {
			e.relost.trimBelow(r.end)
			continue
		}
		end = r.end
		if ns, ok := e.sacked.nextStartAfter(r.start); ok && ns.LessThan(end) {
			end = ns
		}
		return r.start, end, true
	}
	return 0, 0, false
}

// resetRecoveryLog forgets the retransmission log (episode over or RTO).
func (e *Endpoint) resetRecoveryLog() {
	e.rxt.n, e.rxt.head = 0, 0
	e.relost.clear()
}

// onDSACK handles a D-SACK block: a retransmission that was not needed
// means reordering at least as deep as the distance it reports.
func (e *Endpoint) onDSACK(b SACKBlock) {
	e.counters.DSACKsIn++
	// Only a duplicate of one of our recent fast retransmissions proves
	// reordering; network duplicates, probes and RTO go-back-N resends of
	// data whose SACKs were lost do not.
	// A range we retransmitted more than once (a lost retransmission
	// resent, or one episode's retransmission overlapping the next) is
	// duplicated by our own doing and proves nothing.
	hits := 0
	for _, r := range e.rxtHist {
		if r.start != r.end && seqnum.Overlap(r.start, r.start.Size(r.end), b.Start, b.Start.Size(b.End)) {
			hits++
		}
	}
	if hits == 1 {
		e.rack.reord = true
		e.rack.wndMult = min(e.rack.wndMult+1, 4)
		e.noteReordering(b.Start, e.highSacked())
	}
}
