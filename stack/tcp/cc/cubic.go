package cc

import (
	"math"
	"time"
)

// CUBIC constants (RFC 9438 section 5).
const (
	// CubicC is C, the scaling constant of W_cubic, in segments per second cubed.
	CubicC = 0.4
	// CubicBeta is beta_cubic, the multiplicative decrease factor.
	CubicBeta = 0.7
	// CubicAlpha is alpha_cubic, the additive increase of the Reno-friendly
	// estimate W_est in segments per RTT: 3*(1-beta)/(1+beta).
	CubicAlpha = 3 * (1 - CubicBeta) / (1 + CubicBeta)
)

// Cubic is CUBIC congestion control (RFC 9438): the window follows
// W_cubic(t) = C*(t-K)^3 + W_max after a reduction by beta_cubic = 0.7, with
// fast convergence, the Reno-friendly region (W_est), the concave and convex
// regions, the first-avoidance-after-timeout rule (K = 0, W_max = cwnd at the
// start of that stage), and HyStart++ (RFC 9406) for the first slow start
// (on by default; SetHyStart(false) turns it off).
//
// Windows are kept as float64 bytes; the formulas' segment units are
// converted with the current MSS. Elapsed time comes only from Ack.Now and
// the now arguments. Slow start, ABC and the recovery contract are the same
// as Reno's: OnAck is ignored while a loss episode is open.
type Cubic struct {
	mss      int
	cwnd     float64 // bytes
	ssthresh int

	wMax       float64 // bytes; window before the last reduction (after fast convergence)
	cwndPrior  float64 // bytes; window when the last reduction happened
	k          float64 // seconds
	wEst       float64 // bytes; Reno-friendly estimate
	cwndEpoch  float64 // bytes; window when the current avoidance stage began
	epochStart time.Duration
	epochOn    bool // a congestion avoidance stage is running
	noWMax     bool // next stage uses K = 0 and W_max = cwnd_epoch (after RTO or HyStart++ exit)

	fastConvergence bool
	hyStartOn       bool
	hs              hyStart

	recovering bool
	rtoRepeat  bool
	idle       bool // the last ACK was application-limited
	idleSince  time.Duration
}

// NewCubic returns a CUBIC controller initialised for mss at time zero,
// with fast convergence and HyStart++ on.
func NewCubic(mss int) *Cubic {
	c := &Cubic{}
	c.Init(mss, 0)
	return c
}

// Name returns "cubic", the name Linux uses.
func (c *Cubic) Name() string { return "cubic" }

// Init resets the controller for a new flow with segment size mss. The
// fast-convergence and HyStart++ settings survive Init; a zero Cubic gets
// both on.
func (c *Cubic) Init(mss int, now time.Duration) {
	mss = validMSS(mss)
	fc, hs := true, true
	if c.mss != 0 { // initialised before: keep the settings
		fc, hs = c.fastConvergence, c.hyStartOn
	}
	*c = Cubic{
		mss:             mss,
		cwnd:            float64(InitialWindow(mss)),
		ssthresh:        InfiniteSsthresh,
		fastConvergence: fc,
		hyStartOn:       hs,
	}
	c.hs.reset()
}

// SetHyStart turns HyStart++ on or off for the first slow start.
func (c *Cubic) SetHyStart(on bool) { c.hyStartOn = on }

// SetFastConvergence turns fast convergence (RFC 9438 section 4.7) on or off.
func (c *Cubic) SetFastConvergence(on bool) { c.fastConvergence = on }

// SetMSS changes the segment size; the window keeps its size in bytes but
// never falls below one new segment, nor ssthresh below two.
func (c *Cubic) SetMSS(mss int) {
	c.mss = validMSS(mss)
	c.cwnd = math.Max(c.cwnd, float64(c.mss))
	c.ssthresh = max(c.ssthresh, MinSsthresh(c.mss))
}

// Cwnd returns the congestion window in bytes.
func (c *Cubic) Cwnd() int { return int(c.cwnd) }

// Ssthresh returns the slow-start threshold in bytes.
func (c *Cubic) Ssthresh() int { return c.ssthresh }

// K returns the time, from the start of the current congestion avoidance
// stage, at which W_cubic returns to W_max (negative in the convex region
// when the stage began above W_max). It is 0 before the first stage.
func (c *Cubic) K() time.Duration { return time.Duration(c.k * float64(time.Second)) }

// WMax returns W_max in bytes: the window before the last reduction, as
// lowered by fast convergence.
func (c *Cubic) WMax() int { return int(c.wMax) }

// InCSS reports whether HyStart++ holds the flow in Conservative Slow Start.
func (c *Cubic) InCSS() bool { return c.hs.inCSS }

// WCubic returns W_cubic(t) in bytes for t measured from the start of the
// current congestion avoidance stage.
func (c *Cubic) WCubic(t time.Duration) float64 {
	d := t.Seconds() - c.k
	return (CubicC*d*d*d)*float64(c.mss) + c.wMax
}

