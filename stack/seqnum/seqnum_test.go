package seqnum

import "testing"

func TestCompareAcrossWrap(t *testing.T) {
	cases := []struct {
		a, b Value
		less bool
	}{
		{1, 2, true},
		{2, 1, false},
		{0xffffffff, 0, true},
		{0xfffffff0, 0x10, true},
		{0x10, 0xfffffff0, false},
		{5, 5, false},
	}
	for _, c := range cases {
		if got := c.a.LessThan(c.b); got != c.less {
			t.Errorf("%#x < %#x = %v, want %v", c.a, c.b, got, c.less)
		}
		if c.a != c.b && c.b.GreaterThan(c.a) != c.less {
			t.Errorf("%#x > %#x disagrees with LessThan", c.b, c.a)
		}
	}
	if !Value(5).LessThanEq(5) || !Value(5).GreaterThanEq(5) {
		t.Error("equal values must compare <= and >=")
	}
}

func TestWindowAndRange(t *testing.T) {
	first := Value(0xfffffff0)
	if !Value(0x5).InWindow(first, 0x20) {
		t.Error("0x5 should be inside a window that wraps past zero")
	}
	if Value(0x10).InWindow(first, 0x20) {
		t.Error("0x10 is the end of the window, which is exclusive")
	}
	if Value(1).InWindow(1, 0) {
		t.Error("an empty window holds nothing")
	}
	if got := first.Add(0x20); got != 0x10 {
		t.Errorf("Add wrapped to %#x, want 0x10", got)
	}
	if got := first.Size(0x10); got != 0x20 {
		t.Errorf("Size across wrap = %#x, want 0x20", got)
	}
	if got := Value(0x10).Sub(0x20); got != first {
		t.Errorf("Sub = %#x, want %#x", got, first)
	}
	if Max(first, 3) != 3 || Min(first, 3) != first {
		t.Error("Max/Min must follow circular order")
	}
	if !Overlap(first, 0x20, 0x8, 4) || Overlap(first, 0x10, 0, 4) || Overlap(1, 0, 1, 5) {
		t.Error("Overlap wrong")
	}
}
