package conn

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/simnet"
	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/sched"
)

// Two equal lossless paths whose transmit queues the sender bounds (what
// the stack does with a link's frames: a subflow whose port has none is
// blocked): the queue never grows past its bound, nothing is lost or
// retransmitted, the congestion windows stay near what a path holds, and
// both subflows carry a fair share. Before blocking existed the stack
// dropped segments it had already built; before Linger a subflow
// that carried little kept a slow smoothed RTT and got almost nothing.
func TestBlockedSubflowsShareLosslessPaths(t *testing.T) {
	for _, name := range []string{"default", "lowrtt"} {
		t.Run(name, func(t *testing.T) {
			s, err := sched.New(name)
			if err != nil {
				t.Fatal(err)
			}
			// 200 Mbit/s, 1 ms each way, no queue limit on the link: only
			// the sender's bound keeps it short.
			p := simnet.LinkConfig{Bandwidth: 200e6, Delay: time.Millisecond}
			sim, cl, sv := pair(t, 71, Config{Scheduler: s}, Config{}, p, p)
			cl.joinTo = 2
			const txQueue = 64 << 10
			cl.txQueue = txQueue
			n := int64(32 << 20)
			if testing.Short() {
				n = 8 << 20
			}
			transfer(t, sim, cl, sv, n, time.Minute)
			c := cl.conns[0]
			if len(c.subflows) != 2 {
				t.Fatalf("%d subflows, want 2", len(c.subflows))
			}
			if cl.maxQueued > txQueue+1600 {
				t.Errorf("a path queue reached %d bytes, want at most %d plus one packet", cl.maxQueued, txQueue)
			}
			// What one path holds: its bandwidth-delay product (2 ms round
			// trip) plus the queue; slow start may double what was used.
			bdp := int(200e6 / 8 * 0.002)
			var total uint64
			for _, sf := range c.subflows {
				total += sf.bytesSent
			}
			for i, sf := range c.subflows {
				cwnd := sf.ctl.Cwnd()
				t.Logf("subflow %d: %d bytes (%.0f%%), retransmitted %d, cwnd %d, srtt %v", i, sf.bytesSent,
					100*float64(sf.bytesSent)/float64(total), sf.bytesRetrans, cwnd, sf.ep.SRTT())
				if sf.bytesRetrans != 0 {
					t.Errorf("subflow %d retransmitted %d bytes on a lossless path", i, sf.bytesRetrans)
				}
				if cwnd > 3*(bdp+txQueue) {
					t.Errorf("subflow %d: cwnd %d, want at most %d (three times what the path holds)", i, cwnd, 3*(bdp+txQueue))
				}
				if 3*sf.bytesSent < total {
					t.Errorf("subflow %d carried %d of %d bytes, want at least a third", i, sf.bytesSent, total)
				}
			}
			t.Logf("%d MiB in %v", n>>20, sv.doneAt)
		})
	}
}

// A path whose device stops taking frames (a link that lost its carrier
// keeps the stack's frames): its subflow is blocked for good, goes stale
// after StaleRTOs of its RTOs even with nothing outstanding (no timer of
// its own would ever fire), its data is reinjected, the transfer finishes
// on the other path, and once the device takes frames again the subflow
// recovers and carries data.
func TestBlockedSubflowGoesStaleAndRecovers(t *testing.T) {
	p := simnet.LinkConfig{Bandwidth: 100e6, Delay: 2 * time.Millisecond, QueueBytes: 256 << 10}
	sim, cl, sv := pair(t, 72, Config{StaleReset: -1}, Config{}, p, p)
	cl.joinTo = 2
	var downFrom, downUntil time.Duration
	cl.down = func(path int) bool {
		now := sim.Now()
		return path == 1 && downFrom != 0 && now >= downFrom && now < downUntil
	}
	n := int64(24 << 20)
	cl.toSend = n
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return len(c.subflows) == 2 && c.subflows[1].bytesSent > 1<<20 })
	if len(c.subflows) != 2 {
		t.Fatalf("%d subflows, want 2", len(c.subflows))
	}
	sf := c.subflows[1]
	downFrom, downUntil = sim.Now(), sim.Now()+2*time.Second
	before := sf.bytesSent
	sim.RunUntil(downUntil, func() bool { return false })
	if got := cl.count(mptcp.MibSubflowStale); got == 0 || !sf.stale {
		t.Fatalf("subflow 1 blocked for 2 s: stale %v, SubflowStale %d: want stale", sf.stale, got)
	}
	during := sf.bytesSent - before
	if during > 256<<10 {
		t.Errorf("subflow 1 sent %d bytes while blocked", during)
	}
	mid := sf.bytesSent
	sim.RunUntil(time.Minute, func() bool { return sv.eof && cl.eof })
	if !sv.eof || sv.recvd != n || !equalHash(sv, n) {
		t.Fatalf("transfer: server read %d of %d bytes (eof %v)", sv.recvd, n, sv.eof)
	}
	if cl.count(mptcp.MibSubflowRecover) == 0 || sf.stale {
		t.Errorf("subflow 1 after the block: stale %v, SubflowRecover %d: want recovered", sf.stale, cl.count(mptcp.MibSubflowRecover))
	}
	if sf.bytesSent == mid {
		t.Error("subflow 1 carried nothing after the block ended")
	}
	t.Logf("subflow 1: %d bytes before, %d while blocked, %d after; done at %v", before, during, sf.bytesSent-mid, sv.doneAt)
}

// A connection that sat idle and then finds its device briefly full does
// not go stale: the block is timed from when Output first sees it, not
// from the connection's last activity.
func TestBlockedAfterIdleNotStale(t *testing.T) {
	sim, cl, sv := pair(t, 73, Config{}, Config{}, fastPath)
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return c.FullyEstablished() && len(sv.conns) == 1 })
	// Idle for 5 s, then the client writes while its path is blocked for
	// 50 ms (far less than two RTOs).
	at := sim.Now() + 5*time.Second
	sim.RunUntil(at, func() bool { return false })
	cl.down = func(int) bool { return sim.Now() < at+50*time.Millisecond }
	cl.toSend = 1 << 20
	sim.Schedule(at, cl, 0)
	sim.RunUntil(time.Minute, func() bool { return sv.eof })
	if sv.recvd != 1<<20 {
		t.Fatalf("server read %d of %d bytes", sv.recvd, 1<<20)
	}
	if n := cl.count(mptcp.MibSubflowStale); n != 0 {
		t.Errorf("client SubflowStale %d after a 50 ms block that followed 5 s idle, want 0", n)
	}
	if sv.doneAt > at+time.Second {
		t.Errorf("the transfer ended %v after it started, want well under a second", sv.doneAt-at)
	}
}
