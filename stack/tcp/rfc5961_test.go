package tcp

import (
	"errors"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/simnet"
	"github.com/mpxdp/mpxdp/stack/seqnum"
)

func TestRFC5961(t *testing.T) {
	rcvNxt := issB + 1
	sndNxt := issA + 1
	data := []byte("payload")
	type want struct {
		state    State
		err      error
		outFlags []Flags // flags of the segments sent in reply
		readable int
		counter  func(c Counters) uint64
	}
	cases := []struct {
		name string
		seg  Segment
		want want
	}{
		{"RST exact", Segment{Seq: rcvNxt, Flags: FlagRST}, want{Closed, ErrConnectionReset, nil, 0,
			func(c Counters) uint64 { return c.RSTsIn }}},
		{"RST in window", Segment{Seq: rcvNxt + 100, Flags: FlagRST}, want{Established, nil, []Flags{FlagACK}, 0,
			func(c Counters) uint64 { return c.InWindowRST + c.ChallengeACK - 1 }}},
		{"RST beyond window", Segment{Seq: rcvNxt + 200000, Flags: FlagRST}, want{Established, nil, nil, 0,
			func(c Counters) uint64 { return c.OutOfWindowRST }}},
		{"RST before rcv_nxt", Segment{Seq: rcvNxt - 1, Flags: FlagRST}, want{Established, nil, nil, 0,
			func(c Counters) uint64 { return c.OutOfWindowRST }}},
		{"SYN at rcv_nxt", Segment{Seq: rcvNxt, Flags: FlagSYN}, want{Established, nil, []Flags{FlagACK}, 0,
			func(c Counters) uint64 { return c.SYNInSync + c.ChallengeACK - 1 }}},
		{"SYN-ACK in window", Segment{Seq: rcvNxt + 10, Ack: sndNxt, Flags: FlagSYN | FlagACK}, want{Established, nil, []Flags{FlagACK}, 0,
			func(c Counters) uint64 { return c.SYNInSync }}},
		{"SYN out of window", Segment{Seq: rcvNxt + 1_000_000, Flags: FlagSYN}, want{Established, nil, []Flags{FlagACK}, 0,
			func(c Counters) uint64 { return c.BadSeq }}},
		{"ACK too new", Segment{Seq: rcvNxt, Ack: sndNxt + 10, Flags: FlagACK, Payload: data}, want{Established, nil, []Flags{FlagACK}, 0,
			func(c Counters) uint64 { return c.AckTooNew }}},
		{"ACK too old", Segment{Seq: rcvNxt, Ack: sndNxt - 65535 - 1, Flags: FlagACK, Payload: data}, want{Established, nil, []Flags{FlagACK}, 0,
			func(c Counters) uint64 { return c.AckTooOld + c.ChallengeACK - 1 }}},
		{"ACK old but acceptable", Segment{Seq: rcvNxt, Ack: sndNxt - 100, Flags: FlagACK, Payload: data}, want{Established, nil, nil, len(data),
			func(c Counters) uint64 { return 1 - c.AckTooOld }}},
		{"data beyond window", Segment{Seq: rcvNxt + 1_000_000, Ack: sndNxt, Flags: FlagACK, Payload: data}, want{Established, nil, []Flags{FlagACK}, 0,
			func(c Counters) uint64 { return c.BadSeq }}},
		{"no ACK flag", Segment{Seq: rcvNxt, Flags: FlagPSH, Payload: data}, want{Established, nil, nil, 0,
			func(c Counters) uint64 { return c.NoACKFlag }}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, _ := connect(t, testConfig(issA), testConfig(issB))
			a.Input(&c.seg, 10*ms)
			got := outs(a, 10*ms)
			w := c.want
			if a.State() != w.state || !errors.Is(a.Err(), w.err) {
				t.Errorf("state %v err %v, want %v %v", a.State(), a.Err(), w.state, w.err)
			}
			if len(got) != len(w.outFlags) {
				t.Fatalf("sent %d segments %+v, want flags %v", len(got), got, w.outFlags)
			}
			for i, f := range w.outFlags {
				if got[i].Flags != f || got[i].Seq != sndNxt || got[i].Ack != rcvNxt {
					t.Errorf("reply %d: %v seq %d ack %d, want %v seq %d ack %d", i, got[i].Flags, got[i].Seq, got[i].Ack, f, sndNxt, rcvNxt)
				}
			}
			if a.Readable() != w.readable {
				t.Errorf("readable %d, want %d", a.Readable(), w.readable)
			}
			if n := w.counter(a.Counters()); n != 1 {
				t.Errorf("counter check = %d, want 1; counters %+v", n, a.Counters())
			}
		})
	}
}

