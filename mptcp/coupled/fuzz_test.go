package coupled

import (
	"math"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

// FuzzGroup drives the subflows of one coupled group with an arbitrary
// sequence of engine calls, joins and leaves, and checks that every window
// stays at least one segment and finite and ssthresh at least two segments.
func FuzzGroup(f *testing.F) {
	f.Add(uint8(0), []byte{0, 10, 20, 1, 10, 30, 0, 10, 20, 4, 0, 100, 5, 0, 0, 2, 50, 60, 6, 1, 0})
	f.Add(uint8(1), []byte{0, 200, 1, 1, 1, 200, 4, 1, 0, 0, 250, 9, 7, 0, 0, 3, 3, 3, 6, 0, 0, 6, 0, 0})
	f.Add(uint8(2), []byte{2, 5, 5, 2, 5, 5, 4, 2, 128, 5, 2, 0, 0, 9, 9, 8, 1, 0})
	f.Fuzz(func(t *testing.T, algo uint8, data []byte) {
		name := []string{LIA, OLIA, BALIA}[algo%3]
		g := mustGroup(t, name)
		const mss = 1200
		subs := []cc.Controller{g.NewSubflow(), g.NewSubflow(), g.NewSubflow()}
		for _, s := range subs {
			s.Init(mss, 0)
		}
		now := time.Duration(0)
		for i := 0; i+2 < len(data); i += 3 {
			op, x, y := data[i], int(data[i+1]), int(data[i+2])
			s := subs[x%len(subs)]
			now += time.Duration(y) * time.Millisecond / 4
			switch op % 9 {
			case 0, 1, 2, 3:
				rtt := time.Duration(1+y) * time.Millisecond
				s.OnAck(cc.Ack{Now: now, Acked: 1 + x*40, RTT: rtt, SRTT: rtt, MinRTT: time.Millisecond, InFlight: s.Cwnd()})
			case 4:
				s.OnCongestion(now, s.Cwnd()*y/128)
			case 5:
				s.OnRecoveryExit(now)
			case 6:
				s.OnRTO(now)
			case 7:
				g.Remove(s)
			case 8:
				n := g.NewSubflow()
				n.Init(mss, now)
				subs[x%len(subs)] = n
			}
			for _, c := range subs {
				if c.Cwnd() < mss || c.Cwnd() > 1<<40 || c.Ssthresh() < 2*mss {
					t.Fatalf("%s: cwnd %d ssthresh %d (mss %d)", name, c.Cwnd(), c.Ssthresh(), mss)
				}
				sf := c.(*Subflow)
				if math.IsNaN(sf.carry) || math.IsInf(sf.carry, 0) {
					t.Fatalf("%s: carry %v", name, sf.carry)
				}
			}
		}
	})
}
