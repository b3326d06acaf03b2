package tcp

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// Tests of the engine features the MPTCP connection asked for: SendACK,
// short SendBuffer copies, SACK blocks under a large Ext reservation, and
// the Ext's receive-window limit.

// checkPureACK fails unless s is a pure ACK of ep's current state carrying
// the testExt option.
func checkPureACK(t *testing.T, ep *Endpoint, s *Segment) {
	t.Helper()
	if s.Flags != FlagACK || len(s.Payload) != 0 {
		t.Fatalf("forced segment: flags %v, %d payload bytes; want a pure ACK", s.Flags, len(s.Payload))
	}
	if s.Seq != ep.SndNxt() || s.Ack != ep.RcvNxt() {
		t.Fatalf("forced ACK seq %d ack %d, want snd_nxt %d rcv_nxt %d", s.Seq, s.Ack, ep.SndNxt(), ep.RcvNxt())
	}
	if len(s.Options.Ext) != 8 || s.Options.Ext[0] != 30 || binary.BigEndian.Uint32(s.Options.Ext[2:]) != uint32(s.Seq) {
		t.Fatalf("forced ACK lacks the extension's option: % x", s.Options.Ext)
	}
	if !s.Options.HasTS {
		t.Fatal("forced ACK lacks timestamps although they were negotiated")
	}
}

func TestSendACK(t *testing.T) {
	xa, xb := &testExt{t: t}, &testExt{t: t}
	ca, cb := baseConfig(issA), baseConfig(issB)
	ca.Ext, ca.ExtOptionSpace = xa, 8
	cb.Ext, cb.ExtOptionSpace = xb, 8
	a, b := connect(t, ca, cb)
	now := 10 * ms
	if segs := outs(b, now); len(segs) != 0 {
		t.Fatalf("idle endpoint sent %d segments", len(segs))
	}

	// Idle: one pure ACK, even when asked twice.
	if !b.SendACK() {
		t.Fatal("SendACK refused in ESTABLISHED")
	}
	if !b.SendACK() {
		t.Fatal("second SendACK refused")
	}
	segs := outs(b, now)
	if len(segs) != 1 {
		t.Fatalf("SendACK twice on an idle endpoint gave %d segments, want 1", len(segs))
	}
	checkPureACK(t, b, &segs[0])
	if c := b.Counters(); c.ForcedACKs != 1 || c.BadSeq != 0 {
		t.Errorf("ForcedACKs %d (want 1), BadSeq %d (want 0)", c.ForcedACKs, c.BadSeq)
	}
	before := a.Counters()
	deliver(segs, a, now)
	if c := a.Counters(); c.BadSeq != before.BadSeq || c.ChallengeACK != before.ChallengeACK || xa.badSeen != 0 {
		t.Errorf("the peer did not take the forced ACK cleanly: BadSeq %d->%d, challenge ACKs %d->%d, bad ext %d",
			before.BadSeq, c.BadSeq, before.ChallengeACK, c.ChallengeACK, xa.badSeen)
	}
	if segs := outs(a, now); len(segs) != 0 {
		t.Errorf("the peer answered a pure ACK with %d segments", len(segs))
	}

	// Data waiting: the ACK goes first, the data follows in the same loop.
	data := make([]byte, 3000)
	if a.Write(data) != len(data) {
		t.Fatal("Write refused")
	}
	una := a.SndNxt()
	a.SendACK()
	segs = outs(a, now)
	if len(segs) < 2 {
		t.Fatalf("SendACK with data queued gave %d segments, want the ACK then data", len(segs))
	}
	if segs[0].Flags != FlagACK || len(segs[0].Payload) != 0 || segs[0].Seq != una {
		t.Fatalf("first segment flags %v, %d bytes, seq %d: want a pure ACK at %d", segs[0].Flags, len(segs[0].Payload), segs[0].Seq, una)
	}
	sent := 0
	for _, s := range segs[1:] {
		sent += len(s.Payload)
	}
	if sent != len(data) {
		t.Fatalf("data after the forced ACK: %d bytes, want %d", sent, len(data))
	}
	deliver(segs, b, now)
	exchange(a, b, now+50*ms)

	// The window in a forced ACK follows what the receiver can take.
	if b.Readable() != len(data) {
		t.Fatalf("B holds %d readable bytes, want %d", b.Readable(), len(data))
	}
	b.SendACK()
	segs = outs(b, now+60*ms)
	if len(segs) != 1 {
		t.Fatalf("got %d segments", len(segs))
	}
	checkPureACK(t, b, &segs[0])
	if got, free, unit := int(segs[0].Window)<<b.rcvShift, b.rcv.Free(), 1<<b.rcvShift; got <= free-unit || got >= free+unit {
		t.Errorf("forced ACK advertises %d bytes, the receiver has %d free (scale unit %d)", got, free, unit)
	}

	// Half-closed: the ACK's sequence number is past our FIN.
	a.CloseWrite()
	exchange(a, b, now+100*ms)
	if a.State() != FinWait2 {
		t.Fatalf("A is %v, want FIN-WAIT-2", a.State())
	}
	if !a.SendACK() {
		t.Fatal("SendACK refused in FIN-WAIT-2")
	}
	segs = outs(a, now+110*ms)
	if len(segs) != 1 {
		t.Fatalf("got %d segments in FIN-WAIT-2", len(segs))
	}
	checkPureACK(t, a, &segs[0])
	if segs[0].Seq != a.finSeq+1 {
		t.Errorf("FIN-WAIT-2 ACK seq %d, want FIN+1 = %d", segs[0].Seq, a.finSeq+1)
	}

	// Aborted: nothing but the RST.
	b.Abort()
	if b.SendACK() {
		t.Error("SendACK accepted in CLOSED")
	}
	segs = outs(b, now+120*ms)
	if len(segs) != 1 || segs[0].Flags&FlagRST == 0 {
		t.Errorf("after Abort: %d segments, want only the RST", len(segs))
	}
}

