package ring

import (
	"runtime"
	"sync"
	"testing"
)

// All benchmarks count one op per item moved, so ns/op compares directly
// across rings, batch sizes and the channel baseline.

const benchCap = 1024
const benchBatch = 64

func BenchmarkSPSC(b *testing.B) {
	b.Run("single", func(b *testing.B) {
		q, _ := NewSPSC[uint64](benchCap)
		benchSameGoroutine(b, q)
	})
	b.Run("batch64", func(b *testing.B) {
		q, _ := NewSPSC[uint64](benchCap)
		benchSameGoroutineBatch(b, q)
	})
}

func BenchmarkMPSC(b *testing.B) {
	b.Run("single", func(b *testing.B) {
		q, _ := NewMPSC[uint64](benchCap)
		benchSameGoroutine(b, q)
	})
	b.Run("batch64", func(b *testing.B) {
		q, _ := NewMPSC[uint64](benchCap)
		benchSameGoroutineBatch(b, q)
	})
}

func BenchmarkSPSCCrossGoroutine(b *testing.B) {
	b.Run("single", func(b *testing.B) {
		q, _ := NewSPSC[uint64](benchCap)
		benchCross(b, q, 1, 1)
	})
	b.Run("batch64", func(b *testing.B) {
		q, _ := NewSPSC[uint64](benchCap)
		benchCross(b, q, 1, benchBatch)
	})
}

func BenchmarkMPSCCrossGoroutine(b *testing.B) {
	for _, c := range []struct {
		name             string
		producers, batch int
	}{{"1producer/single", 1, 1}, {"1producer/batch64", 1, benchBatch}, {"4producers/single", 4, 1}, {"4producers/batch64", 4, benchBatch}} {
		b.Run(c.name, func(b *testing.B) {
			q, _ := NewMPSC[uint64](benchCap)
			benchCross(b, q, c.producers, c.batch)
		})
	}
}

// BenchmarkChanBaseline moves items through a buffered channel of the same
// capacity in the same patterns, to give ratios for the rings above.
func BenchmarkChanBaseline(b *testing.B) {
	b.Run("sameGoroutine", func(b *testing.B) {
		ch := make(chan uint64, benchCap)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			ch <- uint64(i)
			<-ch
		}
	})
	for _, c := range []struct {
		name      string
		producers int
	}{{"cross/1producer", 1}, {"cross/4producers", 4}} {
		b.Run(c.name, func(b *testing.B) {
			ch := make(chan uint64, benchCap)
			b.ReportAllocs()
			var wg sync.WaitGroup
			for p := 0; p < c.producers; p++ {
				wg.Add(1)
				go func(n int) {
					defer wg.Done()
					for i := 0; i < n; i++ {
						ch <- uint64(i)
					}
				}(share(b.N, c.producers, p))
			}
			var sum uint64
			for i := 0; i < b.N; i++ {
				sum += <-ch
			}
			wg.Wait()
			sink = sum
		})
	}
}

func BenchmarkFreeList(b *testing.B) {
	b.Run("single", func(b *testing.B) {
		f, _ := NewFrameFreeList(0, 4096, benchCap)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			a, _ := f.Get()
			f.Put(a)
		}
	})
	b.Run("batch64", func(b *testing.B) {
		f, _ := NewFrameFreeList(0, 4096, benchCap)
		buf := make([]uint64, benchBatch)
		b.ReportAllocs()
		for i := 0; i < b.N; i += benchBatch {
			n := f.GetBatch(buf)
			f.PutBatch(buf[:n])
		}
	})
	b.Run("shared/single", func(b *testing.B) {
		f, _ := NewSharedFreeList(benchCap)
		for i := 0; i < benchCap; i++ {
			f.Put(uint64(i) * 4096)
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			a, _ := f.Get()
			f.Put(a)
		}
	})
	b.Run("shared/parallel", func(b *testing.B) {
		f, _ := NewSharedFreeList(benchCap)
		for i := 0; i < benchCap; i++ {
			f.Put(uint64(i) * 4096)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if a, ok := f.Get(); ok {
					f.Put(a)
				}
			}
		})
	})
}

var sink uint64

func benchSameGoroutine(b *testing.B, q queue[uint64]) {
	b.ReportAllocs()
	var sum uint64
	for i := 0; i < b.N; i++ {
		q.Enqueue(uint64(i))
		v, _ := q.Dequeue()
		sum += v
	}
	sink = sum
}

func benchSameGoroutineBatch(b *testing.B, q queue[uint64]) {
	in := make([]uint64, benchBatch)
	out := make([]uint64, benchBatch)
	b.ReportAllocs()
	for i := 0; i < b.N; i += benchBatch {
		n := q.EnqueueBatch(in)
		q.DequeueBatch(out[:n])
	}
	sink = out[0]
}

// share splits n items over k producers; producer p gets share(n, k, p).
func share(n, k, p int) int {
	s := n / k
	if p < n%k {
		s++
	}
	return s
}

// benchCross moves b.N items from producers goroutines to the benchmark
// goroutine, batch items per call on both sides.
func benchCross(b *testing.B, q queue[uint64], producers, batch int) {
	b.ReportAllocs()
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			buf := make([]uint64, batch)
			for n > 0 {
				var k int
				if batch == 1 {
					if q.Enqueue(uint64(n)) {
						k = 1
					}
				} else {
					k = q.EnqueueBatch(buf[:min(batch, n)])
				}
				if k == 0 {
					runtime.Gosched()
				}
				n -= k
			}
		}(share(b.N, producers, p))
	}
	out := make([]uint64, batch)
	var sum uint64
	for got := 0; got < b.N; {
		var k int
		if batch == 1 {
			if v, ok := q.Dequeue(); ok {
				sum += v
				k = 1
			}
		} else {
			k = q.DequeueBatch(out)
		}
		if k == 0 {
			runtime.Gosched()
		}
		got += k
	}
	wg.Wait()
	sink = sum
}
