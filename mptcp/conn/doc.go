// Package conn owns the state of one MPTCP connection (RFC 8684), sans-IO:
// keys, tokens and IDSNs, the MP_CAPABLE and MP_JOIN handshakes, the send
// buffer indexed by DSN (from DATA_UNA on), the receive buffer indexed by
// DSN with its reassembler (rcv_nxt is the DATA_ACK), connection-level
// flow control (the window is relative to DATA_ACK, RFC 8684 §3.3.4),
// DATA_FIN in both directions, fallback to plain TCP, MP_FASTCLOSE,
// MP_TCPRST, MP_PRIO, and the subflows themselves.
//
// # Subflows
//
// Each subflow is a tcp.Endpoint whose Config.Ext, Config.Send and
// Config.Recv are adapters of this package. The Send adapter makes the
// subflow pull: when the engine has sent every byte mapped to it and asks
// for more, the connection asks the scheduler (mptcp/sched) which subflow
// should take the next range and, if it is this one, maps the next range
// of DSNs (reinjections first; up to 16 segments and 64 KiB, within the
// peer's window and the subflow's congestion window) onto the subflow's
// sequence space. Every segment of a mapping carries the whole mapping; a
// retransmission looks it up again, so it reuses it, and a copy never
// crosses a mapping's end. The Ext adapter writes that mapping (64-bit DSN, DATA_ACK, checksum when
// negotiated) as a DSS; when option space is short it falls back to a
// 32-bit DSN, then drops the DATA_ACK. The Recv adapter writes payload
// straight into the connection's receive buffer at the DSN the subflow's
// received mappings give, and marks the range received once it is in
// order on the subflow (after checking the DSS checksum of the whole
// mapping, when checksums are on). DATA_ACK on any subflow frees the send
// buffer; the buffer keeps bytes a subflow may still retransmit.
//
// The stack tells the connection which subflows' devices cannot take a
// frame now (Subflow.SetBlocked, before every Output): Output builds no
// segment for a blocked subflow and the scheduler treats it as having no
// room, so a path whose transmit queue is full pushes new data onto the
// others (back-pressure) instead of losing segments already built.
//
// # One copy per byte
//
// Write and Read copy between the caller and the connection's own
// buffers. An owner that keeps the application's bytes in rings of its
// own lends them instead (Config.SendMem, Config.RecvMem): the
// application writes into the send memory and the owner hands the bytes
// over with CommitSend, reusing memory below SendReleased; received bytes
// are stored straight into the receive memory, published with RecvCommit
// and given back with RecvConsumed. On the way out, a subflow sums the
// payload while copying it into the frame (Subflow.PayloadSum, for the TCP
// checksum); on the way in, Subflow.PlaceSum copies an in-order payload to
// its place while summing it, before Input, so the frame is read once.
//
// # One owner per connection
//
// A connection and all its subflows are driven by one goroutine, its owner
// worker: Input, Output, OnTimer and the application calls must not run
// concurrently. The stack forwards segments of a subflow that arrive on
// another worker's queue to the owner through a ring. We chose this over
// shared atomics because the per-packet paths touch much more than three
// counters (mappings, reassembly ranges, the scheduler's view of every
// subflow, DATA_FIN, reinjection); with one owner they need no lock and no
// atomic, are deterministic in virtual time, and a correct design now can
// later be split where profiles show the owner is the bottleneck.
//
// # Driving a connection
//
//	c, sf, _ := conn.Dial(cfg, tuple, iss, now)   // or conn.Accept / conn.AcceptJoin
//	c.Input(sf, &seg, now)                      // a segment for subflow sf
//	for {
//		sf, seg, ok := c.Output(now, frame)     // any subflow's next segment
//		if !ok { break }
//		// serialise seg for sf.Tuple() and transmit
//	}
//	t := c.NextTimer()                          // call c.OnTimer(t) then
//
// With the built-in path manager (package mptcp/pm):
//
//	c.UsePathManager(m)                         // m, _ := pm.New(pm.Config{...})
//	acts = c.PathActions(now, acts[:0])         // after Input/OnTimer, and at c.PathTimer()
//	for _, a := range acts {                    // pm.OpenSubflow: pick the 4-tuple, then
//		sf, err := c.Join(tuple, iss, a.Local.ID, a.Backup, now)
//	}
//
// Listeners classify SYNs with ClassifySYN: plain TCP, a new connection
// (Accept), or a join of the connection with a given token (AcceptJoin,
// which looks the token up in the stack's mptcp.TokenTable and refuses
// unknown tokens: answer with RefuseSYN's RST).
//
// # Fallback and failures
//
//   - A peer without MP_CAPABLE (either side), or options stripped after
//     the SYN/ACK, gives a plain TCP connection over the one subflow
//     (MPCapableFallbackSYNACK, MPCapableFallbackACK, MPCapableDataFallback).
//   - Options stripped later (data or ACKs without any MPTCP option): the
//     only subflow of a connection that never had another falls back to
//     TCP, continuing from the end of the last mapping it received (an
//     implicit infinite mapping; DssFallback); with more subflows the
//     subflow is reset (MP_TCPRST middlebox interference). A received
//     infinite mapping switches the receive side to 1:1 mapping.
//   - A DSS checksum failure on the only subflow of a connection that
//     never had another sends MP_FAIL; the peer answers with an infinite
//     mapping from DATA_UNA on new subflow bytes, resends from there, and
//     both go on as TCP (DataCsumErr, MPFailTx/Rx, InfiniteMapTx/Rx).
//   - A mapping that is outside the window, contradicts an earlier one or
//     fails its DSS checksum (with other subflows) is refused and counted (NoDSSInWindow,
//     DSSNoMatchTCP, DSSNotMatching, DataCsumErr); the payload that came
//     with it is not used and the subflow is reset (DSSCorruptionReset),
//     as the kernel does. The sender's data-level retransmission timer
//     (twice the largest subflow RTO, backed off) reinjects what DATA_ACK
//     does not cover, so the connection keeps its data.
//   - A subflow whose retransmission timer fired Config.StaleRTOs times
//     without progress is stale (SubflowStale): its unacknowledged data is
//     reinjected on the others, and it is not scheduled until it recovers
//     (SubflowRecover). A subflow stale for Config.StaleReset (3 s) while
//     another carries the data is reset (MP_TCPRST, unacceptable
//     performance). A subflow that ends reports to the path manager
//     (SetPathManager), which may open it again (package mptcp/pm).
//   - A FIN on one subflow without DATA_FIN (the peer's path manager
//     removed it: Linux after `ip mptcp endpoint delete`) closes that
//     subflow only: while another subflow can carry data, we reinject
//     what it held beyond DATA_ACK, close our half (no CLOSE-WAIT left
//     until the connection ends) and report it closed once our FIN is
//     acknowledged (SF_CLOSED, the path manager's SubflowClosed).
//   - MP_FASTCLOSE (Abort) resets every subflow; a received one with our
//     key fails the connection with ErrFastClose. MP_TCPRST carries the
//     reason of every reset we send.
//
// # Sequence spaces
//
// DSNs are held as 64-bit offsets from the first data byte of each
// direction (IDSN+1), so no comparison meets the 2^64 wrap; options carry
// base+offset, 64-bit DSNs in mappings and 32-bit DATA_ACKs, expanded on
// receipt. One mapping covers at most 16 segments and 64 KiB (its
// data-level length is 16 bits).
//
// # Option-only ACKs and the connection-level window
//
// The fourth ACK of MP_JOIN, DATA_FIN and its DATA_ACK, ADD_ADDR echoes,
// MP_PRIO and connection-level window updates go out as pure ACKs that
// the engine builds on request (tcp.Endpoint.SendACK), so no subflow sees
// a fake segment (BadSeq stays 0). The Ext adapter is a tcp.WindowLimiter:
// a subflow advertises at most from the DSN its rcv_nxt maps to (or
// DATA_ACK, when higher or unknown) up to the end of the connection
// receive buffer. Because the engine never moves a subflow's right edge
// left while DATA_ACK moves on through other subflows, a segment whose
// window would still reach past the buffer carries a lower DATA_ACK (an
// old one, which the peer uses only to place the window), so that DATA_ACK
// plus window never passes the buffer's end. On the sending side the
// connection-level edge is the DATA_ACK of the same segment plus its
// window (not DATA_UNA plus the window), as Linux computes it. When the
// application reads, every subflow re-evaluates its window
// (RecvBufferFreed) and, once a quarter of the buffer opened, one sends a
// window update at once.
//
// ADD_ADDR and its echo ride next to the DSS when both fit. With
// timestamps only 28 option bytes are left, exactly an IPv6 ADD_ADDR with
// its HMAC: as Linux does, such an option goes alone on a pure ACK and the
// DATA_ACK follows on the next pure ACK. One that cannot fit even alone
// (IPv6 with a port, and timestamps) is dropped and counted
// (AddAddrTxDrop, EchoAddTxDrop). A client takes an ADD_ADDR as the ACK
// that completes the MP_CAPABLE handshake, like a DSS.
//
// # Sending within the peer's window (Linux interop)
//
// Linux drops data that is out of order at the connection level and
// beyond the highest DATA_ACK plus window it sent (NoDSSInWindow), after
// its subflow acknowledged it. The sender therefore: (1) until the first
// DATA_ACK arrives, maps new data in order on the initial subflow only
// (in-order data is always accepted; no window was advertised yet); (2)
// never maps new data beyond the last DATA_ACK plus the window of the same
// segment (a joining subflow's own window does not move the edge); (3)
// reinjects orphans: when subflow ACKs advance but DATA_ACK stays put for
// two round trips plus 50 ms and no subflow still holds the DSN at
// DATA_ACK, the DSNs from there that no subflow holds are reinjected
// (Info.OrphanReinjects); (4) caps the data-level timeout's back-off at
// 2 s (or the base timeout); (5) shares the connection-level window with
// every subflow, as Linux does (SndWndShared): a subflow whose own last
// window from the peer is smaller (its path went quiet right after a zero
// window) gets the connection's, so it is still given data, and a dead path
// still times out, goes stale and is reset instead of idling forever and
// pinning the send buffer. On the receiving side a subflow's window
// counts from DATA_ACK (not from the DSN its own rcv_nxt maps to), so that
// data queued above a hole cannot close the window of the subflow that has
// to carry the hole's reinjection; bytes that arrive beyond the buffer are
// never counted as received until they are stored.
//
// The DATA_FIN rides on pure ACKs, which TCP does not retransmit: it goes
// out on every subflow that can carry data and again after two round
// trips plus 50 ms (backed off) until its DATA_ACK arrives, and a
// receiver acknowledges every copy, so a lost copy costs a round trip or
// two, not the data-level timeout.
//
// # Known gaps
//
// Data beyond the connection window (a peer that ignores it, or a
// connection-level zero-window probe) is dropped on arrival (counted as
// NoDSSInWindow) and reinjected by the peer's own rules. Orphan detection
// may reinject data the peer holds out of order (there are no data-level
// SACKs): it costs bandwidth, not correctness. After MP_FAIL,
// data the MP_FAIL sender had outstanding in the other direction is not
// recovered (it falls back in both directions only when nothing of its own
// is unacknowledged).
package conn