func TestSendACKBeforeEstablished(t *testing.T) {
	a, err := NewActive(baseConfig(issA), 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.SendACK() {
		t.Error("SendACK accepted in SYN-SENT")
	}
	syn := outs(a, 0)
	if len(syn) != 1 || syn[0].Flags != FlagSYN {
		t.Fatalf("active open sent %+v", syn)
	}
	b, err := NewPassive(baseConfig(issB), &syn[0], ms)
	if err != nil {
		t.Fatal(err)
	}
	if b.SendACK() {
		t.Error("SendACK accepted in SYN-RECEIVED")
	}
	if segs := outs(b, ms); len(segs) != 1 || segs[0].Flags != FlagSYN|FlagACK {
		t.Fatalf("SYN-RECEIVED sent %+v, want only the SYN-ACK", segs)
	}
	if b.Counters().ForcedACKs != 0 {
		t.Error("a forced ACK was counted before the connection was synchronized")
	}
}

// roomExt writes one experimental option of size bytes and records the
// least option space it was offered on a non-SYN segment.
type roomExt struct {
	size    int
	minRoom int
}

func (x *roomExt) WriteOptions(seg *Segment, buf []byte) int {
	if seg.Flags&FlagSYN == 0 && (x.minRoom < 0 || len(buf) < x.minRoom) {
		x.minRoom = len(buf)
	}
	if len(buf) < x.size {
		return 0
	}
	buf[0], buf[1] = 253, byte(x.size)
	for i := 2; i < x.size; i++ {
		buf[i] = 0
	}
	return x.size
}

func (x *roomExt) OnSegment(*Segment) {}

// TestDSACKWithOneSACKRoom: with timestamps and 16 bytes reserved for the
// extension only one SACK block fits. A D-SACK and an out-of-order range
// are both pending: the ACK must carry the D-SACK alone, leave the
// extension its reserved space, and report the range in the next ACK.
func TestDSACKWithOneSACKRoom(t *testing.T) {
	x := &roomExt{size: 16, minRoom: -1}
	ca, cb := baseConfig(issA), baseConfig(issB)
	cb.Ext, cb.ExtOptionSpace = x, 16
	a, b := connect(t, ca, cb)
	now := 10 * ms
	if a.Write(make([]byte, 3*a.MSS())) != 3*a.MSS() {
		t.Fatal("Write refused")
	}
	segs := outs(a, now)
	if len(segs) < 3 {
		t.Fatalf("A sent %d segments, want 3 or more", len(segs))
	}
	s1, s3 := segs[0], segs[2]
	b.Input(&s1, now)
	b.Input(&s3, now) // out of order: a hole where segs[1] belongs
	outs(b, now)      // the ACKs of those (one SACK block each)
	b.Input(&s1, now) // an old duplicate: D-SACK
	acks := outs(b, now)
	if len(acks) != 1 {
		t.Fatalf("B answered the duplicate with %d segments, want 1", len(acks))
	}
	o := &acks[0].Options
	dup := SACKBlock{s1.Seq, s1.Seq.Add(seqnum.Size(len(s1.Payload)))}
	if o.NumSACK != 1 || o.SACK[0] != dup {
		t.Fatalf("ACK carries %d SACK blocks %v, want only the D-SACK %v (one block fits)", o.NumSACK, o.SACK[:o.NumSACK], dup)
	}
	if got := o.OptionLen(false); got > maxOptionSpace {
		t.Fatalf("options take %d bytes", got)
	}
	if x.minRoom < cb.ExtOptionSpace || len(o.Ext) != x.size {
		t.Fatalf("extension offered %d bytes (reserved %d), wrote %d", x.minRoom, cb.ExtOptionSpace, len(o.Ext))
	}
	b.SendACK()
	acks = outs(b, now)
	ooo := SACKBlock{s3.Seq, s3.Seq.Add(seqnum.Size(len(s3.Payload)))}
	if len(acks) != 1 || acks[0].Options.NumSACK != 1 || acks[0].Options.SACK[0] != ooo {
		t.Fatalf("next ACK: %+v, want one SACK block %v", acks, ooo)
	}
}

// chunkSend is a SendBuffer whose copies stop at every multiple of chunk
// bytes of the stream, the way an MPTCP subflow stops at a mapping's end.
type chunkSend struct {
	*sendRing
	chunk    int
	consumed int // stream offset of snd_una's byte
	short    int // copies that returned less than asked
}

func (c *chunkSend) CopyAt(off int, p []byte) int {
	if left := c.chunk - (c.consumed+off)%c.chunk; len(p) > left {
		p = p[:left]
		c.short++
	}
	return c.sendRing.CopyAt(off, p)
}

func (c *chunkSend) Consume(n int) { c.consumed += n; c.sendRing.Consume(n) }

// TestShortCopyFIN: 1200 bytes and a FIN fit one segment, but the buffer
// copies only up to its 1000-byte boundary: the FIN must wait for the last
// 200 bytes.
func TestShortCopyFIN(t *testing.T) {
	sb := &chunkSend{sendRing: newSendRing(64 << 10), chunk: 1000}
	ca := baseConfig(issA)
	ca.Send = sb
	a, b := connect(t, ca, baseConfig(issB))
	sb.write(make([]byte, 1200))
	a.CloseWrite()
	segs := outs(a, 10*ms)
	if len(segs) != 2 {
		t.Fatalf("A sent %d segments, want 2 (copy stopped at 1000 bytes)", len(segs))
	}
	if len(segs[0].Payload) != 1000 || segs[0].Flags&FlagFIN != 0 {
		t.Fatalf("first segment: %d bytes, flags %v; want 1000 bytes without FIN", len(segs[0].Payload), segs[0].Flags)
	}
	if len(segs[1].Payload) != 200 || segs[1].Flags&FlagFIN == 0 || segs[1].Seq != issA+1001 {
		t.Fatalf("second segment: seq %d, %d bytes, flags %v; want seq %d, 200 bytes and the FIN",
			segs[1].Seq, len(segs[1].Payload), segs[1].Flags, issA+1001)
	}
	if a.finSeq != issA+1201 || a.SndNxt() != issA+1202 {
		t.Fatalf("FIN at %d, snd_nxt %d; want %d, %d", a.finSeq, a.SndNxt(), issA+1201, issA+1202)
	}
	deliver(segs, b, 10*ms)
	if n := b.Read(make([]byte, 2000)); n != 1200 || !b.PeerClosed() {
		t.Fatalf("B read %d bytes, peer closed %v; want 1200 and the FIN", n, b.PeerClosed())
	}
}

// TestShortCopyTransfer sends a stream and its FIN through a buffer whose
// copies stop every 700 bytes (not a multiple of the MSS), losing segments
// early so that retransmissions and probes copy short too.
func TestShortCopyTransfer(t *testing.T) {
	const total, chunk = 200_000, 700
	sb := &chunkSend{sendRing: newSendRing(1 << 20), chunk: chunk}
	ca, cb := baseConfig(issA), baseConfig(issB)
	ca.Send = sb
	a, b := connect(t, ca, cb)
	sb.write(pattern[:total])
	a.CloseWrite()
	got := make([]byte, 0, total)
	rbuf := make([]byte, 64<<10)
	now := 10 * ms
	fins := 0
	for round := 0; round < 3000 && !(b.PeerClosed() && len(got) == total && a.State() == FinWait2); round++ {
		segs := outs(a, now)
		for i := range segs {
			s := &segs[i]
			off := int(s.Seq - issA - 1)
			if n := len(s.Payload); n > 0 && off%chunk+n > chunk {
				t.Fatalf("segment [%d,%d) crosses a copy boundary", off, off+n)
			}
			if s.Flags&FlagFIN != 0 {
				fins++
				if off+len(s.Payload) != total {
					t.Fatalf("FIN at stream offset %d, want %d (after the last byte)", off+len(s.Payload), total)
				}
			}
			if round < 30 && i%5 == 2 {
				continue // lost
			}
			b.Input(s, now)
		}
		for {
			n := b.Read(rbuf)
			if n == 0 {
				break
			}
			got = append(got, rbuf[:n]...)
		}
		deliver(outs(b, now), a, now)
		now += 5 * ms
		if d := a.NextTimer(); d != 0 && d <= now {
			a.OnTimer(now)
		}
		if d := b.NextTimer(); d != 0 && d <= now {
			b.OnTimer(now)
		}
	}
	if len(got) != total || !bytes.Equal(got, pattern[:total]) {
		t.Fatalf("B read %d of %d bytes, or different bytes", len(got), total)
	}
	if !b.PeerClosed() || a.State() != FinWait2 || fins == 0 {
		t.Fatalf("B peer closed %v, A %v, FINs sent %d", b.PeerClosed(), a.State(), fins)
	}
	if c := a.Counters(); sb.short == 0 || c.RetransSegs == 0 {
		t.Errorf("not exercised: %d short copies, %d retransmitted segments", sb.short, c.RetransSegs)
	}
}

// limExt is an Extension with a WindowLimiter whose limit the test sets.
type limExt struct {
	limit int
	calls int
}

func (x *limExt) WriteOptions(*Segment, []byte) int { return 0 }
func (x *limExt) OnSegment(*Segment)                {}
func (x *limExt) RecvWindowLimit() int              { x.calls++; return x.limit }

// sendAll returns the payload bytes in segs.
func sendAll(segs []Segment) int {
	n := 0
	for _, s := range segs {
		n += len(s.Payload)
	}
	return n
}

func TestWindowLimiter(t *testing.T) {
	x := &limExt{limit: 5000}
	ca, cb := baseConfig(issA), baseConfig(issB)
	cb.Ext = x
	cb.RecvBufSize, cb.RecvBufMax = 60000, 60000 // window scale 0: exact windows
	// 1000-byte segments without timestamps: the windows are whole segments,
	// so sender SWS avoidance never holds a remainder back.
	ca.MSS, cb.MSS = 1000, 1000
	ca.NoTimestamps, cb.NoTimestamps = true, true
	a, b := connect(t, ca, cb)
	if a.SendWindow() != 5000 {
		t.Fatalf("A sees a %d-byte window, want the limit 5000", a.SendWindow())
	}
	if b.rcvShift != 0 {
		t.Fatalf("B's window shift is %d, the test needs 0", b.rcvShift)
	}
	if a.Write(make([]byte, 20000)) != 20000 {
		t.Fatal("Write refused")
	}
	now := 10 * ms
	segs := outs(a, now)
	if n := sendAll(segs); n != 5000 {
		t.Fatalf("A sent %d bytes into a 5000-byte limited window", n)
	}
	// The connection-level window closes: the edge stays where it was.
	x.limit = 0
	deliver(segs, b, now)
	acks := outs(b, now)
	if len(acks) == 0 || acks[len(acks)-1].Window != 0 || b.Readable() != 5000 {
		t.Fatalf("B's ACKs %+v: want a zero window with 5000 bytes held", acks)
	}
	if b.Counters().RcvBufOverflow != 0 || b.Counters().BadSeq != 0 {
		t.Fatalf("B dropped data inside the window: %+v", b.Counters())
	}
	deliver(acks, a, now)
	if segs := outs(a, now); sendAll(segs) != 0 {
		t.Fatalf("A sent %d bytes into a zero window", sendAll(segs))
	}
	// It opens again: RecvBufferFreed notices and a window update goes out.
	x.limit = 3000
	b.RecvBufferFreed()
	acks = outs(b, now)
	if len(acks) != 1 || acks[0].Window != 3000 {
		t.Fatalf("after the limit opened B sent %+v, want one window update of 3000", acks)
	}
	deliver(acks, a, now)
	segs = outs(a, now)
	if n := sendAll(segs); n != 3000 {
		t.Fatalf("A sent %d bytes into a 3000-byte window", n)
	}
	// A lower limit never moves the advertised right edge left.
	x.limit = 1000
	b.SendACK()
	acks = outs(b, now)
	if len(acks) != 1 || acks[0].Window != 3000 {
		t.Fatalf("with the limit lowered B advertised %+v, want the same 3000-byte edge", acks)
	}
	deliver(segs, b, now)
	acks = outs(b, now)
	if b.Readable() != 8000 || len(acks) == 0 || acks[len(acks)-1].Window != 1000 {
		t.Fatalf("B holds %d bytes, ACKs %+v: want 8000 and a 1000-byte window", b.Readable(), acks)
	}
	if x.calls == 0 {
		t.Error("the limiter was never asked")
	}
}

// BenchmarkSendACK measures a forced pure ACK through an Extension with a
// WindowLimiter (the MPTCP option-only path): it must not allocate.
func BenchmarkSendACK(b *testing.B) {
	x := &limExt{limit: 1 << 20}
	cb := baseConfig(issB)
	cb.Ext = x
	a, err := NewActive(baseConfig(issA), 0)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 2048)
	syn, _ := a.Output(0, buf)
	ep, err := NewPassive(cb, &syn, 0)
	if err != nil {
		b.Fatal(err)
	}
	synack, _ := ep.Output(0, buf)
	a.Input(&synack, 0)
	ack, _ := a.Output(0, buf)
	ep.Input(&ack, 0)
	if ep.State() != Established {
		b.Fatalf("handshake left the endpoint %v", ep.State())
	}
	b.ReportAllocs()
	for b.Loop() {
		ep.SendACK()
		if s, ok := ep.Output(ms, buf); !ok || s.Flags != FlagACK {
			b.Fatalf("no pure ACK: %v %v", ok, s.Flags)
		}
	}
}

