package header

import (
	"encoding/binary"
	"net/netip"
)

// IPv4 header layout (RFC 791) and values.
const (
	IPv4VersionIHLOffset   = 0
	IPv4TOSOffset          = 1
	IPv4TotalLenOffset     = 2
	IPv4IDOffset           = 4
	IPv4FlagsFragOffset    = 6
	IPv4TTLOffset          = 8
	IPv4ProtocolOffset     = 9
	IPv4ChecksumOffset     = 10
	IPv4SrcOffset          = 12
	IPv4DstOffset          = 16
	IPv4MinHeaderLen       = 20
	IPv4MaxHeaderLen       = 60
	IPv4FlagDF             = 0x4000
	IPv4FlagMF             = 0x2000
	ipv4FragOffsetMask     = 0x1fff
	ICMPv4ProtocolNumber   = 1
	IPv4DefaultTTL         = 64
	ipv4VersionIHLNoOption = 0x45
)

// IPv4 is a byte view of an IPv4 packet. After ParseIPv4 its length is the
// packet's total length (Ethernet padding trimmed).
type IPv4 []byte

// ParseIPv4 checks that b starts with a well-formed IPv4 packet: version 4,
// IHL >= 5, header and total length within b, total length >= header
// length, and a correct header checksum. It returns the view trimmed to
// the total length, the header length n (the payload is view[n:]) and nil;
// or ErrTruncated, ErrVersion, ErrHeaderLength, ErrTotalLength,
// ErrChecksum; or, for a valid fragment (MF set or nonzero offset), the
// view, n and ErrFragment so the caller can count it before dropping it.
func ParseIPv4(b []byte) (IPv4, int, error) {
	if len(b) < IPv4MinHeaderLen {
		return nil, 0, ErrTruncated
	}
	if b[0]>>4 != 4 {
		return nil, 0, ErrVersion
	}
	n := int(b[0]&0xf) * 4
	if n < IPv4MinHeaderLen {
		return nil, 0, ErrHeaderLength
	}
	if n > len(b) {
		return nil, 0, ErrTruncated
	}
	total := int(binary.BigEndian.Uint16(b[IPv4TotalLenOffset:]))
	if total < n {
		return nil, 0, ErrTotalLength
	}
	if total > len(b) {
		return nil, 0, ErrTruncated
	}
	if Checksum(b[:n], 0) != 0 {
		return nil, 0, ErrChecksum
	}
	v := IPv4(b[:total])
	if v.IsFragment() {
		return v, n, ErrFragment
	}
	return v, n, nil
}

// HeaderLen returns the header length from the IHL field.
func (v IPv4) HeaderLen() int { return int(v[0]&0xf) * 4 }

// TOS returns the type-of-service (DSCP and ECN) byte.
func (v IPv4) TOS() uint8 { return v[IPv4TOSOffset] }

// TotalLen returns the total-length field.
func (v IPv4) TotalLen() uint16 { return binary.BigEndian.Uint16(v[IPv4TotalLenOffset:]) }

// ID returns the identification field.
func (v IPv4) ID() uint16 { return binary.BigEndian.Uint16(v[IPv4IDOffset:]) }

// DF reports whether Don't Fragment is set.
func (v IPv4) DF() bool { return binary.BigEndian.Uint16(v[IPv4FlagsFragOffset:])&IPv4FlagDF != 0 }

// MF reports whether More Fragments is set.
func (v IPv4) MF() bool { return binary.BigEndian.Uint16(v[IPv4FlagsFragOffset:])&IPv4FlagMF != 0 }

// FragmentOffset returns the fragment offset in bytes.
func (v IPv4) FragmentOffset() int {
	return int(binary.BigEndian.Uint16(v[IPv4FlagsFragOffset:])&ipv4FragOffsetMask) * 8
}

// IsFragment reports whether the packet is part of a fragmented datagram.
func (v IPv4) IsFragment() bool {
	return binary.BigEndian.Uint16(v[IPv4FlagsFragOffset:])&(IPv4FlagMF|ipv4FragOffsetMask) != 0
}

// TTL returns the time-to-live.
func (v IPv4) TTL() uint8 { return v[IPv4TTLOffset] }

// Protocol returns the carried protocol number.
func (v IPv4) Protocol() uint8 { return v[IPv4ProtocolOffset] }

