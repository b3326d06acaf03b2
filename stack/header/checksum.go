package header

import (
	"encoding/binary"
	"math/bits"
)

// The Internet checksum (RFC 1071) is the ones'-complement of the
// ones'-complement sum of 16-bit big-endian words. This file works with
// partial sums: a partial sum is a uint32 holding an unfolded or folded
// ones'-complement sum of big-endian words; partial sums of pieces combine
// with Combine (which handles pieces of odd length), and Checksum/Fold turn
// one into the 16-bit value that goes on the wire.
//
// Fast path: the bulk of a buffer is summed as little-endian 64-bit words
// (ones'-complement addition is byte-order independent up to a final byte
// swap, RFC 1071 §2(B)); sum64 is chosen once at init: amd64 assembly when
// the CPU has it, otherwise the portable Go loop.

// sum64 sums b as little-endian 64-bit words with end-around carry and
// returns a 64-bit ones'-complement accumulator (not yet folded). The
// trailing len(b)%8 bytes are included, zero-padded.
var sum64 = sum64Go

// smallSumLen is the length below which Sum uses the portable loop
// directly: the assembly versions only help from 64 bytes on.
const smallSumLen = 64

// sum64Impl names the implementation sum64 points at, for tests and
// benchmark labels.
var sum64Impl = "go"

// Sum adds the bytes of b, taken as big-endian 16-bit words starting at an
// even offset (a final odd byte is padded with a zero low byte), to the
// partial sum initial, and returns the result folded to 16 bits (the return
// value is always < 0x10000). initial may be any uint32, for example a
// pseudo-header sum.
func Sum(b []byte, initial uint32) uint32 {
	var s uint64
	if len(b) < smallSumLen {
		s = sum64Go(b) // headers: a direct call beats the indirect one
	} else {
		s = sum64(b)
	}
	return finishSum(s, initial)
}

// finishSum folds a little-endian 64-bit accumulator to 16 bits, swaps it
// to big-endian order and adds the partial sum initial.
func finishSum(s uint64, initial uint32) uint32 {
	// Fold 64 -> 16 in the little-endian domain, then swap to big-endian.
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 32) + (s & 0xffffffff)
	t := uint32(s>>16) + uint32(s&0xffff)
	t = (t >> 16) + (t & 0xffff)
	t = (t >> 16) + (t & 0xffff)
	t = uint32(bits.ReverseBytes16(uint16(t)))
	return fold32(t, initial)
}

// CopySum copies src into dst and returns Sum(src, initial), in a single
// pass over the data where the CPU allows (AVX2): the receive path verifies
// a payload's checksum while moving it out of UMEM, the transmit path sums
// a payload while moving it in. dst must be at least len(src) bytes and
// must not overlap src partially; CopySum panics if dst is too short.
func CopySum(dst, src []byte, initial uint32) uint32 {
	dst = dst[:len(src)]
	var s uint64
	if len(src) < smallSumLen {
		copy(dst, src)
		s = sum64Go(src)
	} else {
		s = copySum64(dst, src)
	}
	return finishSum(s, initial)
}

// copySum64 copies src to dst (same length) and returns sum64(src).
var copySum64 = copySum64Go

// copySum64Go copies, then sums the (now cache-hot) source.
func copySum64Go(dst, src []byte) uint64 {
	copy(dst, src)
	return sum64(src)
}

// Checksum returns the Internet checksum of b with the partial sum initial
// added in: the value to store in a checksum field (after zeroing the field
// before summing), or 0 when b, including a correct checksum field, verifies.
func Checksum(b []byte, initial uint32) uint16 {
	return ^uint16(Sum(b, initial))
}

// Fold reduces a partial sum to 16 bits with end-around carry.
func Fold(s uint32) uint16 {
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	return uint16(s)
}

// fold32 adds two partial sums and folds the result to 16 bits.
func fold32(a, b uint32) uint32 {
	s := uint64(a) + uint64(b)
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	return uint32(s)
}

// Combine returns the partial sum of the concatenation of two pieces, given
// the partial sum a of the first piece, its length aLen in bytes, and the
// partial sum b of the second piece (computed as if it started at an even
// offset). When aLen is odd the second piece's words straddle byte
// boundaries, which in ones'-complement arithmetic is a byte swap of its sum.
func Combine(a uint32, aLen int, b uint32) uint32 {
	if aLen&1 != 0 {
		b = uint32(bits.ReverseBytes16(Fold(b)))
	}
	return fold32(a, b)
}

// Accumulator sums a message given in pieces of any length (odd included).
// The zero value is an empty sum; it is a value type and does not allocate.
type Accumulator struct {
	sum uint32
	n   int
}

// Add appends the bytes of b to the message.
func (a *Accumulator) Add(b []byte) {
	a.sum = Combine(a.sum, a.n, Sum(b, 0))
	a.n += len(b)
}

