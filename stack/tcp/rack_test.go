package tcp

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

func TestTxQueue(t *testing.T) {
	var q txQueue
	base := seqnum.Value(0xfffffff0) // wraps
	for i := 1; i <= 200; i++ {
		q.push(base.Add(seqnum.Size(10*i)), time.Duration(i))
	}
	if q.n != 200 || len(q.r) < 200 {
		t.Fatalf("n %d cap %d", q.n, len(q.r))
	}
	for _, c := range []struct {
		seq  seqnum.Value
		want int
	}{{base, 0}, {base.Add(9), 0}, {base.Add(10), 1}, {base.Add(1999), 199}, {base.Add(2000), 200}} {
		if got := q.find(c.seq); got != c.want {
			t.Errorf("find(base+%d) = %d, want %d", c.seq-base, got, c.want)
		}
	}
	for range 150 {
		q.pop()
	}
	for i := 201; i <= 300; i++ { // wraps the ring
		q.push(base.Add(seqnum.Size(10*i)), time.Duration(i))
	}
	if q.n != 150 || q.at(0).end != base.Add(1510) || q.at(149).end != base.Add(3000) || q.at(149).at != 300 {
		t.Fatalf("after wrap: n %d first %+v last %+v", q.n, *q.at(0), *q.at(q.n - 1))
	}
	if got := q.find(base.Add(2505)); q.at(got).end != base.Add(2510) {
		t.Errorf("find in the wrapped part: record %+v", *q.at(got))
	}
}

// sendSegs writes n full segments at a and returns what a sends at now.
func sendSegs(t *testing.T, a *Endpoint, n int, now time.Duration) []Segment {
	t.Helper()
	a.Write(make([]byte, n*(a.MSS()-12))) // timestamps take 12 bytes
	segs := outs(a, now)
	if len(segs) != n {
		t.Fatalf("sent %d segments, want %d", len(segs), n)
	}
	return segs
}

// TestRACKDetectsLossBelowDupThresh: one segment lost with a single
// segment SACKed above it (no DupThresh, no tail): RACK's reordering
// timer marks it lost a quarter RTT after the later segment's delivery,
// long before a probe or the RTO.
func TestRACKDetectsLossBelowDupThresh(t *testing.T) {
	a, b := connect(t, baseConfig(issA), baseConfig(issB))
	now := 10 * ms
	segs := sendSegs(t, a, 4, now)
	deliver(segs, b, now+ms)
	deliver(outs(b, now+ms), a, now+2*ms) // RTT 2 ms, measured from the send times
	if a.SRTT() != 2*ms {
		t.Fatalf("SRTT %v, want 2ms exactly (from the send times)", a.SRTT())
	}
	now = 20 * ms
	segs = sendSegs(t, a, 3, now)
	deliver([]Segment{segs[0], segs[2]}, b, now+ms) // segs[1] lost
	deliver(outs(b, now+ms), a, now+2*ms)
	if c := a.Counters(); c.FastRetransmits != 0 || c.RetransSegs != 0 {
		t.Fatalf("recovery before the reordering window passed: %+v", c)
	}
	timer := a.NextTimer()
	// RACK.rtt is 2 ms, reo_wnd = min_RTT/4 = 0.5 ms: the later segment
	// was sent at the same time, so the deadline is send time + 2.5 ms.
	if want := now + 2*ms + ms/2; timer != want {
		t.Fatalf("next timer at %v, want the RACK reordering timer at %v", timer, want)
	}
	a.OnTimer(timer)
	rx := outs(a, timer)
	if len(rx) != 1 || rx[0].Seq != segs[1].Seq || len(rx[0].Payload) != len(segs[1].Payload) {
		t.Fatalf("after the reordering timer: %+v, want the retransmission of seq %d", rx, segs[1].Seq)
	}
	deliver(rx, b, timer+ms)
	deliver(outs(b, timer+ms), a, timer+2*ms)
	if a.SndUna() != a.SndNxt() {
		t.Fatalf("una %d nxt %d after the repair", a.SndUna(), a.SndNxt())
	}
	if c := a.Counters(); c.FastRetransmits != 1 || c.RACKRecoveries != 1 || c.RACKReoTimeouts != 1 || c.RTOs != 0 || c.TailLossProbes != 0 {
		t.Errorf("counters %+v: want one recovery, no RTO, no probe", c)
	}
}

