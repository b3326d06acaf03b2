package testbed_test

import (
	"fmt"
	"log"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

// A two-path topology through a router that limits path 1 to 100 Mbit/s and
// loses 1% of its packets; mpxdp binds AF_XDP sockets to p.Ours in t.Ours
// and talks to the kernel at p.PeerAddr.
func ExampleNewTopology() {
	if err := testbed.Available(); err != nil {
		log.Print(err) // in a test: testbed.Require(t)
		return
	}
	topo, err := testbed.NewTopology(testbed.Config{
		Paths:    2,
		MTU:      9000,
		Router:   true,
		RateMbit: []int{0, 100},
		LossPct:  []float64{0, 1},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer topo.Close() // in a test: t.Cleanup(func() { topo.Close() })
	for i, p := range topo.Paths {
		fmt.Printf("path %d: %s (ifindex %d) as %v -> %v\n", i, p.Ours.Name, p.Ours.Index, p.OurAddr, p.PeerAddr)
	}
	if err := topo.Peer.MPTCPLimits(8, 8); err != nil {
		log.Fatal(err)
	}
}
