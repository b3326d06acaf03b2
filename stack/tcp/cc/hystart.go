package cc

import "time"

// HyStart++ (RFC 9406) constants, with the RFC's recommended values.
const (
	hsMinRTTThresh    = 4 * time.Millisecond
	hsMaxRTTThresh    = 16 * time.Millisecond
	hsMinRTTDivisor   = 8
	hsRTTSamples      = 8 // N_RTT_SAMPLE
	hsCSSGrowthDiv    = 4 // CSS_GROWTH_DIVISOR
	hsCSSRounds       = 5 // CSS_ROUNDS
	hsNoRTT           = time.Duration(1<<63 - 1)
	hsMinRoundSegment = 1
)

// hyStart is the HyStart++ state machine for the first slow start. The RFC
// marks rounds with SND.NXT; the Controller interface carries no sequence
// numbers, so a round here ends once the bytes that were in flight when it
// began have been acknowledged, which is the same point for a sender that
// acknowledges in order.
type hyStart struct {
	roundLeft       int // bytes still to be acknowledged before this round ends; 0 = no round yet
	lastRoundMinRTT time.Duration
	curRoundMinRTT  time.Duration
	samples         int
	inCSS           bool
	cssBaseline     time.Duration
	cssRounds       int
}

func (h *hyStart) reset() {
	*h = hyStart{lastRoundMinRTT: hsNoRTT, curRoundMinRTT: hsNoRTT, cssBaseline: hsNoRTT}
}

// onAck feeds one ACK taken during the first slow start. It returns the
// divisor for this ACK's window growth (1 in slow start, CSS_GROWTH_DIVISOR
// in Conservative Slow Start) and whether slow start must end now.
func (h *hyStart) onAck(a Ack, mss int) (divisor int, exit bool) {
	if h.roundLeft <= 0 {
		h.startRound(a, mss)
	} else {
		h.roundLeft -= a.Acked
		if h.roundLeft <= 0 {
			if h.inCSS {
				h.cssRounds++
				if h.cssRounds >= hsCSSRounds {
					return hsCSSGrowthDiv, true
				}
			}
			h.startRound(a, mss)
		}
	}
	if a.RTT > 0 {
		h.curRoundMinRTT = min(h.curRoundMinRTT, a.RTT)
		h.samples++
	}
	if h.samples >= hsRTTSamples && h.curRoundMinRTT != hsNoRTT {
		if !h.inCSS {
			if h.lastRoundMinRTT != hsNoRTT {
				thresh := min(max(h.lastRoundMinRTT/hsMinRTTDivisor, hsMinRTTThresh), hsMaxRTTThresh)
				if h.curRoundMinRTT >= h.lastRoundMinRTT+thresh {
					h.inCSS = true
					h.cssRounds = 0
					h.cssBaseline = h.curRoundMinRTT
				}
			}
		} else if h.curRoundMinRTT < h.cssBaseline {
			// The delay increase was spurious: back to slow start.
			h.inCSS = false
			h.cssBaseline = hsNoRTT
		}
	}
	if h.inCSS {
		return hsCSSGrowthDiv, false
	}
	return 1, false
}

func (h *hyStart) startRound(a Ack, mss int) {
	h.roundLeft = max(a.InFlight-a.Acked, hsMinRoundSegment*mss)
	h.lastRoundMinRTT = h.curRoundMinRTT
	h.curRoundMinRTT = hsNoRTT
	h.samples = 0
}