func TestChallengeACKRateLimit(t *testing.T) {
	cfg := testConfig(issA)
	cfg.ChallengeACKLimit = 10
	a, _ := connect(t, cfg, testConfig(issB))
	sent := 0
	for i := 0; i < 15; i++ {
		a.Input(&Segment{Seq: issB + 50, Flags: FlagRST}, 10*ms)
		sent += len(outs(a, 10*ms))
	}
	if c := a.Counters(); sent != 10 || c.ChallengeACK != 10 || c.ChallengeACKLimit != 5 {
		t.Errorf("sent %d challenge ACKs, counters %d/%d; want 10 sent, 5 limited", sent, c.ChallengeACK, c.ChallengeACKLimit)
	}
	a.Input(&Segment{Seq: issB + 50, Flags: FlagRST}, 1100*ms)
	if len(outs(a, 1100*ms)) != 1 {
		t.Error("no challenge ACK a second later")
	}
}

func TestPAWS(t *testing.T) {
	a, b := connect(t, baseConfig(issA), baseConfig(issB))
	recent := a.tsRecent
	seg := Segment{Seq: issB + 1, Ack: issA + 1, Flags: FlagACK, Window: 1000, Payload: []byte("old")}
	seg.Options.HasTS = true
	seg.Options.TSVal = recent - 1
	a.Input(&seg, 10*ms)
	if r := outs(a, 10*ms); len(r) != 1 || a.Readable() != 0 || a.Counters().PAWSDrop != 1 {
		t.Fatalf("old timestamp: replies %d, readable %d, PAWS drops %d; want 1 ACK, nothing queued, 1 drop",
			len(r), a.Readable(), a.Counters().PAWSDrop)
	}
	seg.Options.TSVal = recent + 5
	seg.Payload = []byte("new")
	a.Input(&seg, 20*ms)
	if a.Readable() != 3 || a.tsRecent != recent+5 {
		t.Fatalf("fresh timestamp: readable %d, TS.Recent %d", a.Readable(), a.tsRecent)
	}
	// After 24 days without updates TS.Recent is no longer trusted.
	seg.Seq += 3
	seg.Options.TSVal = recent
	a.Input(&seg, 25*24*time.Hour)
	if a.Readable() != 6 {
		t.Errorf("after 25 idle days an old timestamp was still rejected (readable %d)", a.Readable())
	}
	_ = b
}

func TestDelayedAndQuickACK(t *testing.T) {
	a, b := connect(t, testConfig(issA), testConfig(issB))
	a.Write(make([]byte, 3000))
	segs := outs(a, 10*ms)
	if len(segs) != 3 {
		t.Fatalf("%d segments", len(segs))
	}
	deliver(segs[:1], b, 20*ms)
	if r := outs(b, 20*ms); len(r) != 0 || b.NextTimer() != 60*ms {
		t.Fatalf("first segment: %d ACKs, timer %v; want a delayed ACK due at 60ms", len(r), b.NextTimer())
	}
	deliver(segs[1:2], b, 21*ms)
	if r := outs(b, 21*ms); len(r) != 1 || r[0].Ack != segs[1].Seq+1460 {
		t.Fatalf("second full segment: %+v, want an immediate ACK", r)
	}
	deliver(segs[2:], b, 22*ms)
	if r := outs(b, 22*ms); len(r) != 0 {
		t.Fatal("small segment ACKed at once")
	}
	b.OnTimer(62 * ms)
	if r := outs(b, 62*ms); len(r) != 1 || r[0].Ack != issA+1+3000 || b.Counters().DelayedACKs != 1 {
		t.Fatalf("delayed ACK: %+v", r)
	}
	// Out-of-order data is acknowledged at once.
	a.Write(make([]byte, 3000))
	segs = outs(a, 70*ms)
	deliver(segs[1:2], b, 80*ms)
	if r := outs(b, 80*ms); len(r) != 1 || r[0].Ack != segs[0].Seq {
		t.Fatalf("out-of-order segment: %+v, want an immediate duplicate ACK", r)
	}
	deliver(segs[0:1], b, 81*ms)
	if r := outs(b, 81*ms); len(r) != 1 || r[0].Ack != segs[1].Seq+seqnum.Value(len(segs[1].Payload)) {
		t.Fatalf("hole filled: %+v, want an immediate cumulative ACK", r)
	}
}

