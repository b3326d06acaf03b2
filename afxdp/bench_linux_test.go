package afxdp

import (
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

// benchRig is a veth pair with an AF_XDP port (copy mode, native attach, one
// queue) on each end: "ours" is measured, "peer" generates or sinks.
type benchRig struct {
	p          *testPair
	ours, peer *Port
}

func newBenchRig(b *testing.B) *benchRig {
	p := newTestPair(b, testbed.LinkOpts{}, true)
	c := Config{Attach: AttachNative, Mode: ModeCopy, Queues: []int{0}, NumFrames: 8192}
	r := &benchRig{p: p, ours: p.open(b, c)}
	c.Interface = p.peerV.Name
	if err := p.peer.Do(func() error {
		var err error
		r.peer, err = Open(c)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.peer.Close() })
	return r
}

// writeTestFrame writes an Ethernet/IPv4/UDP frame of size bytes from src to dst MAC.
func writeTestFrame(buf []byte, size int, dst, src []byte) {
	copy(buf[0:6], dst)
	copy(buf[6:12], src)
	binary.BigEndian.PutUint16(buf[12:14], 0x0800)
	ip := buf[14:34]
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:4], uint16(size-14))
	ip[8], ip[9] = 64, 17
	copy(ip[12:16], []byte{10, 77, 0, 2})
	copy(ip[16:20], ourIP[:])
	binary.BigEndian.PutUint16(buf[34:36], 12345)
	binary.BigEndian.PutUint16(buf[36:38], 9)
	binary.BigEndian.PutUint16(buf[38:40], uint16(size-34))
}

// txLoop transmits size-byte frames from every free frame of w until stop
// is set, reclaiming completions; frames are written once, up front. It
// returns the number of frames the kernel completed.
func txLoop(w *qWorker, size int, stop *atomic.Bool, limit uint64) uint64 {
	var descs [64]Desc
	var addrs [64]uint64
	var done uint64
	for !stop.Load() && (limit == 0 || done < limit) {
		for {
			n := w.s.Completion().Consume(addrs[:])
			if n == 0 {
				break
			}
			done += uint64(n)
			w.free.Put(addrs[:n]...)
		}
		n := w.free.Get(addrs[:])
		for i := 0; i < n; i++ {
			descs[i] = Desc{Addr: addrs[i], Len: uint32(size)}
		}
		k := w.s.Transmit(descs[:n])
		if k < n {
			w.free.Put(addrs[k:n]...)
		}
		if err := w.s.Kick(); err != nil {
			panic("afxdp bench: kick: " + err.Error())
		}
		if k == 0 {
			runtime.Gosched()
		}
	}
	return done
}

// rxLoop receives until limit frames arrived or stop is set, recycling every
// frame straight to the fill ring. It returns the number received.
func rxLoop(s *Socket, stop *atomic.Bool, limit uint64) uint64 {
	var descs [64]Desc
	var addrs [64]uint64
	var got uint64
	u := s.UMEM()
	idle := 0
	for !stop.Load() && (limit == 0 || got < limit) {
		n := s.Receive(descs[:])
		if n == 0 {
			if idle++; idle%64 == 0 {
				runtime.Gosched()
			}
			continue
		}
		for i := 0; i < n; i++ {
			addrs[i] = u.FrameAddr(descs[i].Addr)
		}
		// The fill ring is as large as the RX ring's share of frames, so
		// this always fits; loop anyway rather than lose frames.
		for off := 0; off < n; {
			off += s.Fill().Produce(addrs[off:n])
		}
		got += uint64(n)
	}
	return got
}

func prefill(w *qWorker, size int, dst, src []byte) {
	for _, a := range w.free.addrs {
		writeTestFrame(w.u.Frame(a), size, dst, src)
	}
}

func benchRx(b *testing.B, size int) {
	r := newBenchRig(b)
	// Ours: every frame on the fill ring (2048) - the rest stay unused.
	frames := r.ours.UMEM.FrameAddrs(nil)
	newQWorker(r.ours.Sockets[0], frames[:2048])
	// Peer: generator, frames on its free list only.
	pf := r.peer.UMEM.FrameAddrs(nil)
	gen := &qWorker{s: r.peer.Sockets[0], u: r.peer.UMEM, free: NewFreeList(len(pf))}
	gen.free.Put(pf[:2048]...)
	prefill(gen, size, r.p.ourV.MAC, r.p.peerV.MAC)

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); txLoop(gen, size, &stop, 0) }()
	defer func() { stop.Store(true); wg.Wait() }()
	// Warm up until traffic flows (bounded).
	var warm atomic.Bool
	time.AfterFunc(5*time.Second, func() { warm.Store(true) })
	if rxLoop(r.ours.Sockets[0], &warm, 1000) < 1000 {
		b.Fatal("generator traffic did not arrive within 5s")
	}
	var timeout atomic.Bool
	tm := time.AfterFunc(60*time.Second, func() { timeout.Store(true) })
	defer tm.Stop()
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	got := rxLoop(r.ours.Sockets[0], &timeout, uint64(b.N))
	el := time.Since(start)
	b.StopTimer()
	if got < uint64(b.N) {
		b.Fatalf("received %d of %d frames before the 60s limit", got, b.N)
	}
	b.ReportMetric(float64(got)/el.Seconds(), "pps")
	st, _ := r.ours.Sockets[0].Stats()
	b.ReportMetric(float64(st.RxDropped+st.RxRingFull+st.RxFillRingEmptyDescs), "rxdrops")
}

func benchTx(b *testing.B, size int) {
	r := newBenchRig(b)
	// Peer: sink with every frame on its fill ring.
	pf := r.peer.UMEM.FrameAddrs(nil)
	newQWorker(r.peer.Sockets[0], pf[:2048])
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); rxLoop(r.peer.Sockets[0], &stop, 0) }()
	defer func() { stop.Store(true); wg.Wait() }()

	frames := r.ours.UMEM.FrameAddrs(nil)
	w := &qWorker{s: r.ours.Sockets[0], u: r.ours.UMEM, free: NewFreeList(len(frames))}
	w.free.Put(frames[:2048]...)
	prefill(w, size, r.p.peerV.MAC, r.p.ourV.MAC)
	var timeout atomic.Bool
	tm := time.AfterFunc(60*time.Second, func() { timeout.Store(true) })
	defer tm.Stop()
	if txLoop(w, size, &timeout, 1000) < 1000 {
		b.Fatal("warm-up transmit did not complete")
	}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	done := txLoop(w, size, &timeout, uint64(b.N))
	el := time.Since(start)
	b.StopTimer()
	if done < uint64(b.N) {
		b.Fatalf("completed %d of %d frames before the 60s limit", done, b.N)
	}
	b.ReportMetric(float64(done)/el.Seconds(), "pps")
}

// BenchmarkRawRx measures the raw AF_XDP receive ceiling on veth in copy
// mode: frames from a peer AF_XDP generator, recycled to the fill ring.
// ops are packets.
func BenchmarkRawRx(b *testing.B) {
	b.Run("64B", func(b *testing.B) { benchRx(b, 64) })
	b.Run("1514B", func(b *testing.B) { benchRx(b, 1514) })
}

// BenchmarkRawTx measures the raw AF_XDP transmit ceiling on veth in copy
// mode (TX budget 256 per kick), counted by completions; a peer AF_XDP
// socket sinks the frames. ops are packets.
func BenchmarkRawTx(b *testing.B) {
	b.Run("64B", func(b *testing.B) { benchTx(b, 64) })
	b.Run("1514B", func(b *testing.B) { benchTx(b, 1514) })
}
