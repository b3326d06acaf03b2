package main

import (
	"context"
	"net"

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

// stackDialer dials addr over our stack.
func stackDialer(s *stack.Stack, addr string) iperf.Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		return s.DialContext(ctx, "tcp", addr)
	}
}
