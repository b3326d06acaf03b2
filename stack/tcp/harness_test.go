package tcp

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/simnet"
	"github.com/mpxdp/mpxdp/stack/seqnum"
	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

// encodeSeg is the tests' own wire format for carrying segments over
// simnet (the real one lives in stack/header).
func encodeSeg(dst []byte, s *Segment) []byte {
	o := &s.Options
	b := dst[:0]
	b = binary.BigEndian.AppendUint32(b, uint32(s.Seq))
	b = binary.BigEndian.AppendUint32(b, uint32(s.Ack))
	b = append(b, byte(s.Flags))
	b = binary.BigEndian.AppendUint16(b, s.Window)
	b = binary.BigEndian.AppendUint16(b, o.MSS)
	var fl byte
	if o.HasWScale {
		fl |= 1
	}
	if o.SACKPermitted {
		fl |= 2
	}
	if o.HasTS {
		fl |= 4
	}
	b = append(b, fl, o.WScale, o.NumSACK)
	for i := 0; i < int(o.NumSACK); i++ {
		b = binary.BigEndian.AppendUint32(b, uint32(o.SACK[i].Start))
		b = binary.BigEndian.AppendUint32(b, uint32(o.SACK[i].End))
	}
	b = binary.BigEndian.AppendUint32(b, o.TSVal)
	b = binary.BigEndian.AppendUint32(b, o.TSEcr)
	b = append(b, byte(len(o.Ext)))
	b = append(b, o.Ext...)
	return append(b, s.Payload...)
}

func decodeSeg(p []byte, s *Segment) bool {
	if len(p) < 17 {
		return false
	}
	*s = Segment{}
	o := &s.Options
	s.Seq = seqnum.Value(binary.BigEndian.Uint32(p))
	s.Ack = seqnum.Value(binary.BigEndian.Uint32(p[4:]))
	s.Flags = Flags(p[8])
	s.Window = binary.BigEndian.Uint16(p[9:])
	o.MSS = binary.BigEndian.Uint16(p[11:])
	fl := p[13]
	o.HasWScale, o.SACKPermitted, o.HasTS = fl&1 != 0, fl&2 != 0, fl&4 != 0
	o.WScale, o.NumSACK = p[14], p[15]
	p = p[16:]
	if o.NumSACK > MaxSACKBlocks || len(p) < 8*int(o.NumSACK)+9 {
		return false
	}
	for i := 0; i < int(o.NumSACK); i++ {
		o.SACK[i] = SACKBlock{seqnum.Value(binary.BigEndian.Uint32(p)), seqnum.Value(binary.BigEndian.Uint32(p[4:]))}
		p = p[8:]
	}
	o.TSVal = binary.BigEndian.Uint32(p)
	o.TSEcr = binary.BigEndian.Uint32(p[4:])
	n := int(p[8])
	p = p[9:]
	if len(p) < n {
		return false
	}
	if n > 0 {
		o.Ext = p[:n]
	}
	s.Payload = p[n:]
	return true
}

// pattern is the source of the test streams: stream byte i is
// pattern[i%patternPeriod], a period that does not line up with segments.
var pattern = func() []byte {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, 1<<20)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}()

const patternPeriod = 1<<20 - 7

// streamAt returns up to n stream bytes starting at offset off.
func streamAt(off int64, n int) []byte {
	i := int(off % patternPeriod)
	return pattern[i:min(i+n, patternPeriod)]
}

// node is one host in a simnet test: an endpoint, an application that
// writes a fixed-size stream and reads everything, and timer plumbing.
type node struct {
	t        testing.TB
	name     string
	sim      *simnet.Sim
	ep       *Endpoint
	out      *simnet.Link
	frame    []byte
	pkt      []byte
	rbuf     []byte
	seg      Segment
	outSeg   Segment // the segment being sent (a field: &outSeg does not escape per call)
	timerAt  time.Duration
	timerGen uint64

	toSend        int64
	sent          int64
	sendHash      hash.Hash
	recvd         int64
	recvHash      hash.Hash
	closeWhenDone bool
	closed        bool
	doneAt        time.Duration // when the peer's FIN was read (end of stream)
	noRead        bool          // the application stops reading (zero window tests)
	trace         func(dir string, s *Segment)
	verify        bool // compare every byte read with the stream as it arrives
}