// TestShortCopyTLP: the tail loss probe resends the last segment sent even
// when a copy from where a full-size probe would start stops at a
// boundary before it (an MPTCP mapping shorter than the MSS at the tail).
func TestShortCopyTLP(t *testing.T) {
	sb := &chunkSend{sendRing: newSendRing(64 << 10), chunk: 2000}
	ca := baseConfig(issA)
	ca.Send = sb
	a, _ := connect(t, ca, baseConfig(issB))
	sb.write(make([]byte, 2200))
	now := 10 * ms
	segs := outs(a, now)
	last := segs[len(segs)-1]
	if len(segs) != 3 || len(last.Payload) != 200 {
		t.Fatalf("A sent %d segments, want 3 (the last of 200 bytes after the 2000-byte boundary)", len(segs))
	}
	// All are lost; the probe timer fires before the RTO.
	at := a.NextTimer()
	if at == 0 || a.tlpAt != at {
		t.Fatalf("next timer %v is not the probe timer (%v)", at, a.tlpAt)
	}
	probe := outs(a, at)
	if len(probe) != 1 || a.Counters().TailLossProbes != 1 {
		t.Fatalf("probe timer gave %d segments, %d probes", len(probe), a.Counters().TailLossProbes)
	}
	p := probe[0]
	if end := p.Seq.Add(seqnum.Size(len(p.Payload))); end != a.SndNxt() || p.Seq != last.Seq {
		t.Fatalf("probe [%d,%d), want the last segment [%d,%d)", p.Seq, end, last.Seq, a.SndNxt())
	}
}

