//go:build amd64 && !purego

package header

import (
	"math/bits"

	"github.com/klauspost/cpuid/v2"
)

// sum64ADC and sum64AVX2 are implemented in checksum_amd64.s. Both take a
// buffer whose length is a multiple of 64 and return a value congruent,
// modulo 2^16-1 after little-endian folding, to the ones'-complement sum of
// its little-endian words (zero only when every byte is zero).
//
//go:noescape
func sum64ADC(b []byte) uint64

//go:noescape
func sum64AVX2(b []byte) uint64

// copySum64AVX2 copies src to dst (len(src) a multiple of 64, dst at least
// as long) and returns what sum64AVX2(src) would.
//
//go:noescape
func copySum64AVX2(dst, src []byte) uint64

// asmMinLen is the length below which the assembly call is not worth it.
const asmMinLen = 64

func init() {
	switch {
	case cpuid.CPU.Supports(cpuid.AVX2):
		sum64 = sum64AVX2Wrap
		copySum64 = copySum64AVX2Wrap
		sum64Impl = "avx2"
	default:
		sum64 = sum64ADCWrap
		sum64Impl = "adc"
	}
}

// sum64ADCWrap sums the 64-byte blocks with the ADCQ chain and the rest in Go.
func sum64ADCWrap(b []byte) uint64 {
	if len(b) < asmMinLen {
		return sum64Go(b)
	}
	n := len(b) &^ 63
	s, c := bits.Add64(sum64ADC(b[:n]), sum64Go(b[n:]), 0)
	return s + c
}

// sum64AVX2Wrap sums the 64-byte blocks with AVX2 and the rest in Go.
func sum64AVX2Wrap(b []byte) uint64 {
	if len(b) < asmMinLen {
		return sum64Go(b)
	}
	n := len(b) &^ 63
	s, c := bits.Add64(sum64AVX2(b[:n]), sum64Go(b[n:]), 0)
	return s + c
}

// copySum64AVX2Wrap copies and sums the 64-byte blocks with AVX2 and the
// rest in Go. dst and src have the same length.
func copySum64AVX2Wrap(dst, src []byte) uint64 {
	n := len(src) &^ 63
	var acc uint64
	if n > 0 {
		acc = copySum64AVX2(dst[:n], src[:n])
	}
	copy(dst[n:], src[n:])
	s, c := bits.Add64(acc, sum64Go(src[n:]), 0)
	return s + c
}

// copySumImpls lists every copy-and-sum implementation usable on this CPU.
func copySumImpls() []copySumImpl {
	l := []copySumImpl{{"go", copySum64Go}}
	if cpuid.CPU.Supports(cpuid.AVX2) {
		l = append(l, copySumImpl{"avx2", copySum64AVX2Wrap})
	}
	return l
}

// sumImpls lists every implementation usable on this CPU, for tests and
// benchmarks.
func sumImpls() []sumImpl {
	l := []sumImpl{{"go", sum64Go}, {"adc", sum64ADCWrap}}
	if cpuid.CPU.Supports(cpuid.AVX2) {
		l = append(l, sumImpl{"avx2", sum64AVX2Wrap})
	}
	return l
}
