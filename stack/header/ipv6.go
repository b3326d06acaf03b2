package header

import (
	"encoding/binary"
	"net/netip"
)

// IPv6 fixed header layout (RFC 8200) and next-header values.
const (
	IPv6VersionTCFLOffset  = 0
	IPv6PayloadLenOffset   = 4
	IPv6NextHeaderOffset   = 6
	IPv6HopLimitOffset     = 7
	IPv6SrcOffset          = 8
	IPv6DstOffset          = 24
	IPv6HeaderLen          = 40
	IPv6DefaultHopLimit    = 64
	IPv6HopByHop           = 0
	IPv6Routing            = 43
	IPv6Fragment           = 44
	IPv6ESP                = 50
	IPv6AH                 = 51
	IPv6NoNextHeader       = 59
	IPv6DestinationOptions = 60
	ICMPv6ProtocolNumber   = 58
	UDPProtocolNumber      = 17

	// IPv6MaxExtensionHeaders bounds the extension-header walk.
	IPv6MaxExtensionHeaders = 8
)

// IPv6 is a byte view of an IPv6 packet. After ParseIPv6 its length is 40
// plus the payload length (link padding trimmed).
type IPv6 []byte

// ParseIPv6 checks that b starts with an IPv6 fixed header whose payload
// length fits in b, and returns the view trimmed to 40+payload length, 40
// and nil; or ErrTruncated, ErrVersion, or ErrUnsupported for what may be a
// jumbogram (payload length 0 followed by a hop-by-hop header). Extension
// headers are walked by Transport.
func ParseIPv6(b []byte) (IPv6, int, error) {
	if len(b) < IPv6HeaderLen {
		return nil, 0, ErrTruncated
	}
	if b[0]>>4 != 6 {
		return nil, 0, ErrVersion
	}
	pl := int(binary.BigEndian.Uint16(b[IPv6PayloadLenOffset:]))
	if pl == 0 && b[IPv6NextHeaderOffset] == IPv6HopByHop {
		return nil, 0, ErrUnsupported
	}
	if IPv6HeaderLen+pl > len(b) {
		return nil, 0, ErrTruncated
	}
	return IPv6(b[:IPv6HeaderLen+pl]), IPv6HeaderLen, nil
}

// TrafficClass returns the traffic class (DSCP and ECN).
func (v IPv6) TrafficClass() uint8 {
	return uint8(binary.BigEndian.Uint16(v[0:]) >> 4)
}

// FlowLabel returns the 20-bit flow label.
func (v IPv6) FlowLabel() uint32 { return binary.BigEndian.Uint32(v[0:]) & 0xfffff }

// PayloadLen returns the payload-length field.
func (v IPv6) PayloadLen() uint16 { return binary.BigEndian.Uint16(v[IPv6PayloadLenOffset:]) }

// NextHeader returns the next-header field of the fixed header.
func (v IPv6) NextHeader() uint8 { return v[IPv6NextHeaderOffset] }

// HopLimit returns the hop limit.
func (v IPv6) HopLimit() uint8 { return v[IPv6HopLimitOffset] }

// Src returns the source address.
func (v IPv6) Src() [16]byte { return [16]byte(v[IPv6SrcOffset : IPv6SrcOffset+16]) }

// Dst returns the destination address.
func (v IPv6) Dst() [16]byte { return [16]byte(v[IPv6DstOffset : IPv6DstOffset+16]) }

// SrcAddr returns the source address as a netip.Addr.
func (v IPv6) SrcAddr() netip.Addr { return netip.AddrFrom16(v.Src()) }

// DstAddr returns the destination address as a netip.Addr.
func (v IPv6) DstAddr() netip.Addr { return netip.AddrFrom16(v.Dst()) }

// Payload returns everything after the fixed header (extension headers
// included).
func (v IPv6) Payload() []byte { return v[IPv6HeaderLen:] }

// Transport walks the extension headers (hop-by-hop, routing, destination
// options, AH; at most IPv6MaxExtensionHeaders of them) and returns the
// upper-layer protocol number and the upper-layer packet (a sub-slice,
// e.g. for ParseTCP or ParseICMPv6). It fails with ErrFragment for a
// fragment header, ErrUnsupported for ESP, ErrExtensionHeaders for No Next
// Header or a chain that is too long, and ErrTruncated / ErrHeaderLength
// when an extension header runs past the packet.
func (v IPv6) Transport() (proto uint8, payload []byte, err error) {
	next := v.NextHeader()
	off := IPv6HeaderLen
	for i := 0; ; i++ {
		switch next {
		case IPv6HopByHop, IPv6Routing, IPv6DestinationOptions, IPv6AH:
		case IPv6Fragment:
			return next, nil, ErrFragment
		case IPv6ESP:
			return next, nil, ErrUnsupported
		case IPv6NoNextHeader:
			return next, nil, ErrExtensionHeaders
		default:
			return next, v[off:], nil
		}
		if i == IPv6MaxExtensionHeaders {
			return next, nil, ErrExtensionHeaders
		}
		if off+2 > len(v) {
			return next, nil, ErrTruncated
		}
		var l int
		if next == IPv6AH {
			l = (int(v[off+1]) + 2) * 4
		} else {
			l = (int(v[off+1]) + 1) * 8
		}
		if off+l > len(v) {
			return next, nil, ErrHeaderLength
		}
		next = v[off]
		off += l
	}
}

// PseudoHeaderSum returns the pseudo-header partial sum for an upper-layer
// packet of length bytes with protocol proto carried in this packet.
func (v IPv6) PseudoHeaderSum(proto uint8, length int) uint32 {
	return PseudoHeaderSumIPv6(v.Src(), v.Dst(), proto, uint32(length))
}

// IPv6Fields are the values EncodeIPv6 writes.
type IPv6Fields struct {
	TrafficClass uint8
	FlowLabel    uint32
	// PayloadLen is the length after the 40-byte header.
	PayloadLen uint16
	NextHeader uint8
	HopLimit   uint8
	Src, Dst   [16]byte
}

// EncodeIPv6 writes a 40-byte IPv6 fixed header into buf (at least 40
// bytes) and returns 40.
func EncodeIPv6(buf []byte, f *IPv6Fields) int {
	_ = buf[IPv6HeaderLen-1]
	binary.BigEndian.PutUint32(buf[0:], 6<<28|uint32(f.TrafficClass)<<20|f.FlowLabel&0xfffff)
	binary.BigEndian.PutUint16(buf[IPv6PayloadLenOffset:], f.PayloadLen)
	buf[IPv6NextHeaderOffset] = f.NextHeader
	buf[IPv6HopLimitOffset] = f.HopLimit
	copy(buf[IPv6SrcOffset:], f.Src[:])
	copy(buf[IPv6DstOffset:], f.Dst[:])
	return IPv6HeaderLen
}
