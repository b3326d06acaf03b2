// Package cli holds what the mpxdp commands (mptcp-server, mptcp-bench)
// share on their command lines: the --iface IF=CIDR flag, turning a list
// of interfaces into the AF_XDP stack's configuration, starting the stack
// with an error that says which privileges are missing, and the signal
// handling of main.
package cli
