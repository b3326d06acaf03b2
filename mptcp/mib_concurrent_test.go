package mptcp

import (
	"sync"
	"testing"
)

// TestMIBSnapshotWhileCounting reads snapshots while workers count; under
// -race it also proves the single-writer load/store counting is race-free.
func TestMIBSnapshotWhileCounting(t *testing.T) {
	const workers, n = 4, 200000
	m := NewMIB(workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(w *Counters) {
			defer wg.Done()
			for j := 0; j < n; j++ {
				w.Inc(MibOFOQueue)
			}
		}(m.Worker(i))
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var last uint64
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		s := m.Snapshot()
		if v := s.Get(MibOFOQueue); v < last || v > workers*n {
			t.Fatalf("snapshot went from %d to %d", last, v)
		} else {
			last = v
		}
	}
	if s := m.Snapshot(); s.Get(MibOFOQueue) != workers*n {
		t.Fatalf("final %d, want %d", s.Get(MibOFOQueue), workers*n)
	}
}
