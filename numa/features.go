package numa

import (
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/cpuid/v2"
)

// CPUFeatures lists the CPU capabilities that choose between fast paths
// (checksums, copies, CRC, hashing). A flag is true only if both the CPU and
// the operating system support it (for example AVX2 needs the OS to save
// the YMM registers), as reported by github.com/klauspost/cpuid/v2.
type CPUFeatures struct {
	// Arch is runtime.GOARCH.
	Arch string
	// Vendor is the CPU vendor string (e.g. "GenuineIntel"), Brand its
	// model name; both may be empty where the CPU does not report them.
	Vendor, Brand string
	// CacheLine is the cache line size in bytes, 0 if unknown.
	CacheLine int
	// LogicalCores and PhysicalCores are what CPUID reports for the
	// package, 0 if unknown; use Topology for what the OS has online.
	LogicalCores, PhysicalCores int

	// x86-64.
	SSE42      bool // SSE4.2 (includes the CRC32C instruction)
	AVX        bool // AVX
	AVX2       bool // AVX2 (256-bit integer vectors)
	AVX512F    bool // AVX-512 Foundation
	AVX512BW   bool // AVX-512 Byte and Word
	AVX512VL   bool // AVX-512 Vector Length (128/256-bit forms)
	BMI1       bool // Bit Manipulation Instructions 1
	BMI2       bool // Bit Manipulation Instructions 2
	ADX        bool // ADCX/ADOX multi-precision add-carry
	POPCNT     bool // POPCNT
	PCLMULQDQ  bool // carry-less multiply (CRC folding, GHASH)
	VPCLMULQDQ bool // vector carry-less multiply
	AESNI      bool // AES-NI
	SHA        bool // SHA-1/SHA-256 extensions
	ERMS       bool // enhanced REP MOVSB/STOSB (fast memmove)

	// arm64.
	ASIMD   bool // Advanced SIMD (NEON)
	PMULL   bool // polynomial multiply (PMULL/PMULL2)
	AESARM  bool // AES instructions
	SHA2    bool // SHA-256 instructions
	ATOMICS bool // Large System Extensions (LSE atomics)

	// CRC32C reports a hardware CRC32C instruction: SSE4.2 on x86-64, the
	// CRC32 extension on arm64.
	CRC32C bool
}

// Features returns the features of the CPU the process runs on. It is
// computed once and cached.
func Features() CPUFeatures { return featuresOnce() }

var featuresOnce = sync.OnceValue(func() CPUFeatures { return featuresFrom(&cpuid.CPU, runtime.GOARCH) })

// featuresFrom extracts CPUFeatures from a cpuid report; split out so tests
// can feed it reports with features disabled.
func featuresFrom(c *cpuid.CPUInfo, arch string) CPUFeatures {
	f := CPUFeatures{
		Arch:          arch,
		Vendor:        c.VendorString,
		Brand:         strings.TrimSpace(c.BrandName),
		CacheLine:     c.CacheLine,
		LogicalCores:  c.LogicalCores,
		PhysicalCores: c.PhysicalCores,

		SSE42:      c.Has(cpuid.SSE42),
		AVX:        c.Has(cpuid.AVX),
		AVX2:       c.Has(cpuid.AVX2),
		AVX512F:    c.Has(cpuid.AVX512F),
		AVX512BW:   c.Has(cpuid.AVX512BW),
		AVX512VL:   c.Has(cpuid.AVX512VL),
		BMI1:       c.Has(cpuid.BMI1),
		BMI2:       c.Has(cpuid.BMI2),
		ADX:        c.Has(cpuid.ADX),
		POPCNT:     c.Has(cpuid.POPCNT),
		PCLMULQDQ:  c.Has(cpuid.CLMUL),
		VPCLMULQDQ: c.Has(cpuid.VPCLMULQDQ),
		AESNI:      c.Has(cpuid.AESNI),
		SHA:        c.Has(cpuid.SHA),
		ERMS:       c.Has(cpuid.ERMS),

		ASIMD:   c.Has(cpuid.ASIMD),
		PMULL:   c.Has(cpuid.PMULL),
		AESARM:  c.Has(cpuid.AESARM),
		SHA2:    c.Has(cpuid.SHA2),
		ATOMICS: c.Has(cpuid.ATOMICS),
	}
	f.CRC32C = f.SSE42 || c.Has(cpuid.CRC32)
	return f
}

// flags lists the feature flags in a fixed order with their names as
// /proc/cpuinfo spells them.
func (f CPUFeatures) flags() []struct {
	name string
	on   bool
} {
	return []struct {
		name string
		on   bool
	}{
		{"sse4_2", f.SSE42}, {"avx", f.AVX}, {"avx2", f.AVX2},
		{"avx512f", f.AVX512F}, {"avx512bw", f.AVX512BW}, {"avx512vl", f.AVX512VL},
		{"bmi1", f.BMI1}, {"bmi2", f.BMI2}, {"adx", f.ADX}, {"popcnt", f.POPCNT},
		{"pclmulqdq", f.PCLMULQDQ}, {"vpclmulqdq", f.VPCLMULQDQ}, {"aes", f.AESNI},
		{"sha_ni", f.SHA}, {"erms", f.ERMS},
		{"asimd", f.ASIMD}, {"pmull", f.PMULL}, {"aes", f.AESARM}, {"sha2", f.SHA2},
		{"atomics", f.ATOMICS}, {"crc32c", f.CRC32C},
	}
}

// String summarises the features on one line, e.g.
// `amd64 GenuineIntel "Intel(R) Xeon(R) ..." cacheline=64: sse4_2 avx avx2 bmi2 crc32c`.
func (f CPUFeatures) String() string {
	var b strings.Builder
	b.WriteString(f.Arch)
	if f.Vendor != "" {
		b.WriteByte(' ')
		b.WriteString(f.Vendor)
	}
	if f.Brand != "" {
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(f.Brand))
	}
	if f.CacheLine > 0 {
		b.WriteString(" cacheline=")
		b.WriteString(strconv.Itoa(f.CacheLine))
	}
	b.WriteByte(':')
	n := 0
	for _, fl := range f.flags() {
		if fl.on {
			b.WriteByte(' ')
			b.WriteString(fl.name)
			n++
		}
	}
	if n == 0 {
		b.WriteString(" (no optional features)")
	}
	return b.String()
}