// AddSum appends a piece of n bytes whose partial sum (from Sum, starting
// at an even offset) is s.
func (a *Accumulator) AddSum(s uint32, n int) {
	a.sum = Combine(a.sum, a.n, s)
	a.n += n
}

// Len returns the number of bytes added so far.
func (a *Accumulator) Len() int { return a.n }

// Sum returns the partial sum of everything added, folded to 16 bits.
func (a *Accumulator) Sum() uint32 { return uint32(Fold(a.sum)) }

// Checksum returns the Internet checksum of everything added.
func (a *Accumulator) Checksum() uint16 { return ^Fold(a.sum) }

// PseudoHeaderSumIPv4 returns the partial sum of the IPv4 pseudo-header
// (RFC 9293 §3.1) for a transport segment of length bytes (header plus
// payload) carried with protocol proto from src to dst.
func PseudoHeaderSumIPv4(src, dst [4]byte, proto uint8, length uint16) uint32 {
	s := uint32(src[0])<<8 | uint32(src[1])
	s += uint32(src[2])<<8 | uint32(src[3])
	s += uint32(dst[0])<<8 | uint32(dst[1])
	s += uint32(dst[2])<<8 | uint32(dst[3])
	s += uint32(proto)
	s += uint32(length)
	return s
}

// PseudoHeaderSumIPv6 returns the partial sum of the IPv6 pseudo-header
// (RFC 8200 §8.1) for an upper-layer packet of length bytes carried with
// next header proto from src to dst.
func PseudoHeaderSumIPv6(src, dst [16]byte, proto uint8, length uint32) uint32 {
	var s uint64
	for i := 0; i < 16; i += 4 {
		s += uint64(binary.BigEndian.Uint32(src[i:]))
		s += uint64(binary.BigEndian.Uint32(dst[i:]))
	}
	s += uint64(length) + uint64(proto)
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	return uint32(s)
}

// UpdateChecksum returns the checksum field value after a 16-bit word
// covered by it changes from old to new (RFC 1624 eqn. 3:
// HC' = ~(~HC + ~m + m')). sum is the current checksum field value.
func UpdateChecksum(sum, old, new uint16) uint16 {
	s := uint32(^sum) + uint32(^old) + uint32(new)
	return ^Fold(s)
}

// UpdateChecksum32 is UpdateChecksum for a 32-bit field (an IPv4 address,
// a sequence number) that sits at an even offset.
func UpdateChecksum32(sum uint16, old, new uint32) uint16 {
	s := uint32(^sum) + uint32(^uint16(old>>16)) + uint32(^uint16(old)) +
		uint32(uint16(new>>16)) + uint32(uint16(new))
	return ^Fold(s)
}

// sumReference is the plain RFC 1071 loop over big-endian byte pairs,
// kept as the oracle the fast versions are tested against.
func sumReference(b []byte, initial uint32) uint32 {
	s := uint64(initial)
	i := 0
	for ; i+1 < len(b); i += 2 {
		s += uint64(b[i])<<8 | uint64(b[i+1])
	}
	if i < len(b) {
		s += uint64(b[i]) << 8
	}
	for s > 0xffff {
		s = (s >> 16) + (s & 0xffff)
	}
	return uint32(s)
}

// sum64Go is the portable fast sum: 32-byte strides of four 64-bit
// little-endian loads chained through bits.Add64 (which compiles to
// add-with-carry on most 64-bit targets), then 8-byte steps, then the tail.
func sum64Go(b []byte) uint64 {
	var acc, c uint64
	for len(b) >= 64 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[0:8]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[8:16]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[16:24]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[24:32]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[32:40]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[40:48]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[48:56]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[56:64]), c)
		b = b[64:]
	}
	if len(b) >= 32 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[0:8]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[8:16]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[16:24]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[24:32]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b), c)
		b = b[8:]
	}
	acc, c = bits.Add64(acc, sumTail(b), c)
	acc, c = bits.Add64(acc, 0, c)
	acc += c // cannot carry again: acc was at most 2^64-2 after adding 1
	return acc
}

// sumTail loads the last 0..7 bytes of a buffer as a little-endian word,
// zero-padded.
func sumTail(b []byte) uint64 {
	var w uint64
	switch len(b) {
	case 7:
		w = uint64(b[6]) << 48
		fallthrough
	case 6:
		w |= uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint16(b[4:]))<<32
	case 5:
		w = uint64(b[4]) << 32
		fallthrough
	case 4:
		w |= uint64(binary.LittleEndian.Uint32(b))
	case 3:
		w = uint64(b[2]) << 16
		fallthrough
	case 2:
		w |= uint64(binary.LittleEndian.Uint16(b))
	case 1:
		w = uint64(b[0])
	}
	return w
}
