package cc

import (
	"math"
	"testing"
	"time"
)

const testMSS = 1000

// ackClock drives a controller like a sender that always has data and
// keeps a full window in flight: every RTT round it delivers one MSS-sized
// ACK per MSS of the window at the start of that round, spread evenly over
// the round, each carrying the given RTT sample.
type ackClock struct {
	c   Controller
	now time.Duration
}

// round delivers one RTT worth of ACKs with RTT sample rtt.
func (k *ackClock) round(rtt time.Duration) {
	n := k.c.Cwnd() / testMSS
	if n < 1 {
		n = 1
	}
	step := rtt / time.Duration(n)
	for i := 0; i < n; i++ {
		k.c.OnAck(Ack{Now: k.now, Acked: testMSS, RTT: rtt, SRTT: rtt, MinRTT: rtt, InFlight: k.c.Cwnd()})
		k.now += step
	}
}

// acks delivers n MSS-sized ACKs at the current time.
func (k *ackClock) acks(n int, rtt time.Duration) {
	for i := 0; i < n; i++ {
		k.c.OnAck(Ack{Now: k.now, Acked: testMSS, RTT: rtt, SRTT: rtt, MinRTT: rtt, InFlight: k.c.Cwnd()})
	}
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.4f, want %.4f ± %.4f", what, got, want, tol)
	}
}
