package ring

import (
	"reflect"
	"testing"
)

// TestFieldLayout checks that the fields each side writes sit on cache lines
// of their own (at least cacheLinePad bytes from the other side's fields and
// from the ends of the struct, which may neighbour other heap objects).
func TestFieldLayout(t *testing.T) {
	check := func(name string, typ reflect.Type, groups [][]string) {
		t.Helper()
		type span struct{ lo, hi uintptr }
		var spans []span
		for _, g := range groups {
			s := span{lo: ^uintptr(0)}
			for _, f := range g {
				sf, ok := typ.FieldByName(f)
				if !ok {
					t.Fatalf("%s has no field %s", name, f)
				}
				s.lo = min(s.lo, sf.Offset)
				s.hi = max(s.hi, sf.Offset+sf.Type.Size())
			}
			if s.hi-s.lo > cacheLinePad {
				t.Errorf("%s: fields %v span %d bytes, more than one padded line", name, g, s.hi-s.lo)
			}
			spans = append(spans, s)
		}
		for i, a := range spans {
			if a.lo < cacheLinePad || typ.Size()-a.hi < cacheLinePad-32 {
				t.Errorf("%s: fields %v at [%d,%d) are too close to the ends of the %d-byte struct", name, groups[i], a.lo, a.hi, typ.Size())
			}
			for j, b := range spans[i+1:] {
				if gap := b.lo - a.hi; b.lo < a.hi || gap < cacheLinePad-32 {
					t.Errorf("%s: fields %v and %v are only %d bytes apart", name, groups[i], groups[i+1+j], int(gap))
				}
			}
		}
	}
	check("SPSC", reflect.TypeFor[SPSC[uint64]](), [][]string{
		{"head", "headLocal", "tailCache"},
		{"tail", "tailLocal", "headCache"},
		{"mask", "buf"},
	})
	check("MPSC", reflect.TypeFor[MPSC[uint64]](), [][]string{{"tail", "headCache"}, {"head", "headLocal", "pubEnd"}, {"mask", "slots"}})
	check("SharedFreeList", reflect.TypeFor[SharedFreeList](), [][]string{{"tail"}, {"head"}, {"mask", "slots"}})
}

// TestStructElements moves a multi-word struct through both rings across
// the end of the slot array, so copies of wide elements are covered.
func TestStructElements(t *testing.T) {
	type item struct {
		addr uint64
		len  uint32
		name string
	}
	mk := func(i int) item { return item{uint64(i) << 12, uint32(i), string(rune('a' + i%26))} }
	s, _ := NewSPSC[item](4)
	m, _ := NewMPSC[item](4)
	in := make([]item, 3)
	out := make([]item, 4)
	next, want := 0, 0
	for lap := 0; lap < 20; lap++ {
		for i := range in {
			in[i] = mk(next + i)
		}
		if s.EnqueueBatch(in) != 3 || m.EnqueueBatch(in) != 3 {
			t.Fatalf("lap %d: EnqueueBatch did not take 3 items", lap)
		}
		next += 3
		for _, q := range []queue[item]{s, m} {
			if n := q.DequeueBatch(out[:3]); n != 3 {
				t.Fatalf("lap %d: DequeueBatch = %d", lap, n)
			}
			for i, v := range out[:3] {
				if v != mk(want+i) {
					t.Fatalf("lap %d: item %d = %+v, want %+v", lap, i, v, mk(want+i))
				}
			}
		}
		want += 3
	}
}
