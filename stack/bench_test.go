package stack

import (
	"io"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp/conn"
	"github.com/mpxdp/mpxdp/stack/link"
)

// BenchmarkCopy is the one-core memory-copy bandwidth the TCP goodput
// benchmarks are compared with (16 MiB buffers, larger than the caches).
func BenchmarkCopy(b *testing.B) {
	src := make([]byte, 16<<20)
	dst := make([]byte, 16<<20)
	newPRNG(1).Read(src)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		copy(dst, src)
	}
	b.ReportMetric(float64(b.N)*float64(len(src))*8/time.Since(start).Seconds()/1e9, "Gbit/s")
}

// BenchmarkPipeGoodput measures one TCP connection between two stacks in
// this process over a link.Pipe: the application writes 256 KiB chunks and
// the receiver discards (io.Copy, which takes the WriterTo path: no copy
// out of the ring). MTU1500 and MTU9000 run the workers as ordinary
// goroutines: with GOMAXPROCS 2 each application then runs on its own
// worker's P between batches (Go's scheduler puts a goroutine woken by the
// worker next on the worker's P), so the sender's worker and application
// share one core and the receiver's the other, without thread switches.
// The -pinned variants lock each worker's thread to core 0 and 1 (as an
// AF_XDP deployment with Config cores does); the applications then run on
// other threads and every sleep of a worker hands its P across threads.
func BenchmarkPipeGoodput(b *testing.B) {
	for _, mtu := range []int{1500, 9000} {
		for _, pinned := range []bool{false, true} {
			name := "MTU" + itoa(mtu)
			if pinned {
				name += "-pinned"
			}
			b.Run(name, func(b *testing.B) { pipeGoodput(b, mtu, pinned) })
		}
	}
}

func pipeGoodput(b *testing.B, mtu int, pinned bool) {
	fs := 2048
	if mtu > 1500 {
		fs = 16384
	}
	cfg := Config{SendBuffer: 4 << 20, RecvBuffer: 4 << 20}
	p := newPinnedPair(b, cfg, mtu, fs, pinned)
	ln, err := p.b.Listen("tcp", ":9")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan int64)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- 0
			return
		}
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		done <- n
	}()
	c, err := p.a.Dial("tcp", "10.0.0.2:9")
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 256<<10)
	newPRNG(2).Read(chunk)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	txa0, txb0 := p.a.Stats().TxFrames, p.b.Stats().TxFrames
	cpu0, sw0, uok := procUsage()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	c.(*Conn).CloseWrite()
	n := <-done
	el := time.Since(start)
	cpu1, sw1, _ := procUsage()
	txa1, txb1 := p.a.Stats().TxFrames, p.b.Stats().TxFrames
	b.StopTimer()
	c.Close()
	if n != int64(b.N)*int64(len(chunk)) {
		b.Fatalf("received %d of %d bytes", n, int64(b.N)*int64(len(chunk)))
	}
	gbps := float64(n) * 8 / el.Seconds() / 1e9
	b.ReportMetric(gbps, "Gbit/s")
	b.ReportMetric(gbps/copyGbps(), "x-copy")
	if txa1 > txa0 {
		// Frames the receiver sent (ACKs, window updates) per data frame.
		b.ReportMetric(float64(txb1-txb0)/float64(txa1-txa0), "acks/seg")
	}
	if uok && n > 0 {
		// What the transfer cost, robust to other load on the machine:
		// CPU seconds (both stacks, both applications) per GB moved, and
		// voluntary context switches (threads that blocked) per MB.
		b.ReportMetric((cpu1-cpu0)/(float64(n)/1e9), "cpu-s/GB")
		b.ReportMetric(float64(sw1-sw0)/(float64(n)/1e6), "vcsw/MB")
	}
}

// copyGbps measures one-core copy() bandwidth (the same copy as
// BenchmarkCopy), so that goodput benchmarks can report their ratio to it
// from the same run. It takes the best of ten 20 ms samples: on a machine
// shared with other work that is the steadiest estimate of what one core
// copies (the ratio is then conservative while others load the machine).
func copyGbps() float64 {
	src := make([]byte, 16<<20)
	dst := make([]byte, 16<<20)
	newPRNG(1).Read(src)
	best := 0.0
	for range 10 {
		n := 0
		start := time.Now()
		for time.Since(start) < 20*time.Millisecond {
			copy(dst, src)
			n++
		}
		best = max(best, float64(n)*float64(len(src))*8/time.Since(start).Seconds()/1e9)
	}
	return best
}

