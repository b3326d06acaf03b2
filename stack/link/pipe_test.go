package link

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"
)

var _ Queue = (*PipeEnd)(nil)

func TestNewPipeRejectsBadSizes(t *testing.T) {
	if _, err := NewPipe(3, 2048); err == nil {
		t.Error("3 frames accepted; want a power-of-two error")
	}
	if _, err := NewPipe(8, 10); err == nil {
		t.Error("10-byte frames accepted")
	}
}

func TestPipeDeliversInOrderAndRecyclesFrames(t *testing.T) {
	p, err := NewPipe(8, 256)
	if err != nil {
		t.Fatal(err)
	}
	// Send many more frames than the pool holds: buffers must come back.
	const total = 1000
	fs := make([]Frame, 4)
	rs := make([]Frame, 8)
	next, want := 0, 0
	for round := 0; want < total && round < 10*total; round++ {
		if next < total {
			n := p.A.Alloc(fs[:1])
			if n == 1 {
				binary.BigEndian.PutUint32(fs[0].Buf, uint32(next))
				fs[0].Len = 4 + next%200
				if p.A.Transmit(fs[:1]) != 1 {
					p.A.Release(fs[:1])
				} else {
					next++
				}
			}
		}
		got := p.B.Receive(rs)
		for i := 0; i < got; i++ {
			if v := binary.BigEndian.Uint32(rs[i].Bytes()); int(v) != want || rs[i].Len != 4+want%200 {
				t.Fatalf("frame %d: got seq %d len %d", want, v, rs[i].Len)
			}
			want++
		}
		p.B.Release(rs[:got])
		p.A.Flush()
	}
	if want != total {
		t.Fatalf("received %d of %d frames", want, total)
	}
	if p.A.Sent != total || p.B.Received != total {
		t.Errorf("counters Sent=%d Received=%d, want %d", p.A.Sent, p.B.Received, total)
	}
}

func TestPipeFullRingRefusesAndCounts(t *testing.T) {
	p, _ := NewPipe(4, 128)
	fs := make([]Frame, 4)
	if n := p.A.Alloc(fs); n != 4 {
		t.Fatalf("Alloc gave %d of 4", n)
	}
	for i := range fs {
		fs[i].Len = 10
	}
	if n := p.A.Transmit(fs); n != 4 {
		t.Fatalf("Transmit took %d of 4", n)
	}
	if n := p.A.Alloc(fs[:1]); n != 0 {
		t.Fatalf("Alloc lent %d frames from an empty pool", n)
	}
	rs := make([]Frame, 4)
	if got := p.B.Receive(rs); got != 4 {
		t.Fatalf("Receive got %d", got)
	}
	p.B.Release(rs)
	if n := p.A.Alloc(fs); n != 4 {
		t.Fatalf("after release Alloc gave %d of 4", n)
	}
}

func TestPipeReleaseOfUnusedAllocReturnsToPool(t *testing.T) {
	p, _ := NewPipe(2, 128)
	fs := make([]Frame, 2)
	p.A.Alloc(fs)
	p.A.Release(fs)
	if n := p.A.Alloc(fs); n != 2 {
		t.Fatalf("Alloc after Release gave %d", n)
	}
}

// TestPipeConcurrent runs the two ends on two goroutines in both directions
// at once and checks every byte (run with -race).
func TestPipeConcurrent(t *testing.T) {
	p, _ := NewPipe(64, 512)
	const total = 20000
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	run := func(me *PipeEnd) {
		defer wg.Done()
		tx := make([]Frame, 16)
		rx := make([]Frame, 16)
		sent, recv := 0, 0
		deadline := time.Now().Add(20 * time.Second)
		for (sent < total || recv < total) && time.Now().Before(deadline) {
			if sent < total {
				n := me.Alloc(tx[:min(16, total-sent)])
				for i := 0; i < n; i++ {
					l := 8 + (sent+i)%500
					for j := 0; j < l; j++ {
						tx[i].Buf[j] = byte(sent + i + j)
					}
					tx[i].Len = l
				}
				k := me.Transmit(tx[:n])
				me.Release(tx[k:n])
				sent += k
			}
			got := me.Receive(rx)
			for i := 0; i < got; i++ {
				want := make([]byte, 8+(recv+i)%500)
				for j := range want {
					want[j] = byte(recv + i + j)
				}
				if !bytes.Equal(rx[i].Bytes(), want) {
					errs <- fmt.Errorf("frame %d: content mismatch", recv+i)
					me.Release(rx[:got])
					return
				}
			}
			recv += got
			me.Release(rx[:got])
			me.Flush()
			if got == 0 {
				me.Wait(0)
			}
		}
		if sent != total || recv != total {
			errs <- fmt.Errorf("sent %d received %d of %d", sent, recv, total)
		}
	}
	wg.Add(2)
	go run(p.A)
	go run(p.B)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkPipeFrames moves 1514-byte frames from one goroutine to another:
// the cost the in-memory link adds per packet.
func BenchmarkPipeFrames(b *testing.B) {
	p, _ := NewPipe(1024, 2048)
	done := make(chan struct{})
	go func() {
		rx := make([]Frame, 64)
		got := 0
		for got < b.N {
			n := p.B.Receive(rx)
			got += n
			p.B.Release(rx[:n])
			if n == 0 {
				p.B.Wait(0)
			}
		}
		close(done)
	}()
	tx := make([]Frame, 64)
	b.ReportAllocs()
	b.SetBytes(1514)
	b.ResetTimer()
	for sent := 0; sent < b.N; {
		n := p.A.Alloc(tx[:min(64, b.N-sent)])
		for i := 0; i < n; i++ {
			tx[i].Len = 1514
		}
		k := p.A.Transmit(tx[:n])
		p.A.Release(tx[k:n])
		sent += k
		if n == 0 {
			p.A.Wait(0)
		}
	}
	<-done
}

// TestPipeWaitWakes checks that a Wait with a long timeout ends when the
// peer transmits and when Wake is called, and that a pending Wake makes
// the next Wait return.
func TestPipeWaitWakes(t *testing.T) {
	p, _ := NewPipe(8, 128)
	waitDone := func(e *PipeEnd) chan struct{} {
		ch := make(chan struct{})
		go func() {
			e.Wait(time.Hour)
			close(ch)
		}()
		return ch
	}
	expect := func(ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("Wait(1h) still blocked 10 s after %s", what)
		}
	}
	ch := waitDone(p.B)
	for !p.B.wt.waiting.Load() { // let it go to sleep first
		time.Sleep(time.Millisecond)
	}
	fs := make([]Frame, 1)
	if p.A.Alloc(fs) != 1 {
		t.Fatal("Alloc")
	}
	fs[0].Len = 60
	if p.A.Transmit(fs) != 1 {
		t.Fatal("Transmit")
	}
	expect(ch, "the peer transmitted")

	rx := make([]Frame, 4)
	p.B.Release(rx[:p.B.Receive(rx)])
	ch = waitDone(p.B)
	for !p.B.wt.waiting.Load() {
		time.Sleep(time.Millisecond)
	}
	p.B.Wake()
	expect(ch, "Wake")

	p.A.Wake() // nobody waits: the token makes the next Wait return
	expect(waitDone(p.A), "an earlier Wake")
}

