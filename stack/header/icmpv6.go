package header

import "encoding/binary"

// ICMPv6 layout (RFC 4443), echo and Neighbor Discovery (RFC 4861).
const (
	ICMPv6TypeOffset     = 0
	ICMPv6CodeOffset     = 1
	ICMPv6ChecksumOffset = 2
	ICMPv6IdentOffset    = 4
	ICMPv6SeqOffset      = 6
	// ICMPv6HeaderLen is type, code, checksum and the 4-byte body start.
	ICMPv6HeaderLen = 8

	ICMPv6EchoRequest           = 128
	ICMPv6EchoReply             = 129
	ICMPv6NeighborSolicitation  = 135
	ICMPv6NeighborAdvertisement = 136

	// NDTargetOffset is where the target address sits in NS and NA.
	NDTargetOffset = 8
	// NDMessageLen is the NS/NA length without options.
	NDMessageLen = 24
	// NDHopLimit is the hop limit ND messages must be sent and received
	// with (RFC 4861 §7.1.1): check it before trusting an NS or NA.
	NDHopLimit = 255

	// NDOptionSourceLinkLayer and NDOptionTargetLinkLayer are the ND
	// option types for link-layer addresses; NDLinkLayerOptionLen is
	// their size on Ethernet (one 8-byte unit).
	NDOptionSourceLinkLayer = 1
	NDOptionTargetLinkLayer = 2
	NDLinkLayerOptionLen    = 8

	// NA flag bits (first byte after the checksum).
	NDFlagRouter    = 0x80
	NDFlagSolicited = 0x40
	NDFlagOverride  = 0x20
)

// ICMPv6 is a byte view of an ICMPv6 message.
type ICMPv6 []byte

// ParseICMPv6 checks the length and codes of an ICMPv6 message b (the
// upper-layer slice from IPv6.Transport): at least 8 bytes; echo with code
// 0; NS/NA with code 0, at least 24 bytes, a non-multicast target and
// well-formed options. It returns the view b, the fixed-part length n (8,
// or 24 for NS/NA: the data or options are b[n:]) and nil; or
// ErrTruncated, ErrBadField, ErrOptionLength, ErrOptionTruncated. The
// checksum needs the pseudo-header: check it with ChecksumValid.
func ParseICMPv6(b []byte) (ICMPv6, int, error) {
	if len(b) < ICMPv6HeaderLen {
		return nil, 0, ErrTruncated
	}
	switch b[ICMPv6TypeOffset] {
	case ICMPv6EchoRequest, ICMPv6EchoReply:
		if b[ICMPv6CodeOffset] != 0 {
			return nil, 0, ErrBadField
		}
	case ICMPv6NeighborSolicitation, ICMPv6NeighborAdvertisement:
		if b[ICMPv6CodeOffset] != 0 {
			return nil, 0, ErrBadField
		}
		if len(b) < NDMessageLen {
			return nil, 0, ErrTruncated
		}
		if b[NDTargetOffset] == 0xff {
			return nil, 0, ErrBadField
		}
		var o NDOptions
		if err := ParseNDOptions(b[NDMessageLen:], &o); err != nil {
			return nil, 0, err
		}
		return ICMPv6(b), NDMessageLen, nil
	}
	return ICMPv6(b), ICMPv6HeaderLen, nil
}

// Type returns the message type.
func (m ICMPv6) Type() uint8 { return m[ICMPv6TypeOffset] }

// Code returns the message code.
func (m ICMPv6) Code() uint8 { return m[ICMPv6CodeOffset] }

// Checksum returns the checksum field.
func (m ICMPv6) Checksum() uint16 { return binary.BigEndian.Uint16(m[ICMPv6ChecksumOffset:]) }

// ChecksumValid reports whether the checksum verifies with the
// pseudo-header partial sum pseudo (PseudoHeaderSumIPv6 with proto 58 and
// length len(m)).
func (m ICMPv6) ChecksumValid(pseudo uint32) bool { return Checksum(m, pseudo) == 0 }

// Ident returns the echo identifier.
func (m ICMPv6) Ident() uint16 { return binary.BigEndian.Uint16(m[ICMPv6IdentOffset:]) }

// Seq returns the echo sequence number.
func (m ICMPv6) Seq() uint16 { return binary.BigEndian.Uint16(m[ICMPv6SeqOffset:]) }

// EchoPayload returns the data of an echo message.
func (m ICMPv6) EchoPayload() []byte { return m[ICMPv6HeaderLen:] }

// NDFlags returns the router/solicited/override byte of an NA.
func (m ICMPv6) NDFlags() uint8 { return m[4] }

// NDTarget returns the target address of an NS or NA.
func (m ICMPv6) NDTarget() [16]byte { return [16]byte(m[NDTargetOffset : NDTargetOffset+16]) }

// NDOptionsBytes returns the options area of an NS or NA.
func (m ICMPv6) NDOptionsBytes() []byte { return m[NDMessageLen:] }

// NDOptions are the ND options this stack uses: the source and target
// link-layer addresses. Other option types are skipped.
type NDOptions struct {
	SourceLinkLayer    MAC
	HasSourceLinkLayer bool
	TargetLinkLayer    MAC
	HasTargetLinkLayer bool
}

