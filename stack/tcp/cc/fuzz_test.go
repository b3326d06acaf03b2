package cc

import (
	"math"
	"testing"
	"time"
)

// checkEvents drives c with the operations encoded in data and checks the
// invariants every controller must keep whatever the engine does: the
// window stays at least one segment and finite, ssthresh at least two
// segments once set, nothing panics.
func checkEvents(t *testing.T, c Controller, data []byte) {
	mss := 536 + int(len(data)%1000)
	c.Init(mss, 0)
	now := time.Duration(0)
	for i := 0; i+2 < len(data); i += 3 {
		op, x, y := data[i], int(data[i+1]), int(data[i+2])
		now += time.Duration(x) * time.Millisecond
		switch op % 8 {
		case 0, 1, 2, 3:
			rtt := time.Duration(y+1) * time.Millisecond
			c.OnAck(Ack{Now: now, Acked: x * 97, RTT: rtt, SRTT: rtt, MinRTT: time.Millisecond, InFlight: c.Cwnd(), AppLimited: op&0x80 != 0})
		case 4:
			c.OnCongestion(now, c.Cwnd()*y/128)
		case 5:
			c.OnRecoveryExit(now)
		case 6:
			c.OnRTO(now)
		case 7:
			mss = 536 + x*32
			c.SetMSS(mss)
		}
		cw, ss := c.Cwnd(), c.Ssthresh()
		if cw < mss || cw > 1<<40 {
			t.Fatalf("%s: after op %d cwnd %d (mss %d)", c.Name(), op%8, cw, mss)
		}
		if ss < 2*536 {
			t.Fatalf("%s: ssthresh %d below 2 segments", c.Name(), ss)
		}
		if cu, ok := c.(*Cubic); ok {
			for _, v := range []float64{cu.cwnd, cu.wMax, cu.k, cu.wEst} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("cubic: non-finite state %+v", cu)
				}
			}
		}
	}
}

func FuzzControllers(f *testing.F) {
	f.Add([]byte{0, 10, 20, 0, 10, 20, 4, 1, 128, 5, 0, 0, 0, 50, 20, 6, 0, 0, 0, 1, 1})
	f.Add([]byte{7, 200, 0, 0, 255, 255, 4, 0, 0, 6, 0, 0, 6, 0, 0, 0, 1, 1})
	f.Add([]byte{0x80, 5, 5, 0, 5, 5, 4, 30, 200, 0, 100, 10, 5, 1, 1, 0, 250, 250})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range Names() {
			c, _ := New(name)
			checkEvents(t, c, data)
		}
	})
}
