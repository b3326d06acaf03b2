package coupled

import (
	"time"

	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

// Subflow is the coupled controller of one subflow (LIA, OLIA or BALIA). It
// implements cc.Controller: slow start, loss episodes and timeouts behave
// as cc.Reno's (ABC with L = 2*MSS, an initial window of ten segments, OnAck
// ignored inside an episode), while congestion avoidance and, for BALIA,
// the window reduction follow the coupled algorithm.
type Subflow struct {
	g  *Group
	me *published

	mss        int
	cwnd       int // bytes
	ssthresh   int
	carry      float64 // fractional bytes of increase not yet in cwnd
	srtt       float64 // seconds; 0 until the first sample
	recovering bool
	rtoRepeat  bool

	// OLIA: bytes acknowledged between the last two losses (l1) and since
	// the last loss (l2).
	l1, l2 int64

	// Cached view of the other subflows.
	seen       uint64        // group version of the view
	viewAt     time.Duration // when the view was taken
	viewOK     bool
	othersW    float64 // sum of windows (bytes)
	othersRate float64 // sum of window/RTT (bytes per second)
	othersMaxQ float64 // LIA: max window/RTT^2
	othersMaxX float64 // BALIA: max window/RTT
	oliaAlpha  float64 // OLIA: this path's alpha_r
}

// Name returns the group's algorithm name.
func (s *Subflow) Name() string { return s.g.name }

// Init resets the subflow's controller for segment size mss.
func (s *Subflow) Init(mss int, now time.Duration) {
	if mss < 1 {
		mss = 1
	}
	s.mss = mss
	s.cwnd = cc.InitialWindow(mss)
	s.ssthresh = cc.InfiniteSsthresh
	s.carry = 0
	s.srtt = 0
	s.recovering = false
	s.rtoRepeat = false
	s.l1, s.l2 = 0, 0
	s.viewOK = false
	s.me.cwnd.Store(int64(s.cwnd))
	s.me.srtt.Store(0)
	s.me.interLoss.Store(0)
}

// SetMSS changes the segment size; the window keeps its size in bytes but
// never falls below one new segment, nor ssthresh below two.
func (s *Subflow) SetMSS(mss int) {
	if mss < 1 {
		mss = 1
	}
	s.mss = mss
	s.ssthresh = max(s.ssthresh, cc.MinSsthresh(mss))
	s.setCwnd(max(s.cwnd, mss))
}

// Cwnd returns the congestion window in bytes.
func (s *Subflow) Cwnd() int { return s.cwnd }

// Ssthresh returns the slow-start threshold in bytes.
func (s *Subflow) Ssthresh() int { return s.ssthresh }

func (s *Subflow) setCwnd(w int) {
	if w != s.cwnd {
		s.cwnd = w
		s.me.cwnd.Store(int64(w))
	}
}

// OnAck grows the window: slow start below ssthresh, the coupled increase
// above it.
func (s *Subflow) OnAck(a cc.Ack) {
	s.rtoRepeat = false
	if a.Acked <= 0 {
		return
	}
	s.l2 += int64(a.Acked)
	if s.g.algo == algoOLIA {
		s.me.interLoss.Store(max(s.l1, s.l2))
	}
	rtt := a.SRTT
	if rtt <= 0 {
		rtt = a.RTT
	}
	if rtt > 0 {
		if sec := rtt.Seconds(); sec != s.srtt {
			s.srtt = sec
			s.me.srtt.Store(int64(rtt))
		}
	}
	if s.recovering || !cc.CwndLimited(a, s.cwnd, s.ssthresh, s.mss) {
		return
	}
	acked := a.Acked
	if s.cwnd < s.ssthresh {
		inc := cc.SlowStartIncrease(acked, s.mss)
		room := s.ssthresh - s.cwnd
		if inc < room {
			s.setCwnd(s.cwnd + inc)
			return
		}
		s.setCwnd(s.ssthresh)
		acked -= room
		if acked <= 0 {
			return
		}
	}
	s.carry += s.increase(acked, a.Now)
	whole := int(s.carry)
	if whole == 0 {
		return
	}
	s.carry -= float64(whole)
	w := s.cwnd + whole
	if whole < 0 {
		// OLIA may shrink a window; never below 2 MSS through this path.
		w = max(w, min(s.cwnd, cc.MinSsthresh(s.mss)))
	}
	s.setCwnd(w)
}

// increase returns the congestion-avoidance increase in bytes for acked
// bytes, using the cached view of the other subflows and this subflow's
// current window and RTT.
func (s *Subflow) increase(acked int, now time.Duration) float64 {
	w := float64(s.cwnd)
	reno := float64(acked) * float64(s.mss) / w
	if s.srtt <= 0 {
		return reno // no RTT yet: no coupling possible
	}
	s.maybeRefresh(now)
	r := s.srtt
	x := w / r
	q := x / r
	scale := float64(acked) * float64(s.mss)
	switch s.g.algo {
	case algoLIA:
		total := s.othersW + w
		rate := s.othersRate + x
		alpha := total * max(s.othersMaxQ, q) / (rate * rate)
		return min(alpha*scale/total, reno)
	case algoOLIA:
		rate := s.othersRate + x
		return scale * (q/(rate*rate) + s.oliaAlpha/w)
	case algoBALIA:
		sumX := s.othersRate + x
		alpha := max(s.othersMaxX, x) / x
		return scale * q / (sumX * sumX) * (1 + alpha) / 2 * (4 + alpha) / 5
	}
	return reno
}

// maybeRefresh re-reads the other subflows' published state when the view
// is older than one smoothed RTT or the group changed since.
func (s *Subflow) maybeRefresh(now time.Duration) {
	v := s.g.version.Load()
	if s.viewOK && v == s.seen && float64(now-s.viewAt) < s.srtt*float64(time.Second) {
		return
	}
	s.seen = v
	s.viewAt = now
	s.viewOK = true
	s.refresh()
}

// refresh recomputes the sums over the other subflows and OLIA's alpha_r.
func (s *Subflow) refresh() {
	members := *s.g.members.Load()
	s.othersW, s.othersRate, s.othersMaxQ, s.othersMaxX = 0, 0, 0, 0
	for _, m := range members {
		if m == s.me {
			continue
		}
		w, ns := float64(m.cwnd.Load()), m.srtt.Load()
		if w <= 0 || ns <= 0 {
			continue
		}
		r := float64(ns) / float64(time.Second)
		x := w / r
		s.othersW += w
		s.othersRate += x
		s.othersMaxQ = max(s.othersMaxQ, x/r)
		s.othersMaxX = max(s.othersMaxX, x)
	}
	if s.g.algo == algoOLIA {
		s.oliaAlpha = s.computeOLIAAlpha(members)
	}
}

// computeOLIAAlpha is OLIAAlphas for this path only, without allocating:
// paths with no RTT yet take no part.
func (s *Subflow) computeOLIAAlpha(members []*published) float64 {
	if s.srtt <= 0 {
		return 0
	}
	myW, myR := float64(s.cwnd), s.srtt
	myQ := float64(max(s.l1, s.l2)) / (myR * myR)
	n, bestQ, maxW := 1, myQ, myW
	for _, m := range members {
		if m == s.me {
			continue
		}
		w, ns := float64(m.cwnd.Load()), m.srtt.Load()
		if w <= 0 || ns <= 0 {
			continue
		}
		r := float64(ns) / float64(time.Second)
		n++
		bestQ = max(bestQ, float64(m.interLoss.Load())/(r*r))
		maxW = max(maxW, w)
	}
	// Count |M| and |B \ M| from the same loads' successors; values may
	// have moved by a few bytes since, which only shifts a tie.
	inM, collected := 0, 0
	count := func(w, q float64) {
		if w >= maxW {
			inM++
		} else if q >= bestQ {
			collected++
		}
	}
	count(myW, myQ)
	for _, m := range members {
		if m == s.me {
			continue
		}
		w, ns := float64(m.cwnd.Load()), m.srtt.Load()
		if w <= 0 || ns <= 0 {
			continue
		}
		r := float64(ns) / float64(time.Second)
		count(w, float64(m.interLoss.Load())/(r*r))
	}
	switch {
	case collected == 0:
		return 0
	case myW >= maxW:
		return -1 / float64(n*max(inM, 1))
	case myQ >= bestQ:
		return 1 / float64(n*collected)
	}
	return 0
}

// reduction returns the window after a loss with flight bytes
// outstanding: half for LIA and OLIA, flight*min(alpha_r,1.5)/2 less for
// BALIA; never below 2 MSS.
func (s *Subflow) reduction(flight int, now time.Duration) int {
	f := float64(flight)
	dec := f / 2
	if s.g.algo == algoBALIA && s.srtt > 0 {
		s.viewOK = false
		s.maybeRefresh(now)
		x := float64(s.cwnd) / s.srtt
		alpha := max(s.othersMaxX, x) / x
		dec = f / 2 * min(alpha, 1.5)
	}
	return max(int(f-dec), cc.MinSsthresh(s.mss))
}

// lost does the bookkeeping shared by loss episodes and timeouts.
func (s *Subflow) lost() {
	s.l1, s.l2 = s.l2, 0
	if s.g.algo == algoOLIA {
		s.me.interLoss.Store(s.l1)
	}
	s.carry = 0
}

// OnCongestion starts a loss episode: the window drops to the algorithm's
// reduced value (inFlight <= 0 means use cwnd) and ssthresh with it.
func (s *Subflow) OnCongestion(now time.Duration, inFlight int) {
	if inFlight <= 0 {
		inFlight = s.cwnd
	}
	s.ssthresh = s.reduction(inFlight, now)
	s.setCwnd(s.ssthresh)
	s.recovering = true
	s.lost()
	s.g.version.Add(1)
}

// OnRecoveryExit ends the loss episode with cwnd = ssthresh.
func (s *Subflow) OnRecoveryExit(now time.Duration) {
	if !s.recovering {
		return
	}
	s.recovering = false
	s.setCwnd(s.ssthresh)
}

// OnRTO collapses the window to one segment; the first timeout of a
// sequence outside a loss episode also sets ssthresh from the algorithm's
// reduction of the window in use.
func (s *Subflow) OnRTO(now time.Duration) {
	if !s.rtoRepeat && !s.recovering {
		s.ssthresh = s.reduction(s.cwnd, now)
		s.lost()
	}
	s.rtoRepeat = true
	s.recovering = false
	s.setCwnd(cc.LossWindow(s.mss))
	s.g.version.Add(1)
}
