package conn

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/sched"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// benchChunk is the bytes moved per benchmark operation.
const benchChunk = 256 << 10

// memPair is a client and a server connection handing segments to each
// other directly: no network, no loss, virtual time advancing 10 µs per
// segment.
type memPair struct {
	tb          testing.TB
	a, b        *Conn
	peerOf      map[*Subflow]*Subflow
	tokens      *mptcp.TokenTable[*Conn]
	frame, rbuf []byte
	now         time.Duration
	off         int64
	port        uint16
}

func newMemPair(tb testing.TB, subflows int) *memPair { return newMemPairCsum(tb, subflows, false) }

// newMemPairCsum is newMemPair with DSS checksums on or off.
func newMemPairCsum(tb testing.TB, subflows int, csum bool) *memPair {
	p := &memPair{tb: tb, peerOf: map[*Subflow]*Subflow{}, tokens: mptcp.NewTokenTable[*Conn](),
		frame: make([]byte, 65536), rbuf: make([]byte, benchChunk), port: 1000}
	// Round robin, so that both subflows carry data and the receiver
	// merges two interleaved DSN streams (the lowest-RTT scheduler would
	// put nearly everything on one subflow here).
	cfg := Config{Tokens: p.tokens, TCP: tcp.Config{MSS: 8960}, RecvBufSize: 8 << 20, SendBufSize: 8 << 20, Scheduler: &sched.RoundRobin{}, Checksum: csum}
	cfg.TCP.RecvBufSize, cfg.TCP.RecvBufMax = 8<<20, 8<<20
	ta := p.tuple(0)
	a, sf, err := Dial(cfg, ta, 1000, 0)
	if err != nil {
		tb.Fatal(err)
	}
	p.a = a
	s, seg, _ := a.Output(0, p.frame)
	b, bsf, err := Accept(cfg, reverse(ta), &seg, 5000, 0)
	if err != nil {
		tb.Fatal(err)
	}
	_ = s
	p.b = b
	p.peerOf[sf], p.peerOf[bsf] = bsf, sf
	p.pump()
	a.Write([]byte("hello"))
	p.pump()
	p.readAll()
	p.pump() // the delayed ACK carries the server's first DSS
	for i := 1; i < subflows; i++ {
		t := p.tuple(i)
		jsf, err := a.Join(t, 2000+tcpSeq(i), uint8(i), false, p.now)
		if err != nil {
			tb.Fatal(err)
		}
		_, syn, ok := a.Output(p.now, p.frame)
		if !ok {
			tb.Fatal("no join SYN")
		}
		_, ssf, err := AcceptJoin(p.tokens, nil, reverse(t), &syn, 7000, p.now)
		if err != nil {
			tb.Fatal(err)
		}
		p.peerOf[jsf], p.peerOf[ssf] = ssf, jsf
		p.pump()
	}
	for _, sf := range a.subflows {
		if !sf.dataReady() {
			tb.Fatalf("subflow %d not ready", sf.id)
		}
	}
	return p
}

func (p *memPair) tuple(i int) tcp.FourTuple {
	p.port++
	return tcp.FourTuple{LocalAddr: netip.AddrFrom4([4]byte{10, 0, byte(i), 1}), RemoteAddr: netip.AddrFrom4([4]byte{10, 1, byte(i), 1}), LocalPort: p.port, RemotePort: 80}
}

func reverse(t tcp.FourTuple) tcp.FourTuple {
	return tcp.FourTuple{LocalAddr: t.RemoteAddr, RemoteAddr: t.LocalAddr, LocalPort: t.RemotePort, RemotePort: t.LocalPort}
}

// pump moves segments both ways until both sides are quiet.
func (p *memPair) pump() {
	for i := 0; i < 1<<16; i++ {
		moved := false
		for _, c := range [2]*Conn{p.a, p.b} {
			for {
				sf, seg, ok := c.Output(p.now, p.frame)
				if !ok {
					break
				}
				moved = true
				p.now += 10 * time.Microsecond
				peer := p.peerOf[sf]
				peer.c.Input(peer, &seg, p.now)
			}
		}
		if !moved {
			// Quiet: run the earliest timer of either side if data is
			// still on its way (a delayed ACK, a window probe).
			if p.b.Readable() > 0 || p.a.snd.end == p.a.dataUna {
				return
			}
			t, c := p.a.NextTimer(), p.a
			if tb := p.b.NextTimer(); tb != 0 && (t == 0 || tb < t) {
				t, c = tb, p.b
			}
			if t == 0 {
				return
			}
			p.now = max(p.now, t)
			c.OnTimer(p.now)
			continue
		}
	}
	p.tb.Fatalf("pump did not settle: a %+v b %+v", p.a.Info(), p.b.Info())
}

