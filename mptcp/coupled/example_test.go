package coupled_test

import (
	"fmt"
	"time"

	"github.com/mpxdp/mpxdp/mptcp/coupled"
	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

func ExampleGroup() {
	g, err := coupled.New("lia")
	if err != nil {
		panic(err)
	}
	a, b := g.NewSubflow(), g.NewSubflow() // one per subflow, each driven by its own worker
	a.Init(1000, 0)
	b.Init(1000, 0)
	a.OnAck(cc.Ack{Now: time.Millisecond, Acked: 1000, RTT: 10 * time.Millisecond, SRTT: 10 * time.Millisecond})
	fmt.Println(g.Len(), a.Cwnd(), b.Cwnd(), g.TotalCwnd())
	g.Remove(b)
	fmt.Println(g.Len())
	// Output:
	// 2 11000 10000 21000
	// 1
}

func ExampleLIAAlpha() {
	// Two paths: 10 packets at 10 ms and 20 packets at 40 ms.
	fmt.Printf("%.4f\n", coupled.LIAAlpha([]float64{10, 20}, []float64{10, 40}))
	// Output: 1.3333
}
