package afxdp

import (
	"math/rand/v2"
	"testing"
)

// fakeRing stands in for a mapped ring: ctl holds producer, consumer and
// flags words as the kernel would, and the test plays the kernel's side.
type fakeRing struct {
	ctl [3]uint32 // producer, consumer, flags
}

func (f *fakeRing) idx(size uint32) ringIdx {
	return newRingIdx(&f.ctl[0], &f.ctl[1], &f.ctl[2], size)
}

func newFakeFill(size uint32) (*FillRing, *fakeRing) {
	f := &fakeRing{}
	return &FillRing{ringIdx: f.idx(size), addrs: make([]uint64, size)}, f
}

func newFakeRx(size uint32) (*RxRing, *fakeRing) {
	f := &fakeRing{}
	return &RxRing{ringIdx: f.idx(size), descs: make([]Desc, size)}, f
}

func newFakeTx(size uint32) (*TxRing, *fakeRing) {
	f := &fakeRing{}
	return &TxRing{ringIdx: f.idx(size), descs: make([]Desc, size)}, f
}

func newFakeComp(size uint32) (*CompletionRing, *fakeRing) {
	f := &fakeRing{}
	return &CompletionRing{ringIdx: f.idx(size), addrs: make([]uint64, size)}, f
}

func TestFillRingProduce(t *testing.T) {
	r, k := newFakeFill(8)
	if n := r.Produce([]uint64{10, 20, 30}); n != 3 {
		t.Fatalf("Produce on an empty ring took %d of 3", n)
	}
	if k.ctl[0] != 3 {
		t.Fatalf("producer index %d, want 3", k.ctl[0])
	}
	if r.addrs[0] != 10 || r.addrs[1] != 20 || r.addrs[2] != 30 {
		t.Fatalf("ring contents %v", r.addrs[:3])
	}
	// Five more fit, then the ring is full.
	if n := r.Produce([]uint64{1, 2, 3, 4, 5, 6, 7}); n != 5 {
		t.Fatalf("Produce into 5 free slots took %d", n)
	}
	if n := r.Produce([]uint64{99}); n != 0 {
		t.Fatalf("Produce into a full ring took %d", n)
	}
	// The kernel consumes 4; only then is there room again, and the new
	// entries wrap around to slot 0.
	k.ctl[1] = 4
	if n := r.Produce([]uint64{100, 101, 102, 103, 104}); n != 4 {
		t.Fatalf("after the kernel freed 4 slots Produce took %d", n)
	}
	if r.addrs[0] != 100 || r.addrs[3] != 103 {
		t.Fatalf("wrap-around wrote %v", r.addrs[:4])
	}
	if k.ctl[0] != 12 || r.Free() != 0 {
		t.Fatalf("producer %d free %d, want 12 and 0", k.ctl[0], r.Free())
	}
}

// TestProducerReadsConsumerOnlyWhenNeeded checks the cached-index rule: the
// shared consumer word is read only when the cache shows too little room.
func TestProducerReadsConsumerOnlyWhenNeeded(t *testing.T) {
	r, k := newFakeFill(8)
	r.Produce([]uint64{1, 2, 3, 4})
	k.ctl[1] = 4 // kernel consumed everything; our cache still says 4 used
	r.Produce([]uint64{5, 6})
	if r.cachedCons != 0 {
		t.Fatalf("consumer index reloaded (cache %d) although 4 cached free slots sufficed", r.cachedCons)
	}
	r.Produce([]uint64{7, 8, 9}) // cache shows 2 free: must reload
	if r.cachedCons != 4 {
		t.Fatalf("consumer cache %d after a shortfall, want 4", r.cachedCons)
	}
}

func TestRxRingConsume(t *testing.T) {
	r, k := newFakeRx(4)
	out := make([]Desc, 8)
	if n := r.Consume(out); n != 0 {
		t.Fatalf("Consume on an empty ring returned %d", n)
	}
	// Kernel produces 3.
	for i := 0; i < 3; i++ {
		r.descs[i] = Desc{Addr: uint64(4096 * i), Len: uint32(60 + i)}
	}
	k.ctl[0] = 3
	if n := r.Consume(out[:2]); n != 2 || out[0].Len != 60 || out[1].Addr != 4096 {
		t.Fatalf("Consume(2) = %d %v", n, out[:2])
	}
	if k.ctl[1] != 2 {
		t.Fatalf("consumer index %d, want 2", k.ctl[1])
	}
	// The kernel adds 3 more (wrapping); the cache still holds 1 entry, so
	// the next Consume returns just that one without reading the producer.
	r.descs[3] = Desc{Addr: 3 * 4096, Len: 63}
	r.descs[0] = Desc{Addr: 4 * 4096, Len: 64}
	r.descs[1] = Desc{Addr: 5 * 4096, Len: 65}
	k.ctl[0] = 6
	if n := r.Consume(out); n != 1 || out[0].Len != 62 {
		t.Fatalf("Consume with 1 cached entry = %d %v", n, out[:1])
	}
	if n := r.Consume(out); n != 3 || out[0].Len != 63 || out[1].Len != 64 || out[2].Len != 65 {
		t.Fatalf("Consume across the wrap = %d %v", n, out[:3])
	}
	if k.ctl[1] != 6 {
		t.Fatalf("consumer index %d, want 6", k.ctl[1])
	}
}

