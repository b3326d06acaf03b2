package tcp

import "testing"

func TestTailLossProbeRepairsTailWithoutRTO(t *testing.T) {
	a, b := connect(t, baseConfig(issA), baseConfig(issB))
	data := make([]byte, 4*1448)
	for i := range data {
		data[i] = byte(i)
	}
	a.Write(data)
	segs := outs(a, 10*ms)
	if len(segs) != 4 {
		t.Fatalf("%d segments", len(segs))
	}
	deliver(segs[:2], b, 11*ms) // the last two are lost
	deliver(outs(b, 11*ms), a, 12*ms)
	pto := a.NextTimer()
	if pto == 0 || pto-12*ms >= a.RTO() {
		t.Fatalf("probe timer at %v, want before the RTO (%v after 12ms)", pto, a.RTO())
	}
	a.OnTimer(pto)
	probe := outs(a, pto)
	if len(probe) != 1 || probe[0].Seq != segs[3].Seq || a.Counters().TailLossProbes != 1 {
		t.Fatalf("probe %+v, want the last segment again", probe)
	}
	deliver(probe, b, pto+ms)
	deliver(outs(b, pto+ms), a, pto+2*ms) // SACKs the probe: the hole below is lost
	rx := outs(a, pto+2*ms)
	if len(rx) != 1 || rx[0].Seq != segs[2].Seq || a.Counters().TLPRecoveries != 1 {
		t.Fatalf("after the probe's ACK: %+v, want the retransmission of the hole", rx)
	}
	deliver(rx, b, pto+3*ms)
	deliver(outs(b, pto+3*ms), a, pto+4*ms)
	buf := make([]byte, len(data)+1)
	if n := b.Read(buf); n != len(data) || string(buf[:n]) != string(data) {
		t.Fatalf("read %d bytes", n)
	}
	if a.SndUna() != a.SndNxt() || a.Counters().RTOs != 0 {
		t.Errorf("una %d nxt %d RTOs %d", a.SndUna(), a.SndNxt(), a.Counters().RTOs)
	}
}

func TestDSACKForDuplicates(t *testing.T) {
	a, b := connect(t, baseConfig(issA), baseConfig(issB))
	a.Write(make([]byte, 3000))
	segs := outs(a, 10*ms)
	deliver(segs, b, 11*ms)
	outs(b, 11*ms)
	deliver(segs[:1], b, 12*ms) // a duplicate below rcv_nxt
	r := outs(b, 12*ms)
	if len(r) != 1 || r[0].Options.NumSACK != 1 {
		t.Fatalf("reply to a duplicate: %+v, want an ACK with one D-SACK block", r)
	}
	d := r[0].Options.SACK[0]
	if d.Start != segs[0].Seq || int(d.Start.Size(d.End)) != len(segs[0].Payload) || !d.End.LessThanEq(r[0].Ack) {
		t.Errorf("D-SACK %v, want the duplicate [%d,+%d) below the ACK %d", d, segs[0].Seq, len(segs[0].Payload), r[0].Ack)
	}
	if b.Counters().DSACKsOut != 1 {
		t.Errorf("DSACKsOut %d", b.Counters().DSACKsOut)
	}
	deliver(r, a, 13*ms)
	if a.Counters().DSACKsIn != 1 || a.Counters().InvalidSACK != 0 {
		t.Errorf("sender: DSACKsIn %d InvalidSACK %d", a.Counters().DSACKsIn, a.Counters().InvalidSACK)
	}
}
