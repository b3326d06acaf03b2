package tcp

import (
	"math/rand/v2"
	"testing"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// checkRangeModel compares a rangeSet with a bitmap model over
// [base, base+len(model)).
func checkRangeModel(t *testing.T, s *rangeSet, base seqnum.Value, model []bool) {
	t.Helper()
	for i := 1; i < s.len(); i++ {
		if !s.r[i-1].end.LessThan(s.r[i].start) {
			t.Fatalf("ranges not sorted and separated: %v", s.r)
		}
	}
	n := 0
	for i, in := range model {
		v := base + seqnum.Value(i)
		if got := s.find(v) >= 0; got != in {
			t.Fatalf("offset %d: set says %v, model %v (ranges %v)", i, got, in, s.r)
		}
		if in {
			n++
		}
	}
	if s.bytes() != n {
		t.Fatalf("bytes %d, model %d", s.bytes(), n)
	}
}

func TestRangeSetAgainstModel(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		r := rand.New(rand.NewPCG(seed, 1))
		base := seqnum.Value(0xffffff00) // straddles the 2^32 wrap
		const span = 512
		model := make([]bool, span)
		s := newRangeSet(1 + r.IntN(8))
		for op := 0; op < 200; op++ {
			a := r.IntN(span)
			b := a + 1 + r.IntN(min(64, span-a))
			if r.IntN(8) == 0 {
				s.trimBelow(base + seqnum.Value(a))
				for i := 0; i < a; i++ {
					model[i] = false
				}
			} else if s.add(base+seqnum.Value(a), base+seqnum.Value(b)) >= 0 {
				for i := a; i < b; i++ {
					model[i] = true
				}
			} else if s.len() != cap(s.r) {
				t.Fatalf("add refused with room left (%d of %d)", s.len(), cap(s.r))
			}
			checkRangeModel(t, &s, base, model)
			lo := base + seqnum.Value(r.IntN(span))
			hi := lo + seqnum.Value(r.IntN(span))
			want := 0
			for v := lo; v != hi; v++ {
				if off := int(v - base); off < span && model[off] {
					want++
				}
			}
			if got := s.bytesIn(lo, hi); got != want {
				t.Fatalf("bytesIn(%d,%d) = %d, want %d", lo-base, hi-base, got, want)
			}
		}
	}
}
