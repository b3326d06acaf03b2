package tcp

import (
	"errors"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/stack/seqnum"
	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

const (
	issA seqnum.Value = 1000
	issB seqnum.Value = 9000
	ms                = time.Millisecond
)

// outs collects every segment ep wants to send now, with copied payloads.
func outs(ep *Endpoint, now time.Duration) []Segment {
	var r []Segment
	buf := make([]byte, 65536)
	for i := 0; i < 10000; i++ {
		s, ok := ep.Output(now, buf)
		if !ok {
			return r
		}
		s.Payload = append([]byte(nil), s.Payload...)
		s.Options.Ext = append([]byte(nil), s.Options.Ext...)
		r = append(r, s)
	}
	panic("Output never stops")
}

func deliver(segs []Segment, ep *Endpoint, now time.Duration) {
	for i := range segs {
		ep.Input(&segs[i], now)
	}
}

func testConfig(iss seqnum.Value) Config {
	return Config{ISS: iss, CC: cc.NewReno(1460), TimeWait: time.Second, NoTimestamps: true,
		RecvBufSize: 64 << 10, RecvBufMax: 64 << 10}
}

// connect performs a three-way handshake between a (active) and b.
func connect(t *testing.T, ca, cb Config) (a, b *Endpoint) {
	t.Helper()
	a, err := NewActive(ca, 0)
	if err != nil {
		t.Fatal(err)
	}
	syn := outs(a, 0)
	if len(syn) != 1 || syn[0].Flags != FlagSYN {
		t.Fatalf("active open sent %v, want one SYN", syn)
	}
	b, err = NewPassive(cb, &syn[0], ms)
	if err != nil {
		t.Fatal(err)
	}
	synack := outs(b, ms)
	if len(synack) != 1 || synack[0].Flags != FlagSYN|FlagACK || synack[0].Ack != ca.ISS+1 {
		t.Fatalf("passive open sent %+v, want one SYN-ACK", synack)
	}
	deliver(synack, a, 2*ms)
	ack := outs(a, 2*ms)
	if len(ack) != 1 || ack[0].Flags != FlagACK || ack[0].Ack != cb.ISS+1 {
		t.Fatalf("handshake ACK %+v", ack)
	}
	deliver(ack, b, 3*ms)
	if a.State() != Established || b.State() != Established {
		t.Fatalf("after handshake: %v / %v", a.State(), b.State())
	}
	return a, b
}

// exchange delivers segments both ways until both endpoints are quiet.
func exchange(a, b *Endpoint, now time.Duration) {
	for i := 0; i < 1000; i++ {
		sa := outs(a, now)
		sb := outs(b, now)
		if len(sa) == 0 && len(sb) == 0 {
			return
		}
		deliver(sa, b, now)
		deliver(sb, a, now)
	}
	panic("exchange does not settle")
}

func TestHandshakeNegotiatesOptions(t *testing.T) {
	ca := baseConfig(issA)
	cb := baseConfig(issB)
	cb.MSS = 1400
	a, err := NewActive(ca, 0)
	if err != nil {
		t.Fatal(err)
	}
	syn := outs(a, 0)[0]
	o := syn.Options
	if o.MSS != 1460 || !o.HasWScale || o.WScale != 9 || !o.SACKPermitted || !o.HasTS || syn.Seq != issA {
		t.Fatalf("SYN %+v: want MSS 1460, wscale 9 (16 MiB max buffer), SACK-permitted, timestamps, seq %d", syn, issA)
	}
	b, _ := NewPassive(cb, &syn, ms)
	sa := outs(b, ms)[0]
	if sa.Options.TSEcr != syn.Options.TSVal || sa.Options.MSS != 1400 || !sa.Options.SACKPermitted {
		t.Fatalf("SYN-ACK options %+v", sa.Options)
	}
	deliver([]Segment{sa}, a, 11*ms)
	deliver(outs(a, 11*ms), b, 12*ms)
	if a.MSS() != 1400 || b.MSS() != 1400 {
		t.Errorf("MSS %d/%d, want the smaller, 1400", a.MSS(), b.MSS())
	}
	if a.SRTT() != 11*ms {
		t.Errorf("SRTT from the SYN-ACK timestamp echo = %v, want 11ms (SYN at 0, SYN-ACK in at 11ms)", a.SRTT())
	}
	if !a.sackOK || !b.sackOK || !a.tsOK || !b.tsOK || a.sndShift != 9 || b.sndShift != 9 {
		t.Errorf("negotiation: sack %v/%v ts %v/%v shift %d/%d", a.sackOK, b.sackOK, a.tsOK, b.tsOK, a.sndShift, b.sndShift)
	}
	if a.SendWindow() != 65535 {
		t.Errorf("window from the SYN-ACK = %d, want 65535 (a SYN's window is never scaled)", a.SendWindow())
	}
	b.Write([]byte("x"))
	deliver(outs(b, 13*ms), a, 14*ms)
	if want := b.rcv.Free() >> 9 << 9; a.SendWindow() < want-512 {
		t.Errorf("A's send window %d, want about B's buffer %d scaled", a.SendWindow(), want)
	}
}

func TestPeerWithoutOptions(t *testing.T) {
	cb := testConfig(issB)
	syn := Segment{Seq: 77, Flags: FlagSYN, Window: 5000} // no MSS, no wscale, no SACK
	b, err := NewPassive(cb, &syn, 0)
	if err != nil {
		t.Fatal(err)
	}
	sa := outs(b, 0)[0]
	if sa.Options.HasWScale || sa.Options.SACKPermitted || sa.Options.HasTS {
		t.Errorf("SYN-ACK offers options the peer did not: %+v", sa.Options)
	}
	if b.MSS() != 536 {
		t.Errorf("MSS without the option = %d, want 536", b.MSS())
	}
	b.Input(&Segment{Seq: 78, Ack: issB + 1, Flags: FlagACK, Window: 5000}, ms)
	if b.State() != Established || b.SendWindow() != 5000 {
		t.Errorf("state %v window %d", b.State(), b.SendWindow())
	}
	if _, err := NewPassive(cb, &Segment{Flags: FlagSYN | FlagACK}, 0); !errors.Is(err, ErrNotSYN) {
		t.Errorf("NewPassive(SYN-ACK) err = %v", err)
	}
	if _, err := NewActive(Config{}, 0); !errors.Is(err, ErrNoController) {
		t.Errorf("NewActive without CC err = %v", err)
	}
}

func TestSimultaneousOpen(t *testing.T) {
	a, _ := NewActive(testConfig(issA), 0)
	b, _ := NewActive(testConfig(issB), 0)
	sa, sb := outs(a, 0), outs(b, 0)
	deliver(sb, a, ms) // SYNs cross
	deliver(sa, b, ms)
	if a.State() != SynRcvd || b.State() != SynRcvd {
		t.Fatalf("after crossing SYNs: %v / %v, want SYN-RECEIVED", a.State(), b.State())
	}
	sa, sb = outs(a, ms), outs(b, ms)
	if len(sa) != 1 || sa[0].Flags != FlagSYN|FlagACK || sa[0].Seq != issA || sa[0].Ack != issB+1 {
		t.Fatalf("A's SYN-ACK %+v", sa)
	}
	deliver(sa, b, 2*ms)
	deliver(sb, a, 2*ms)
	exchange(a, b, 3*ms)
	if a.State() != Established || b.State() != Established {
		t.Fatalf("simultaneous open ended in %v / %v", a.State(), b.State())
	}
	if a.Write([]byte("hello")) != 5 {
		t.Fatal("write failed")
	}
	exchange(a, b, 4*ms)
	buf := make([]byte, 10)
	if n := b.Read(buf); string(buf[:n]) != "hello" {
		t.Errorf("B read %q", buf[:n])
	}
}

func TestActiveCloseStates(t *testing.T) {
	a, b := connect(t, testConfig(issA), testConfig(issB))
	steps := []struct {
		do     func()
		sa, sb State
	}{
		{func() { a.CloseWrite() }, FinWait1, Established},
		{func() { deliver(outs(a, 10*ms), b, 10*ms) }, FinWait1, CloseWait},
		{func() { deliver(outs(b, 10*ms), a, 10*ms) }, FinWait2, CloseWait},
		{func() { b.CloseWrite() }, FinWait2, LastAck},
		{func() { deliver(outs(b, 20*ms), a, 20*ms) }, TimeWait, LastAck},
		{func() { deliver(outs(a, 20*ms), b, 20*ms) }, TimeWait, Closed},
		{func() { a.OnTimer(20*ms + 999*ms) }, TimeWait, Closed},
		{func() { a.OnTimer(20*ms + time.Second) }, Closed, Closed},
	}
	for i, s := range steps {
		s.do()
		if a.State() != s.sa || b.State() != s.sb {
			t.Fatalf("step %d: %v / %v, want %v / %v", i, a.State(), b.State(), s.sa, s.sb)
		}
	}
	if a.Err() != nil || b.Err() != nil || !a.PeerClosed() || !b.PeerClosed() {
		t.Errorf("clean close: err %v/%v peerClosed %v/%v", a.Err(), b.Err(), a.PeerClosed(), b.PeerClosed())
	}
}

func TestSimultaneousClose(t *testing.T) {
	a, b := connect(t, testConfig(issA), testConfig(issB))
	a.CloseWrite()
	b.CloseWrite()
	fa, fb := outs(a, 10*ms), outs(b, 10*ms)
	if len(fa) != 1 || fa[0].Flags&FlagFIN == 0 || len(fb) != 1 || fb[0].Flags&FlagFIN == 0 {
		t.Fatalf("FINs: %+v %+v", fa, fb)
	}
	deliver(fb, a, 11*ms) // FINs cross
	deliver(fa, b, 11*ms)
	if a.State() != Closing || b.State() != Closing {
		t.Fatalf("after crossing FINs: %v / %v, want CLOSING", a.State(), b.State())
	}
	exchange(a, b, 12*ms)
	if a.State() != TimeWait || b.State() != TimeWait {
		t.Fatalf("after ACKs of the FINs: %v / %v, want TIME-WAIT", a.State(), b.State())
	}
	if got := a.NextTimer(); got != 12*ms+time.Second {
		t.Errorf("TIME-WAIT timer at %v, want 2*MSL after entering", got)
	}
	a.OnTimer(a.NextTimer())
	if a.State() != Closed {
		t.Errorf("after 2*MSL: %v", a.State())
	}
}

func TestHalfClose(t *testing.T) {
	a, b := connect(t, testConfig(issA), testConfig(issB))
	a.Write([]byte("request"))
	a.CloseWrite()
	exchange(a, b, 10*ms)
	if a.State() != FinWait2 || b.State() != CloseWait || !b.PeerClosed() == (b.Readable() == 0) {
		t.Fatalf("states %v / %v", a.State(), b.State())
	}
	buf := make([]byte, 100)
	if n := b.Read(buf); string(buf[:n]) != "request" || !b.PeerClosed() {
		t.Fatalf("B read %q, peer closed %v", buf[:n], b.PeerClosed())
	}
	// B keeps sending after A's FIN: the half-closed direction still works.
	big := make([]byte, 30000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	if b.Write(big) != len(big) {
		t.Fatal("B's write after half-close failed")
	}
	b.CloseWrite()
	exchange(a, b, 20*ms)
	got := make([]byte, 0, len(big))
	for {
		n := a.Read(buf)
		if n == 0 {
			break
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != string(big) || !a.PeerClosed() {
		t.Fatalf("A read %d bytes (peer closed %v), want %d", len(got), a.PeerClosed(), len(big))
	}
	if a.State() != TimeWait || b.State() != Closed {
		t.Errorf("final states %v / %v", a.State(), b.State())
	}
}

func TestTimeWaitRetransmittedFIN(t *testing.T) {
	a, b := connect(t, testConfig(issA), testConfig(issB))
	a.CloseWrite()
	exchange(a, b, 10*ms)
	b.CloseWrite()
	fin := outs(b, 20*ms)
	deliver(fin, a, 20*ms)
	outs(a, 20*ms) // A's ACK of the FIN is lost
	if a.State() != TimeWait {
		t.Fatalf("A in %v", a.State())
	}
	deliver(fin, a, 500*ms) // B retransmits its FIN
	ack := outs(a, 500*ms)
	if len(ack) != 1 || ack[0].Flags != FlagACK || ack[0].Ack != fin[0].Seq+1 {
		t.Fatalf("TIME-WAIT answer to a retransmitted FIN: %+v", ack)
	}
	if a.NextTimer() != 500*ms+time.Second {
		t.Errorf("TIME-WAIT not restarted: timer %v", a.NextTimer())
	}
	deliver(ack, b, 501*ms)
	if b.State() != Closed {
		t.Errorf("B %v after the ACK of its FIN", b.State())
	}
}

func TestCloseWithUnreadDataResets(t *testing.T) {
	a, b := connect(t, testConfig(issA), testConfig(issB))
	a.Write([]byte("unread"))
	exchange(a, b, 10*ms)
	b.Close()
	rst := outs(b, 11*ms)
	if len(rst) != 1 || rst[0].Flags&FlagRST == 0 || !errors.Is(b.Err(), ErrAborted) {
		t.Fatalf("close with unread data sent %+v, err %v", rst, b.Err())
	}
	deliver(rst, a, 12*ms)
	if a.State() != Closed || !errors.Is(a.Err(), ErrConnectionReset) {
		t.Errorf("peer after RST: %v %v", a.State(), a.Err())
	}
}

func TestAbortSendsRST(t *testing.T) {
	a, b := connect(t, testConfig(issA), testConfig(issB))
	a.Abort()
	rst := outs(a, 10*ms)
	if len(rst) != 1 || rst[0].Flags != FlagRST|FlagACK || rst[0].Seq != issA+1 {
		t.Fatalf("abort sent %+v", rst)
	}
	deliver(rst, b, 10*ms)
	if !errors.Is(b.Err(), ErrConnectionReset) || b.State() != Closed {
		t.Errorf("B: %v %v", b.State(), b.Err())
	}
	// A closed endpoint answers anything with a RST.
	a.Input(&Segment{Seq: issB + 1, Ack: issA + 1, Flags: FlagACK, Payload: []byte("x")}, 20*ms)
	if r := outs(a, 20*ms); len(r) != 1 || r[0].Flags != FlagRST || r[0].Seq != issA+1 {
		t.Errorf("CLOSED answered %+v, want RST with seq = the ACK", r)
	}
}

func TestConnectionRefused(t *testing.T) {
	a, _ := NewActive(testConfig(issA), 0)
	outs(a, 0)
	// A RST whose ACK is not acceptable is ignored and draws a RST.
	a.Input(&Segment{Seq: 5, Ack: issA + 7, Flags: FlagRST | FlagACK}, ms)
	if a.State() != SynSent {
		t.Fatalf("unacceptable RST closed the SYN-SENT endpoint")
	}
	a.Input(&Segment{Seq: 5, Ack: issA + 1, Flags: FlagRST | FlagACK}, ms)
	if a.State() != Closed || !errors.Is(a.Err(), ErrConnectionRefused) {
		t.Errorf("state %v err %v, want CLOSED and refused", a.State(), a.Err())
	}
}

func TestSYNRetriesThenTimeout(t *testing.T) {
	cfg := testConfig(issA)
	cfg.SYNRetries = 3
	cfg.InitialRTO = time.Second
	a, _ := NewActive(cfg, 0)
	var sent []time.Duration
	now := time.Duration(0)
	for i := 0; i < 10 && a.State() == SynSent; i++ {
		if s := outs(a, now); len(s) == 1 && s[0].Flags == FlagSYN {
			sent = append(sent, now)
		}
		now = a.NextTimer()
		if now == 0 {
			break
		}
		a.OnTimer(now)
	}
	want := []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second}
	if len(sent) != len(want) {
		t.Fatalf("SYNs at %v, want %v", sent, want)
	}
	for i := range want {
		if sent[i] != want[i] {
			t.Fatalf("SYNs at %v, want %v (exponential backoff)", sent, want)
		}
	}
	if !errors.Is(a.Err(), ErrTimeout) {
		t.Errorf("err %v, want timeout", a.Err())
	}
}

func TestRTOBackoffAndGiveUp(t *testing.T) {
	ca := testConfig(issA)
	ca.MaxRetries = 4
	ca.MinRTO = 200 * ms
	ca.NoSACK = true // no tail loss probe: only the RTO
	a, _ := connect(t, ca, testConfig(issB))
	a.Write(make([]byte, 3000))
	first := outs(a, 10*ms)
	if len(first) != 3 {
		t.Fatalf("sent %d segments of 3000 bytes at MSS 1460", len(first))
	}
	var at []time.Duration
	for a.State() == Established {
		now := a.NextTimer()
		a.OnTimer(now)
		s := outs(a, now)
		if len(s) > 0 {
			if s[0].Seq != issA+1 {
				t.Fatalf("retransmission from %d, want snd_una %d", s[0].Seq, issA+1)
			}
			at = append(at, now)
		}
	}
	// RTO 200 ms (the floor; the handshake gave a 2 ms RTT), then doubling.
	want := []time.Duration{210 * ms, 610 * ms, 1410 * ms, 3010 * ms}
	if len(at) != len(want) {
		t.Fatalf("retransmissions at %v, want %v", at, want)
	}
	for i := range want {
		if at[i] != want[i] {
			t.Fatalf("retransmissions at %v, want %v", at, want)
		}
	}
	if !errors.Is(a.Err(), ErrTimeout) || a.Counters().RTOs != 4 {
		t.Errorf("err %v RTOs %d", a.Err(), a.Counters().RTOs)
	}
}

func TestRetransmittedSYNGetsSYNACK(t *testing.T) {
	a, _ := NewActive(testConfig(issA), 0)
	syn := outs(a, 0)
	b, _ := NewPassive(testConfig(issB), &syn[0], ms)
	outs(b, ms) // SYN-ACK lost
	deliver(syn, b, 1000*ms)
	r := outs(b, 1000*ms)
	if len(r) != 1 || r[0].Flags != FlagSYN|FlagACK || r[0].Seq != issB || r[0].Ack != issA+1 {
		t.Fatalf("answer to a retransmitted SYN: %+v, want the SYN-ACK again", r)
	}
	deliver(r, a, 1001*ms)
	deliver(outs(a, 1001*ms), b, 1002*ms)
	if a.State() != Established || b.State() != Established {
		t.Errorf("%v / %v", a.State(), b.State())
	}
}

func TestNagle(t *testing.T) {
	for _, nagle := range []bool{false, true} {
		ca := testConfig(issA)
		ca.Nagle = nagle
		a, b := connect(t, ca, testConfig(issB))
		a.Write(make([]byte, 100))
		if n := len(outs(a, 10*ms)); n != 1 {
			t.Fatalf("nagle=%v: first small write sent %d segments", nagle, n)
		}
		a.Write(make([]byte, 100))
		n := len(outs(a, 11*ms))
		if nagle && n != 0 || !nagle && n != 1 {
			t.Errorf("nagle=%v: second small write with data in flight sent %d segments", nagle, n)
		}
		_ = b
	}
}

func TestOrphanedFinWait2TimesOut(t *testing.T) {
	ca := testConfig(issA)
	ca.FinWait2Timeout = 30 * time.Second
	a, b := connect(t, ca, testConfig(issB))
	a.Close()
	exchange(a, b, 10*ms)
	if a.State() != FinWait2 || a.NextTimer() != 10*ms+30*time.Second {
		t.Fatalf("after Close: %v, timer %v; want FIN-WAIT-2 with the timeout armed", a.State(), a.NextTimer())
	}
	a.OnTimer(a.NextTimer())
	r := outs(a, 31*time.Second)
	if a.State() != Closed || len(r) != 1 || r[0].Flags&FlagRST == 0 || a.Counters().FinWait2Timeouts != 1 {
		t.Fatalf("after the timeout: %v, sent %+v", a.State(), r)
	}
	// CloseWrite (half-close) keeps waiting for the peer's data.
	c, d := connect(t, testConfig(issA), testConfig(issB))
	c.CloseWrite()
	exchange(c, d, 10*ms)
	if c.State() != FinWait2 || c.NextTimer() != 0 {
		t.Errorf("half-closed endpoint: %v timer %v; want FIN-WAIT-2 without a timeout", c.State(), c.NextTimer())
	}
	if info := c.Info(); info.State != FinWait2 || info.MSS != 1460 || info.Cwnd == 0 || info.Unacked != 0 {
		t.Errorf("Info %+v", info)
	}
}

func TestHandshakeRTTWithoutTimestamps(t *testing.T) {
	a, b := connect(t, testConfig(issA), testConfig(issB)) // SYN at 0, SYN-ACK in at 2ms, ACK in at 3ms
	if a.SRTT() != 2*ms || b.SRTT() != 2*ms {
		t.Errorf("SRTT from the handshake without timestamps: %v / %v, want 2ms / 2ms", a.SRTT(), b.SRTT())
	}
	if a.RTO() != 200*ms {
		t.Errorf("RTO %v, want the 200ms floor", a.RTO())
	}
}
