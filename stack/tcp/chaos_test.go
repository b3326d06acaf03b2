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

// TestChaosAbort runs transfers over asymmetric random links and aborts
// or closes one side at a random moment: both ends must settle in CLOSED
// (or TIME-WAIT) with the right errors, and every byte read must be a
// prefix of the sent stream.
func TestChaosAbort(t *testing.T) {
	seeds := 40
	if *longTests {
		seeds = 1000
	}
	for seed := 0; seed < seeds; seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		mkLink := func() simnet.LinkConfig {
			return simnet.LinkConfig{Bandwidth: int64(1+r.IntN(50)) * 1_000_000, Delay: time.Duration(r.IntN(20)) * ms,
				Loss: []float64{0, 0.02, 0.1}[r.IntN(3)], Reorder: r.Float64() * 0.05, ReorderDelay: 3 * ms,
				Duplicate: r.Float64() * 0.02, QueueBytes: 64 << 10}
		}
		ca, cb := baseConfig(seqnum.Value(r.Uint32())), baseConfig(seqnum.Value(r.Uint32()))
		ca.MaxRetries, cb.MaxRetries = 8, 8
		ca.MaxRTO, cb.MaxRTO = 5*time.Second, 5*time.Second
		p := newPair(t, uint64(seed), mkLink(), ca, cb)
		p.ba.SetConfig(mkLink())
		p.a.toSend, p.b.toSend = 1<<20, 1<<19
		p.a.verify, p.b.verify = true, true
		p.a.closeWhenDone, p.b.closeWhenDone = true, true
		abortAt := time.Duration(r.IntN(3000)) * ms
		action := r.IntN(3) // 0: A aborts, 1: B aborts, 2: B closes with unread data possible
		acted := false
		p.start()
		p.run(time.Hour, func() bool {
			if !acted && p.sim.Now() >= abortAt && p.b.ep != nil {
				acted = true
				switch action {
				case 0:
					p.a.ep.Abort()
					p.a.pump(p.sim.Now())
				case 1:
					p.b.ep.Abort()
					p.b.pump(p.sim.Now())
				case 2:
					p.b.noRead = true
					p.b.ep.Close()
					p.b.pump(p.sim.Now())
				}
			}
			sa, sb := p.a.ep.State(), Closed
			if p.b.ep != nil {
				sb = p.b.ep.State()
			}
			return acted && (sa == Closed || sa == TimeWait) && (sb == Closed || sb == TimeWait)
		})
		if p.b.ep == nil {
			continue
		}
		// Let timers (TIME-WAIT, retransmissions) run out.
		p.run(p.sim.Now()+10*time.Minute, nil)
		ea, eb := p.a.ep, p.b.ep
		// The aborting side is CLOSED. The other learns of it from the RST,
		// or, if the RST was lost, from the RST its next retransmission
		// draws; only with nothing outstanding may it stay half-open
		// (waiting for data, as TCP does without keepalives).
		settled := func(e *Endpoint) bool {
			if e.State() == Closed {
				return e.NextTimer() == 0
			}
			idle := e.SndUna() == e.SndNxt() && e.NextTimer() == 0
			return idle && (e.State() == Established || e.State() == FinWait2 || e.State() == CloseWait)
		}
		if !settled(ea) || !settled(eb) || (action == 0 && ea.State() != Closed) || (action > 0 && eb.State() != Closed) {
			t.Fatalf("seed %d action %d at %v: states %v (%v, timer %v) / %v (%v, timer %v) after the abort", seed, action, abortAt,
				ea.State(), ea.Err(), ea.NextTimer(), eb.State(), eb.Err(), eb.NextTimer())
		}
		checkInvariants(t, ea)
		checkInvariants(t, eb)
	}
}