func TestSACKBlocksAndOOOBound(t *testing.T) {
	ca, cb := testConfig(issA), testConfig(issB)
	cb.MaxOOORanges = 3
	a, b := connect(t, ca, cb)
	_ = a
	base := issA + 1
	mk := func(off, n int) Segment {
		return Segment{Seq: base + seqnum.Value(off), Ack: issB + 1, Flags: FlagACK, Window: 1000, Payload: make([]byte, n)}
	}
	for i, off := range []int{1000, 3000, 5000} {
		s := mk(off, 100)
		b.Input(&s, 10*ms)
		r := outs(b, 10*ms)
		if len(r) != 1 || int(r[0].Options.NumSACK) != i+1 {
			t.Fatalf("after OOO segment %d: %+v", i, r)
		}
		first := r[0].Options.SACK[0]
		if first.Start != s.Seq || first.End != s.Seq+100 {
			t.Errorf("first SACK block %v, want the most recent segment [%d,%d)", first, s.Seq, s.Seq+100)
		}
	}
	s := mk(7000, 100)
	b.Input(&s, 11*ms)
	if b.Counters().OOOQueueFull != 1 || b.OOOBytes() != 300 {
		t.Errorf("fourth hole: OOOQueueFull %d, OOO bytes %d; want 1 and 300", b.Counters().OOOQueueFull, b.OOOBytes())
	}
	outs(b, 11*ms)
	// Adjacent data merges into an existing range without a new slot.
	s = mk(1100, 100)
	b.Input(&s, 12*ms)
	if b.OOOBytes() != 400 || b.ooo.len() != 3 {
		t.Errorf("merge: %d bytes in %d ranges", b.OOOBytes(), b.ooo.len())
	}
	// Filling the hole at rcv_nxt delivers up to the first gap.
	s = mk(0, 1000)
	b.Input(&s, 13*ms)
	if b.Readable() != 1200 || b.RcvNxt() != base+1200 || b.ooo.len() != 2 {
		t.Errorf("readable %d rcv_nxt %d ranges %d", b.Readable(), b.RcvNxt(), b.ooo.len())
	}
}

func TestZeroWindowPersist(t *testing.T) {
	ca, cb := baseConfig(issA), baseConfig(issB)
	cb.RecvBufSize, cb.RecvBufMax = 16384, 16384
	p := newPair(t, 1, simnet.LinkConfig{Bandwidth: 1e8, Delay: 5 * ms}, ca, cb)
	const size = 200_000
	p.a.toSend, p.a.closeWhenDone = size, true
	p.b.closeWhenDone = true
	p.b.noRead = true
	p.start()
	p.run(3*time.Second, nil)
	if p.b.ep == nil {
		t.Fatalf("no connection: %+v %+v %v", p.ab.Stats(), p.a.ep.Counters(), p.sim.Now())
	}
	if p.a.ep.SendWindow() != 0 || p.b.ep.Readable() != 16384 {
		t.Fatalf("with a reader that stopped: window %d, readable %d; want 0 and a full buffer", p.a.ep.SendWindow(), p.b.ep.Readable())
	}
	probes := p.a.ep.Counters().WindowProbes
	if st := p.a.ep.State(); probes == 0 || (st != FinWait1 && st != Closing) || p.a.ep.Err() != nil {
		t.Fatalf("zero window: %d probes, state %v, err %v", probes, p.a.ep.State(), p.a.ep.Err())
	}
	// The reader resumes, but its window update is lost: the next probe
	// must find the open window.
	p.ba.SetConfig(simnet.LinkConfig{Bandwidth: 1e8, Delay: 5 * ms, Loss: 1})
	p.b.noRead = false
	p.b.pump(p.sim.Now())
	p.ba.SetConfig(simnet.LinkConfig{Bandwidth: 1e8, Delay: 5 * ms})
	ok := p.run(p.sim.Now()+time.Minute, func() bool { return p.b.doneAt != 0 })
	if !ok || p.b.recvd != size {
		t.Fatalf("after the window opened: received %d of %d", p.b.recvd, size)
	}
	if p.a.ep.Counters().WindowProbes <= probes || p.b.ep.Counters().WindowUpdates == 0 {
		t.Errorf("probes %d (before %d), window updates %d", p.a.ep.Counters().WindowProbes, probes, p.b.ep.Counters().WindowUpdates)
	}
}

