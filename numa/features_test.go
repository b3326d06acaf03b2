package numa

import (
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"
	"golang.org/x/sys/cpu"
)

func TestFeaturesStringGolden(t *testing.T) {
	f := CPUFeatures{Arch: "amd64", Vendor: "GenuineIntel", Brand: "Test CPU", CacheLine: 64, SSE42: true, AVX2: true, BMI2: true, CRC32C: true}
	if got, want := f.String(), `amd64 GenuineIntel "Test CPU" cacheline=64: sse4_2 avx2 bmi2 crc32c`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (CPUFeatures{Arch: "arm64"}).String(), "arm64: (no optional features)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	a := CPUFeatures{Arch: "arm64", ASIMD: true, PMULL: true, AESARM: true, CRC32C: true}
	if got, want := a.String(), "arm64: asimd pmull aes crc32c"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestFeaturesMatchXSysCPU checks the cpuid-derived flags against the
// independent detection in golang.org/x/sys/cpu.
func TestFeaturesMatchXSysCPU(t *testing.T) {
	f := Features()
	if f.Arch != runtime.GOARCH {
		t.Errorf("Arch = %q, want %q", f.Arch, runtime.GOARCH)
	}
	type pair struct {
		name     string
		got, ref bool
	}
	var pairs []pair
	switch runtime.GOARCH {
	case "amd64":
		x := cpu.X86
		pairs = []pair{
			{"SSE42", f.SSE42, x.HasSSE42}, {"AVX", f.AVX, x.HasAVX}, {"AVX2", f.AVX2, x.HasAVX2},
			{"AVX512F", f.AVX512F, x.HasAVX512F}, {"AVX512BW", f.AVX512BW, x.HasAVX512BW},
			{"AVX512VL", f.AVX512VL, x.HasAVX512VL}, {"BMI1", f.BMI1, x.HasBMI1}, {"BMI2", f.BMI2, x.HasBMI2},
			{"ADX", f.ADX, x.HasADX}, {"POPCNT", f.POPCNT, x.HasPOPCNT}, {"PCLMULQDQ", f.PCLMULQDQ, x.HasPCLMULQDQ},
			{"AESNI", f.AESNI, x.HasAES}, {"ERMS", f.ERMS, x.HasERMS}, {"CRC32C", f.CRC32C, x.HasSSE42},
		}
		if f.ASIMD || f.PMULL {
			t.Error("arm64 flags set on amd64")
		}
	case "arm64":
		a := cpu.ARM64
		pairs = []pair{
			{"ASIMD", f.ASIMD, a.HasASIMD}, {"PMULL", f.PMULL, a.HasPMULL}, {"AESARM", f.AESARM, a.HasAES},
			{"SHA2", f.SHA2, a.HasSHA2}, {"ATOMICS", f.ATOMICS, a.HasATOMICS}, {"CRC32C", f.CRC32C, a.HasCRC32},
		}
	default:
		t.Skipf("no reference detection wired for %s", runtime.GOARCH)
	}
	for _, p := range pairs {
		if p.got != p.ref {
			t.Errorf("%s: cpuid says %v, x/sys/cpu says %v", p.name, p.got, p.ref)
		}
	}
	if s := f.String(); !strings.HasPrefix(s, runtime.GOARCH) {
		t.Errorf("String() = %q does not start with the architecture", s)
	}
	t.Logf("features: %s", f)
}

func TestFeaturesFromDisabled(t *testing.T) {
	c := cpuid.CPU // a copy
	c.Disable(cpuid.AVX2, cpuid.SSE42, cpuid.CRC32)
	f := featuresFrom(&c, "amd64")
	if f.AVX2 || f.SSE42 || f.CRC32C {
		t.Errorf("disabled features reported: %+v", f)
	}
	if strings.Contains(f.String(), "avx2") || strings.Contains(f.String(), "crc32c") {
		t.Errorf("String() lists disabled features: %s", f)
	}
	c.Enable(cpuid.AVX2, cpuid.SSE42)
	if cpuid.CPU.Has(cpuid.AVX2) && !featuresFrom(&c, "amd64").AVX2 {
		t.Error("re-enabled AVX2 not reported")
	}
}
