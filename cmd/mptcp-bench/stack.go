package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/mpxdp/mpxdp/internal/cli"
	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/mptcp/pm"
	"github.com/mpxdp/mpxdp/stack"
)

// stackConfig turns --iface/--gateway into our stack's configuration: one
// interface entry per name with all of its addresses, MPTCP on, and the
// kernel's largest path manager limits so that the connection joins every
// address the server announces.
func stackConfig(c config) stack.Config {
	sc := cli.StackConfig(c.ifaces, 0, c.gateway)
	sc.MPTCP = true
	sc.MPTCPLimits = pm.Limits{Subflows: 8, AddAddrAccepted: 8}
	return sc
}

// newStack starts our AF_XDP stack on the --iface interfaces. It must run
// in the network namespace that holds them.
func newStack(c config) (*stack.Stack, error) { return cli.NewStack(stackConfig(c)) }

// printEvents writes each MPTCP event of s to w, one `ip mptcp monitor`
// line each (--events), until stop is called; stop waits for the lines
// already queued and then says how many events the queue lost, if any.
func printEvents(s *stack.Stack, w io.Writer) (stop func()) {
	ch, cancel := s.SubscribeEvents(256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range ch {
			fmt.Fprintln(w, e)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
			if d := s.EventsDropped(); d > 0 {
				fmt.Fprintf(w, "mptcp-bench: %d MPTCP events were not printed (the printer fell behind)\n", d)
			}
		})
	}
}

// stackDialer dials addr over our stack.
func stackDialer(s *stack.Stack, addr string) iperf.Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		return s.DialContext(ctx, "tcp", addr)
	}
}
