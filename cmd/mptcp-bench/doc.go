// Command mptcp-bench is an iperf3-compatible client that reports
// throughput per MPTCP subflow: one line per subflow per interval
// (interface, addresses, bitrate, share, retransmits, cwnd, SRTT), then
// [SUM], then iperf3's sender/receiver summary; or iperf3's -J document
// with "subflows" arrays, a JSON stream, and an SVG plot.
//
// It owns the client command line and its output wiring; the protocol is
// internal/iperf and the rendering internal/report. It runs on the
// kernel's MPTCP sockets (--kernel) or on mpxdp's AF_XDP stack (--iface;
// TCP until the stack speaks MPTCP); the loopback and record subcommands
// answer with exit code 2 until they exist (issue 4/5).
package main
