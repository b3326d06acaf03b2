package header

import "encoding/binary"

// ICMPv4 layout (RFC 792) and the echo types.
const (
	ICMPv4TypeOffset     = 0
	ICMPv4CodeOffset     = 1
	ICMPv4ChecksumOffset = 2
	ICMPv4IdentOffset    = 4
	ICMPv4SeqOffset      = 6
	// ICMPv4HeaderLen is the header every ICMPv4 message starts with.
	ICMPv4HeaderLen = 8

	ICMPv4EchoReply   = 0
	ICMPv4EchoRequest = 8
)

// ICMPv4 is a byte view of an ICMPv4 message (header and data).
type ICMPv4 []byte

// ParseICMPv4 checks that b (the IPv4 payload) holds an ICMPv4 message of
// at least 8 bytes with a correct checksum, and, for echo request/reply,
// code 0. It returns the view b, 8 (the data is b[8:]) and nil; or
// ErrTruncated, ErrChecksum, ErrBadField.
func ParseICMPv4(b []byte) (ICMPv4, int, error) {
	if len(b) < ICMPv4HeaderLen {
		return nil, 0, ErrTruncated
	}
	if Checksum(b, 0) != 0 {
		return nil, 0, ErrChecksum
	}
	switch b[ICMPv4TypeOffset] {
	case ICMPv4EchoRequest, ICMPv4EchoReply:
		if b[ICMPv4CodeOffset] != 0 {
			return nil, 0, ErrBadField
		}
	}
	return ICMPv4(b), ICMPv4HeaderLen, nil
}

// Type returns the message type.
func (m ICMPv4) Type() uint8 { return m[ICMPv4TypeOffset] }

// Code returns the message code.
func (m ICMPv4) Code() uint8 { return m[ICMPv4CodeOffset] }

// Checksum returns the checksum field.
func (m ICMPv4) Checksum() uint16 { return binary.BigEndian.Uint16(m[ICMPv4ChecksumOffset:]) }

// Ident returns the echo identifier.
func (m ICMPv4) Ident() uint16 { return binary.BigEndian.Uint16(m[ICMPv4IdentOffset:]) }

// Seq returns the echo sequence number.
func (m ICMPv4) Seq() uint16 { return binary.BigEndian.Uint16(m[ICMPv4SeqOffset:]) }

// Payload returns the data after the 8-byte header.
func (m ICMPv4) Payload() []byte { return m[ICMPv4HeaderLen:] }

// EncodeICMPv4Echo writes an echo request or reply (typ) with the given
// identifier, sequence number and data into buf (at least 8+len(data)
// bytes), computes the checksum, and returns the message length. data may
// already sit at buf[8:] (answering a request in place): the copy is then
// a no-op.
func EncodeICMPv4Echo(buf []byte, typ uint8, ident, seq uint16, data []byte) int {
	n := ICMPv4HeaderLen + len(data)
	_ = buf[n-1]
	copy(buf[ICMPv4HeaderLen:], data)
	buf[ICMPv4TypeOffset] = typ
	buf[ICMPv4CodeOffset] = 0
	binary.BigEndian.PutUint16(buf[ICMPv4ChecksumOffset:], 0)
	binary.BigEndian.PutUint16(buf[ICMPv4IdentOffset:], ident)
	binary.BigEndian.PutUint16(buf[ICMPv4SeqOffset:], seq)
	binary.BigEndian.PutUint16(buf[ICMPv4ChecksumOffset:], Checksum(buf[:n], 0))
	return n
}