// TestJoinWaitWakesOnAnyEnd checks that after JoinWait a Wait on one end
// ends when the peer of another joined end transmits, returns at once
// while any joined end holds received frames, and that Wake on any joined
// end ends it; an end that was not joined keeps its own wait.
func TestJoinWaitWakesOnAnyEnd(t *testing.T) {
	p1, _ := NewPipe(8, 128)
	p2, _ := NewPipe(8, 128)
	p3, _ := NewPipe(8, 128)
	if !JoinQueueWaits([]Queue{p1.B, p2.B}) {
		t.Fatal("JoinQueueWaits refused two pipe ends")
	}
	if JoinQueueWaits([]Queue{p3.B, nil}) {
		t.Fatal("JoinQueueWaits joined a queue that is not a pipe end")
	}
	if p3.B.wt == p1.B.wt {
		t.Fatal("an end that was not joined shares the joined wait")
	}
	sleep := func(e *PipeEnd) chan struct{} {
		ch := make(chan struct{})
		go func() {
			e.Wait(time.Hour)
			close(ch)
		}()
		for !e.wt.waiting.Load() {
			time.Sleep(time.Millisecond)
		}
		return ch
	}
	expect := func(ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("Wait(1h) on p1.B still blocked 10 s after %s", what)
		}
	}
	ch := sleep(p1.B)
	// A frame toward p3.B (not joined) must not end the sleep.
	fs := make([]Frame, 1)
	p3.A.Alloc(fs)
	fs[0].Len = 60
	p3.A.Transmit(fs)
	select {
	case <-ch:
		t.Fatal("a frame toward an end that was not joined ended the joined Wait")
	case <-time.After(20 * time.Millisecond):
	}
	p2.A.Alloc(fs)
	fs[0].Len = 60
	if p2.A.Transmit(fs) != 1 {
		t.Fatal("Transmit")
	}
	expect(ch, "the peer of the other joined end transmitted")
	// p2.B holds a frame: Wait on p1.B returns without sleeping.
	done := make(chan struct{})
	go func() { p1.B.Wait(time.Hour); close(done) }()
	expect(done, "a frame was already waiting on a joined end")
	rx := make([]Frame, 4)
	p2.B.Release(rx[:p2.B.Receive(rx)])
	ch = sleep(p1.B)
	p2.B.Wake()
	expect(ch, "Wake on the other joined end")
}

// TestPipeDryEndWakesOnRelease checks that an end whose Alloc ran out of
// frames is woken from Wait when the peer gives frames back, and that an
// end with frames to lend is not (its sleep ends only by Wake).
func TestPipeDryEndWakesOnRelease(t *testing.T) {
	p, _ := NewPipe(8, 128)
	fs := make([]Frame, 8)
	if n := p.A.Alloc(fs); n != 8 {
		t.Fatalf("Alloc gave %d of 8", n)
	}
	for i := range fs {
		fs[i].Len = 60
	}
	if p.A.Transmit(fs) != 8 {
		t.Fatal("Transmit")
	}
	if p.A.Alloc(fs[:1]) != 0 {
		t.Fatal("Alloc lent a frame with all of them in flight")
	}
	sleep := func() chan struct{} {
		ch := make(chan struct{})
		go func() {
			p.A.Wait(time.Hour)
			close(ch)
		}()
		for !p.A.wt.waiting.Load() {
			time.Sleep(time.Millisecond)
		}
		return ch
	}
	ch := sleep()
	rx := make([]Frame, 8)
	n := p.B.Receive(rx)
	p.B.Release(rx[:4])
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait(1h) of an end out of frames still blocked 10 s after the peer gave frames back")
	}
	if got := p.A.Alloc(fs[:2]); got != 2 {
		t.Fatalf("Alloc after the release gave %d, want 2", got)
	}
	ch = sleep()
	p.B.Release(rx[4:n])
	select {
	case <-ch:
		t.Fatal("a release woke an end that had frames to lend")
	case <-time.After(20 * time.Millisecond):
	}
	p.A.Wake()
	<-ch
}
