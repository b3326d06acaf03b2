package ring

import "fmt"

// cacheLinePad is the distance kept between fields written by different
// goroutines. 64 bytes is one cache line on the machines we target; 128 also
// defeats the adjacent-line prefetcher of recent x86 cores, which otherwise
// pulls the neighbouring line (and with it the other side's index) along.
const cacheLinePad = 128

// MaxCapacity is the largest capacity the constructors accept. It keeps the
// slot array addressable on every platform and far from index wrap-around
// (indices are 64-bit and never wrap in practice).
const MaxCapacity = 1 << 30

// MinCapacity is the smallest capacity the constructors accept. The MPSC
// per-slot sequence scheme cannot tell "published" from "free" with a single
// slot, so every ring has at least two.
const MinCapacity = 2

// checkCapacity reports whether capacity is a power of two within
// [MinCapacity, MaxCapacity]; kind names the ring in the error message.
func checkCapacity(kind string, capacity int) error {
	if capacity < MinCapacity || capacity > MaxCapacity || capacity&(capacity-1) != 0 {
		return fmt.Errorf("ring: %s capacity %d is invalid: use a power of two between %d and %d (e.g. %d)",
			kind, capacity, MinCapacity, MaxCapacity, nextPowerOfTwo(capacity))
	}
	return nil
}

// nextPowerOfTwo returns the smallest allowed power of two >= n, clamped to
// [MinCapacity, MaxCapacity]; it only feeds error messages.
func nextPowerOfTwo(n int) int {
	p := MinCapacity
	for p < n && p < MaxCapacity {
		p <<= 1
	}
	return p
}