// OnAck grows the window by slow start (with HyStart++) below ssthresh and
// by the CUBIC function above it. An application-limited ACK grows the
// window only if it was in use (CwndLimited); time spent application-limited
// does not advance the cubic function.
func (c *Cubic) OnAck(a Ack) {
	c.rtoRepeat = false
	if c.recovering || a.Acked <= 0 {
		return
	}
	if !CwndLimited(a, int(c.cwnd), c.ssthresh, c.mss) {
		// Do not grow a window that is not used, and do not let the
		// application-limited time count as growth time of the cubic function.
		if !c.idle {
			c.idle = true
			c.idleSince = a.Now
		}
		return
	}
	if c.idle {
		c.idle = false
		if c.epochOn && a.Now > c.idleSince {
			c.epochStart += a.Now - c.idleSince
		}
	}
	acked := float64(a.Acked)
	if c.cwnd < float64(c.ssthresh) {
		acked = c.slowStart(a)
		if acked <= 0 {
			return
		}
	}
	c.avoid(a, acked)
}

// slowStart grows the window and returns the acknowledged bytes left over
// for congestion avoidance (non-zero when slow start ended on this ACK).
func (c *Cubic) slowStart(a Ack) float64 {
	div := 1
	if c.hyStartOn && c.ssthresh == InfiniteSsthresh {
		var exit bool
		div, exit = c.hs.onAck(a, c.mss)
		if exit {
			c.ssthresh = int(c.cwnd)
			c.exitWithoutLoss()
			return 0
		}
	}
	inc := float64(SlowStartIncrease(a.Acked, c.mss)) / float64(div)
	room := float64(c.ssthresh) - c.cwnd
	if inc < room {
		c.cwnd += inc
		return 0
	}
	c.cwnd = float64(c.ssthresh)
	return float64(a.Acked) - room
}

// exitWithoutLoss prepares the first avoidance stage of a flow whose slow
// start ended before any loss, when W_max is undefined (RFC 9438 4.10).
func (c *Cubic) exitWithoutLoss() {
	c.cwndPrior = c.cwnd
	c.noWMax = true
	c.epochOn = false
}

// avoid is the congestion avoidance step of RFC 9438 section 4.
func (c *Cubic) avoid(a Ack, acked float64) {
	mss := float64(c.mss)
	if !c.epochOn {
		c.epochOn = true
		c.epochStart = a.Now
		c.cwndEpoch = c.cwnd
		c.wEst = c.cwnd
		if c.noWMax || c.wMax == 0 {
			c.noWMax = false
			if c.cwndPrior == 0 {
				c.cwndPrior = c.cwnd
			}
			c.wMax = c.cwnd
			c.k = 0
		} else {
			c.k = math.Cbrt((c.wMax - c.cwndEpoch) / mss / CubicC)
		}
	}
	t := a.Now - c.epochStart
	rtt := a.SRTT
	if rtt <= 0 {
		rtt = a.RTT
	}

	// Reno-friendly estimate: alpha_cubic until W_est reaches the window at
	// the last reduction, then Reno's 1 segment per RTT.
	alpha := CubicAlpha
	if c.wEst >= c.cwndPrior {
		alpha = 1
	}
	c.wEst += alpha * acked * mss / c.cwnd

	if c.WCubic(t) < c.wEst {
		// Reno-friendly region.
		c.cwnd = math.Max(c.cwnd, c.wEst)
		return
	}
	// Concave or convex region: aim at W_cubic one RTT from now, growing by
	// at most half the window per RTT.
	target := c.WCubic(t + rtt)
	target = math.Min(math.Max(target, c.cwnd), 1.5*c.cwnd)
	c.cwnd += (target - c.cwnd) / c.cwnd * acked
}

// reduce applies the multiplicative decrease and fast convergence shared by
// loss episodes and timeouts; it returns the new ssthresh.
func (c *Cubic) reduce(flight float64) int {
	c.cwndPrior = c.cwnd
	if c.fastConvergence && c.cwnd < c.wMax {
		c.wMax = c.cwnd * (1 + CubicBeta) / 2
	} else {
		c.wMax = c.cwnd
	}
	c.epochOn = false
	c.noWMax = false
	c.hs.inCSS = false
	return max(int(flight*CubicBeta), MinSsthresh(c.mss))
}

// OnCongestion starts a loss episode: ssthresh = max(beta_cubic * inFlight,
// 2*MSS) (RFC 9438 section 4.6; inFlight <= 0 means use cwnd), cwnd =
// ssthresh, and W_max is recorded with fast convergence.
func (c *Cubic) OnCongestion(now time.Duration, inFlight int) {
	flight := float64(inFlight)
	if inFlight <= 0 {
		flight = c.cwnd
	}
	c.ssthresh = c.reduce(flight)
	c.cwnd = float64(c.ssthresh)
	c.recovering = true
}

// OnRecoveryExit ends the loss episode with cwnd = ssthresh; the next
// congestion avoidance stage starts with the next ACK.
func (c *Cubic) OnRecoveryExit(now time.Duration) {
	if !c.recovering {
		return
	}
	c.recovering = false
	c.cwnd = float64(c.ssthresh)
	c.epochOn = false
}

// OnRTO collapses the window to one segment. The first timeout of a sequence
// (outside a loss episode) sets ssthresh from beta_cubic and the window; the
// first congestion avoidance stage after it uses K = 0 and W_max = the
// window at its start (RFC 9438 section 4.8).
func (c *Cubic) OnRTO(now time.Duration) {
	if !c.rtoRepeat && !c.recovering {
		c.ssthresh = c.reduce(c.cwnd)
	}
	c.rtoRepeat = true
	c.noWMax = true
	c.epochOn = false
	c.recovering = false
	c.cwnd = float64(LossWindow(c.mss))
}
