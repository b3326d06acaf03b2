package ring_test

import (
	"fmt"

	"github.com/mpxdp/mpxdp/ring"
)

// A worker hands received frame addresses to another core in batches.
func ExampleSPSC() {
	q, err := ring.NewSPSC[uint64](256)
	if err != nil {
		panic(err)
	}
	// Producer side (one goroutine).
	n := q.EnqueueBatch([]uint64{0x1000, 0x2000, 0x3000})
	// Consumer side (one other goroutine).
	out := make([]uint64, 64)
	m := q.DequeueBatch(out)
	fmt.Println(n, m, out[:m])
	// Output: 3 3 [4096 8192 12288]
}

func ExampleNewSPSC_badCapacity() {
	_, err := ring.NewSPSC[int](1000)
	fmt.Println(err)
	// Output: ring: SPSC capacity 1000 is invalid: use a power of two between 2 and 1073741824 (e.g. 1024)
}

// Frames of a 4096-frame UMEM with 2 KiB frames, owned by one worker.
func ExampleNewFrameFreeList() {
	fl, err := ring.NewFrameFreeList(0, 2048, 4096)
	if err != nil {
		panic(err)
	}
	a, _ := fl.Get()
	b, _ := fl.Get()
	fl.Put(a)
	fmt.Println(a, b, fl.Len())
	// Output: 0 2048 4095
}
