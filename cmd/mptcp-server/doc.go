// Command mptcp-server serves bulk transfers over Multipath TCP: an
// iperf3 server (one test at a time), an HTTP server for the files of
// --root (Range requests) and for generated payloads (/bytes/N), and a
// metrics endpoint on a kernel socket (/metrics, /debug/mptcp,
// /debug/pprof). SIGTERM or SIGINT drains transfers, then it exits 0.
//
// It owns flag parsing and validation (parseFlags, table-tested), the
// wiring of the services onto a Network (the kernel's MPTCP sockets with
// --kernel, mpxdp's AF_XDP stack with --iface), connection tracking, metrics and
// the kernel MIB reader. --iface runs the services on mpxdp's AF_XDP stack:
// MPTCP (plain TCP for clients without it), joins on every --iface address,
// ADD_ADDR for --endpoint ADDR,signal. /debug/mptcp lists open connections
// with per-subflow counters (and, on our stack, each subflow's TCP state)
// and the last closed ones as they were at close.
package main
