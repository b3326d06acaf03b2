package stack

import (
	"testing"
)

// TestStarvedApp: a worker that woke an application goroutine reports it
// as starved while the wake-up token is still in its channel (the
// goroutine has not run), not once the token was taken, and forgets the
// wake-ups it reported. A token that was already pending (signal posted
// nothing) is not recorded.
func TestStarvedApp(t *testing.T) {
	w := &worker{}
	rd, wr := make(chan struct{}, 1), make(chan struct{}, 1)
	if w.starvedApp() {
		t.Fatal("starved with nothing woken")
	}
	w.wakeApp(rd)
	w.wakeApp(wr)
	<-wr // the writer ran; the reader did not
	if !w.starvedApp() {
		t.Fatal("a woken reader that has not run is not reported")
	}
	if w.starvedApp() {
		t.Fatal("the same wake-up was reported twice")
	}
	w.wakeApp(rd) // its token is still pending: nothing is posted
	if len(w.woken) != 0 {
		t.Fatalf("%d wake-ups recorded for a channel whose token was pending", len(w.woken))
	}
	<-rd
	w.wakeApp(rd)
	<-rd
	if w.starvedApp() {
		t.Fatal("a reader that took its token is reported starved")
	}
}

// TestRxBatchInterleavesQueues: a worker reads each of its queues in a
// batch of about batchSize/2/queues frames (at least minRxBatch), so that
// one round of pollQueues alternates between the subflows of an MPTCP
// connection in small pieces.
func TestRxBatchInterleavesQueues(t *testing.T) {
	for n, want := range map[int]int{1: batchSize / 2, 2: minRxBatch, 4: minRxBatch, 16: minRxBatch} {
		if got := rxBatch(n); got != want {
			t.Errorf("rxBatch(%d) = %d, want %d", n, got, want)
		}
	}
	h := newMPHandPath(t, 2, 9000, "")
	for _, s := range []*Stack{h.sa, h.sb} {
		for i, p := range s.workers[0].ports {
			if len(p.rx) != minRxBatch {
				t.Errorf("port %d of a two-queue worker reads %d frames a round, want %d", i, len(p.rx), minRxBatch)
			}
		}
	}
}