// Checksum returns the header-checksum field.
func (v IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(v[IPv4ChecksumOffset:]) }

// Src returns the source address.
func (v IPv4) Src() [4]byte { return [4]byte(v[IPv4SrcOffset : IPv4SrcOffset+4]) }

// Dst returns the destination address.
func (v IPv4) Dst() [4]byte { return [4]byte(v[IPv4DstOffset : IPv4DstOffset+4]) }

// SrcAddr returns the source address as a netip.Addr.
func (v IPv4) SrcAddr() netip.Addr { return netip.AddrFrom4(v.Src()) }

// DstAddr returns the destination address as a netip.Addr.
func (v IPv4) DstAddr() netip.Addr { return netip.AddrFrom4(v.Dst()) }

// OptionsLen returns the length of the options area (HeaderLen() - 20).
func (v IPv4) OptionsLen() int { return v.HeaderLen() - IPv4MinHeaderLen }

// Options returns the options area (a sub-slice, usually empty).
func (v IPv4) Options() []byte { return v[IPv4MinHeaderLen:v.HeaderLen()] }

// Payload returns the bytes after the header up to the total length.
func (v IPv4) Payload() []byte { return v[v.HeaderLen():v.TotalLen()] }

// PseudoHeaderSum returns the pseudo-header partial sum for this packet's
// payload (protocol and payload length from the header).
func (v IPv4) PseudoHeaderSum() uint32 {
	return PseudoHeaderSumIPv4(v.Src(), v.Dst(), v.Protocol(), v.TotalLen()-uint16(v.HeaderLen()))
}

// SetTTL sets the TTL and updates the header checksum incrementally.
func (v IPv4) SetTTL(ttl uint8) {
	old := binary.BigEndian.Uint16(v[IPv4TTLOffset:])
	v[IPv4TTLOffset] = ttl
	nw := binary.BigEndian.Uint16(v[IPv4TTLOffset:])
	binary.BigEndian.PutUint16(v[IPv4ChecksumOffset:], UpdateChecksum(v.Checksum(), old, nw))
}

// IPv4Fields are the values EncodeIPv4 writes.
type IPv4Fields struct {
	TOS uint8
	// TotalLen is the header plus payload length.
	TotalLen uint16
	ID       uint16
	DF       bool
	TTL      uint8
	Protocol uint8
	Src, Dst [4]byte
}

// EncodeIPv4 writes a 20-byte IPv4 header without options (and with the
// header checksum) into buf (at least 20 bytes) and returns 20.
func EncodeIPv4(buf []byte, f *IPv4Fields) int {
	_ = buf[IPv4MinHeaderLen-1]
	buf[IPv4VersionIHLOffset] = ipv4VersionIHLNoOption
	buf[IPv4TOSOffset] = f.TOS
	binary.BigEndian.PutUint16(buf[IPv4TotalLenOffset:], f.TotalLen)
	binary.BigEndian.PutUint16(buf[IPv4IDOffset:], f.ID)
	var ff uint16
	if f.DF {
		ff = IPv4FlagDF
	}
	binary.BigEndian.PutUint16(buf[IPv4FlagsFragOffset:], ff)
	buf[IPv4TTLOffset] = f.TTL
	buf[IPv4ProtocolOffset] = f.Protocol
	copy(buf[IPv4SrcOffset:], f.Src[:])
	copy(buf[IPv4DstOffset:], f.Dst[:])
	// The checksum from the field values (the header's ten 16-bit words,
	// the checksum word zero) rather than a pass over the bytes just
	// written: this runs once per transmitted segment.
	s := uint32(ipv4VersionIHLNoOption)<<8 | uint32(f.TOS)
	s += uint32(f.TotalLen) + uint32(f.ID) + uint32(ff)
	s += uint32(f.TTL)<<8 | uint32(f.Protocol)
	s += uint32(f.Src[0])<<8 | uint32(f.Src[1])
	s += uint32(f.Src[2])<<8 | uint32(f.Src[3])
	s += uint32(f.Dst[0])<<8 | uint32(f.Dst[1])
	s += uint32(f.Dst[2])<<8 | uint32(f.Dst[3])
	binary.BigEndian.PutUint16(buf[IPv4ChecksumOffset:], ^Fold(s))
	return IPv4MinHeaderLen
}
