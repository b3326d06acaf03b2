package ring

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
)

// queue is the API SPSC and MPSC share; the single-goroutine tests run
// against both.
type queue[T any] interface {
	Enqueue(T) bool
	EnqueueBatch([]T) int
	Dequeue() (T, bool)
	DequeueBatch([]T) int
	Len() int
	Cap() int
}

type ctor func(capacity int) (queue[uint64], error)

var ctors = map[string]ctor{
	"SPSC": func(c int) (queue[uint64], error) { return NewSPSC[uint64](c) },
	"MPSC": func(c int) (queue[uint64], error) { return NewMPSC[uint64](c) },
}

func mustNew(t testing.TB, mk ctor, c int) queue[uint64] {
	t.Helper()
	q, err := mk(c)
	if err != nil {
		t.Fatalf("capacity %d: %v", c, err)
	}
	return q
}

func TestCapacityValidation(t *testing.T) {
	bad := []int{-4, 0, 1, 3, 6, 100, MaxCapacity + 1, MaxCapacity + 2, MaxCapacity*2 - 1}
	good := []int{2, 4, 64, 1024}
	all := map[string]func(int) error{
		"SPSC":           func(c int) error { _, err := NewSPSC[int](c); return err },
		"MPSC":           func(c int) error { _, err := NewMPSC[int](c); return err },
		"SharedFreeList": func(c int) error { _, err := NewSharedFreeList(c); return err },
	}
	for name, mk := range all {
		for _, c := range bad {
			err := mk(c)
			if err == nil {
				t.Errorf("%s capacity %d accepted, want error", name, c)
				continue
			}
			if !strings.Contains(err.Error(), "power of two") || !strings.Contains(err.Error(), name) {
				t.Errorf("%s capacity %d: error %q does not name the ring and the rule", name, c, err)
			}
		}
		for _, c := range good {
			if err := mk(c); err != nil {
				t.Errorf("%s capacity %d rejected: %v", name, c, err)
			}
		}
	}
	if err := checkCapacity("X", 100); err == nil || !strings.Contains(err.Error(), "128") {
		t.Errorf("error for 100 should suggest 128, got %v", err)
	}
}

func TestFullAndEmptyEdges(t *testing.T) {
	for name, mk := range ctors {
		for _, c := range []int{2, 4, 8, 64} {
			q := mustNew(t, mk, c)
			if q.Cap() != c {
				t.Fatalf("%s: Cap = %d, want %d", name, q.Cap(), c)
			}
			if v, ok := q.Dequeue(); ok {
				t.Fatalf("%s/%d: Dequeue on empty ring returned %d", name, c, v)
			}
			if n := q.DequeueBatch(make([]uint64, 4)); n != 0 {
				t.Fatalf("%s/%d: DequeueBatch on empty ring returned %d", name, c, n)
			}
			for i := 0; i < c; i++ {
				if !q.Enqueue(uint64(i)) {
					t.Fatalf("%s/%d: Enqueue %d refused before full", name, c, i)
				}
				if q.Len() != i+1 {
					t.Fatalf("%s/%d: Len = %d after %d enqueues", name, c, q.Len(), i+1)
				}
			}
			if q.Enqueue(999) {
				t.Fatalf("%s/%d: Enqueue accepted on a full ring", name, c)
			}
			if n := q.EnqueueBatch([]uint64{1, 2}); n != 0 {
				t.Fatalf("%s/%d: EnqueueBatch on a full ring returned %d", name, c, n)
			}
			if n := q.EnqueueBatch(nil); n != 0 {
				t.Fatalf("%s/%d: EnqueueBatch(nil) returned %d", name, c, n)
			}
			v, ok := q.Dequeue()
			if !ok || v != 0 {
				t.Fatalf("%s/%d: Dequeue = %d, %v; want 0, true", name, c, v, ok)
			}
			if !q.Enqueue(uint64(c)) {
				t.Fatalf("%s/%d: Enqueue refused after one Dequeue from full", name, c)
			}
			if q.Enqueue(999) {
				t.Fatalf("%s/%d: Enqueue accepted on a full ring (second lap)", name, c)
			}
			out := make([]uint64, c+3)
			n := q.DequeueBatch(out)
			if n != c {
				t.Fatalf("%s/%d: DequeueBatch = %d, want %d", name, c, n, c)
			}
			for i := 0; i < n; i++ {
				if out[i] != uint64(i+1) {
					t.Fatalf("%s/%d: item %d = %d, want %d", name, c, i, out[i], i+1)
				}
			}
			if q.Len() != 0 {
				t.Fatalf("%s/%d: Len = %d after draining", name, c, q.Len())
			}
			if _, ok := q.Dequeue(); ok {
				t.Fatalf("%s/%d: Dequeue after draining returned an item", name, c)
			}
		}
	}
}

