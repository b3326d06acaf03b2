package cc

import (
	"testing"
	"time"
)

// avoidanceLoop returns a function that feeds one congestion-avoidance ACK
// to c, with a loss episode now and then to keep the window realistic.
func avoidanceLoop(c Controller) func() {
	c.Init(1448, 0)
	c.OnCongestion(0, 1000*1448)
	c.OnRecoveryExit(0)
	now := time.Duration(0)
	a := Ack{Acked: 1448, RTT: 20 * time.Millisecond, SRTT: 20 * time.Millisecond, MinRTT: 20 * time.Millisecond}
	return func() {
		now += 2 * time.Microsecond
		a.Now = now
		a.InFlight = c.Cwnd()
		c.OnAck(a)
		if c.Cwnd() > 4000*1448 {
			c.OnCongestion(now, c.Cwnd())
			c.OnRecoveryExit(now)
		}
	}
}

// slowStartLoop feeds slow-start ACKs (HyStart++ active for CUBIC),
// restarting the flow when the window grows large.
func slowStartLoop(c Controller) func() {
	c.Init(1448, 0)
	now := time.Duration(0)
	a := Ack{Acked: 1448, SRTT: 20 * time.Millisecond, MinRTT: 20 * time.Millisecond}
	return func() {
		now += 2 * time.Microsecond
		a.Now = now
		a.RTT = 20*time.Millisecond + time.Duration(now%5)*time.Millisecond
		a.InFlight = c.Cwnd()
		c.OnAck(a)
		if c.Cwnd() > 4000*1448 || c.Ssthresh() != InfiniteSsthresh {
			c.Init(1448, now)
		}
	}
}

func TestOnAckDoesNotAllocate(t *testing.T) {
	for _, name := range Names() {
		for _, mk := range []func(Controller) func(){avoidanceLoop, slowStartLoop} {
			c, _ := New(name)
			f := mk(c)
			if n := testing.AllocsPerRun(1000, f); n != 0 {
				t.Errorf("%s: %.1f allocations per OnAck, want 0", name, n)
			}
		}
		c, _ := New(name)
		if n := testing.AllocsPerRun(100, func() {
			c.OnCongestion(time.Second, 100000)
			c.OnRecoveryExit(time.Second)
			c.OnRTO(time.Second)
		}); n != 0 {
			t.Errorf("%s: %.1f allocations per loss/RTO", name, n)
		}
	}
}

// BenchmarkOnAck measures one ACK in congestion avoidance and in slow
// start for each algorithm.
func BenchmarkOnAck(b *testing.B) {
	for _, name := range Names() {
		for _, v := range []struct {
			label string
			mk    func(Controller) func()
		}{{"avoidance", avoidanceLoop}, {"slowstart", slowStartLoop}} {
			b.Run(name+"/"+v.label, func(b *testing.B) {
				c, _ := New(name)
				f := v.mk(c)
				b.ReportAllocs()
				for b.Loop() {
					f()
				}
			})
		}
	}
}