func (p *memPair) readAll() int {
	n := 0
	for {
		k := p.b.Read(p.rbuf)
		if k == 0 {
			return n
		}
		n += k
	}
}

// move writes one chunk and pumps until the server has read it.
func (p *memPair) move() {
	left := benchChunk
	got := 0
	for got < benchChunk {
		if left > 0 {
			left -= p.a.Write(streamAt(p.off, left))
		}
		p.pump()
		got += p.readAll()
	}
	p.off += benchChunk
}

func BenchmarkConnMemory(b *testing.B) {
	b.Run("copy-baseline", func(b *testing.B) {
		dst := make([]byte, benchChunk)
		b.SetBytes(benchChunk)
		b.ReportAllocs()
		for b.Loop() {
			copy(dst, pattern[:benchChunk])
		}
	})
	for _, n := range []int{1, 2, -2} {
		name := fmt.Sprintf("subflows=%d", n)
		if n < 0 {
			n = -n
			name = fmt.Sprintf("subflows=%d/checksums", n)
		}
		csum := name != fmt.Sprintf("subflows=%d", n)
		b.Run(name, func(b *testing.B) {
			p := newMemPairCsum(b, n, csum)
			for range 8 {
				p.move() // warm up: buffers and mapping lists reach their steady size
			}
			b.SetBytes(benchChunk)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				p.move()
			}
		})
	}
}

// TestMemPairIntegrity checks the benchmark's pipe delivers the exact stream.
func TestMemPairIntegrity(t *testing.T) {
	for _, n := range []int{1, 2} {
		p := newMemPair(t, n)
		const total = 4 * benchChunk
		var got []byte
		var w int64
		for i := 0; len(got) < total && i < 10000; i++ {
			if w < total {
				w += int64(p.a.Write(streamAt(w, int(total-w))))
			}
			p.pump()
			for {
				k := p.b.Read(p.rbuf)
				if k == 0 {
					break
				}
				got = append(got, p.rbuf[:k]...)
			}
		}
		sum := sha256.Sum256(got)
		if len(got) != total || string(sum[:]) != string(expectedHash(total)) {
			dumpConn(t, "a", p.a)
			dumpConn(t, "b", p.b)
			t.Fatalf("%d subflows: stream differs (%d bytes read)", n, len(got))
		}
		if n == 2 && (p.a.subflows[0].bytesSent == 0 || p.a.subflows[1].bytesSent == 0) {
			t.Errorf("2 subflows: bytes %d / %d", p.a.subflows[0].bytesSent, p.a.subflows[1].bytesSent)
		}
	}
}

// TestDSNWrap moves data across the 2^64 wrap of the data sequence space
// (an IDSN close to 2^64 is rare but legal).
func TestDSNWrap(t *testing.T) {
	p := newMemPair(t, 2)
	// Shift the wire DSNs of the client->server direction so that they
	// wrap after 100 KB; both ends agree, as if the client's IDSN were there.
	shift := (1<<64 - 100000) - (p.a.sndBase + p.a.snd.end)
	p.a.sndBase += shift
	p.b.rcvBase += shift
	const total = 1 << 20
	var got []byte
	var w int64
	for i := 0; len(got) < total && i < 10000; i++ {
		if w < total {
			w += int64(p.a.Write(streamAt(w, int(total-w))))
		}
		p.pump()
		for {
			k := p.b.Read(p.rbuf)
			if k == 0 {
				break
			}
			got = append(got, p.rbuf[:k]...)
		}
	}
	sum := sha256.Sum256(got)
	if len(got) != total || string(sum[:]) != string(expectedHash(total)) {
		t.Fatalf("stream across the DSN wrap differs (%d bytes)", len(got))
	}
	if in := p.a.Info(); in.WriteSeq > 1<<63 {
		t.Fatalf("write_seq %d did not wrap", in.WriteSeq)
	}
}

// TestConnWindowProbe: with the peer's connection-level window closed,
// nothing in flight and data waiting, the sender probes after a timeout.
func TestConnWindowProbe(t *testing.T) {
	p := newMemPair(t, 1)
	a := p.a
	a.rwndEnd = a.sndNxt // the peer's window is closed
	a.Write([]byte("waiting"))
	if _, _, ok := a.Output(p.now, p.frame); ok {
		t.Fatal("sent into a closed window")
	}
	at := a.NextTimer()
	if at == 0 || a.probeAt == 0 {
		t.Fatal("no probe timer armed")
	}
	p.now = a.probeAt
	a.OnTimer(p.now)
	sf, seg, ok := a.Output(p.now, p.frame)
	if !ok || sf == nil || len(seg.Payload) != 1 {
		t.Fatalf("probe: ok %v payload %d, want one byte", ok, len(seg.Payload))
	}
	if a.MIB().Get(mptcp.MibWinProbe) != 1 {
		t.Fatal("WinProbe not counted")
	}
}
