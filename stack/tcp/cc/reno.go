package cc

import "time"

// Reno is TCP NewReno congestion control: slow start and congestion
// avoidance from RFC 5681 with Appropriate Byte Counting (RFC 3465, L=2*MSS
// in slow start, one MSS per window of acknowledged bytes in congestion
// avoidance), the window reduction of RFC 5681 equation (4) once per
// recovery episode as RFC 6582 defines episodes, and an initial window of
// ten segments (RFC 6928).
//
// The engine owns fast recovery itself (duplicate ACK counting, the
// recovery point, retransmission, PRR or window inflation): Reno only
// chooses ssthresh and cwnd at the start of an episode, sets cwnd to
// ssthresh when the episode ends (RFC 6582 section 3.2 step 3, second
// option), and ignores OnAck while an episode is open.
//
// The zero value is not ready: call Init first (NewReno and New do).
type Reno struct {
	mss        int
	cwnd       int
	ssthresh   int
	bytesAcked int // RFC 3465 counter for congestion avoidance
	recovering bool
	rtoRepeat  bool // an RTO fired and no ACK has advanced since
}

// NewReno returns a NewReno controller initialised for mss at time zero.
func NewReno(mss int) *Reno {
	r := &Reno{}
	r.Init(mss, 0)
	return r
}

// Name returns "reno", the name Linux uses.
func (r *Reno) Name() string { return "reno" }

// Init resets the controller for a new flow with segment size mss.
func (r *Reno) Init(mss int, now time.Duration) {
	mss = validMSS(mss)
	*r = Reno{mss: mss, cwnd: InitialWindow(mss), ssthresh: InfiniteSsthresh}
}

// SetMSS changes the segment size; the window keeps its size in bytes but
// never falls below one new segment, nor ssthresh below two.
func (r *Reno) SetMSS(mss int) {
	r.mss = validMSS(mss)
	r.cwnd = max(r.cwnd, r.mss)
	r.ssthresh = max(r.ssthresh, MinSsthresh(r.mss))
}

// Cwnd returns the congestion window in bytes.
func (r *Reno) Cwnd() int { return r.cwnd }

// Ssthresh returns the slow-start threshold in bytes.
func (r *Reno) Ssthresh() int { return r.ssthresh }

// InSlowStart reports whether the next ACK grows the window by slow start.
func (r *Reno) InSlowStart() bool { return r.cwnd < r.ssthresh }

// OnAck grows the window: slow start below ssthresh, one MSS per
// window's worth of acknowledged bytes above it. Bytes left over when slow
// start reaches ssthresh count towards congestion avoidance. An
// application-limited ACK grows the window only if it was in use
// (CwndLimited).
func (r *Reno) OnAck(a Ack) {
	r.rtoRepeat = false
	if r.recovering || a.Acked <= 0 || !CwndLimited(a, r.cwnd, r.ssthresh, r.mss) {
		return
	}
	acked := a.Acked
	if r.cwnd < r.ssthresh {
		inc := SlowStartIncrease(acked, r.mss)
		room := r.ssthresh - r.cwnd
		if inc < room {
			r.cwnd += inc
			return
		}
		r.cwnd = r.ssthresh
		acked -= room
		if acked <= 0 {
			return
		}
	}
	r.bytesAcked += acked
	if r.bytesAcked >= r.cwnd {
		r.bytesAcked -= r.cwnd
		r.cwnd += r.mss
		// A huge stretch ACK must not leave credit for many windows.
		r.bytesAcked = min(r.bytesAcked, r.cwnd)
	}
}

// OnCongestion starts a loss episode: ssthresh = max(inFlight/2, 2*MSS)
// (RFC 5681 equation 4) and cwnd = ssthresh.
func (r *Reno) OnCongestion(now time.Duration, inFlight int) {
	r.ssthresh = max(inFlight/2, MinSsthresh(r.mss))
	r.cwnd = r.ssthresh
	r.bytesAcked = 0
	r.recovering = true
}

// OnRecoveryExit ends the loss episode with cwnd = ssthresh.
func (r *Reno) OnRecoveryExit(now time.Duration) {
	if !r.recovering {
		return
	}
	r.recovering = false
	r.cwnd = r.ssthresh
	r.bytesAcked = 0
}

// OnRTO collapses the window to one segment. The first timeout of a
// sequence halves ssthresh from the window in use; repeated timeouts with no
// ACK in between keep ssthresh (RFC 5681 section 3.1), and so does a timeout
// inside a loss episode, whose reduction has already been made (as Linux).
func (r *Reno) OnRTO(now time.Duration) {
	if !r.rtoRepeat && !r.recovering {
		r.ssthresh = max(r.cwnd/2, MinSsthresh(r.mss))
	}
	r.rtoRepeat = true
	r.cwnd = LossWindow(r.mss)
	r.bytesAcked = 0
	r.recovering = false
}
