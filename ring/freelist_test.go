package ring

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func mustPanic(t *testing.T, what, wantSubstr string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("%s did not panic", what)
		}
		if s, _ := r.(string); !strings.Contains(s, wantSubstr) {
			t.Fatalf("%s panicked with %v, want a message containing %q", what, r, wantSubstr)
		}
	}()
	f()
}

func TestFreeListCapacity(t *testing.T) {
	for _, c := range []int{-1, 0, MaxCapacity + 1} {
		if _, err := NewFreeList(c); err == nil {
			t.Errorf("NewFreeList(%d) accepted", c)
		}
	}
	if _, err := NewFrameFreeList(0, 0, 4); err == nil || !strings.Contains(err.Error(), "frame size") {
		t.Errorf("NewFrameFreeList with frame size 0: err = %v", err)
	}
	f, err := NewFreeList(3) // any positive count, not only powers of two
	if err != nil || f.Cap() != 3 || f.Len() != 0 {
		t.Fatalf("NewFreeList(3) = cap %d len %d, %v", f.Cap(), f.Len(), err)
	}
}

func TestFrameFreeListOrder(t *testing.T) {
	f, err := NewFrameFreeList(0x10000, 4096, 4)
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 4 || f.Cap() != 4 {
		t.Fatalf("Len %d Cap %d, want 4 4", f.Len(), f.Cap())
	}
	for _, want := range []uint64{0x10000, 0x11000, 0x12000, 0x13000} {
		got, ok := f.Get()
		if !ok || got != want {
			t.Fatalf("Get = %#x, %v; want %#x", got, ok, want)
		}
	}
	if _, ok := f.Get(); ok {
		t.Fatal("Get on an empty list succeeded")
	}
	// LIFO: the last frame put is the first one back.
	f.Put(0x12000)
	f.Put(0x10000)
	if got, _ := f.Get(); got != 0x10000 {
		t.Fatalf("Get after Put = %#x, want the last put 0x10000", got)
	}
	if got, _ := f.Get(); got != 0x12000 {
		t.Fatalf("second Get = %#x, want 0x12000", got)
	}
}

func TestFreeListBatch(t *testing.T) {
	f, _ := NewFreeList(8)
	f.PutBatch([]uint64{1, 2, 3, 4, 5})
	if f.Len() != 5 {
		t.Fatalf("Len = %d after PutBatch of 5", f.Len())
	}
	out := make([]uint64, 3)
	if n := f.GetBatch(out); n != 3 || out[0] != 5 || out[1] != 4 || out[2] != 3 {
		t.Fatalf("GetBatch = %d %v, want 3 [5 4 3]", n, out)
	}
	out = make([]uint64, 10)
	if n := f.GetBatch(out); n != 2 || out[0] != 2 || out[1] != 1 {
		t.Fatalf("GetBatch past the end = %d %v, want 2 [2 1 ...]", n, out[:2])
	}
	if n := f.GetBatch(out); n != 0 {
		t.Fatalf("GetBatch on empty = %d", n)
	}
	f.PutBatch(make([]uint64, 8))
	mustPanic(t, "Put on a full list", "freed twice", func() { f.Put(9) })
	f.GetBatch(out[:2])
	mustPanic(t, "PutBatch that does not fit", "freed twice", func() { f.PutBatch([]uint64{1, 2, 3}) })
	if f.Len() != 6 {
		t.Fatalf("PutBatch that panicked changed Len to %d, want 6", f.Len())
	}
}

func TestFreeListNoAllocations(t *testing.T) {
	f, _ := NewFrameFreeList(0, 2048, 64)
	s, _ := NewSharedFreeList(64)
	buf := make([]uint64, 16)
	allocs := testing.AllocsPerRun(1000, func() {
		a, _ := f.Get()
		f.Put(a)
		n := f.GetBatch(buf)
		f.PutBatch(buf[:n])
		s.Put(a)
		s.PutBatch(buf[:n])
		s.Get()
		s.GetBatch(buf)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per round, want 0", allocs)
	}
}

func TestSharedFreeListSequential(t *testing.T) {
	s, _ := NewSharedFreeList(4)
	if _, ok := s.Get(); ok {
		t.Fatal("Get on an empty shared list succeeded")
	}
	s.PutBatch([]uint64{10, 20, 30, 40})
	if s.Len() != 4 || s.Cap() != 4 {
		t.Fatalf("Len %d Cap %d, want 4 4", s.Len(), s.Cap())
	}
	if s.TryPut(50) {
		t.Fatal("TryPut on a full shared list succeeded")
	}
	mustPanic(t, "SharedFreeList.Put on a full list", "freed twice", func() { s.Put(50) })
	out := make([]uint64, 8)
	if n := s.GetBatch(out); n != 4 || out[0] != 10 || out[3] != 40 {
		t.Fatalf("GetBatch = %d %v, want 4 [10 20 30 40]", n, out[:n])
	}
	for lap := uint64(0); lap < 10; lap++ { // wrap the indices several times
		s.Put(lap)
		s.Put(lap + 100)
		a, _ := s.Get()
		b, _ := s.Get()
		if a != lap || b != lap+100 {
			t.Fatalf("lap %d: got %d %d", lap, a, b)
		}
	}
	if s.Len() != 0 {
		t.Fatalf("Len = %d, want 0", s.Len())
	}
}

// TestSharedFreeListConcurrent has several goroutines take and return frames
// at once and checks that no frame is ever held by two of them and that
// every frame is back at the end.
func TestSharedFreeListConcurrent(t *testing.T) {
	const frames = 64
	const workers = 4
	const rounds = 20_000
	s, _ := NewSharedFreeList(frames)
	for i := 0; i < frames; i++ {
		s.Put(uint64(i) * 4096)
	}
	var owner [frames]atomic.Int32
	var failed atomic.Value
	var wg sync.WaitGroup
	deadline := time.Now().Add(60 * time.Second)
	for w := int32(1); w <= workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			held := make([]uint64, 0, 8)
			batch := make([]uint64, 3)
			for r := 0; r < rounds && failed.Load() == nil; r++ {
				if r%1024 == 0 && time.Now().After(deadline) {
					failed.Store("worker timed out")
					return
				}
				var got []uint64
				if r%2 == 0 {
					if a, ok := s.Get(); ok {
						got = append(batch[:0], a)
					}
				} else {
					got = batch[:s.GetBatch(batch)]
				}
				for _, a := range got {
					if !owner[a/4096].CompareAndSwap(0, w) {
						failed.Store("a frame was handed to two goroutines at once")
						return
					}
					held = append(held, a)
				}
				if len(held) > 4 || r%3 == 0 {
					for _, a := range held {
						owner[a/4096].Store(0)
					}
					s.PutBatch(held)
					held = held[:0]
				}
			}
			for _, a := range held {
				owner[a/4096].Store(0)
			}
			s.PutBatch(held)
		}()
	}
	wg.Wait()
	if msg := failed.Load(); msg != nil {
		t.Fatal(msg)
	}
	if s.Len() != frames {
		t.Fatalf("Len = %d after all workers returned their frames, want %d", s.Len(), frames)
	}
	var seen [frames]bool
	for i := 0; i < frames; i++ {
		a, ok := s.Get()
		if !ok {
			t.Fatalf("only %d frames came back, want %d", i, frames)
		}
		if a%4096 != 0 || a/4096 >= frames || seen[a/4096] {
			t.Fatalf("frame %#x is unknown or came back twice", a)
		}
		seen[a/4096] = true
	}
}
