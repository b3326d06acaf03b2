// Package report renders iperf test results for people and programs:
// iperf3-style text lines (one per subflow per interval, then [SUM], and
// the final sender/receiver summary), iperf3-compatible JSON (-J) and a
// JSON stream (one object per line per interval), and a hand-written SVG
// plot of throughput over time per subflow and in total.
//
// It also lays two runs side by side (Run, WriteComparison,
// WriteComparedJSON, JSONStream.Comparison): mptcp-bench loopback and
// record print our stack next to the kernel MPTCP reference measured in
// the same invocation, with the ratio.
//
// It owns presentation only; the figures come from internal/iperf.
package report
