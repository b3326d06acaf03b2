package conn_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/conn"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// Two connections in one process, segments handed over directly: the
// shape of the loop a stack worker runs for the connections it owns.
func Example() {
	tokens := mptcp.NewTokenTable[*conn.Conn]() // one per stack
	cfg := conn.Config{Tokens: tokens, CC: "lia"}
	ct := tcp.FourTuple{LocalAddr: netip.MustParseAddr("10.0.0.1"), RemoteAddr: netip.MustParseAddr("10.0.1.1"), LocalPort: 40000, RemotePort: 80}
	st := tcp.FourTuple{LocalAddr: ct.RemoteAddr, RemoteAddr: ct.LocalAddr, LocalPort: ct.RemotePort, RemotePort: ct.LocalPort}

	var now time.Duration
	frame := make([]byte, 1500)
	client, csf, _ := conn.Dial(cfg, ct, 1000, now)
	_, syn, _ := client.Output(now, frame) // the SYN with MP_CAPABLE
	if kind, _ := conn.ClassifySYN(&syn); kind != conn.SYNNewConn {
		panic("not an MPTCP SYN")
	}
	server, ssf, _ := conn.Accept(cfg, st, &syn, 5000, now)
	peer := map[*conn.Subflow]*conn.Subflow{csf: ssf, ssf: csf}

	pump := func() {
		for moved := true; moved; {
			moved = false
			for _, c := range []*conn.Conn{client, server} {
				for {
					sf, seg, ok := c.Output(now, frame)
					if !ok {
						break
					}
					moved = true
					now += 100 * time.Microsecond
					p := peer[sf]
					if p.Endpoint() == nil {
						continue
					}
					if p == ssf {
						server.Input(p, &seg, now)
					} else {
						client.Input(p, &seg, now)
					}
				}
			}
			if !moved { // run due timers (a delayed ACK carries the DATA_ACK)
				for _, c := range []*conn.Conn{client, server} {
					if t := c.NextTimer(); t != 0 && t < now+50*time.Millisecond {
						now = max(now, t)
						c.OnTimer(now)
						moved = true
					}
				}
			}
		}
	}
	pump()
	client.Write([]byte("hello, multipath"))
	client.CloseWrite()
	pump()
	buf := make([]byte, 64)
	n := server.Read(buf)
	fmt.Printf("%s (fully established %v, peer closed %v)\n", buf[:n], server.FullyEstablished(), server.PeerClosed())
	// Output: hello, multipath (fully established true, peer closed true)
}
