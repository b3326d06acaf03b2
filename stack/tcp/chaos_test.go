package tcp

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/simnet"
	"github.com/mpxdp/mpxdp/stack/seqnum"
)

var (
	chaosSeeds = flag.Int("chaos.seeds", 0, "number of TestChaos seeds (default 60, 2000 with -long)")
	chaosFirst = flag.Int("chaos.first", 0, "first TestChaos seed")
)

// stall toggles a node's reading on and off at random, so that windows
// close and reopen during the transfer.
type stall struct {
	n   *node
	rng *rand.Rand
	on  bool
}

func (s *stall) HandleEvent(now time.Duration, _ uint64) {
	if s.on {
		return
	}
	if s.n.ep == nil {
		s.n.sim.Schedule(now+100*ms, s, 0)
		return
	}
	s.n.noRead = !s.n.noRead
	s.n.pump(now)
	s.n.sim.Schedule(now+time.Duration(s.rng.IntN(300))*ms, s, 0)
}

// TestChaos runs many short bidirectional transfers with random links,
// buffer sizes, MSS, option sets and reader stalls, and checks that every
// one delivers both streams byte for byte and closes cleanly.
func TestChaos(t *testing.T) {
	seeds := 60
	if *longTests {
		seeds = 2000
	}
	if *chaosSeeds > 0 {
		seeds = *chaosSeeds
	}
	for seed := *chaosFirst; seed < *chaosFirst+seeds; seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 99))
		link := simnet.LinkConfig{
			Bandwidth:    int64(1+r.IntN(100)) * 1_000_000,
			Delay:        time.Duration(r.IntN(30)) * ms,
			Jitter:       time.Duration(r.IntN(3)) * ms,
			Loss:         []float64{0, 0.01, 0.05, 0.15}[r.IntN(4)],
			Reorder:      r.Float64() * 0.05,
			ReorderDelay: time.Duration(r.IntN(10)) * ms,
			Duplicate:    r.Float64() * 0.03,
			QueueBytes:   (16 + r.IntN(256)) << 10,
		}
		mk := func(iss uint32) Config {
			c := baseConfig(0)
			c.ISS = seqnum.Value(iss)
			c.MSS = []int{536, 1460, 1460, 8960}[r.IntN(4)]
			c.SendBufSize = (8 + r.IntN(512)) << 10
			c.RecvBufSize = (4 + r.IntN(128)) << 10
			c.RecvBufMax = c.RecvBufSize << r.IntN(4)
			c.NoSACK = r.IntN(4) == 0
			c.NoTimestamps = r.IntN(4) == 0
			c.NoWindowScale = r.IntN(5) == 0
			c.MaxOOORanges = 2 + r.IntN(32)
			c.MaxRetries = 30
			c.SYNRetries = 30
			return c
		}
		ca, cb := mk(r.Uint32()), mk(r.Uint32())
		p := newPair(t, uint64(seed), link, ca, cb)
		p.a.toSend, p.b.toSend = int64(r.IntN(2<<20)), int64(r.IntN(1<<20))
		p.a.closeWhenDone, p.b.closeWhenDone = true, true
		st := &stall{n: p.b, rng: r}
		p.sim.Schedule(time.Duration(r.IntN(500))*ms, st, 0)
		p.start()
		done := func() bool {
			return p.a.doneAt != 0 && p.b.doneAt != 0 && p.b.ep.State() == Closed &&
				(p.a.ep.State() == TimeWait || p.a.ep.State() == Closed)
		}
		ok := p.run(2*time.Hour, func() bool {
			if p.sim.Now() > 30*time.Minute {
				st.on = true
				p.b.noRead = false
			}
			return done()
		})
		if !ok {
			if !st.on { // the stall loop may still have been running: let it finish
				st.on = true
				p.b.noRead = false
				p.b.pump(p.sim.Now())
				ok = p.run(p.sim.Now()+time.Hour, done)
			}
		}
		if !ok && p.b.ep != nil {
			ea, eb := p.a.ep, p.b.ep
			t.Logf("A una %d nxt %d wnd %d ooo %v sacked %v rec %v lostEnd %d highRxt %d; B rcvNxt %d free %d readable %d noRead %v advEnd %d ooo %v shift %d",
				ea.sndUna, ea.sndNxt, ea.sndWnd, ea.ooo.r, ea.sacked.r, ea.inRecovery, ea.lostEnd, ea.highRxt, eb.rcvNxt, eb.rcv.Free(), eb.Readable(), p.b.noRead, eb.rcvAdvEnd, eb.ooo.r, eb.rcvShift)
			t.Logf("A %+v\nB %+v", ea.Counters(), eb.Counters())
			t.Fatalf("seed %d (%+v): no clean finish by %v: A %v err %v sent %d/%d recvd %d; B %v err %v sent %d/%d recvd %d",
				seed, link, p.sim.Now(), p.a.ep.State(), p.a.ep.Err(), p.a.sent, p.a.toSend, p.a.recvd,
				p.b.ep.State(), p.b.ep.Err(), p.b.sent, p.b.toSend, p.b.recvd)
		}
		if p.b.recvd != p.a.toSend || p.a.recvd != p.b.toSend ||
			!bytes.Equal(p.a.sendHash.Sum(nil), p.b.recvHash.Sum(nil)) || !bytes.Equal(p.b.sendHash.Sum(nil), p.a.recvHash.Sum(nil)) {
			t.Fatalf("seed %d: streams differ (A->B %d/%d, B->A %d/%d)", seed, p.b.recvd, p.a.toSend, p.a.recvd, p.b.toSend)
		}
		checkInvariants(t, p.a.ep)
		checkInvariants(t, p.b.ep)
	}
}
