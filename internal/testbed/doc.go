// Package testbed builds throw-away network topologies between Linux network
// namespaces for tests, benchmarks and demos.
//
// It owns everything a test needs to put mpxdp and the kernel's TCP/MPTCP on
// either end of one or more links: namespaces (NS), veth pairs (Veth, with
// MTU and multi-queue options), addresses, offload settings, sysctls,
// background processes inside a namespace, and the removal of all of it.
//
// Every object gets a name unique to this run: namespaces are called
// "mpx-<tag>-<pid>-<n>", so Cleanup can find namespaces left behind by runs
// whose process is gone. Close removes what was created, including on test
// failure when registered with t.Cleanup.
//
// The package shells out to iproute2 (`ip`, `tc`), `ethtool` and `sysctl`,
// run inside a namespace with `ip netns exec`. Privileged tests call Require,
// which skips them with the precise reason when the process is not root, a
// tool is missing, or namespaces cannot be created. Traffic stays inside the
// namespaces a run created; nothing here touches the host's own interfaces.
package testbed
