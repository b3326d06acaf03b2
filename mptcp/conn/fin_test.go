package conn

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
)

// TestDataFinPrompt: after the last data byte, the DATA_FIN reaches the
// reader (EOF) at once and its DATA_ACK reaches the sender within a few
// round trips, over one path and over two, also when the last data
// segment or the first DATA_FIN is lost: no data-level timeout (at least
// 400 ms here) is involved.
func TestDataFinPrompt(t *testing.T) {
	for _, tc := range []struct {
		name     string
		paths    int
		loseLast bool // drop the first segment that carries the last data byte
		loseFin  bool // drop the first segment that carries the DATA_FIN
		loseAck  bool // drop the first segment that acknowledges the DATA_FIN
	}{
		{name: "one-path", paths: 1},
		{name: "two-paths", paths: 2},
		{name: "two-paths-last-data-lost", paths: 2, loseLast: true},
		{name: "one-path-fin-lost", paths: 1, loseFin: true},
		{name: "one-path-fin-ack-lost", paths: 1, loseAck: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := twoPaths()
			sim, cl, sv := pair(t, 91, Config{}, Config{}, a, b)
			if tc.paths == 2 {
				cl.joinTo = 2
			}
			n := int64(4<<20 + 777)
			cl.toSend = n
			var lastAt, finAckAt time.Duration
			var c *Conn
			lostLast, lostFin, lostAck := false, false, false
			cl.drop = func(_ int, s *tcpSegment) bool {
				if !tc.loseAck || lostAck || c == nil || !c.finSent {
					return false
				}
				var r mptcp.Received
				_ = mptcp.ParseTCPOptions(s.Options.Ext, &r)
				if r.Present.Has(mptcp.SubtypeDSS) && r.DSS.HasAck && r.DSS.DataAckFrom(c.sndBase+c.sndMax)-c.sndBase == c.snd.end+1 {
					lostAck = true
					return true
				}
				return false
			}
			sv.drop = func(_ int, s *tcpSegment) bool {
				if c == nil || !c.bufReady {
					return false
				}
				var r mptcp.Received
				_ = mptcp.ParseTCPOptions(s.Options.Ext, &r)
				if !r.Present.Has(mptcp.SubtypeDSS) || !r.DSS.HasMap {
					return false
				}
				end := r.DSS.DSNFrom(c.sndBase+c.sndMax) - c.sndBase + uint64(r.DSS.DataLen)
				if tc.loseLast && !lostLast && len(s.Payload) > 0 && end >= uint64(n) {
					lostLast = true
					return true
				}
				if tc.loseFin && !lostFin && r.DSS.DataFin {
					lostFin = true
					return true
				}
				return false
			}
			sv.app2 = func() {
				if lastAt == 0 && sv.recvd == n {
					lastAt = sim.Now()
				}
			}
			cl.app2 = func() {
				if finAckAt == 0 && c != nil && c.finAcked {
					finAckAt = sim.Now()
				}
			}
			c = cl.dial(0)
			sim.RunUntil(time.Minute, func() bool { return sv.eof && finAckAt != 0 })
			if !sv.eof || sv.recvd != n || !equalHash(sv, n) {
				t.Fatalf("transfer: eof %v, %d of %d", sv.eof, sv.recvd, n)
			}
			if (tc.loseLast && !lostLast) || (tc.loseFin && !lostFin) || (tc.loseAck && !lostAck) {
				t.Fatalf("lost last data %v, lost DATA_FIN %v, lost its DATA_ACK %v: the test did not drop what it meant to", lostLast, lostFin, lostAck)
			}
			rto := c.connRTO()
			// A lost data segment costs a subflow retransmission (RTO
			// 200 ms at most here), a lost DATA_FIN its resend after two
			// round trips and 50 ms, never a data-level timeout.
			bound := 4 * 16 * time.Millisecond
			switch {
			case tc.loseLast:
				bound += 250 * time.Millisecond
			case tc.loseAck:
				bound += 100 * time.Millisecond
			case tc.loseFin:
				bound += 100 * time.Millisecond
				if d := sv.doneAt - lastAt; d > bound {
					t.Errorf("EOF %v after the last byte, want within %v", d, bound)
				}
			default:
				if d := sv.doneAt - lastAt; d > 0 {
					t.Errorf("EOF %v after the last byte, want at once (the DATA_FIN came with or before it)", d)
				}
			}
			if d := finAckAt - lastAt; finAckAt == 0 || d > bound {
				t.Errorf("DATA_FIN acknowledged %v after the last byte arrived, want within %v (data-level timeout %v)", d, bound, rto)
			}
			if cl.count(mptcp.MibMPTCPRetrans) != 0 {
				t.Errorf("MPTCPRetrans %d: the data-level timeout fired", cl.count(mptcp.MibMPTCPRetrans))
			}
			t.Logf("last byte at %v, EOF at %v, DATA_FIN acked at %v", lastAt, sv.doneAt, finAckAt)
		})
	}
}
