// Package testbed builds throw-away network topologies between Linux network
// namespaces for tests, benchmarks and demos.
//
// It owns everything a test needs to put mpxdp and the kernel's TCP/MPTCP on
// either end of one or more links:
//
//   - NS: a namespace named "mpx-<tag>-<pid>-<n>", with Exec, Start/Command
//     (background processes killed on Close), Sysctl, and Do (run Go code,
//     e.g. open sockets, on a thread inside the namespace).
//   - Veth: veth pairs with MTU and multi-queue options, addresses, ethtool
//     offloads, link state and counters.
//   - Topology: N paths between namespace "ours" (mpxdp on AF_XDP, no kernel
//     addresses unless KernelMode) and "peer" (the kernel), optionally
//     through a "router" namespace with one Linux bridge per path, with
//     per-path rate limits (tbf) and random loss on kernel egresses.
//   - SetLoss/SetIngressLoss: a TCX BPF program, assembled in Go with
//     cilium/ebpf's asm package, that drops packets at random and counts.
//   - Forwarder: a user-space delay line between two router ports (raw
//     AF_PACKET sockets) adding delay, jitter, reordering and duplication,
//     because this kernel has no netem; Config.Delay puts one on a path.
//   - Kernel MPTCP path-manager helpers (limits, endpoints) and the
//     namespace's counters as nstat names them (Nstat, MPTcpExt, TCPExt).
//   - Cleanup (and the mpx-cleanup command that `make test` runs first):
//     removal of namespaces left by runs whose process is gone.
//
// Shaping and loss belong on a kernel hop: AF_XDP transmit bypasses the
// qdiscs and TCX programs of its own device.
//
// The package shells out to iproute2 (`ip`, `tc`), `ethtool` and `sysctl`,
// run inside a namespace with `ip netns exec`. Privileged tests call Require,
// which skips them with the precise reason when the process is not root, a
// tool is missing, or namespaces cannot be created. Every object has a name
// unique to the run and is removed by Close (register it with t.Cleanup so
// that failing tests clean up too). Traffic stays inside the namespaces a run
// created; nothing here touches the host's own interfaces or addresses.
package testbed
