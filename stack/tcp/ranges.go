package tcp

import "github.com/mpxdp/mpxdp/stack/seqnum"

// seqRange is the half-open sequence range [start, end).
type seqRange struct {
	start, end seqnum.Value
}

// rangeSet is a sorted set of disjoint, non-adjacent sequence ranges with
// a fixed capacity: the receiver's out-of-order queue and the sender's SACK
// scoreboard. It never allocates after creation.
type rangeSet struct {
	r []seqRange
}

func newRangeSet(max int) rangeSet { return rangeSet{r: make([]seqRange, 0, max)} }

func (s *rangeSet) len() int { return len(s.r) }

func (s *rangeSet) clear() { s.r = s.r[:0] }

// add merges [start, end) into the set. It returns the index of the range
// now holding it, or -1 when it would need a new range and the set is full
// (nothing changes then).
func (s *rangeSet) add(start, end seqnum.Value) int {
	if !start.LessThan(end) {
		return -1
	}
	// first range that ends at or after start (may merge)
	i := 0
	for i < len(s.r) && s.r[i].end.LessThan(start) {
		i++
	}
	// ranges i..j-1 touch or overlap [start, end)
	j := i
	for j < len(s.r) && s.r[j].start.LessThanEq(end) {
		j++
	}
	if i == j {
		if len(s.r) == cap(s.r) {
			return -1
		}
		s.r = s.r[:len(s.r)+1]
		copy(s.r[i+1:], s.r[i:])
		s.r[i] = seqRange{start, end}
		return i
	}
	ns := seqnum.Min(start, s.r[i].start)
	ne := seqnum.Max(end, s.r[j-1].end)
	s.r[i] = seqRange{ns, ne}
	if j-i > 1 {
		n := copy(s.r[i+1:], s.r[j:])
		s.r = s.r[:i+1+n]
	}
	return i
}

// trimBelow removes everything before v.
func (s *rangeSet) trimBelow(v seqnum.Value) {
	k := 0
	for k < len(s.r) && s.r[k].end.LessThanEq(v) {
		k++
	}
	if k > 0 {
		n := copy(s.r, s.r[k:])
		s.r = s.r[:n]
	}
	if len(s.r) > 0 && s.r[0].start.LessThan(v) {
		s.r[0].start = v
	}
}

// bytes returns the total size of the ranges.
func (s *rangeSet) bytes() int {
	n := 0
	for _, r := range s.r {
		n += int(r.start.Size(r.end))
	}
	return n
}

// bytesIn returns how many bytes of [a, b) the set holds.
func (s *rangeSet) bytesIn(a, b seqnum.Value) int {
	n := 0
	for _, r := range s.r {
		lo := seqnum.Max(r.start, a)
		hi := seqnum.Min(r.end, b)
		if lo.LessThan(hi) {
			n += int(lo.Size(hi))
		}
	}
	return n
}

// find returns the index of the range that holds v, or -1.
func (s *rangeSet) find(v seqnum.Value) int {
	for i, r := range s.r {
		if v.InRange(r.start, r.end) {
			return i
		}
	}
	return -1
}

// nextStartAfter returns the start of the first range beginning after v,
// and whether there is one.
func (s *rangeSet) nextStartAfter(v seqnum.Value) (seqnum.Value, bool) {
	for _, r := range s.r {
		if r.start.GreaterThan(v) {
			return r.start, true
		}
	}
	return 0, false
}
