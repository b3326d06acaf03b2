// Package sched owns the MPTCP packet schedulers: the policy that decides
// which subflow sends the next range of connection-level data.
//
// A connection calls a Scheduler when one of its subflows has congestion
// and receive window to send and has no unsent data mapped: it describes
// every subflow as a Candidate (usable or not, backup, smoothed RTT, room
// in its congestion window, bytes queued, congestion window) and
// the scheduler returns the index of the subflow that should take the next
// range. The connection maps the range only when
// the answer is the asking subflow; otherwise the chosen subflow pulls it
// when it is polled (the connection keeps the pick until that subflow takes
// its range or stops being eligible, so that a stateful policy such as
// round robin sees one Pick per decision). Schedulers are sans-IO and allocation-free: they see a
// slice the caller owns and keep at most a few integers of state.
//
// Policies:
//   - Linger (the default, like the Linux kernel's default scheduler):
//     the usable subflow with room whose queue drains first
//     (SRTT × (Queued + 1) / Cwnd);
//   - LowestRTT ("lowrtt"): the usable subflow with room and the smallest
//     smoothed RTT;
//   - RoundRobin: usable subflows with room in turn;
//   - Redundant: every subflow sends every range (Redundant reports true,
//     and the connection keeps one send cursor per subflow);
//   - every policy is backup-aware: backup subflows are candidates only when
//     no non-backup subflow is usable (Usable, whatever its room).
//
// Reinjection (resending unacknowledged data of a subflow that died or
// stalled on the surviving ones) is done by the connection, which feeds the
// ranges back through the same Pick calls; see package mptcp/conn.
package sched