func newNode(t testing.TB, name string, sim *simnet.Sim) *node {
	return &node{t: t, name: name, sim: sim, frame: make([]byte, 65536), pkt: make([]byte, 0, 70000),
		rbuf: make([]byte, 256<<10), sendHash: sha256.New(), recvHash: sha256.New()}
}

func (n *node) Receive(now time.Duration, pkt []byte) {
	if !decodeSeg(pkt, &n.seg) {
		n.t.Fatalf("%s: undecodable packet", n.name)
	}
	if n.trace != nil {
		n.trace("in", &n.seg)
	}
	n.ep.Input(&n.seg, now)
	n.pump(now)
}

func (n *node) HandleEvent(now time.Duration, gen uint64) {
	if gen != n.timerGen {
		return
	}
	n.timerAt = 0
	n.ep.OnTimer(now)
	n.pump(now)
}

func (n *node) pump(now time.Duration) {
	ep := n.ep
	for n.sent < n.toSend {
		p := streamAt(n.sent, int(min(n.toSend-n.sent, 64<<10)))
		w := ep.Write(p)
		n.sendHash.Write(p[:w])
		n.sent += int64(w)
		if w < len(p) {
			break
		}
	}
	if n.sent == n.toSend && n.closeWhenDone && !n.closed {
		n.closed = true
		ep.CloseWrite()
	}
	for !n.noRead {
		r := ep.Read(n.rbuf)
		if r == 0 {
			break
		}
		n.recvHash.Write(n.rbuf[:r])
		if n.verify {
			for got := n.rbuf[:r]; len(got) > 0; {
				want := streamAt(n.recvd, len(got))
				if !bytes.Equal(got[:len(want)], want) {
					n.t.Fatalf("%s: received stream differs from the sent one at offset %d", n.name, n.recvd)
				}
				got = got[len(want):]
				n.recvd += int64(len(want))
			}
		} else {
			n.recvd += int64(r)
		}
	}
	if n.doneAt == 0 && ep.PeerClosed() {
		n.doneAt = now
	}
	for {
		var ok bool
		n.outSeg, ok = ep.Output(now, n.frame)
		if !ok {
			break
		}
		if n.trace != nil {
			n.trace("out", &n.outSeg)
		}
		n.pkt = encodeSeg(n.pkt, &n.outSeg)
		n.out.Send(n.pkt)
	}
	if t := ep.NextTimer(); t != 0 && t != n.timerAt {
		n.timerGen++
		n.timerAt = t
		n.sim.Schedule(t, n, n.timerGen)
	}
}

// pair is two nodes connected by two links.
type pair struct {
	sim  *simnet.Sim
	a, b *node
	ab   *simnet.Link
	ba   *simnet.Link
}

func baseConfig(iss seqnum.Value) Config {
	return Config{ISS: iss, CC: cc.NewCubic(1460), MinRTO: 200 * time.Millisecond, TimeWait: 2 * time.Second}
}

// newPair connects a (active) and b (passive, created when a's SYN
// arrives) over links with the given configurations.
func newPair(t testing.TB, seed uint64, link simnet.LinkConfig, ca, cb Config) *pair {
	sim := simnet.New(seed)
	p := &pair{sim: sim, a: newNode(t, "A", sim), b: newNode(t, "B", sim)}
	p.ab = sim.NewLink(link, &synAcceptor{p: p, cfg: cb})
	p.ba = sim.NewLink(link, p.a)
	p.a.out, p.b.out = p.ab, p.ba
	ep, err := NewActive(ca, 0)
	if err != nil {
		t.Fatal(err)
	}
	p.a.ep = ep
	return p
}

// synAcceptor stands in for a listener until the passive endpoint exists.
type synAcceptor struct {
	p   *pair
	cfg Config
}

func (s *synAcceptor) Receive(now time.Duration, pkt []byte) {
	b := s.p.b
	if b.ep == nil {
		var seg Segment
		if !decodeSeg(pkt, &seg) || seg.Flags != FlagSYN {
			return
		}
		ep, err := NewPassive(s.cfg, &seg, now)
		if err != nil {
			b.t.Fatal(err)
		}
		b.ep = ep
		b.pump(now)
		return
	}
	b.Receive(now, pkt)
}

func (p *pair) start() { p.a.pump(p.sim.Now()) }

// run runs the simulation until done returns true or the virtual deadline
// passes, and reports whether done became true.
func (p *pair) run(deadline time.Duration, done func() bool) bool {
	return p.sim.RunUntil(deadline, done)
}
