// Package iperf speaks the iperf3 test protocol over TCP streams, so that
// mpxdp's client and server interoperate with a stock iperf3 (tested
// against iperf 3.12, plain and under mptcpize).
//
// It owns:
//
//   - the control protocol: the 37-byte cookie, the one-byte state messages
//     (State), the length-prefixed JSON parameter and results exchange
//     (Params, ResultsReport), iperf3's stream ids (1, 3, 4, ...);
//   - Serve / Server: a server on any net.Listener that runs one test at a
//     time and answers ACCESS_DENIED to a second client, honours -R, -P,
//     -n (sending exactly n bytes in reverse mode), -b, -O and -C, answers
//     SERVER_ERROR to UDP, SCTP and bidirectional tests, and drains
//     (Shutdown) or terminates (context) the running test;
//   - Run: a client over any Dialer (kernel TCP, kernel MPTCP, or mpxdp's
//     AF_XDP stack) with -t, -n (exact byte counts), -R, -P, -b, -C and
//     per-interval callbacks carrying per-stream and per-subflow samples;
//   - the per-subflow statistics interface (SubflowSource, SubflowStat)
//     that mpxdp's MPTCP connection is to implement, and its kernel
//     implementation (getsockopt SOL_MPTCP MPTCP_TCPINFO /
//     MPTCP_SUBFLOW_ADDRS / MPTCP_INFO, TCP_INFO for plain TCP; interface
//     names looked up in the socket's own network namespace);
//   - Doc: iperf3's -J document (start, intervals, end, plus "subflows")
//     built from a Result, and ParseJSON, which reads a stock iperf3's -J
//     output into a Result.
//
// Senders on kernel sockets write with level-triggered poll(2) on their
// own thread rather than through Go's netpoller, which wakes writers on
// kernel MPTCP sockets late. Per-block send and receive paths do not
// allocate.
package iperf
