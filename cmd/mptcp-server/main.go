// Command mptcp-server serves bulk transfers over MPTCP: an iperf3 server,
// an HTTP file server with generated payloads, and Prometheus metrics. See
// `mptcp-server -h`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	stop()
	os.Exit(code)
}
