package iperf

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// nullConn accepts every write and fills every read.
type nullConn struct{ net.Conn }

func (nullConn) Write(b []byte) (int, error) { return len(b), nil }
func (nullConn) Read(b []byte) (int, error)  { return len(b), nil }

// countedConn ends reads after n calls.
type countedConn struct {
	nullConn
	n int
}

func (c *countedConn) Read(b []byte) (int, error) {
	if c.n <= 0 {
		return 0, net.ErrClosed
	}
	c.n--
	return len(b), nil
}

// The per-block send path: budget claim, Write, counter. Must not allocate.
func BenchmarkSenderBlock(b *testing.B) {
	const blk = 128 << 10
	s := &stream{conn: nullConn{}, sender: true}
	var stop atomic.Bool
	bud := &budget{}
	bud.left.Store(int64(b.N) * blk)
	buf := make([]byte, blk)
	b.ReportAllocs()
	b.SetBytes(blk)
	b.ResetTimer()
	s.runSender(&stop, bud, buf, 0)
	if s.bytes.Load() != uint64(b.N)*blk {
		b.Fatalf("sent %d", s.bytes.Load())
	}
}

// The per-read receive path. Must not allocate.
func BenchmarkReceiverRead(b *testing.B) {
	const blk = 128 << 10
	s := &stream{conn: &countedConn{n: b.N}}
	var stop atomic.Bool
	var total atomic.Uint64
	buf := make([]byte, blk)
	b.ReportAllocs()
	b.SetBytes(blk)
	b.ResetTimer()
	s.runReceiver(&stop, buf, &total, 0, nil)
}

// fakeSource reports two subflows.
type fakeSource struct{ n uint64 }

func (f *fakeSource) AppendSubflows(dst []SubflowStat) ([]SubflowStat, error) {
	f.n += 1000
	return append(dst, SubflowStat{BytesAcked: f.n, Cwnd: 10, MSS: 1448}, SubflowStat{BytesAcked: 2 * f.n, Cwnd: 20, MSS: 1448, Local: netipPortForBench}), nil
}

var netipPortForBench = addrPortOf(&net.TCPAddr{IP: net.IPv4(10, 101, 0, 1), Port: 1})

// One interval sample of 4 streams with 2 subflows each (per interval,
// not per packet).
func BenchmarkIntervalSample(b *testing.B) {
	set := &streamSet{}
	for i := 0; i < 4; i++ {
		set.streams = append(set.streams, &stream{id: streamID(i), sender: true, src: &fakeSource{}})
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		set.sampleAll(time.Duration(i), time.Duration(i+1), true)
	}
}

// A whole -n test, our client to our server over loopback TCP, with the
// poll(2) writer and with Go's netpoller.
func BenchmarkLoopbackRun(b *testing.B) {
	for _, poll := range []bool{true, false} {
		name := "netpoll"
		if poll {
			name = "pollwriter"
		}
		b.Run(name, func(b *testing.B) {
			old := usePollWriter
			usePollWriter = poll
			defer func() { usePollWriter = old }()
			benchLoopbackRun(b)
		})
	}
}

func benchLoopbackRun(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = Serve(ctx, ln, ServeOptions{}) }()
	const n = 256 << 20
	b.SetBytes(n)
	var secs float64
	for b.Loop() {
		r, err := Run(ctx, tcpDialer(ln.Addr().String()), Options{Bytes: n})
		if err != nil {
			b.Fatal(err)
		}
		secs += r.Sent.Seconds()
	}
	b.ReportMetric(float64(b.N)*n*8/secs/1e9, "Gbit/s")
}