func TestCompletionConsume(t *testing.T) {
	r, k := newFakeComp(4)
	r.addrs[0], r.addrs[1] = 8192, 4096
	k.ctl[0] = 2
	out := make([]uint64, 4)
	if n := r.Consume(out); n != 2 || out[0] != 8192 || out[1] != 4096 {
		t.Fatalf("Consume = %d %v", n, out[:2])
	}
	if n := r.Consume(out); n != 0 {
		t.Fatalf("Consume on a drained ring = %d", n)
	}
}

func TestTxRingKeepsChainsWhole(t *testing.T) {
	r, k := newFakeTx(4)
	// Occupy 2 slots.
	if n := r.Produce([]Desc{{Addr: 0, Len: 1}, {Addr: 4096, Len: 1}}); n != 2 {
		t.Fatal(n)
	}
	// A 3-descriptor chain does not fit in 2 slots: nothing is queued.
	chain := []Desc{{Addr: 8192, Len: 4096, Options: OptionContd}, {Addr: 12288, Len: 4096, Options: OptionContd}, {Addr: 16384, Len: 10}}
	if n := r.Produce(chain); n != 0 {
		t.Fatalf("Produce split a chain: took %d of 3 with 2 free", n)
	}
	// A single packet followed by the chain: only the single one goes.
	if n := r.Produce(append([]Desc{{Addr: 20480, Len: 5}}, chain...)); n != 1 {
		t.Fatalf("Produce took %d, want 1 (the chain must not be split)", n)
	}
	k.ctl[1] = 3 // kernel sent the first three
	if n := r.Produce(chain); n != 3 {
		t.Fatalf("Produce of a chain with room = %d", n)
	}
	if r.Pending() != 3 { // 6 produced, 3 taken by the kernel
		t.Fatalf("Pending = %d, want 3", r.Pending())
	}
}

func TestNeedWakeupFlag(t *testing.T) {
	r, k := newFakeTx(4)
	if r.NeedsWakeup() {
		t.Fatal("flag clear but NeedsWakeup")
	}
	k.ctl[2] = ringNeedWakeup
	if !r.NeedsWakeup() {
		t.Fatal("flag set but not NeedsWakeup")
	}
	f, fk := newFakeFill(4)
	fk.ctl[2] = ringNeedWakeup
	if !f.NeedsWakeup() {
		t.Fatal("fill flag set but not NeedsWakeup")
	}
}

// TestRingModel runs a producer and a simulated kernel consumer with random
// batch sizes across many wrap-arounds of the 32-bit indices and checks
// that every entry arrives once, in order.
func TestRingModel(t *testing.T) {
	for _, start := range []uint32{0, 1<<32 - 5} {
		r, k := newFakeFill(16)
		k.ctl[0], k.ctl[1] = start, start
		r.ringIdx = newRingIdx(&k.ctl[0], &k.ctl[1], &k.ctl[2], 16)
		rng := rand.New(rand.NewPCG(1, uint64(start)))
		var next, expect uint64
		batch := make([]uint64, 20)
		for step := 0; step < 5000; step++ {
			n := rng.IntN(20)
			for i := range n {
				batch[i] = next + uint64(i)
			}
			got := r.Produce(batch[:n])
			next += uint64(got)
			// Kernel side: consume a random number of what is there.
			avail := k.ctl[0] - k.ctl[1]
			if avail > 16 {
				t.Fatalf("producer overran the ring: %d entries", avail)
			}
			take := uint32(rng.IntN(int(avail) + 1))
			for i := uint32(0); i < take; i++ {
				if v := r.addrs[(k.ctl[1]+i)&15]; v != expect {
					t.Fatalf("entry %d: got %d", expect, v)
				}
				expect++
			}
			k.ctl[1] += take
		}
		if expect < 1000 {
			t.Fatalf("only %d entries moved", expect)
		}
	}
}

func TestFreeList(t *testing.T) {
	f := NewFreeList(4)
	f.Put(0, 4096, 8192)
	if f.Len() != 3 {
		t.Fatal(f.Len())
	}
	a, ok := f.Get1()
	if !ok || a != 8192 {
		t.Fatalf("Get1 = %d %v, want the last put (LIFO)", a, ok)
	}
	dst := make([]uint64, 8)
	if n := f.Get(dst); n != 2 || dst[0] != 0 || dst[1] != 4096 {
		t.Fatalf("Get = %d %v", n, dst[:2])
	}
	if _, ok := f.Get1(); ok {
		t.Fatal("Get1 on an empty list succeeded")
	}
	f.Put(1, 2, 3, 4)
	defer func() {
		if recover() == nil {
			t.Fatal("Put over capacity (a double free) did not panic")
		}
	}()
	f.Put(5)
}

func BenchmarkRxConsumeFake(b *testing.B) {
	r, k := newFakeRx(2048)
	out := make([]Desc, 64)
	b.ReportAllocs()
	for b.Loop() {
		k.ctl[0] += 64 // the "kernel" produces a batch
		if r.Consume(out) != 64 {
			b.Fatal("short batch")
		}
	}
}
