package cc_test

import (
	"fmt"
	"time"

	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

func ExampleNew() {
	c, err := cc.New("cubic")
	if err != nil {
		panic(err)
	}
	c.Init(1448, 0)
	c.OnAck(cc.Ack{Now: 20 * time.Millisecond, Acked: 1448, RTT: 20 * time.Millisecond, SRTT: 20 * time.Millisecond, InFlight: 14480})
	fmt.Println(c.Name(), c.Cwnd())
	c.OnCongestion(40*time.Millisecond, 20000)
	fmt.Println(c.Cwnd(), c.Ssthresh())
	_, err = cc.New("vegas")
	fmt.Println(err)
	// Output:
	// cubic 15928
	// 14000 14000
	// cc: unknown congestion control "vegas": use one of cubic, reno
}
