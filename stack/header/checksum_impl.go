package header

// sumImpl names one implementation of the 64-bit bulk sum.
type sumImpl struct {
	name string
	fn   func([]byte) uint64
}

// copySumImpl names one implementation of the fused copy and bulk sum.
type copySumImpl struct {
	name string
	fn   func(dst, src []byte) uint64
}

// ChecksumImplementation reports which bulk-sum implementation Sum and
// Checksum use on this machine: "avx2" or "adc" (amd64 assembly, chosen at
// init from the CPU's features) or "go" (portable).
func ChecksumImplementation() string { return sum64Impl }