// TestRACKLostRetransmission: a retransmission is lost again and nothing
// sent after it is delivered except one new segment; RACK marks the
// retransmission lost once that segment is SACKed and the window passed.
func TestRACKLostRetransmission(t *testing.T) {
	a, b := connect(t, baseConfig(issA), baseConfig(issB))
	now := 10 * ms
	segs := sendSegs(t, a, 6, now)
	deliver(segs[:1], b, now+ms)
	deliver(segs[2:], b, now+ms) // segs[1] lost: four SACKed above it
	deliver(outs(b, now+ms), a, now+2*ms)
	now += 2 * ms
	rx := outs(a, now)
	if len(rx) == 0 || rx[0].Seq != segs[1].Seq {
		t.Fatalf("fast retransmission %+v, want seq %d first", rx, segs[1].Seq)
	}
	// The retransmission is lost; new data goes out after it and arrives.
	now += ms
	more := sendSegs(t, a, 1, now)
	deliver(more, b, now+ms)
	deliver(outs(b, now+ms), a, now+2*ms)
	now += 2 * ms
	again := outs(a, now)
	if len(again) == 0 {
		if timer := a.NextTimer(); timer != 0 && timer-now < 10*ms {
			a.OnTimer(timer)
			now = timer
			again = outs(a, now)
		}
	}
	if len(again) == 0 || again[0].Seq != segs[1].Seq {
		t.Fatalf("lost retransmission not resent before the RTO: %+v (timer %v)", again, a.NextTimer()-now)
	}
	deliver(again, b, now+ms)
	deliver(outs(b, now+ms), a, now+2*ms)
	if a.SndUna() != a.SndNxt() || a.Counters().RTOs != 0 || a.Counters().LostRetransmits == 0 {
		t.Errorf("una %d nxt %d, counters %+v", a.SndUna(), a.SndNxt(), a.Counters())
	}
}

// TestHandshakeRTTFromSendTime: the handshake times the SYN and SYN-ACK
// from their send times (microsecond resolution), not from millisecond
// timestamps, unless they were sent more than once (Karn).
func TestHandshakeRTTFromSendTime(t *testing.T) {
	a, b := connect(t, baseConfig(issA), baseConfig(issB)) // SYN at 0, SYN-ACK at 1 ms, ACK at 3 ms
	if a.SRTT() != 2*ms || b.SRTT() != 2*ms {
		t.Errorf("handshake SRTT %v / %v, want 2ms / 2ms", a.SRTT(), b.SRTT())
	}

	// A SYN-ACK sent twice (the peer's SYN came again) is ambiguous: the
	// sample comes from the timestamp echo of the ACK instead.
	a2, _ := NewActive(baseConfig(issA), 0)
	syn := outs(a2, 0)
	b2, _ := NewPassive(baseConfig(issB), &syn[0], 0)
	outs(b2, 0) // first SYN-ACK, lost
	deliver(syn, b2, 500*time.Microsecond)
	synack := outs(b2, 500*time.Microsecond) // answered again
	if len(synack) != 1 || synack[0].Flags != FlagSYN|FlagACK {
		t.Fatalf("second SYN-ACK %+v", synack)
	}
	deliver(synack, a2, 5*ms)
	deliver(outs(a2, 5*ms), b2, 10*ms)
	if b2.State() != Established {
		t.Fatalf("B %v", b2.State())
	}
	if got := b2.SRTT(); got == 10*ms-500*time.Microsecond {
		t.Errorf("SRTT %v taken from the second SYN-ACK's send time", got)
	}
	if got := b2.SRTT(); got != 10*ms {
		t.Errorf("SRTT %v, want 10ms from the timestamp echo of the first SYN-ACK", got)
	}
}
