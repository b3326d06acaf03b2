// Command demo is what `make demo` runs: one Multipath TCP connection over
// two paths, served by mpxdp on AF_XDP, and a path removed while it runs.
//
// It builds a two-path namespaced testbed (internal/testbed), starts
// mptcp-server on our AF_XDP stack in namespace "ours" (both interfaces,
// the second address announced with ADD_ADDR), and runs the Linux kernel's
// MPTCP as the client in namespace "peer" (`mptcp-bench --kernel`, an
// iperf3-compatible client that prints one line per subflow per second).
// Midway it deletes the peer's path-manager endpoint of path 1 (`ip mptcp
// endpoint delete`), so the kernel closes that subflow: the table goes
// from two subflows to one while the total carries on. It prints the
// server's own view (/debug/mptcp) before and after, the server's MPTCP
// counters, stops the server with SIGTERM (drain, detach) and removes the
// testbed.
//
// With -R the server sends instead (our stack then reinjects what was in
// flight on path 1). A stall (an interval without data) fails the demo; a
// stall at the start was reported once, but 26 -R demos (8 of them beside
// an extra CPU hog, 6 beside the stack's privileged tests) and 30
// `mptcpize run iperf3 -R` starts against the same server did not show it
// again.
//
// It exits 0 only when all of that happened (two subflows, then one, the
// last interval still carrying data, a complete test, a clean exit of the
// server); otherwise it says what did not and exits 1. It needs root (namespaces, XDP, AF_XDP) and iproute2.
//
// It owns nothing but this walk-through: the testbed, the server and the
// client are the project's own packages and commands.
package main
