package numa_test

import (
	"fmt"

	"github.com/mpxdp/mpxdp/numa"
)

// Place four workers near the NIC, keeping CPU 0 for the control plane.
func ExampleTopology_PickCPUsForNIC() {
	top, err := numa.Read("testdata/two-node-8cpu-smt") // numa.System() on a real machine
	if err != nil {
		panic(err)
	}
	nic, err := top.NIC("eth1")
	if err != nil {
		panic(err)
	}
	cpus, err := top.PickCPUsForNIC(nic, 4, []int{0})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: node %d, %d RX queues, workers on CPUs %v\n", nic.Name, nic.Node, nic.RXQueues, cpus)
	// Output: eth1: node 1, 4 RX queues, workers on CPUs [2 3 6 7]
}

func ExampleParseCPUList() {
	cpus, err := numa.ParseCPUList("0-3,8,10-11\n")
	fmt.Println(cpus, err)
	// Output: [0 1 2 3 8 10 11] <nil>
}