// FuzzMPTCPSeam drives a transfer through the MPTCP seam: the sender's
// buffer copies short at fuzzed boundaries, the receiver's extension caps
// its window with a fuzzed, changing limit, both sides are asked for
// forced ACKs, and segments are lost. Each op byte is one step:
//
//	bit 0: A.SendACK  bit 1: B.SendACK  bit 2: lose A's segments
//	bit 3: lose B's segments  bits 4-5: limit kept / 0 / +3000 / halved
//	bit 6: B reads up to 4000 bytes
//
// Then the network heals and the limit opens: every byte and the FIN must
// arrive. Throughout, no segment crosses a copy boundary, the FIN sits
// after the last byte, and B's advertised right edge never moves left nor
// past what the limit and its buffer allow.
func FuzzMPTCPSeam(f *testing.F) {
	f.Add(uint16(700), uint16(5000), []byte{0x01, 0x12, 0x24, 0x48, 0x30, 0x42, 0x07, 0x20, 0x40})
	f.Add(uint16(1), uint16(0), []byte{0x10, 0x40, 0x20, 0x43})
	f.Add(uint16(2999), uint16(65535), []byte{0x04, 0x04, 0x08, 0x3c, 0x7f})
	f.Fuzz(fuzzSeam)
}

func fuzzSeam(t *testing.T, chunk, limit uint16, ops []byte) {
	{
		const total = 20000
		if len(ops) > 256 {
			ops = ops[:256] // bounded work per input
		}
		sb := &chunkSend{sendRing: newSendRing(64 << 10), chunk: int(chunk)%3000 + 8} // >= 8: at most 2500 segments per Output loop
		x := &limExt{limit: int(limit)}
		ca, cb := baseConfig(issA), baseConfig(issB)
		ca.Send = sb
		cb.Ext = x
		a, b := connect(t, ca, cb)
		sb.write(pattern[:total])
		a.CloseWrite()
		edge := b.rcvAdvEnd
		var got []byte
		rbuf := make([]byte, 4000)
		read := func() {
			for n := b.Read(rbuf); n > 0; n = b.Read(rbuf) {
				got = append(got, rbuf[:n]...)
			}
			b.RecvBufferFreed()
		}
		checkA := func(segs []Segment) {
			for i := range segs {
				s := &segs[i]
				off := int(s.Seq - issA - 1)
				if n := len(s.Payload); n > 0 && off%sb.chunk+n > sb.chunk {
					t.Fatalf("segment [%d,%d) crosses a copy boundary (every %d)", off, off+n, sb.chunk)
				}
				if s.Flags&FlagFIN != 0 && off+len(s.Payload) != total {
					t.Fatalf("FIN at stream offset %d, want %d", off+len(s.Payload), total)
				}
			}
		}
		checkB := func(segs []Segment) {
			for i := range segs {
				s := &segs[i]
				if s.Flags&FlagRST != 0 {
					t.Fatalf("B sent a RST")
				}
				adv := s.Ack.Add(seqnum.Size(int(s.Window) << b.rcvShift))
				allowed := s.Ack.Add(seqnum.Size(min(max(x.limit, 0), b.rcv.Free())))
				if adv.LessThan(edge) {
					t.Fatalf("B's right edge moved left: %d -> %d", edge, adv)
				}
				// Rounding to the window scale may pass the old edge by less
				// than one unit (so as not to shrink it), never more.
				if hi := seqnum.Max(edge, allowed); adv.GreaterThan(hi) && int(hi.Size(adv)) >= 1<<b.rcvShift {
					t.Fatalf("B advertised up to %d, beyond the limit's %d (limit %d) and the old edge %d", adv, allowed, x.limit, edge)
				}
				edge = seqnum.Max(edge, adv)
			}
		}
		now := 10 * ms
		for _, op := range ops {
			if op&1 != 0 {
				a.SendACK()
			}
			if op&2 != 0 {
				b.SendACK()
			}
			switch op >> 4 & 3 {
			case 1:
				x.limit = 0
			case 2:
				x.limit += 3000
			case 3:
				x.limit /= 2
			}
			if op&0x40 != 0 {
				read()
			}
			sa := outs(a, now)
			checkA(sa)
			if op&4 == 0 {
				deliver(sa, b, now)
			}
			sbs := outs(b, now)
			checkB(sbs)
			if op&8 == 0 {
				deliver(sbs, a, now)
			}
			now += 7 * ms
			for _, e := range []*Endpoint{a, b} {
				if d := e.NextTimer(); d != 0 && d <= now {
					e.OnTimer(now)
				}
			}
			checkInvariants(t, a)
		}
		// Heal: no loss, an open limit, B reads everything.
		x.limit = 1 << 20
		for round := 0; round < 5000 && !(len(got) == total && b.PeerClosed() && a.State() == FinWait2); round++ {
			read()
			sa := outs(a, now)
			checkA(sa)
			deliver(sa, b, now)
			sbs := outs(b, now)
			checkB(sbs)
			deliver(sbs, a, now)
			if len(sa) == 0 && len(sbs) == 0 {
				// Quiet: jump to the earliest timer.
				next := time.Duration(0)
				for _, e := range []*Endpoint{a, b} {
					if d := e.NextTimer(); d != 0 && (next == 0 || d < next) {
						next = d
					}
				}
				now = max(now+ms, next)
			}
			for _, e := range []*Endpoint{a, b} {
				if d := e.NextTimer(); d != 0 && d <= now {
					e.OnTimer(now)
				}
			}
		}
		if len(got) != total || !bytes.Equal(got, pattern[:total]) || !b.PeerClosed() || a.State() != FinWait2 {
			t.Fatalf("after healing: B read %d of %d bytes (equal %v), peer closed %v, A %v (err %v)",
				len(got), total, bytes.Equal(got, pattern[:len(got)]), b.PeerClosed(), a.State(), a.Err())
		}
	}
}
