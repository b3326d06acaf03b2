package tcp

import (
	"fmt"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

// benchMSS are the MSS values of MTU 1500 and MTU 9000.
var benchMSS = []int{1460, 8960}

// benchChunk is the bytes moved per benchmark operation.
const benchChunk = 256 << 10

// pipePair is two endpoints handing segments to each other directly (no
// network, no copies besides the engine's own: send ring -> frame ->
// receive ring -> application buffer).
type pipePair struct {
	a, b         *Endpoint
	fa, fb, rbuf []byte
	now          time.Duration
	off          int64
}

func newPipePair(tb testing.TB, mss int) *pipePair {
	mk := func(iss uint32) Config {
		return Config{ISS: 0, MSS: mss, CC: cc.NewCubic(mss), SendBufSize: 4 << 20,
			RecvBufSize: 4 << 20, RecvBufMax: 4 << 20}
	}
	ca, cb := mk(1), mk(2)
	ca.ISS, cb.ISS = 12345, 0xffff0000
	a, err := NewActive(ca, 0)
	if err != nil {
		tb.Fatal(err)
	}
	p := &pipePair{a: a, fa: make([]byte, 65536), fb: make([]byte, 65536), rbuf: make([]byte, 1<<20)}
	s, _ := a.Output(0, p.fa)
	p.b, err = NewPassive(cb, &s, 0)
	if err != nil {
		tb.Fatal(err)
	}
	p.pump(0)
	if a.State() != Established || p.b.State() != Established {
		tb.Fatalf("pipe handshake: %v / %v", a.State(), p.b.State())
	}
	return p
}

// pump exchanges segments until both sides are quiet and returns the bytes
// the application read at b.
func (p *pipePair) pump(want int) int {
	got := 0
	for i := 0; ; i++ {
		moved := false
		for {
			s, ok := p.a.Output(p.now, p.fa)
			if !ok {
				break
			}
			p.b.Input(&s, p.now)
			moved = true
		}
		for {
			n := p.b.Read(p.rbuf)
			if n == 0 {
				break
			}
			got += n
		}
		for {
			s, ok := p.b.Output(p.now, p.fb)
			if !ok {
				break
			}
			p.a.Input(&s, p.now)
			moved = true
		}
		p.now += 10 * time.Microsecond
		if !moved && got >= want {
			return got
		}
		if i > 1_000_000 {
			panic("pipe stalled")
		}
	}
}

// transfer writes n stream bytes into a and moves them to b's application.
func (p *pipePair) transfer(n int) int {
	got := 0
	for w := 0; w < n; {
		c := p.a.Write(streamAt(p.off, n-w))
		p.off += int64(c)
		w += c
		got += p.pump(0)
	}
	return got + p.pump(n-got)
}

func BenchmarkPipe(b *testing.B) {
	for _, mss := range benchMSS {
		b.Run(fmt.Sprintf("mss%d", mss), func(b *testing.B) {
			p := newPipePair(b, mss)
			p.transfer(8 << 20) // warm up: slow start, buffers
			b.SetBytes(benchChunk)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if got := p.transfer(benchChunk); got != benchChunk {
					b.Fatalf("moved %d bytes, want %d", got, benchChunk)
				}
			}
		})
	}
}

// BenchmarkCopyBaseline is one core's copy() bandwidth over the same bytes
// in the same chunk sizes (the MSS payload) as BenchmarkPipe, so the
// engine's cost can be stated as a fraction of it.
func BenchmarkCopyBaseline(b *testing.B) {
	for _, mss := range benchMSS {
		b.Run(fmt.Sprintf("mss%d", mss), func(b *testing.B) {
			src := make([]byte, 4<<20)
			dst := make([]byte, 4<<20)
			chunk := mss - 12
			off := 0
			b.SetBytes(benchChunk)
			b.ReportAllocs()
			for b.Loop() {
				for n := 0; n < benchChunk; n += chunk {
					c := min(chunk, benchChunk-n)
					if off+c > len(src) {
						off = 0
					}
					copy(dst[off:off+c], src[off:off+c])
					off += c
				}
			}
		})
	}
}

func TestPipeSteadyStateDoesNotAllocate(t *testing.T) {
	p := newPipePair(t, 1460)
	p.transfer(8 << 20)
	allocs := testing.AllocsPerRun(20, func() { p.transfer(64 << 10) })
	if allocs != 0 {
		t.Errorf("%v allocations per 64 KiB moved in steady state, want 0", allocs)
	}
	if p.a.Counters().RetransSegs != 0 || p.b.Readable() != 0 {
		t.Errorf("lossless pipe retransmitted %d segments", p.a.Counters().RetransSegs)
	}
}
