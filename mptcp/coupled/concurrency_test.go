package coupled

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

// TestGroupConcurrent drives one Group from several goroutines at once, as
// the workers of different queues do: each owns one subflow and feeds it
// ACKs, loss episodes and timeouts, while the control plane adds and
// removes another subflow. Run it with -race.
func TestGroupConcurrent(t *testing.T) {
	for _, name := range []string{LIA, OLIA, BALIA} {
		t.Run(name, func(t *testing.T) {
			g := mustGroup(t, name)
			const workers = 4
			subs := make([]cc.Controller, workers)
			for i := range subs {
				subs[i] = g.NewSubflow()
				subs[i].Init(mss, 0)
			}
			stop := make(chan struct{})
			var churn sync.WaitGroup
			churn.Add(1)
			go func() { // control plane
				defer churn.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					c := g.NewSubflow()
					c.Init(mss, 0)
					c.OnAck(cc.Ack{Now: time.Duration(i), Acked: mss, SRTT: time.Millisecond})
					g.Remove(c)
				}
			}()
			var wg sync.WaitGroup
			errs := make(chan string, workers)
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					c := subs[w]
					rtt := time.Duration(5+10*w) * time.Millisecond
					now := time.Duration(0)
					for i := 0; i < 20000; i++ {
						now += rtt / 20
						switch {
						case i%997 == 996:
							c.OnRTO(now)
						case i%300 == 299:
							c.OnCongestion(now, c.Cwnd())
						case i%300 == 5:
							c.OnRecoveryExit(now)
						default:
							c.OnAck(cc.Ack{Now: now, Acked: mss, RTT: rtt, SRTT: rtt, MinRTT: rtt, InFlight: c.Cwnd()})
						}
						if cw := c.Cwnd(); cw < mss || cw > 1<<30 {
							errs <- name + ": cwnd out of range"
							return
						}
					}
				}(w)
			}
			wg.Wait()
			close(stop)
			churn.Wait()
			close(errs)
			for e := range errs {
				t.Fatal(e)
			}
			if g.Len() != workers {
				t.Fatalf("Len %d after churn, want %d", g.Len(), workers)
			}
			sum := 0
			for _, c := range subs {
				sum += c.Cwnd()
				if s := c.(*Subflow); math.IsNaN(s.carry) || math.IsInf(s.carry, 0) {
					t.Fatalf("carry %v", s.carry)
				}
			}
			if g.TotalCwnd() != sum {
				t.Fatalf("TotalCwnd %d, sum of windows %d", g.TotalCwnd(), sum)
			}
		})
	}
}
