// Package tcp owns the sans-IO TCP engine (RFC 9293) that runs every plain
// TCP connection and every MPTCP subflow: the state machine, the send and
// receive sequence spaces and buffers, retransmission and loss recovery,
// and the listener-side helpers (ISNs and SYN cookies).
//
// # Shape
//
// An Endpoint is a state machine without I/O, clock, goroutines or locks.
// The worker that owns the flow drives it:
//
//	ep.Input(&seg, now)              // a received segment (already parsed)
//	for {                            // after Input, OnTimer, Write, Read, Close...
//		seg, ok := ep.Output(now, frame[hdr:])  // payload copied into the frame
//		if !ok { break }
//		// serialise seg's header in front of the payload, transmit
//	}
//	t := ep.NextTimer()              // 0: no timer; else call OnTimer (or Output) at t
//
// now is a time.Duration since an arbitrary epoch (virtual time in tests,
// monotonic time in the stack); the engine never reads a clock. Segment is
// a parsed, header-free struct: sequence numbers, flags, the raw (unscaled)
// window, parsed options and the payload. The stack converts it to and
// from package stack/header.
//
// Steady-state per-segment work does not allocate: SACK scoreboard and
// out-of-order ranges live in fixed-capacity sorted arrays (rangeSet), the
// send and receive buffers are byte rings, and Output copies from the send
// ring straight into the caller's frame.
//
// # Application side
//
// Write, Read, CloseWrite, Close and Abort work on the built-in ring
// buffers (sizes in Config). The receive buffer grows with Linux-style
// dynamic right-sizing up to Config.RecvBufMax (the window-scale shift is
// chosen for that maximum); growth allocates, but only per RTT, never per
// segment. Err reports ErrConnectionReset, ErrConnectionRefused, ErrTimeout
// or ErrAborted; PeerClosed reports end of stream. After Close (not
// CloseWrite) FIN-WAIT-2 is bounded by Config.FinWait2Timeout. Info returns
// a TCP_INFO-like snapshot (cwnd, SRTT, pipe, windows, buffers).
//
// # MPTCP seam
//
// Config.Ext (Extension) writes extra option bytes (kind 30) into each
// outgoing segment and sees every accepted incoming segment with its raw
// extension options. Config.Send and Config.Recv replace the byte-stream
// buffers with a SendBuffer (data pulled by offset from snd_una) and a
// RecvBuffer (data pushed by offset from rcv_nxt), so MPTCP can map subflow
// sequence numbers to DSNs. Config.ExtOptionSpace reserves option room on
// data segments. The owner of an external RecvBuffer calls
// Endpoint.RecvBufferFreed after the application consumed from it, so that
// the opened window gets advertised (Read does this for the built-in ring).
// An Extension that also implements WindowLimiter caps the advertised
// window (MPTCP's connection-level window, relative to DATA_ACK), and
// Endpoint.SendACK makes the next Output a pure ACK carrying the
// extension's options (MP_JOIN's fourth ACK, DATA_FIN, ADD_ADDR echoes).
//
// # Protocol
//
//   - Full state machine incl. simultaneous open and close, half-close and
//     TIME-WAIT (Config.TimeWait = 2*MSL); MSS and window scaling.
//   - RTO per RFC 6298 (Karn, exponential backoff, MinRTO/MaxRTO,
//     MaxRetries -> ErrTimeout). RTT samples come from the send time of
//     each segment (rack.go: microsecond resolution, Karn-safe, as Linux
//     times its retransmission queue); timestamp echoes (RFC 7323, only
//     millisecond resolution) or one timed segment per window are the
//     fallback when none is available.
//   - SACK (RFC 2018) generation (most recent block first, D-SACK per
//     RFC 2883 for duplicates) and a scoreboard; loss recovery per RFC 6675
//     (IsLost with DupThresh*MSS SACKed above, pipe, NextSeg), NewReno
//     partial ACKs (RFC 6582) without SACK, and after an RTO a loss episode
//     that resends the unSACKed holes. RACK (RFC 8985 §6, rack.go):
//     time-based loss detection for every segment with per-segment send
//     times, RACK.rtt, reo_wnd (min_RTT/4, zero in recovery until
//     reordering is seen, widened by D-SACKs) and the reordering timer; it
//     starts recovery without DupThresh SACKed segments and detects lost
//     retransmissions. Beyond the RFCs (recovery.go): the duplicate
//     threshold adapts to observed reordering (holes filled without
//     retransmission, D-SACKs of a single fast retransmission), a new
//     episode does not resend the previous episode's retransmissions still
//     in flight, and retransmissions overtaken by SACKed later data are
//     resent at once. RTT samples from timestamp echoes older than our last
//     retransmission are ignored (they would inflate the RTO). Tail loss
//     probes (RFC 8985 §7, tlp.go; PTO = 2*SRTT + 2 ms) replace most tail
//     RTOs, and also fire during a fast recovery that stalls. Proportional
//     Rate Reduction (RFC 6937, prr.go) paces sending during fast recovery.
//     Not implemented: undo of spurious window reductions (the cc interface
//     has no undo), ECN, keepalive, urgent data, TCP Fast Open.
//   - Timestamps with PAWS; delayed ACKs (every second full segment, at once
//     for out-of-order data or a filled hole, Config.DelayedACK timer);
//     persist timer with zero-window probes (seq snd_una-1); receiver and
//     sender SWS avoidance; Nagle off unless Config.Nagle.
//   - RFC 5961: exact RST resets, in-window RST and SYN get a challenge ACK,
//     ACKs outside [snd_una-max_snd_wnd, snd_nxt] are dropped, challenge
//     ACKs rate-limited per endpoint.
//   - Every drop is counted with a reason in Counters; out-of-order data is
//     bounded by the receive buffer and Config.MaxOOORanges.
//
// Congestion control is an interface (package cc); Config.CC is required.
//
// # Listening
//
// There is no LISTEN state. A listener answers a SYN either by creating an
// endpoint with NewPassive (it starts in SYN-RECEIVED), or, when its accept
// backlog is full, statelessly with SYNCookies.SYNACK; the ACK that comes
// back is checked with SYNCookies.Check and turned into an ESTABLISHED
// endpoint with NewFromCookie. ISNGenerator picks RFC 6528 initial sequence
// numbers (one key per stack).
//
// # Tests
//
// The engine tests run two endpoints over internal/simnet (virtual time,
// loss, reordering, duplication, jitter): 100 MB transfers in both
// directions at 0-10% loss checked by SHA-256 against stated virtual-time
// bounds, datacenter paths (lowrtt_test.go: 100 µs RTT at 10 Gbit/s with
// 2% and 5% loss on data and ACKs, and a slow-start queue overflow) with
// bounds on time, RTOs and spurious retransmissions, unit tests of RACK,
// TLP and PRR, a randomized chaos test, state-machine and RFC 5961 tables,
// a fuzz target, and BenchmarkPipe next to BenchmarkCopyBaseline. The flag
// -long runs 1 GB transfers and 2000 chaos seeds.
package tcp
