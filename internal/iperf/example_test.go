package iperf_test

import (
	"context"
	"fmt"
	"log"
	"net"

	"github.com/mpxdp/mpxdp/internal/iperf"
)

// A server and a client on loopback: -n 1M -P 2, exact on both sides.
func ExampleRun() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = iperf.Serve(ctx, ln, iperf.ServeOptions{}) }()

	dial := func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		d.SetMultipathTCP(true) // kernel MPTCP; plain TCP if the server lacks it
		return d.DialContext(ctx, "tcp", ln.Addr().String())
	}
	r, err := iperf.Run(ctx, dial, iperf.Options{Bytes: 1 << 20, Parallel: 2})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(r.Streams), r.Sent.Bytes, r.Received.Bytes)
	// Output: 2 1048576 1048576
}

// ourConn stands for mpxdp's MPTCP connection: implementing
// SubflowSource is all it takes for Run and Serve to report its subflows.
type ourConn struct {
	net.Conn
	subflows []iperf.SubflowStat
}

func (c *ourConn) AppendSubflows(dst []iperf.SubflowStat) ([]iperf.SubflowStat, error) {
	return append(dst, c.subflows...), nil
}

func ExampleSubflowSource() {
	c := &ourConn{subflows: []iperf.SubflowStat{{Iface: "eth0"}, {Iface: "eth1"}}}
	stats, _ := iperf.SubflowsOf(c).AppendSubflows(nil)
	for _, s := range stats {
		fmt.Println(s.Iface)
	}
	// Output:
	// eth0
	// eth1
}
