package tcp

import "testing"

// TestPRRSpreadsTheReduction: a flight of forty-odd segments, the first
// lost, the others SACKed one ACK at a time. While pipe is above ssthresh
// PRR sends ssthresh/RecoverFS (0.7 with CUBIC) new segments per delivered
// one; without it the sender would be silent until pipe fell below the new
// cwnd (a third of the flight later) and then send one per ACK.
func TestPRRSpreadsTheReduction(t *testing.T) {
	a, b := connect(t, baseConfig(issA), baseConfig(issB))
	now := 10 * ms
	seg := a.MSS() - 12 // timestamps take 12 bytes
	// Slow start without loss until the window holds 40 segments.
	for a.Info().Cwnd < 40*seg {
		a.Write(make([]byte, 80*seg))
		deliver(outs(a, now), b, now+ms)
		b.Read(make([]byte, 1<<20))
		deliver(outs(b, now+ms), a, now+2*ms)
		now += 10 * ms
	}
	a.Write(make([]byte, 200*seg))
	segs := outs(a, now)
	if len(segs) < 40 {
		t.Fatalf("flight of %d segments, want >= 40", len(segs))
	}
	var perACK []int
	started := false
	for i := 1; i < len(segs); i++ { // segs[0] is lost
		deliver(segs[i:i+1], b, now+ms)
		deliver(outs(b, now+ms), a, now+ms)
		sent := outs(a, now+ms)
		if !started && a.Info().InRecovery {
			started = true
			if len(sent) == 0 || sent[0].Seq != segs[0].Seq {
				t.Fatalf("recovery started without the fast retransmission: %+v", sent)
			}
			sent = sent[1:]
		}
		if started {
			perACK = append(perACK, len(sent))
		}
	}
	info := a.Info()
	// The first quarter of the recovery's ACKs: pipe is still above
	// ssthresh (the new cwnd) all along.
	quarter := perACK[1 : len(perACK)/4]
	total := 0
	for _, n := range quarter {
		total += n
	}
	if want := len(quarter) * 5 / 10; total < want {
		t.Errorf("%d new segments over %d ACKs early in recovery (per ACK %v), want >= %d: PRR sends about 0.7 per delivered segment", total, len(quarter), perACK, want)
	}
	if total > len(quarter)*8/10+1 {
		t.Errorf("%d new segments over %d ACKs early in recovery (per ACK %v): more than PRR's 0.7 per delivered segment", total, len(quarter), perACK)
	}
	if c := a.Counters(); c.RTOs != 0 || c.FastRetransmits != 1 || info.Ssthresh >= len(segs)*seg {
		t.Errorf("counters %+v, ssthresh %d", c, info.Ssthresh)
	}
}
