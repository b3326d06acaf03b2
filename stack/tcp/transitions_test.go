package tcp

import "testing"

// reach returns an endpoint in state st (with its peer), built by real
// exchanges: segments still "in flight" are simply not delivered.
func reach(t *testing.T, st State) *Endpoint {
	t.Helper()
	switch st {
	case SynRcvd:
		a, _ := NewActive(testConfig(issA), 0)
		b, _ := NewPassive(testConfig(issB), &outs(a, 0)[0], ms)
		outs(b, ms)
		return b
	}
	a, b := connect(t, testConfig(issA), testConfig(issB))
	now := 10 * ms
	switch st {
	case Established:
	case FinWait1:
		a.CloseWrite()
		outs(a, now)
	case FinWait2:
		a.CloseWrite()
		exchange(a, b, now)
	case CloseWait:
		b.CloseWrite()
		deliver(outs(b, now), a, now)
		outs(a, now)
	case LastAck:
		b.CloseWrite()
		deliver(outs(b, now), a, now)
		a.CloseWrite()
		outs(a, now)
	case Closing:
		a.CloseWrite()
		b.CloseWrite()
		fa := outs(a, now)
		deliver(outs(b, now), a, now)
		outs(a, now) // A's ACK of B's FIN is lost
		_ = fa       // and so is A's FIN
	case TimeWait:
		a.CloseWrite()
		exchange(a, b, now)
		b.CloseWrite()
		deliver(outs(b, now), a, now)
	}
	if a.State() != st {
		t.Fatalf("reach(%v) got %v", st, a.State())
	}
	return a
}

func TestStateTransitionTable(t *testing.T) {
	type in int
	const (
		rstExact  in = iota // RST at rcv_nxt
		finAckAll           // FIN at rcv_nxt acknowledging everything we sent
		ackAll              // pure ACK of everything we sent
	)
	cases := []struct {
		from State
		want [3]State // after rstExact, finAckAll, ackAll
	}{
		{SynRcvd, [3]State{Closed, CloseWait, Established}},
		{Established, [3]State{Closed, CloseWait, Established}},
		{FinWait1, [3]State{Closed, TimeWait, FinWait2}},
		{FinWait2, [3]State{Closed, TimeWait, FinWait2}},
		{CloseWait, [3]State{Closed, CloseWait, CloseWait}},
		{Closing, [3]State{Closed, TimeWait, TimeWait}},
		{LastAck, [3]State{Closed, Closed, Closed}},
		{TimeWait, [3]State{Closed, TimeWait, TimeWait}},
	}
	for _, c := range cases {
		for i, want := range c.want {
			e := reach(t, c.from)
			seg := Segment{Seq: e.RcvNxt(), Ack: e.SndNxt(), Window: 1000}
			switch in(i) {
			case rstExact:
				seg.Flags = FlagRST
			case finAckAll:
				seg.Flags = FlagFIN | FlagACK
			case ackAll:
				seg.Flags = FlagACK
			}
			if c.from == SynRcvd && in(i) != rstExact {
				seg.Ack = issB + 1
			}
			e.Input(&seg, 50*ms)
			outs(e, 50*ms)
			if e.State() != want {
				t.Errorf("%v + input %d (%v): %v, want %v", c.from, i, seg.Flags, e.State(), want)
			}
		}
	}
}