// ParseNDOptions resets o and parses the ND options area b into it. An
// option with length 0, a link-layer option of other than 8 bytes, or one
// that runs past b is an error (ErrOptionLength, ErrOptionTruncated): RFC
// 4861 §7.1 says to drop such messages.
func ParseNDOptions(b []byte, o *NDOptions) error {
	*o = NDOptions{}
	for len(b) > 0 {
		if len(b) < 2 {
			return ErrOptionTruncated
		}
		l := int(b[1]) * 8
		if l == 0 {
			return ErrOptionLength
		}
		if l > len(b) {
			return ErrOptionTruncated
		}
		switch b[0] {
		case NDOptionSourceLinkLayer, NDOptionTargetLinkLayer:
			if l != NDLinkLayerOptionLen {
				return ErrOptionLength
			}
			if b[0] == NDOptionSourceLinkLayer {
				o.SourceLinkLayer = MAC(b[2:8])
				o.HasSourceLinkLayer = true
			} else {
				o.TargetLinkLayer = MAC(b[2:8])
				o.HasTargetLinkLayer = true
			}
		}
		b = b[l:]
	}
	return nil
}

// EncodeICMPv6Echo writes an echo request or reply (typ) with data into
// buf (at least 8+len(data) bytes; data may already sit at buf[8:]) with
// the checksum over the pseudo-header for src -> dst, and returns the
// message length.
func EncodeICMPv6Echo(buf []byte, src, dst [16]byte, typ uint8, ident, seq uint16, data []byte) int {
	n := ICMPv6HeaderLen + len(data)
	_ = buf[n-1]
	copy(buf[ICMPv6HeaderLen:], data)
	buf[ICMPv6TypeOffset] = typ
	buf[ICMPv6CodeOffset] = 0
	binary.BigEndian.PutUint16(buf[ICMPv6ChecksumOffset:], 0)
	binary.BigEndian.PutUint16(buf[ICMPv6IdentOffset:], ident)
	binary.BigEndian.PutUint16(buf[ICMPv6SeqOffset:], seq)
	finishICMPv6(buf[:n], src, dst)
	return n
}

// EncodeNeighborSolicitation writes an NS for target into buf (at least 32
// bytes, or 24 without a source link-layer option), with a source
// link-layer address option when srcLL is non-nil (it must be nil when src
// is the unspecified address, RFC 4861 §4.3), and returns its length. dst
// is the solicited-node multicast address of target (see
// SolicitedNodeMulticast) or target itself for unicast probes.
func EncodeNeighborSolicitation(buf []byte, src, dst, target [16]byte, srcLL *MAC) int {
	return encodeND(buf, ICMPv6NeighborSolicitation, 0, src, dst, target, NDOptionSourceLinkLayer, srcLL)
}

// EncodeNeighborAdvertisement writes an NA for target with flags (NDFlag*)
// into buf (at least 32 bytes, or 24 without a target link-layer option),
// with a target link-layer address option when targetLL is non-nil, and
// returns its length.
func EncodeNeighborAdvertisement(buf []byte, src, dst, target [16]byte, flags uint8, targetLL *MAC) int {
	return encodeND(buf, ICMPv6NeighborAdvertisement, flags, src, dst, target, NDOptionTargetLinkLayer, targetLL)
}

func encodeND(buf []byte, typ, flags uint8, src, dst, target [16]byte, optType uint8, ll *MAC) int {
	n := NDMessageLen
	if ll != nil {
		n += NDLinkLayerOptionLen
	}
	_ = buf[n-1]
	buf[ICMPv6TypeOffset] = typ
	buf[ICMPv6CodeOffset] = 0
	binary.BigEndian.PutUint16(buf[ICMPv6ChecksumOffset:], 0)
	binary.BigEndian.PutUint32(buf[4:], uint32(flags)<<24)
	copy(buf[NDTargetOffset:], target[:])
	if ll != nil {
		buf[NDMessageLen] = optType
		buf[NDMessageLen+1] = 1
		copy(buf[NDMessageLen+2:], ll[:])
	}
	finishICMPv6(buf[:n], src, dst)
	return n
}

// finishICMPv6 stores the checksum of message m sent from src to dst.
func finishICMPv6(m []byte, src, dst [16]byte) {
	binary.BigEndian.PutUint16(m[ICMPv6ChecksumOffset:], 0)
	ps := PseudoHeaderSumIPv6(src, dst, ICMPv6ProtocolNumber, uint32(len(m)))
	binary.BigEndian.PutUint16(m[ICMPv6ChecksumOffset:], Checksum(m, ps))
}

// SolicitedNodeMulticast returns the solicited-node multicast address
// ff02::1:ffXX:XXXX for addr (RFC 4291 §2.7.1), the destination of an NS.
func SolicitedNodeMulticast(addr [16]byte) [16]byte {
	return [16]byte{0: 0xff, 1: 0x02, 11: 0x01, 12: 0xff, 13: addr[13], 14: addr[14], 15: addr[15]}
}

// IPv6MulticastMAC returns the Ethernet address 33:33:xx:xx:xx:xx that
// carries IPv6 multicast group addr (RFC 2464 §7).
func IPv6MulticastMAC(addr [16]byte) MAC {
	return MAC{0x33, 0x33, addr[12], addr[13], addr[14], addr[15]}
}