// newPinnedPair joins two stacks over a link.Pipe; with pinned, their
// workers lock their threads to cores 0 and 1 (when the machine has them).
func newPinnedPair(tb testing.TB, cfg Config, mtu, frameSize int, pinned bool) *pair {
	pp, err := link.NewPipe(1024, frameSize)
	if err != nil {
		tb.Fatal(err)
	}
	var ca, cb []int
	if pinned && runtime.NumCPU() >= 2 {
		ca, cb = []int{0}, []int{1}
	}
	pa := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")}
	pb := []netip.Prefix{netip.MustParsePrefix("10.0.0.2/24")}
	a, err := NewLinks(cfg, []Link{{Name: "a0", MAC: macA, Addrs: pa, Queues: []link.Queue{pp.A}, MTU: mtu, Cores: ca}})
	if err != nil {
		tb.Fatal(err)
	}
	b, err := NewLinks(cfg, []Link{{Name: "b0", MAC: macB, Addrs: pb, Queues: []link.Queue{pp.B}, MTU: mtu, Cores: cb}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close(); b.Close() })
	return &pair{a: a, b: b, addrA: pa[0].Addr(), addrB: pb[0].Addr()}
}

// handPath is two hosts over a link.Pipe driven by hand on one goroutine
// (no worker goroutines, virtual time) with one established connection.
// move pushes one chunk through the whole per-packet path: segmentation,
// header building with checksums, parsing, checksum verification, flow
// lookup, the engines and the byte rings.
type handPath struct {
	sa, sb *Stack
	mc     *conn.Conn // the client's MPTCP connection (newMPHandPath)
	move   func()
}

func newHandPath(tb testing.TB, mtu int) *handPath {
	fs := 2048
	if mtu > 1500 {
		fs = 16384
	}
	pp, _ := link.NewPipe(1024, fs)
	pa := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")}
	pb := []netip.Prefix{netip.MustParsePrefix("10.0.0.2/24")}
	cfg := Config{SendBuffer: 1 << 20, RecvBuffer: 1 << 20}
	cfg.TCP.RecvBufSize, cfg.TCP.RecvBufMax = 4<<20, 4<<20 // no autotuning growth
	sa, err := newHost(cfg, []Link{{Name: "a0", MAC: macA, Addrs: pa, Queues: []link.Queue{pp.A}, MTU: mtu}})
	if err != nil {
		tb.Fatal(err)
	}
	sb, _ := newHost(cfg, []Link{{Name: "b0", MAC: macB, Addrs: pb, Queues: []link.Queue{pp.B}, MTU: mtu}})
	wa, wb := sa.workers[0], sb.workers[0]
	var now time.Duration
	step := func() {
		now += 20 * time.Microsecond
		wa.pollQueues(now)
		wb.pollQueues(now)
	}
	ln, _ := sb.Listen("tcp", ":1")
	l := ln.(*listener)
	c := sa.newConn(nil, wa)
	c.raddr = netip.AddrPortFrom(pb[0].Addr(), 1)
	wa.cmds.Enqueue(command{op: opDial, c: c})
	for i := 0; i < 1000 && l.acceptQ.Len() == 0; i++ {
		step()
	}
	s, ok := l.acceptQ.Dequeue()
	if !ok {
		tb.Fatal("no connection")
	}
	h := &handPath{sa: sa, sb: sb}
	h.move = handMover(c, s, step)
	for range 200 { // warm up: slow start, map and slice growth
		h.move()
	}
	return h
}

// BenchmarkWorkerPath moves 64 KiB per operation through the per-packet
// path of two hand-driven hosts, at MTU 1500 and 9000 (where per-byte work
// dominates); it must report 0 allocs/op.
func BenchmarkWorkerPath(b *testing.B) {
	for _, mtu := range []int{1500, 9000} {
		b.Run("MTU"+itoa(mtu), func(b *testing.B) { workerPath(b, mtu) })
	}
}

func workerPath(b *testing.B, mtu int) {
	h := newHandPath(b, mtu)
	b.SetBytes(64 << 10)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.move()
	}
	b.StopTimer()
	frames := h.sa.Stats().TxFrames + h.sb.Stats().TxFrames
	b.ReportMetric(float64(frames)/float64(b.N+200), "frames/op")
}

// TestWorkerPathZeroAlloc is the allocation check of BenchmarkWorkerPath
// as a test: steady-state segments in both directions allocate nothing.
func TestWorkerPathZeroAlloc(t *testing.T) {
	for _, mtu := range []int{1500, 9000} {
		h := newHandPath(t, mtu)
		if n := testing.AllocsPerRun(50, h.move); n != 0 {
			t.Fatalf("MTU %d: %v allocations per 64 KiB moved", mtu, n)
		}
	}
}

// handMover returns a move function for a hand-driven path: the client
// conn c writes 64 KiB, step runs both hosts, and the server conn s reads
// until all of it has arrived.
func handMover(c, s *Conn, step func()) func() {
	chunk := make([]byte, 64<<10)
	sink := make([]byte, 64<<10)
	return func() {
		off, got := 0, 0
		for got < len(chunk) {
			if off < len(chunk) {
				if n := c.snd.Write(chunk[off:]); n > 0 {
					off += n
					c.request(wantUpdate)
				}
			}
			step()
			for {
				n := s.rcv.Read(sink)
				if n == 0 {
					break
				}
				got += n
				s.readDone()
			}
		}
	}
}
