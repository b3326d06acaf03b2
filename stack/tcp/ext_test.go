package tcp

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// testExt writes an 8-byte kind-30 option naming the segment's sequence
// number and payload length, and checks the ones it receives.
type testExt struct {
	t       *testing.T
	written int
	seen    int
	badSeen int
	synSeen bool
}

func (x *testExt) WriteOptions(seg *Segment, buf []byte) int {
	if len(buf) < 8 {
		x.t.Errorf("extension got %d bytes of option space, want >= 8", len(buf))
		return 0
	}
	buf[0], buf[1] = 30, 8
	binary.BigEndian.PutUint32(buf[2:], uint32(seg.Seq))
	binary.BigEndian.PutUint16(buf[6:], uint16(len(seg.Payload)))
	x.written++
	return 8
}

func (x *testExt) OnSegment(seg *Segment) {
	x.seen++
	if seg.Flags&FlagSYN != 0 {
		x.synSeen = true
	}
	ext := seg.Options.Ext
	if len(ext) != 8 || ext[0] != 30 || binary.BigEndian.Uint32(ext[2:]) != uint32(seg.Seq) ||
		int(binary.BigEndian.Uint16(ext[6:])) != len(seg.Payload) {
		x.badSeen++
	}
}

// ringSend and ringRecv stand in for MPTCP's DSN-indexed buffers: they
// reach the engine only through the SendBuffer/RecvBuffer interfaces.
type ringSend struct {
	*sendRing
	copies int
}

func (r *ringSend) CopyAt(off int, p []byte) int { r.copies++; return r.sendRing.CopyAt(off, p) }

type ringRecv struct {
	*recvRing
	writes int
}

func (r *ringRecv) WriteAt(off int, p []byte) { r.writes++; r.recvRing.WriteAt(off, p) }

func TestExtensionAndCustomBuffers(t *testing.T) {
	xa, xb := &testExt{t: t}, &testExt{t: t}
	sa := &ringSend{sendRing: newSendRing(1 << 20)}
	rb := &ringRecv{recvRing: newRecvRing(1 << 20)}
	ca, cb := baseConfig(issA), baseConfig(issB)
	ca.Ext, ca.ExtOptionSpace, ca.Send = xa, 8, sa
	cb.Ext, cb.ExtOptionSpace, cb.Recv = xb, 8, rb
	a, b := connect(t, ca, cb)
	if !xa.synSeen || !xb.synSeen {
		t.Fatal("the extension did not see the SYN / SYN-ACK")
	}
	if a.Write([]byte("x")) != 0 || b.Read(make([]byte, 10)) != 0 {
		t.Error("Write/Read must do nothing when Config.Send/Recv replace the buffers")
	}
	data := make([]byte, 300_000)
	for i := range data {
		data[i] = byte(i * 13)
	}
	sa.write(data)
	now := 10 * ms
	for round := 0; round < 2000 && rb.n < len(data); round++ {
		segs := outs(a, now)
		for i := range segs {
			s := &segs[i]
			if got := s.Options.OptionLen(s.Flags&FlagSYN != 0); got > maxOptionSpace {
				t.Fatalf("segment with %d option bytes", got)
			}
			if len(s.Payload) > a.MSS()-12-8 {
				t.Fatalf("payload %d does not leave room for timestamps and the reserved 8 bytes (MSS %d)", len(s.Payload), a.MSS())
			}
			if i%7 == 3 && round < 20 {
				continue // lose some, so that SACK blocks share the option space
			}
			b.Input(s, now)
		}
		deliver(outs(b, now), a, now)
		now += 10 * ms
		if t := a.NextTimer(); t != 0 && t <= now {
			a.OnTimer(now)
		}
	}
	if rb.n != len(data) || !bytes.Equal(rb.buf[rb.head:rb.head+rb.n], data) {
		t.Fatalf("received %d of %d bytes through the custom buffer, or different bytes", rb.n, len(data))
	}
	if xb.badSeen != 0 || xa.badSeen != 0 || xb.seen == 0 || xa.written == 0 {
		t.Errorf("extension: A wrote %d, B saw %d (%d bad), A saw %d bad", xa.written, xb.seen, xb.badSeen, xa.badSeen)
	}
	if sa.copies == 0 || rb.writes == 0 || b.Counters().OOOSegs == 0 {
		t.Errorf("custom buffers unused (copies %d, writes %d) or no loss exercised", sa.copies, rb.writes)
	}
}