// TestBatchWrapsArrayEnd places head and tail near the end of the slot
// array so that one batch spans the end and the start.
func TestBatchWrapsArrayEnd(t *testing.T) {
	for name, mk := range ctors {
		q := mustNew(t, mk, 8)
		next, want := uint64(0), uint64(0)
		for lap := 0; lap < 40; lap++ {
			// Advance by 5 (co-prime with 8), so every offset is a start.
			in := []uint64{next, next + 1, next + 2, next + 3, next + 4, next + 5, next + 6}
			if n := q.EnqueueBatch(in); n != 7 {
				t.Fatalf("%s lap %d: EnqueueBatch = %d, want 7", name, lap, n)
			}
			next += 7
			// A partial batch: only one slot is left.
			if n := q.EnqueueBatch([]uint64{next, next + 1, next + 2}); n != 1 {
				t.Fatalf("%s lap %d: EnqueueBatch into 1 free slot = %d, want 1", name, lap, n)
			}
			next++
			out := make([]uint64, 5)
			if n := q.DequeueBatch(out); n != 5 {
				t.Fatalf("%s lap %d: DequeueBatch = %d, want 5", name, lap, n)
			}
			for _, v := range out {
				if v != want {
					t.Fatalf("%s lap %d: got %d, want %d", name, lap, v, want)
				}
				want++
			}
			// Drain the remaining 3 one by one.
			for i := 0; i < 3; i++ {
				v, ok := q.Dequeue()
				if !ok || v != want {
					t.Fatalf("%s lap %d: Dequeue = %d, %v; want %d", name, lap, v, ok, want)
				}
				want++
			}
			// Shift the start offset by one single Enqueue/Dequeue.
			q.Enqueue(next)
			next++
			if v, ok := q.Dequeue(); !ok || v != want {
				t.Fatalf("%s lap %d: shift Dequeue = %d, %v; want %d", name, lap, v, ok, want)
			}
			want++
		}
	}
}

// runModel applies ops (decoded from bytes) to q and to a plain slice
// queue and fails on the first difference.
func runModel(t testing.TB, q queue[uint64], ops []byte) {
	t.Helper()
	var model []uint64
	next := uint64(1)
	buf := make([]uint64, 16)
	for i, op := range ops {
		k := int(op>>2) % 16
		switch op & 3 {
		case 0:
			ok := q.Enqueue(next)
			if want := len(model) < q.Cap(); ok != want {
				t.Fatalf("op %d: Enqueue = %v with %d/%d items", i, ok, len(model), q.Cap())
			}
			if ok {
				model = append(model, next)
				next++
			}
		case 1:
			in := buf[:k]
			for j := range in {
				in[j] = next + uint64(j)
			}
			n := q.EnqueueBatch(in)
			if want := min(k, q.Cap()-len(model)); n != want {
				t.Fatalf("op %d: EnqueueBatch(%d) = %d with %d/%d items, want %d", i, k, n, len(model), q.Cap(), want)
			}
			model = append(model, in[:n]...)
			next += uint64(n)
		case 2:
			v, ok := q.Dequeue()
			if ok != (len(model) > 0) {
				t.Fatalf("op %d: Dequeue ok = %v with %d items", i, ok, len(model))
			}
			if ok {
				if v != model[0] {
					t.Fatalf("op %d: Dequeue = %d, want %d", i, v, model[0])
				}
				model = model[1:]
			}
		case 3:
			out := buf[:k]
			n := q.DequeueBatch(out)
			if want := min(k, len(model)); n != want {
				t.Fatalf("op %d: DequeueBatch(%d) = %d with %d items, want %d", i, k, n, len(model), want)
			}
			for j := 0; j < n; j++ {
				if out[j] != model[j] {
					t.Fatalf("op %d: DequeueBatch item %d = %d, want %d", i, j, out[j], model[j])
				}
			}
			model = model[n:]
		}
		if q.Len() != len(model) {
			t.Fatalf("op %d: Len = %d, want %d", i, q.Len(), len(model))
		}
	}
}

func TestAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, mk := range ctors {
		for _, c := range []int{2, 4, 16} {
			ops := make([]byte, 20000)
			for i := range ops {
				ops[i] = byte(rng.UintN(256))
			}
			t.Run(name, func(t *testing.T) { runModel(t, mustNew(t, mk, c), ops) })
		}
	}
}

func fuzzModel(f *testing.F, mk ctor) {
	f.Add(uint8(2), []byte{0, 0, 0, 2, 2, 2})
	f.Add(uint8(3), []byte{0x3d, 0x3f, 0x05, 0x07, 0x3d, 0x0f, 0xfe, 0x3f})
	f.Add(uint8(4), []byte{1, 5, 9, 13, 3, 7, 11, 15, 0, 2})
	f.Fuzz(func(t *testing.T, capLog uint8, ops []byte) {
		c := 1 << (1 + capLog%6) // 2..64
		runModel(t, mustNew(t, mk, c), ops)
	})
}

// FuzzSPSCModel checks SPSC against a slice queue on fuzzed operation
// sequences.
func FuzzSPSCModel(f *testing.F) { fuzzModel(f, ctors["SPSC"]) }

// FuzzMPSCModel checks MPSC against a slice queue on fuzzed operation
// sequences.
func FuzzMPSCModel(f *testing.F) { fuzzModel(f, ctors["MPSC"]) }

func TestDequeueClearsSlots(t *testing.T) {
	x := new(int)
	s, _ := NewSPSC[*int](4)
	m, _ := NewMPSC[*int](4)
	for lap := 0; lap < 3; lap++ {
		s.Enqueue(x)
		s.EnqueueBatch([]*int{x, x, x})
		m.Enqueue(x)
		m.EnqueueBatch([]*int{x, x, x})
		if _, ok := s.Dequeue(); !ok {
			t.Fatal("SPSC Dequeue failed")
		}
		if _, ok := m.Dequeue(); !ok {
			t.Fatal("MPSC Dequeue failed")
		}
		out := make([]*int, 4)
		if s.DequeueBatch(out) != 3 || m.DequeueBatch(out) != 3 {
			t.Fatal("DequeueBatch did not return 3 items")
		}
		for i, p := range s.buf {
			if p != nil {
				t.Fatalf("lap %d: SPSC slot %d still references a dequeued value", lap, i)
			}
		}
		for i := range m.slots {
			if m.slots[i].val != nil {
				t.Fatalf("lap %d: MPSC slot %d still references a dequeued value", lap, i)
			}
		}
	}
}

