package header

import (
	"encoding/binary"
	"fmt"
)

// MAC is a 48-bit Ethernet hardware address.
type MAC [6]byte

// BroadcastMAC is ff:ff:ff:ff:ff:ff.
var BroadcastMAC = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// String formats the address as six colon-separated hex bytes (allocates;
// for logs, not the per-packet path).
func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// IsMulticast reports whether the group bit is set (broadcast included).
func (m MAC) IsMulticast() bool { return m[0]&1 != 0 }

// Ethernet II layout and EtherType values.
const (
	EthernetDstOffset  = 0
	EthernetSrcOffset  = 6
	EthernetTypeOffset = 12
	// EthernetHeaderLen is the untagged header length.
	EthernetHeaderLen = 14
	// VLANTagLen is the size of one 802.1Q tag (TPID + TCI).
	VLANTagLen = 4

	EtherTypeIPv4 = 0x0800
	EtherTypeARP  = 0x0806
	EtherTypeIPv6 = 0x86dd
	// EtherTypeVLAN is the 802.1Q tag protocol identifier.
	EtherTypeVLAN = 0x8100
	// EtherTypeQinQ is the 802.1ad service tag protocol identifier.
	EtherTypeQinQ = 0x88a8
)

// Ethernet is a byte view of an Ethernet II frame, optionally with one
// 802.1Q VLAN tag between the source address and the EtherType.
type Ethernet []byte

// ParseEthernet checks that b starts with an Ethernet II header and returns
// the view of the frame b, the header length n (14, or 18 with an 802.1Q
// tag; the network packet is b[n:]) and nil, ErrTruncated, or ErrVLAN for a
// QinQ (0x88a8) or doubly tagged frame.
func ParseEthernet(b []byte) (Ethernet, int, error) {
	if len(b) < EthernetHeaderLen {
		return nil, 0, ErrTruncated
	}
	switch binary.BigEndian.Uint16(b[EthernetTypeOffset:]) {
	case EtherTypeQinQ:
		return nil, 0, ErrVLAN
	case EtherTypeVLAN:
		if len(b) < EthernetHeaderLen+VLANTagLen {
			return nil, 0, ErrTruncated
		}
		switch binary.BigEndian.Uint16(b[EthernetTypeOffset+VLANTagLen:]) {
		case EtherTypeVLAN, EtherTypeQinQ:
			return nil, 0, ErrVLAN
		}
		return Ethernet(b), EthernetHeaderLen + VLANTagLen, nil
	}
	return Ethernet(b), EthernetHeaderLen, nil
}

// Dst returns the destination address.
func (e Ethernet) Dst() MAC { return MAC(e[EthernetDstOffset : EthernetDstOffset+6]) }

// Src returns the source address.
func (e Ethernet) Src() MAC { return MAC(e[EthernetSrcOffset : EthernetSrcOffset+6]) }

// HasVLAN reports whether the frame carries an 802.1Q tag.
func (e Ethernet) HasVLAN() bool {
	return binary.BigEndian.Uint16(e[EthernetTypeOffset:]) == EtherTypeVLAN
}

// VLAN returns the tag control information (PCP, DEI and the 12-bit VLAN
// ID) and true when the frame is tagged, or 0 and false.
func (e Ethernet) VLAN() (tci uint16, ok bool) {
	if !e.HasVLAN() {
		return 0, false
	}
	return binary.BigEndian.Uint16(e[EthernetTypeOffset+2:]), true
}

// HeaderLen returns 14, or 18 for a tagged frame.
func (e Ethernet) HeaderLen() int {
	if e.HasVLAN() {
		return EthernetHeaderLen + VLANTagLen
	}
	return EthernetHeaderLen
}

// EtherType returns the type of the carried packet (after the VLAN tag
// when there is one).
func (e Ethernet) EtherType() uint16 {
	return binary.BigEndian.Uint16(e[e.HeaderLen()-2:])
}

// Payload returns the network-layer packet (a sub-slice; it may include
// Ethernet padding after the IP packet: IP parsers trim by their length).
func (e Ethernet) Payload() []byte { return e[e.HeaderLen():] }

// SetDst sets the destination address.
func (e Ethernet) SetDst(m MAC) { copy(e[EthernetDstOffset:], m[:]) }

// SetSrc sets the source address.
func (e Ethernet) SetSrc(m MAC) { copy(e[EthernetSrcOffset:], m[:]) }

// EncodeEthernet writes an untagged Ethernet II header into buf (at least
// 14 bytes) and returns 14.
func EncodeEthernet(buf []byte, dst, src MAC, etherType uint16) int {
	_ = buf[EthernetHeaderLen-1]
	copy(buf[EthernetDstOffset:], dst[:])
	copy(buf[EthernetSrcOffset:], src[:])
	binary.BigEndian.PutUint16(buf[EthernetTypeOffset:], etherType)
	return EthernetHeaderLen
}
