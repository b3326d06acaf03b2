package coupled

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

// ackLoop returns a function that feeds one avoidance ACK to subflow 0 of
// a group with n subflows, advancing time by step each call.
func ackLoop(t testing.TB, name string, n int, step time.Duration) func() {
	g := mustGroup(t, name)
	subs := make([]cc.Controller, n)
	for i := range subs {
		subs[i] = g.NewSubflow()
		place(subs[i].(*Subflow), 100+10*i, time.Duration(10+i)*time.Millisecond)
		subs[i].(*Subflow).l2 = int64(1000 * (i + 1))
	}
	c := subs[0]
	now := time.Duration(0)
	a := cc.Ack{Acked: mss, RTT: 10 * time.Millisecond, SRTT: 10 * time.Millisecond, MinRTT: 10 * time.Millisecond}
	return func() {
		now += step
		a.Now = now
		a.InFlight = c.Cwnd()
		c.OnAck(a)
		if c.Cwnd() > 1<<28 { // keep the window in a realistic range
			c.OnCongestion(now, c.Cwnd())
			c.OnRecoveryExit(now)
		}
	}
}

func TestOnAckDoesNotAllocate(t *testing.T) {
	for _, name := range []string{LIA, OLIA, BALIA} {
		// A step of one RTT forces a refresh of the view on every ACK.
		for _, step := range []time.Duration{time.Microsecond, 10 * time.Millisecond} {
			f := ackLoop(t, name, 4, step)
			if n := testing.AllocsPerRun(1000, f); n != 0 {
				t.Errorf("%s (step %v): %.1f allocations per OnAck, want 0", name, step, n)
			}
		}
	}
}

// BenchmarkOnAck measures one congestion-avoidance ACK on a subflow of a
// four-subflow connection: "cached" re-reads the others once per RTT (the
// usual case), "refresh" on every ACK (the worst case).
func BenchmarkOnAck(b *testing.B) {
	for _, name := range []string{LIA, OLIA, BALIA} {
		for _, v := range []struct {
			label string
			step  time.Duration
		}{{"cached", time.Microsecond}, {"refresh", 20 * time.Millisecond}} {
			b.Run(name+"/"+v.label, func(b *testing.B) {
				f := ackLoop(b, name, 4, v.step)
				b.ReportAllocs()
				for b.Loop() {
					f()
				}
			})
		}
	}
}

// BenchmarkOnAckParallel runs four subflows of one group on parallel
// goroutines, each owning one, to show the cost of the shared state.
func BenchmarkOnAckParallel(b *testing.B) {
	for _, name := range []string{LIA, OLIA, BALIA} {
		b.Run(name, func(b *testing.B) {
			g := mustGroup(b, name)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				c := g.NewSubflow()
				place(c.(*Subflow), 100, 10*time.Millisecond)
				now := time.Duration(0)
				for pb.Next() {
					now += time.Microsecond
					c.OnAck(cc.Ack{Now: now, Acked: mss, RTT: 10 * time.Millisecond, SRTT: 10 * time.Millisecond, InFlight: c.Cwnd()})
					if c.Cwnd() > 1<<28 {
						c.OnCongestion(now, c.Cwnd())
						c.OnRecoveryExit(now)
					}
				}
			})
		})
	}
}
