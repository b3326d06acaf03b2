package iperf

import (
	"io"
	"sync/atomic"
	"testing"
)

// The poll(2) writer moves every byte, allocates nothing per write, and
// returns promptly once stop is set on a socket nobody reads.
func TestPollWriter(t *testing.T) {
	c, s := loopbackPair(t, false)
	var stop atomic.Bool
	pw := newPollWriter(c, &stop)
	if pw == nil {
		t.Fatal("no poll writer for a kernel socket")
	}
	got := make(chan int64, 1)
	go func() { n, _ := io.Copy(io.Discard, s); got <- n }()
	blk := make([]byte, 64<<10)
	var sent int64
	allocs := testing.AllocsPerRun(100, func() {
		n, err := pw.write(blk)
		if err != nil || n != len(blk) {
			t.Fatalf("write: %d, %v", n, err)
		}
		sent += int64(n)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per write", allocs)
	}
	c.Close()
	if n := <-got; n != sent {
		t.Errorf("receiver got %d of %d bytes", n, sent)
	}

	if newPollWriter(fakeConn{}, &stop) != nil {
		t.Error("poll writer for a conn without a socket")
	}

	// Nobody reads: the socket fills, and a stopped writer returns a short
	// count instead of waiting.
	c2, _ := loopbackPair(t, false)
	pw2 := newPollWriter(c2, &stop)
	stop.Store(true)
	for i := 0; i < 10000; i++ {
		n, err := pw2.write(blk)
		if err != nil {
			t.Fatal(err)
		}
		if n < len(blk) {
			return // full, and it noticed stop
		}
	}
	t.Error("never saw a full socket")
}
