package tcp

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// fuzzSegment decodes one segment from the fuzzer's bytes, relative to the
// endpoint's current sequence numbers so that many land near the windows:
//
//	flags(1) seqDelta(int16) ackDelta(int16) window(2) tsDelta(int8) plen(1)
//	sackStart(int16) sackLen(1) payload(plen)
func fuzzSegment(p []byte, e *Endpoint, now time.Duration) (Segment, []byte, bool) {
	const hdr = 13
	if len(p) < hdr {
		return Segment{}, nil, false
	}
	var s Segment
	s.Flags = Flags(p[0]) &^ (1 << 5)
	s.Seq = e.rcvNxt + seqnum.Value(int32(int16(binary.BigEndian.Uint16(p[1:]))))
	s.Ack = e.sndUna + seqnum.Value(int32(int16(binary.BigEndian.Uint16(p[3:]))))
	s.Window = binary.BigEndian.Uint16(p[5:])
	if e.tsOK {
		s.Options.HasTS = true
		s.Options.TSVal = e.tsRecent + uint32(int32(int8(p[7])))
		s.Options.TSEcr = e.tsNow(now)
	}
	plen := int(p[8])
	if p[0]&(1<<5) != 0 {
		st := e.sndUna + seqnum.Value(int32(int16(binary.BigEndian.Uint16(p[9:]))))
		s.Options.NumSACK = 1
		s.Options.SACK[0] = SACKBlock{st, st + seqnum.Value(p[11])*100}
	}
	p = p[hdr:]
	if plen > len(p) {
		plen = len(p)
	}
	s.Payload = p[:plen]
	return s, p[plen:], true
}

func FuzzEstablishedInput(f *testing.F) {
	f.Add([]byte{0x10, 0, 0, 0, 0, 0x10, 0, 0, 3, 0, 0, 0, 0, 'a', 'b', 'c'}, false)
	f.Add([]byte{0x04, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, true)
	f.Add([]byte{0x30, 0x01, 0, 0, 0, 0x10, 0, 0xf0, 2, 0, 100, 5, 0, 'x', 'y'}, true)
	f.Add([]byte{0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false)
	f.Fuzz(func(t *testing.T, data []byte, ts bool) {
		ca, cb := testConfig(issA), testConfig(issB)
		ca.NoTimestamps, cb.NoTimestamps = !ts, !ts
		ca.RecvBufSize, ca.RecvBufMax, ca.SendBufSize = 8192, 8192, 8192
		ca.MaxOOORanges = 4
		a, b := connect(t, ca, cb)
		a.Write(make([]byte, 5000)) // data in flight
		b.Write(make([]byte, 3000))
		now := 10 * ms
		deliver(outs(b, now), a, now)
		for steps := 0; len(data) > 0 && steps < 64; steps++ {
			seg, rest, ok := fuzzSegment(data, a, now)
			if !ok {
				break
			}
			data = rest
			a.Input(&seg, now)
			for _, s := range outs(a, now) {
				b.Input(&s, now)
			}
			deliver(outs(b, now), a, now)
			now += 7 * ms
			if steps%8 == 7 && a.NextTimer() != 0 {
				now = max(now, a.NextTimer())
				a.OnTimer(now)
			}
			a.Read(make([]byte, 1000))
			checkInvariants(t, a)
		}
	})
}

func checkInvariants(t *testing.T, e *Endpoint) {
	t.Helper()
	if e.sndNxt.LessThan(e.sndUna) {
		t.Fatalf("snd_nxt %d before snd_una %d", e.sndNxt, e.sndUna)
	}
	if e.snd.Buffered() > e.cfg.SendBufSize {
		t.Fatalf("send buffer holds %d > %d", e.snd.Buffered(), e.cfg.SendBufSize)
	}
	if e.rcvRing != nil && (e.rcvRing.n > len(e.rcvRing.buf) || e.rcv.Free() < 0) {
		t.Fatalf("receive ring holds %d of %d", e.rcvRing.n, len(e.rcvRing.buf))
	}
	if e.ooo.len() > e.cfg.MaxOOORanges || e.sacked.len() > e.cfg.MaxOOORanges {
		t.Fatalf("range sets %d/%d exceed %d", e.ooo.len(), e.sacked.len(), e.cfg.MaxOOORanges)
	}
	if e.ooo.len() > 0 {
		if !e.ooo.r[0].start.GreaterThan(e.rcvNxt) {
			t.Fatalf("out-of-order range %v starts at or before rcv_nxt %d", e.ooo.r[0], e.rcvNxt)
		}
		last := e.ooo.r[e.ooo.len()-1].end
		if int(e.rcvNxt.Size(last)) > e.rcv.Free()+(1<<e.rcvShift) {
			t.Fatalf("out-of-order data reaches %d bytes past rcv_nxt, buffer free %d", e.rcvNxt.Size(last), e.rcv.Free())
		}
	}
	for i := 1; i < e.ooo.len(); i++ {
		if !e.ooo.r[i-1].end.LessThan(e.ooo.r[i].start) {
			t.Fatalf("out-of-order ranges overlap or touch: %v", e.ooo.r)
		}
	}
	if e.sackedBytes != e.sacked.bytes() || e.sackedBytes > int(e.sndUna.Size(e.sndNxt)) {
		t.Fatalf("SACKed bytes %d (set %d) vs outstanding %d", e.sackedBytes, e.sacked.bytes(), e.sndUna.Size(e.sndNxt))
	}
	if e.pipe() > int(e.sndUna.Size(e.sndNxt)) {
		t.Fatalf("pipe %d > outstanding", e.pipe())
	}
	// The send-time records cover (snd_una, snd_nxt] in order.
	q := &e.rack.txq
	for i := 0; i < q.n; i++ {
		end := q.at(i).end
		if !end.GreaterThan(e.sndUna) || end.GreaterThan(e.sndNxt) || (i > 0 && !q.at(i-1).end.LessThan(end)) {
			t.Fatalf("send record %d ends at %d: outside (snd_una %d, snd_nxt %d] or out of order", i, end, e.sndUna, e.sndNxt)
		}
	}
	if q.n > 0 && e.state != SynSent && e.state != SynRcvd && q.at(q.n-1).end != e.sndNxt {
		t.Fatalf("last send record ends at %d, snd_nxt %d", q.at(q.n-1).end, e.sndNxt)
	}
}
