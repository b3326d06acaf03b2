package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

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

// closeGrace bounds how long printEvents' stop waits for the CLOSED
// events of connections still open, so that --events shows how each
// connection ended without holding the program up when one never does.
const closeGrace = 500 * time.Millisecond

// printEvents writes each MPTCP event of s to w, one `ip mptcp monitor`
// line each (--events), until stop is called. stop first waits (at most
// closeGrace) until every connection that reported CREATED has reported
// CLOSED, so that the last SF_CLOSED and CLOSED lines of a test are
// printed; then it ends the subscription, waits for the lines already
// queued and says how many events the queue lost, if any.
func printEvents(s *stack.Stack, w io.Writer) (stop func()) {
	ch, cancel := s.SubscribeEvents(256)
	done := make(chan struct{})
	var mu sync.Mutex
	open := map[uint32]bool{}      // tokens of connections not yet CLOSED
	idle := make(chan struct{}, 1) // a signal: open became empty
	go func() {
		defer close(done)
		for e := range ch {
			fmt.Fprintln(w, e)
			mu.Lock()
			switch e.Type {
			case stack.MPTCPCreated:
				open[e.Token] = true
			case stack.MPTCPClosed:
				delete(open, e.Token)
			}
			n := len(open)
			mu.Unlock()
			if n == 0 {
				select {
				case idle <- struct{}{}:
				default:
				}
			}
		}
	}()
	pending := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(open)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if pending() > 0 {
				t := time.NewTimer(closeGrace)
			wait:
				for pending() > 0 {
					select {
					case <-idle:
					case <-done:
						break wait
					case <-t.C:
						break wait
					}
				}
				t.Stop()
			}
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
