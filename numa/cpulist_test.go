package numa

import (
	"slices"
	"strings"
	"testing"
)

func TestParseCPUListGolden(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
	}{
		{"", []int{}},
		{"\n", []int{}},
		{"0", []int{0}},
		{"0\n", []int{0}},
		{"0-3,8,10-11\n", []int{0, 1, 2, 3, 8, 10, 11}},
		{"7,3,5", []int{3, 5, 7}},            // unsorted input is sorted
		{"0-3,2-5", []int{0, 1, 2, 3, 4, 5}}, // overlaps merge
		{"4,4,4", []int{4}},
		{"2-2", []int{2}},
		{"007", []int{7}},
		{"65535", []int{MaxCPU}},
	} {
		got, err := ParseCPUList(c.in)
		if err != nil {
			t.Errorf("ParseCPUList(%q): %v", c.in, err)
			continue
		}
		if !slices.Equal(got, c.want) || got == nil {
			t.Errorf("ParseCPUList(%q) = %#v, want %#v", c.in, got, c.want)
		}
	}
}

func TestParseCPUListErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0-", "empty CPU number"},   // truncated range
		{"0-3,", "empty CPU number"}, // truncated list
		{",1", "empty CPU number"},
		{"-3", "empty CPU number"},
		{"3-1", "runs backwards"},
		{"a", "not a CPU number"},
		{"1 - 2", "not a CPU number"},
		{"+1", "not a CPU number"},
		{"0-15:2/4", "not a CPU number"},
		{"1-2-3", "not a CPU number"},
		{"65536", "above the limit"},
		{"0-99999999999999999999", "above the limit"},
	} {
		got, err := ParseCPUList(c.in)
		if err == nil {
			t.Errorf("ParseCPUList(%q) = %v, want an error", c.in, got)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "numa: CPU list") {
			t.Errorf("ParseCPUList(%q) error %q, want it to start with \"numa: CPU list\" and contain %q", c.in, err, c.want)
		}
	}
}

func TestFormatCPUListGolden(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{0}, "0"},
		{[]int{0, 1}, "0-1"},
		{[]int{0, 1, 2, 3, 8, 10, 11}, "0-3,8,10-11"},
		{[]int{1, 3, 5}, "1,3,5"},
		{[]int{2, 3, 4, 9}, "2-4,9"},
	} {
		if got := FormatCPUList(c.in); got != c.want {
			t.Errorf("FormatCPUList(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzParseCPUList checks that every accepted list survives a
// Format/Parse round trip unchanged, and that Format's output is canonical.
func FuzzParseCPUList(f *testing.F) {
	for _, s := range []string{"0-3,8,10-11\n", "", "5", "3-1", "0-", "1,1,2-4", "0-15:2/4", "65535"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cpus, err := ParseCPUList(s)
		if err != nil {
			return
		}
		if !slices.IsSorted(cpus) || len(slices.Compact(slices.Clone(cpus))) != len(cpus) {
			t.Fatalf("ParseCPUList(%q) = %v: not sorted and unique", s, cpus)
		}
		for _, c := range cpus {
			if c < 0 || c > MaxCPU {
				t.Fatalf("ParseCPUList(%q) returned CPU %d out of range", s, c)
			}
		}
		text := FormatCPUList(cpus)
		again, err := ParseCPUList(text)
		if err != nil {
			t.Fatalf("ParseCPUList(FormatCPUList(%v) = %q): %v", cpus, text, err)
		}
		if !slices.Equal(again, cpus) {
			t.Fatalf("round trip of %q: %v -> %q -> %v", s, cpus, text, again)
		}
		if FormatCPUList(again) != text {
			t.Fatalf("FormatCPUList is not canonical for %v", cpus)
		}
	})
}
