package mptcp

import stackhdr "github.com/mpxdp/mpxdp/stack/header"

// ExpandSeq returns the 64-bit sequence number whose low 32 bits are wire
// and which lies closest to ref (within 2^31 either way). It turns a 32-bit
// DSN or DATA_ACK from the wire into the 64-bit value it stands for, ref
// being a nearby 64-bit value the receiver holds (for a DSN: the next
// expected DSN; for a DATA_ACK: the highest data sent). Arithmetic is modulo
// 2^64, as for the kernel's __mptcp_expand_seq.
func ExpandSeq(ref uint64, wire uint32) uint64 {
	return ref + uint64(int64(int32(wire-uint32(ref))))
}

// ExpandDSN expands v against ref when it was sent as 32 bits (is64 false)
// and returns it unchanged when it was sent as 64 bits.
func ExpandDSN(ref, v uint64, is64 bool) uint64 {
	if is64 {
		return v
	}
	return ExpandSeq(ref, uint32(v))
}

// DSSPseudoSum returns the ones'-complement partial sum (unfolded) of the
// DSS checksum pseudo-header of RFC 8684 §3.3.1: the 64-bit DSN, the 32-bit
// relative subflow sequence number, the 16-bit data-level length and a
// 16-bit checksum field, here given as csum (0 when computing; the received
// value when verifying).
func DSSPseudoSum(dsn uint64, subflowSeq uint32, dataLen, csum uint16) uint64 {
	s := dsn>>48 + dsn>>32&0xffff + dsn>>16&0xffff + dsn&0xffff
	s += uint64(subflowSeq>>16) + uint64(subflowSeq&0xffff)
	s += uint64(dataLen) + uint64(csum)
	return s
}

// ChecksumAdd adds b to the unfolded ones'-complement sum s, treating b as
// big-endian 16-bit words (a trailing odd byte is padded with zero). A
// payload split into several slices must be fed in pieces of even length,
// except the last. The bulk of b is summed by stack/header.Sum (the vectorised
// Internet-checksum path chosen for this CPU); its folded 16-bit result is
// congruent, modulo 0xffff, to the plain word sum and is zero only when
// every word is zero, so ChecksumFold of the total is unchanged.
func ChecksumAdd(s uint64, b []byte) uint64 {
	return s + uint64(stackhdr.Sum(b, 0))
}

// ChecksumFold folds an unfolded sum to 16 bits (without complementing).
func ChecksumFold(s uint64) uint16 {
	s = s>>32 + s&0xffffffff
	s = s>>32 + s&0xffffffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	return uint16(s)
}

// DSSChecksum returns the checksum to put in a DSS (or MP_CAPABLE data)
// option for a mapping of payload at dsn (64-bit), relative subflow
// sequence subflowSeq and data-level length dataLen. payloadSum is
// ChecksumAdd(0, payload) over the whole mapping's payload.
func DSSChecksum(dsn uint64, subflowSeq uint32, dataLen uint16, payloadSum uint64) uint16 {
	return ^ChecksumFold(DSSPseudoSum(dsn, subflowSeq, dataLen, 0) + payloadSum)
}

// DSSChecksumOK reports whether a received checksum csum is right for the
// mapping and payload sum.
func DSSChecksumOK(dsn uint64, subflowSeq uint32, dataLen, csum uint16, payloadSum uint64) bool {
	return ChecksumFold(DSSPseudoSum(dsn, subflowSeq, dataLen, csum)+payloadSum) == 0xffff
}
