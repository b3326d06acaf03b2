package cc

import "time"

// Ack is what the TCP engine tells a congestion controller about one
// acknowledgement that advanced the sender's view of the network.
type Ack struct {
	Now        time.Duration // the engine's clock (virtual or monotonic), never read by the controller itself
	Acked      int           // bytes newly acknowledged by this ACK (cumulative plus newly SACKed)
	RTT        time.Duration // the RTT sample this ACK produced, 0 when it produced none
	SRTT       time.Duration // smoothed RTT after this ACK
	MinRTT     time.Duration // smallest RTT seen on the connection
	InFlight   int           // bytes in flight before this ACK was processed
	AppLimited bool          // the sender did not fill the window before this ACK: nothing to send, or held back by something else (peer window, full device queue); do not grow cwnd past use
}

// Controller is a congestion-control algorithm for one TCP (sub)flow. All
// sizes are bytes. The engine calls it from the single worker that owns the
// flow, so implementations need no locks; they must not allocate per call.
type Controller interface {
	// Name is the algorithm's name as Linux spells it ("reno", "cubic", "lia", ...).
	Name() string
	// Init resets the controller for a flow whose MSS is mss.
	Init(mss int, now time.Duration)
	// SetMSS changes the segment size (after path MTU changes or option negotiation).
	SetMSS(mss int)
	// Cwnd is the congestion window in bytes.
	Cwnd() int
	// Ssthresh is the slow-start threshold in bytes.
	Ssthresh() int
	// OnAck grows the window for acknowledged data outside loss recovery.
	OnAck(a Ack)
	// OnCongestion is called once per loss episode, when fast recovery
	// (duplicate ACKs, SACK or RACK) starts. inFlight is the bytes outstanding then.
	OnCongestion(now time.Duration, inFlight int)
	// OnRecoveryExit is called when the recovery point is acknowledged.
	OnRecoveryExit(now time.Duration)
	// OnRTO is called when the retransmission timer fires.
	OnRTO(now time.Duration)
}
