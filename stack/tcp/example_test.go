package tcp_test

import (
	"fmt"
	"time"

	"github.com/mpxdp/mpxdp/stack/tcp"
	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

// Example drives two endpoints by hand, the way a worker does: Input for
// each received segment, then Output until it has nothing more to send,
// and OnTimer when NextTimer is due. Here the "wire" hands segments over
// directly.
func Example() {
	client, _ := tcp.NewActive(tcp.Config{ISS: 1000, CC: cc.NewCubic(1460)}, 0)
	var server *tcp.Endpoint
	frame := make([]byte, 9000) // stands in for a UMEM frame's payload area
	now := time.Duration(0)

	// deliver sends everything from one endpoint to the other.
	deliver := func(from, to *tcp.Endpoint) {
		for {
			seg, ok := from.Output(now, frame)
			if !ok {
				return
			}
			if to == nil { // the listener: a SYN creates the passive endpoint
				server, _ = tcp.NewPassive(tcp.Config{ISS: 5000, CC: cc.NewCubic(1460)}, &seg, now)
				to = server
				continue
			}
			to.Input(&seg, now)
		}
	}
	client.Write([]byte("hello, server"))
	client.CloseWrite()
	for i := 0; i < 5; i++ {
		deliver(client, server)
		if server != nil {
			deliver(server, client)
		}
		now += time.Millisecond
	}
	buf := make([]byte, 64)
	n := server.Read(buf)
	fmt.Printf("%s | server %v, end of stream %v | client %v\n", buf[:n], server.State(), server.PeerClosed(), client.State())
	// Output: hello, server | server CLOSE-WAIT, end of stream true | client FIN-WAIT-2
}
