package cc

import "math"

// InitialWindowSegments is the initial congestion window in segments
// (RFC 6928, as Linux applies it: ten segments whatever the MSS).
const InitialWindowSegments = 10

// InfiniteSsthresh is the slow-start threshold of a flow that has not yet
// seen congestion: large enough that slow start ends only on loss or
// HyStart++, small enough that byte arithmetic on it cannot overflow.
const InfiniteSsthresh = math.MaxInt32

// abcLimitSegments is L in RFC 3465 (Appropriate Byte Counting): during slow
// start one ACK may grow the window by at most L segments.
const abcLimitSegments = 2

// InitialWindow returns the initial congestion window in bytes for mss.
func InitialWindow(mss int) int { return InitialWindowSegments * mss }

// LossWindow returns the window after a retransmission timeout (RFC 5681:
// one segment).
func LossWindow(mss int) int { return mss }

// MinSsthresh returns the smallest slow-start threshold allowed after
// congestion (RFC 5681: two segments).
func MinSsthresh(mss int) int { return 2 * mss }

// SlowStartIncrease returns by how many bytes slow start grows the window for
// an ACK of acked bytes: RFC 3465 with L = 2*mss.
func SlowStartIncrease(acked, mss int) int {
	return min(acked, abcLimitSegments*mss)
}

// validMSS clamps a caller-supplied segment size to something usable, so a
// zero or negative MSS from a half-initialised engine cannot divide by zero.
func validMSS(mss int) int {
	if mss < 1 {
		return 1
	}
	return mss
}

// CwndLimited reports whether an ACK may grow a window of cwnd bytes: always
// when the sender was not application-limited, and otherwise only when the
// window was in use anyway. In slow start that is more than half of it in
// flight (as Linux judges it, since slow start doubles the flight each
// round); in congestion avoidance, no room for another segment.
func CwndLimited(a Ack, cwnd, ssthresh, mss int) bool {
	if !a.AppLimited {
		return true
	}
	if cwnd < ssthresh {
		return 2*a.InFlight > cwnd
	}
	return a.InFlight+mss > cwnd
}
