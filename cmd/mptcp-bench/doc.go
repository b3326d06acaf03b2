// Command mptcp-bench is an iperf3-compatible client that reports
// throughput per MPTCP subflow: one line per subflow per interval
// (interface, addresses, bitrate, share, retransmits, cwnd, SRTT), then
// [SUM], then iperf3's sender/receiver summary; or iperf3's -J document
// with "subflows" arrays, a JSON stream, and an SVG plot.
//
// It owns the client command line and its output wiring; the protocol is
// internal/iperf and the rendering internal/report. It runs on the
// kernel's MPTCP sockets (--kernel) or on mpxdp's AF_XDP stack (--iface).
//
// Two subcommands measure the stack itself (issue 5), each next to the
// kernel's MPTCP measured in the same invocation:
//
//   - loopback: two of our stacks in this process joined by in-memory
//     paths (link.Pipe), one subflow per path: the stack's CPU ceiling,
//     with no NIC and no root; --kernel adds kernel MPTCP over a loopback
//     interface and the ratio.
//   - record: the 51.8 Gbit/s record setup (one connection over several
//     separately addressed paths, sender spread over all, paths added one
//     by one) on a namespaced veth testbed (internal/testbed): our stack as
//     the client, then kernel MPTCP as the client on the same topology,
//     against a kernel MPTCP server that announces path i at i*t/N s;
//     --iface runs our stack on real NICs instead.
//
// Both print the usual per-subflow output for each run, then a comparison
// (text), a "comparison" event (--json-stream) or a "reference" object
// beside iperf3's keys (-J).
package main
