package tcp

// Counters count what an endpoint did and, above all, every segment or
// part of one it dropped and why. Names follow Linux's TcpExt/Tcp MIB where
// one exists. The endpoint only increments them; read them with
// Endpoint.Counters.
type Counters struct {
	SegsIn      uint64 // segments given to Input
	SegsOut     uint64 // segments produced by Output
	RetransSegs uint64 // segments with retransmitted sequence space
	RSTsOut     uint64 // RST segments produced
	RSTsIn      uint64 // acceptable RSTs that reset the connection

	BadSeq             uint64 // unacceptable sequence number (answered with an ACK)
	OutOfWindowRST     uint64 // RST outside the receive window, dropped silently
	ChallengeACK       uint64 // challenge ACKs sent (RFC 5961)
	ChallengeACKLimit  uint64 // challenge ACKs suppressed by the rate limit
	SYNInSync          uint64 // SYN in a synchronized state (answered with a challenge ACK)
	InWindowRST        uint64 // RST in window but not exact (answered with a challenge ACK)
	AckTooNew          uint64 // ACK of data never sent, dropped
	AckTooOld          uint64 // ACK older than snd_una-max_snd_wnd, dropped (challenge ACK)
	NoACKFlag          uint64 // synchronized-state segment without ACK, dropped
	PAWSDrop           uint64 // timestamp older than TS.Recent (RFC 7323 PAWS)
	BadSYNACK          uint64 // SYN-ACK or ACK with an unacceptable ACK in SYN-SENT/SYN-RECEIVED (answered with RST)
	ClosedSegs         uint64 // segments arriving at a CLOSED endpoint (answered with RST)
	OOOQueueFull       uint64 // out-of-order segments dropped: too many holes
	OOOSegs            uint64 // out-of-order segments queued
	DataAfterClose     uint64 // data arriving after the receive side was shut, dropped
	RcvBufOverflow     uint64 // bytes inside the advertised window but beyond the buffer (rounding), dropped
	DuplicateData      uint64 // segments whose data was all old
	DupAcks            uint64 // duplicate ACKs received
	SACKScoreboardFull uint64 // SACK blocks ignored because the scoreboard had no room
	InvalidSACK        uint64 // SACK blocks outside (snd_una, snd_nxt]
	FastRetransmits    uint64 // loss-recovery episodes started by duplicate ACKs or SACK
	RTOs               uint64 // retransmission timeouts
	WindowProbes       uint64 // zero-window probes sent
	DelayedACKs        uint64 // ACKs sent because the delayed-ACK timer fired
	WindowUpdates      uint64 // window updates sent after the application read
	ForcedACKs         uint64 // pure ACKs sent because SendACK asked for one
	RcvBufGrown        uint64 // receive-buffer autotuning steps
	LostRetransmits    uint64 // retransmissions detected lost again (SACKs of later data)
	ReorderingRaised   uint64 // times the duplicate threshold grew after observed reordering
	DSACKsIn           uint64 // D-SACK blocks received
	DSACKsOut          uint64 // D-SACK blocks sent for duplicate data
	TailLossProbes     uint64 // tail loss probes sent (RFC 8985 §7)
	TLPRecoveries      uint64 // recoveries started by the ACK of a probe
	RACKRecoveries     uint64 // recoveries started by RACK's time rule (RFC 8985 §6.2), without DupThresh
	RACKReoTimeouts    uint64 // RACK reordering-timer expirations
	FinWait2Timeouts   uint64 // orphaned FIN-WAIT-2 endpoints closed (with a RST)
}
