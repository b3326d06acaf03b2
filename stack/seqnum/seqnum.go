package seqnum

// Value is a 32-bit TCP sequence number. Comparisons treat the space as
// circular: a is less than b when b-a, as a signed 32-bit number, is positive.
type Value uint32

// Size is a count of sequence-number space (bytes, plus one for SYN and FIN).
type Size uint32

// LessThan reports whether v comes strictly before w in sequence space.
func (v Value) LessThan(w Value) bool { return int32(v-w) < 0 }

// LessThanEq reports whether v comes before w or equals it.
func (v Value) LessThanEq(w Value) bool { return int32(v-w) <= 0 }

// GreaterThan reports whether v comes strictly after w.
func (v Value) GreaterThan(w Value) bool { return int32(v-w) > 0 }

// GreaterThanEq reports whether v comes after w or equals it.
func (v Value) GreaterThanEq(w Value) bool { return int32(v-w) >= 0 }

// InRange reports whether v lies in the half-open range [a, b).
func (v Value) InRange(a, b Value) bool { return v-a < b-a }

// InWindow reports whether v lies in the window of size s that starts at first.
func (v Value) InWindow(first Value, s Size) bool { return v.InRange(first, first.Add(s)) }

// Add returns v advanced by s.
func (v Value) Add(s Size) Value { return v + Value(s) }

// Sub returns v moved back by s.
func (v Value) Sub(s Size) Value { return v - Value(s) }

// Size returns the distance from v forward to w; it is meaningful when v
// does not come after w.
func (v Value) Size(w Value) Size { return Size(w - v) }

// Max returns whichever of v and w comes later.
func Max(v, w Value) Value {
	if v.LessThan(w) {
		return w
	}
	return v
}

// Min returns whichever of v and w comes earlier.
func Min(v, w Value) Value {
	if v.LessThan(w) {
		return v
	}
	return w
}

// Overlap reports whether the windows [a, a+as) and [b, b+bs) share at least
// one sequence number.
func Overlap(a Value, as Size, b Value, bs Size) bool {
	if as == 0 || bs == 0 {
		return false
	}
	return a.InWindow(b, bs) || b.InWindow(a, as)
}
