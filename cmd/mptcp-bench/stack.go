package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/stack"
)

// stackConfig turns --iface/--gateway into our stack's configuration: one
// interface entry per name with all of its addresses.
func stackConfig(c config) stack.Config {
	var sc stack.Config
	idx := map[string]int{}
	for _, i := range c.ifaces {
		j, ok := idx[i.Name]
		if !ok {
			j = len(sc.Interfaces)
			idx[i.Name] = j
			sc.Interfaces = append(sc.Interfaces, stack.InterfaceConfig{Name: i.Name})
		}
		sc.Interfaces[j].Addrs = append(sc.Interfaces[j].Addrs, i.Prefix)
	}
	if c.gateway.IsValid() {
		sc.Gateways = []netip.Addr{c.gateway}
	}
	// Bulk transfers: larger application rings than the stack's default.
	sc.SendBuffer, sc.RecvBuffer = 4<<20, 4<<20
	return sc
}

// newStack starts our AF_XDP stack on the --iface interfaces. It must run
// in the network namespace that holds them.
func newStack(c config) (*stack.Stack, error) {
	s, err := stack.New(stackConfig(c))
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("starting the AF_XDP stack: %w: AF_XDP needs root or CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF", err)
		}
		return nil, fmt.Errorf("starting the AF_XDP stack: %w", err)
	}
	return s, nil
}

// stackDialer dials addr over our stack.
func stackDialer(s *stack.Stack, addr string) iperf.Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		return s.DialContext(ctx, "tcp", addr)
	}
}