// TestQuickACKShort checks Config.QuickACKShort: an in-order segment
// shorter than the largest one received is acknowledged at once, full
// segments keep the every-second-segment rule, and the default delays it.
func TestQuickACKShort(t *testing.T) {
	cfgB := testConfig(issB)
	cfgB.QuickACKShort = true
	a, b := connect(t, testConfig(issA), cfgB)
	a.Write(make([]byte, 1460+1460+1460+700))
	segs := outs(a, 10*ms)
	if len(segs) != 4 {
		t.Fatalf("%d segments, want 4", len(segs))
	}
	deliver(segs[:1], b, 20*ms)
	if r := outs(b, 20*ms); len(r) != 0 {
		t.Fatalf("first full segment: %d ACKs, want the ACK delayed", len(r))
	}
	deliver(segs[1:2], b, 21*ms)
	if r := outs(b, 21*ms); len(r) != 1 {
		t.Fatalf("second full segment: %d ACKs, want one at once", len(r))
	}
	deliver(segs[2:3], b, 22*ms)
	if r := outs(b, 22*ms); len(r) != 0 {
		t.Fatalf("third full segment: %d ACKs, want the ACK delayed", len(r))
	}
	deliver(segs[3:], b, 23*ms)
	r := outs(b, 23*ms)
	if len(r) != 1 || r[0].Ack != issA+1+1460*3+700 {
		t.Fatalf("short tail segment: %+v, want one ACK of everything at once", r)
	}
	if b.Counters().DelayedACKs != 0 {
		t.Fatalf("DelayedACKs %d, want 0", b.Counters().DelayedACKs)
	}
}

// TestOutputToOverwritesSegment checks that OutputTo builds the whole
// segment, leaving nothing of what the reused Segment held before.
func TestOutputToOverwritesSegment(t *testing.T) {
	a, _ := connect(t, testConfig(issA), testConfig(issB))
	a.Write([]byte("0123456789"))
	junk := Segment{Seq: 1, Ack: 2, Flags: FlagSYN | FlagFIN | FlagRST, Window: 3, Payload: []byte("stale"),
		Options: Options{MSS: 1000, HasWScale: true, WScale: 7, SACKPermitted: true, NumSACK: 2, Ext: []byte{30, 2}}}
	seg := junk
	buf := make([]byte, 1500)
	if !a.OutputTo(&seg, 10*ms, buf) {
		t.Fatal("OutputTo: nothing to send after Write")
	}
	if string(seg.Payload) != "0123456789" || seg.Flags != FlagACK|FlagPSH || seg.Options.MSS != 0 || seg.Options.HasWScale ||
		seg.Options.SACKPermitted || seg.Options.NumSACK != 0 || seg.Options.Ext != nil || seg.Seq != issA+1 {
		t.Fatalf("OutputTo left %+v", seg)
	}
	if a.OutputTo(&seg, 10*ms, buf) {
		t.Fatalf("a second OutputTo sent %+v", seg)
	}
}
