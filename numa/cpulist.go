package numa

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxCPU is the largest CPU number ParseCPUList accepts. Linux caps NR_CPUS
// at 8192 today; the margin keeps a corrupt or hostile list from asking for
// gigabytes.
const MaxCPU = 1<<16 - 1

// ParseCPUList parses the kernel's CPU list syntax, as found in sysfs files
// such as devices/system/cpu/online and nodeN/cpulist: comma-separated CPU
// numbers and inclusive ranges, e.g. "0-3,8,10-11". Surrounding white space
// (the trailing newline of a sysfs file) is ignored and an empty list is
// valid. The result is sorted and free of duplicates (overlapping parts are
// merged). The stride form "0-15:2/4" is not accepted: sysfs never prints
// it.
func ParseCPUList(s string) ([]int, error) {
	cpus, err := parseCPUList(s)
	if err != nil {
		return nil, fmt.Errorf("numa: CPU list %q: %w", strings.TrimSpace(s), err)
	}
	return cpus, nil
}

// parseCPUList is ParseCPUList with errors that do not repeat the input.
func parseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return []int{}, nil
	}
	var set []bool
	count := 0
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, err := parseCPURange(part)
		if err != nil {
			return nil, err
		}
		if hi >= len(set) {
			set = append(set, make([]bool, hi+1-len(set))...)
		}
		for c := lo; c <= hi; c++ {
			if !set[c] {
				set[c] = true
				count++
			}
		}
	}
	cpus := make([]int, 0, count)
	for c, on := range set {
		if on {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// parseCPURange parses "N" or "N-M" with 0 <= N <= M <= MaxCPU.
func parseCPURange(part string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(part, "-")
	if lo, err = parseCPU(a); err != nil {
		return 0, 0, err
	}
	if !isRange {
		return lo, lo, nil
	}
	if hi, err = parseCPU(b); err != nil {
		return 0, 0, err
	}
	if hi < lo {
		return 0, 0, fmt.Errorf("range %q runs backwards: write it as %d-%d", part, hi, lo)
	}
	return lo, hi, nil
}

// parseCPU parses one decimal CPU number (digits only: no sign, no spaces).
func parseCPU(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("empty CPU number (stray ',' or '-')")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a CPU number: use digits, ',' and '-' only", s)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > MaxCPU {
		return 0, fmt.Errorf("CPU number %s is above the limit %d", s, MaxCPU)
	}
	return n, nil
}

// FormatCPUList writes cpus in the kernel's CPU list syntax, with runs of
// consecutive numbers as ranges: []int{0, 1, 2, 3, 8, 10, 11} gives
// "0-3,8,10-11". cpus must be sorted ascending without duplicates, as
// ParseCPUList returns them; an empty list gives "".
func FormatCPUList(cpus []int) string {
	var b strings.Builder
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(cpus[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(cpus[j]))
		}
		i = j + 1
	}
	return b.String()
}