func TestNoAllocations(t *testing.T) {
	for name, mk := range ctors {
		q := mustNew(t, mk, 64)
		buf := make([]uint64, 32)
		allocs := testing.AllocsPerRun(1000, func() {
			q.Enqueue(1)
			q.EnqueueBatch(buf)
			q.Dequeue()
			q.DequeueBatch(buf)
			_ = q.Len()
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per round, want 0", name, allocs)
		}
	}
}

// watchdog fails the test if it runs past the limit; concurrent tests poll
// it from their spin loops so a lost item cannot hang the run.
type watchdog struct {
	t        testing.TB
	deadline time.Time
	n        int
}

func newWatchdog(t testing.TB, limit time.Duration) *watchdog {
	return &watchdog{t: t, deadline: time.Now().Add(limit)}
}

// spin yields the processor and reports false once the deadline has passed.
func (w *watchdog) spin() bool {
	runtime.Gosched()
	w.n++
	return w.n%256 != 0 || time.Now().Before(w.deadline)
}

func TestSPSCConcurrent(t *testing.T) {
	const total = 100_000
	q, _ := NewSPSC[uint64](256)
	w := newWatchdog(t, 60*time.Second)
	done := make(chan string, 1)
	go func() {
		pw := newWatchdog(t, 60*time.Second)
		rng := rand.New(rand.NewPCG(3, 4))
		buf := make([]uint64, 64)
		next := uint64(0)
		for next < total {
			if rng.UintN(2) == 0 {
				if !q.Enqueue(next) {
					if !pw.spin() {
						done <- "producer timed out"
						return
					}
					continue
				}
				next++
				continue
			}
			k := min(uint64(1+rng.UintN(64)), total-next)
			for i := range buf[:k] {
				buf[i] = next + uint64(i)
			}
			n := q.EnqueueBatch(buf[:k])
			if n == 0 && !pw.spin() {
				done <- "producer timed out"
				return
			}
			next += uint64(n)
		}
		done <- ""
	}()
	rng := rand.New(rand.NewPCG(5, 6))
	out := make([]uint64, 64)
	want := uint64(0)
	for want < total {
		var n int
		if rng.UintN(2) == 0 {
			v, ok := q.Dequeue()
			if ok {
				out[0], n = v, 1
			}
		} else {
			n = q.DequeueBatch(out[:1+rng.UintN(64)])
		}
		if n == 0 && !w.spin() {
			t.Fatalf("consumer timed out at item %d of %d", want, total)
		}
		for _, v := range out[:n] {
			if v != want {
				t.Fatalf("got item %d, want %d (lost, duplicated or reordered)", v, want)
			}
			want++
		}
	}
	if msg := <-done; msg != "" {
		t.Fatal(msg)
	}
	if _, ok := q.Dequeue(); ok {
		t.Fatal("item left in the ring after all were received")
	}
}

func TestMPSCConcurrent(t *testing.T) {
	const producers = 4
	const perProducer = 25_000
	q, _ := NewMPSC[uint64](128)
	done := make(chan string, producers)
	for p := 0; p < producers; p++ {
		go func(p uint64) {
			w := newWatchdog(t, 60*time.Second)
			rng := rand.New(rand.NewPCG(p, 7))
			buf := make([]uint64, 16)
			next := uint64(0)
			for next < perProducer {
				var n int
				if rng.UintN(2) == 0 {
					if q.Enqueue(p<<32 | next) {
						n = 1
					}
				} else {
					k := min(uint64(1+rng.UintN(16)), perProducer-next)
					for i := range buf[:k] {
						buf[i] = p<<32 | (next + uint64(i))
					}
					n = q.EnqueueBatch(buf[:k])
				}
				if n == 0 && !w.spin() {
					done <- "producer timed out"
					return
				}
				next += uint64(n)
			}
			done <- ""
		}(uint64(p))
	}
	w := newWatchdog(t, 60*time.Second)
	var want [producers]uint64
	out := make([]uint64, 32)
	rng := rand.New(rand.NewPCG(8, 9))
	for got := 0; got < producers*perProducer; {
		var n int
		if rng.UintN(2) == 0 {
			if v, ok := q.Dequeue(); ok {
				out[0], n = v, 1
			}
		} else {
			n = q.DequeueBatch(out[:1+rng.UintN(32)])
		}
		if n == 0 && !w.spin() {
			t.Fatalf("consumer timed out after %d of %d items (next per producer %v)", got, producers*perProducer, want)
		}
		for _, v := range out[:n] {
			p, seq := v>>32, v&0xffffffff
			if p >= producers {
				t.Fatalf("item %#x names producer %d that does not exist", v, p)
			}
			if seq != want[p] {
				t.Fatalf("producer %d: got item %d, want %d (lost, duplicated or reordered)", p, seq, want[p])
			}
			want[p]++
		}
		got += n
	}
	for p := 0; p < producers; p++ {
		if msg := <-done; msg != "" {
			t.Fatal(msg)
		}
	}
	if _, ok := q.Dequeue(); ok || q.Len() != 0 {
		t.Fatalf("ring not empty after all items were received (Len %d)", q.Len())
	}
}
