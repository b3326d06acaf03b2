// Package iperf speaks the iperf3 test protocol over TCP streams, so that
// mpxdp's client and server interoperate with a stock iperf3.
//
// It owns:
//
//   - the control protocol: the 37-byte cookie, the one-byte state messages
//     (State), the length-prefixed JSON parameter and results exchange
//     (Params, ExchangeResults);
//   - Serve: a server that runs one test at a time on any net.Listener and
//     answers ACCESS_DENIED to a second client, as iperf3 does;
//   - Run: a client over any dial function (kernel TCP, kernel MPTCP, or
//     mpxdp's own stack), with -t, -n (exact byte counts), -R, -P and
//     per-interval callbacks carrying per-stream and per-subflow samples;
//   - the per-subflow statistics interface (SubflowSource, SubflowStat) that
//     mpxdp's MPTCP connection implements, and its kernel implementation
//     (getsockopt SOL_MPTCP MPTCP_TCPINFO / MPTCP_SUBFLOW_ADDRS / MPTCP_INFO,
//     with a TCP_INFO fallback for plain TCP);
//   - Doc: iperf3's -J document (start, intervals, end) and ParseJSON, which
//     reads a stock iperf3's -J output into a Result.
//
// Only TCP streams are supported (no UDP, SCTP or bidirectional tests); a
// stock client asking for them gets SERVER_ERROR.
package iperf
