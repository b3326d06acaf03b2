// Package stack owns mpxdp's host stack and its Go API: the per-queue
// workers (Ethernet, ARP, IPv6 Neighbor Discovery, IPv4/IPv6, ICMP echo,
// the flow table, listeners with SYN cookies, and the conversion between
// tcp.Segment and wire headers with full checksums), the goroutines that
// drive them, and the public Stack with Listen/Dial returning net.Listener
// and net.Conn.
//
// # Workers
//
// A worker owns queue i of every interface. It is a sans-IO core: Process
// takes received frames and the time, Poll runs hand-offs, application
// commands, timers and neighbour resolution, and both transmit what the
// engines produce. The goroutine that runs a worker (LockOSThread and
// pinned when Config gives cores, an ordinary goroutine otherwise, which
// shares its P with the application more cheaply) is the only one that
// touches its flows, so the
// per-packet path takes no locks and does not allocate. Flows are spread
// over workers by a hash of the 4-tuple (ownerOf); a frame that arrives on
// another worker's queue is copied to the owner through an MPSC ring, and
// Dial picks a local port that makes the dialing worker the owner.
//
// An idle worker spins briefly (Config.SpinBeforeSleep), then sleeps in
// its queue's Wait until frames arrive, a command or hand-off wakes it, or
// its next timer is due. A worker without a pinned core spins politely
// (runtime.Gosched between polls) and yields to an application goroutine it
// woke that has not run yet: Go queues a woken goroutine on the waker's P,
// so a busy worker would otherwise hold back the reads and writes that
// open its connections' windows. A worker serving several queues reads
// each in smaller batches (rxBatch), so that the subflows of one MPTCP
// connection arrive interleaved, close to DSN order. One worker serves all interfaces of a queue
// index, so a connection's subflows over several interfaces run on the
// same goroutine as a single-path connection; link.Pipe ends of several
// interfaces share one wait (link.JoinWait). A worker whose flows wait for
// transmit frames (every frame of a port is with the peer or the device)
// and that sent nothing in its last round is stalled: it sleeps at once,
// for at most pollSlice, rather than spinning, since the peer that holds
// the frames may be the goroutine it woke onto its own P (a pipe end wakes
// it when the peer gives frames back).
//
// # Application side
//
// Conn moves data through two lock-free byte rings per connection, which
// are the TCP engine's own buffers: the application writes into the send
// ring and the engine copies from it by offset straight into transmit
// frames (tcp.SendBuffer); the engine writes received payload straight
// from the frame into the receive ring at its offset past rcv_nxt
// (tcp.RecvBuffer, out-of-order data included) and the application reads
// the published bytes. Each byte is copied once on each side of the ring.
// Requests (data written, room freed while the advertised window is small,
// close) reach the worker through its command ring; either side sleeps on
// a channel only when its ring is full or empty, and the other side
// signals it only when it sees a sleeper. The worker wakes a waiting reader
// at once for an eighth of the ring or the end of the stream, otherwise
// once its queues are caught up, so that a stream of receive batches costs
// one wake-up, not one per batch.
//
// # Per-packet costs
//
// The worker's loop receives a batch (64 frames) from each queue, then
// runs one service round per touched flow and one transmit and kick per
// queue. Payload is checksummed while it is copied: on transmit the send
// ring's bytes are summed on their way into the frame (header.CopySum), so
// only the headers are summed when the segment is built; on receive an
// in-order payload is copied to the receive ring's tail, where the reader
// cannot see it yet, while it is summed, the segment's checksum is checked
// from that sum, and the engine's own copy is skipped.
//
// NewLinks builds a stack over caller-provided link.Queues (two stacks
// joined by a link.Pipe in tests and benchmarks); New opens AF_XDP sockets
// on real interfaces (one socket per queue on a UMEM shared by the port,
// an eventfd per worker for wake-ups).
//
// # Listening
//
// A SYN for a listener creates a passive flow while the listener's
// half-open plus unaccepted connections stay below Config.Backlog; beyond
// it the SYN is answered statelessly with a SYN cookie (package tcp's
// SYNCookies) and the flow is created from the cookie ACK. Segments for no
// flow and no listener are answered with a RST; every drop is counted by
// reason (Stats, Drop).
//
// # Multipath TCP
//
// Listeners classify every SYN (mptcp/conn.ClassifySYN): plain TCP as
// above; MP_CAPABLE makes a new MPTCP connection (conn.Accept) owned by
// the worker that got the SYN for its whole life (Config.NoMPTCPListen
// turns this off); MP_JOIN looks the token up in the stack-wide
// mptcp.TokenTable and hands the SYN to the connection's owner worker,
// leaving a redirect for the tuple in the worker its hash names, so that
// the subflow's later segments follow (two hops at most). Unknown tokens
// and refused joins get a RST with MP_TCPRST (DropJoinRefused). Dial opens
// MPTCP with Config.MPTCP (conn.Dial) and falls back to TCP with a peer
// that has none.
//
// The owner worker keeps the connection (mpConn) as a master flow in its
// timer heap and dirty list plus one flow per subflow in its flow table
// (each with the route of its own 4-tuple: interface, source address,
// next hop). A service round moves bytes between the application's rings
// and the connection's DSN-indexed buffers (a second copy on each side,
// the price of the sans-IO connection owning its buffers), runs the path
// manager (Config.Endpoints and MPTCPLimits: ADD_ADDR for signal
// endpoints, subflows from subflow endpoints and to announced addresses,
// each from the interface that owns its local address), and transmits
// what conn.Conn.Output gives for any subflow, building the frame on the
// subflow's port. Before each segment a subflow whose port has no free
// transmit frame is marked blocked (conn.Subflow.SetBlocked): the
// connection builds nothing for it and schedules new data onto the other
// subflows, so a full path pushes back instead of losing segments. The
// MSS of MPTCP subflows leaves room for the largest MPTCP options (a
// 24-byte DSS beside timestamps) so frames stay within the MTU. Subflows acknowledge a short in-order segment at once
// (tcp.Config.QuickACKShort): the peer's connection keeps the bytes of a
// subflow's unacknowledged tail in its send buffer, and a delayed ACK
// stalled it for 40 ms. Config.MPTCPScheduler picks the packet scheduler.
// Conn.Info, Conn.Subflows and Conn.AppendSubflows ask the owner
// worker through its command ring; Stack.MIB sums the workers' MPTCP
// counters (kernel MPTcpExt names). Stack.SubscribeEvents streams each
// connection's events as `ip mptcp monitor` names them (MPTCPEvent:
// CREATED, ESTABLISHED, ANNOUNCED, REMOVED, SF_ESTABLISHED, SF_CLOSED with
// the peer's MP_TCPRST reason, SF_PRIORITY, CLOSED): the owner worker
// builds each event inside the connection's call that raised it and
// offers it to every subscriber's channel without blocking; a full
// channel loses it (Stack.EventsDropped). Nothing is done per packet
// beyond a RST's check for MP_TCPRST while someone subscribes.
//
// Gaps: a subflow's segments that arrive on a third worker take two
// hand-offs (hash owner, then the connection's owner); joins are accepted
// only on a listening port (a peer that opens subflows toward our dialer
// is refused); subflows of a retired connection leave TIME-WAIT at once;
// IPv6 works on one path, but mptcp/conn does not send an IPv6 ADD_ADDR
// yet (it does not fit beside timestamps and a DSS).
//
// # Limits
//
// TCP segments never exceed one frame: the MSS is derived from
// min(MTU, frame size), so a jumbo MTU works with 4 KiB AF_XDP frames
// (segments of about 3.7 KB) and multi-buffer chains (larger non-TCP
// packets) are dropped. No IP fragmentation or reassembly, no VLAN tags,
// no ICMP errors; neighbour entries do not expire (a new MAC replaces an
// entry at once). The receive window is Config.RecvBuffer and does not
// autotune.
package stack
