package tcp

// Proportional Rate Reduction (RFC 6937) for fast recovery with SACK.
//
// On entering recovery the congestion controller sets ssthresh (and its
// cwnd) at once; without PRR the sender then sends nothing until pipe has
// drained below the new cwnd, and a few lost ACKs in that gap stop the ACK
// clock. PRR spreads the reduction over the recovery round trip instead:
// while pipe > ssthresh it sends ssthresh/RecoverFS bytes per byte the
// peer reports delivered, and below ssthresh it grows back towards it at
// most one MSS faster than delivery (the slow-start reduction bound). The
// allowance is computed when sending, from pipe at that moment, so data
// RACK marks lost later does not release more than the bound allows.

// prrStart resets the PRR state when a fast recovery starts. RecoverFS is
// the flight size, snd_nxt - snd_una (at least inflight, the pipe before the
// ACK that started it).
func (e *Endpoint) prrStart(inflight int) {
	e.prrRecoverFS = max(int(e.sndUna.Size(e.sndNxt)), inflight, 1)
	e.prrDelivered, e.prrOut, e.prrLastDelivered = 0, 0, 0
}

// prrOnAck accounts delivered bytes (newly cumulatively ACKed plus newly
// SACKed) reported by an ACK during recovery.
func (e *Endpoint) prrOnAck(delivered int) {
	e.prrDelivered += delivered
	e.prrLastDelivered = delivered
}

// prrActive reports whether PRR governs sending: a fast recovery (not an
// RTO episode) with SACK.
func (e *Endpoint) prrActive() bool {
	return e.inRecovery && !e.rtoRecovery && e.sackOK
}

// sendCwnd is the congestion window that sending is checked against,
// given the current pipe: PRR's pipe + sndcnt in fast recovery, the
// controller's cwnd otherwise.
func (e *Endpoint) sendCwnd(pipe int) int {
	if !e.prrActive() {
		return e.cc.Cwnd()
	}
	ssthresh := e.cc.Ssthresh()
	var sndcnt int
	if pipe > ssthresh {
		// Proportional part: ceil(prr_delivered * ssthresh / RecoverFS) - prr_out.
		sndcnt = int((int64(e.prrDelivered)*int64(ssthresh)+int64(e.prrRecoverFS)-1)/int64(e.prrRecoverFS)) - e.prrOut
	} else {
		// Slow-start reduction bound.
		sndcnt = min(ssthresh-pipe, max(e.prrDelivered-e.prrOut, e.prrLastDelivered)+e.mss)
	}
	return pipe + max(sndcnt, 0)
}
