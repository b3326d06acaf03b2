package header

import "encoding/binary"

// ARP for IPv4 over Ethernet (RFC 826): layout and values.
const (
	ARPHardwareTypeOffset = 0
	ARPProtocolTypeOffset = 2
	ARPHardwareLenOffset  = 4
	ARPProtocolLenOffset  = 5
	ARPOpOffset           = 6
	ARPSenderMACOffset    = 8
	ARPSenderIPOffset     = 14
	ARPTargetMACOffset    = 18
	ARPTargetIPOffset     = 24
	// ARPLen is the size of an IPv4-over-Ethernet ARP packet.
	ARPLen = 28

	// ARPHardwareEthernet is the hardware type for Ethernet.
	ARPHardwareEthernet = 1
	// ARPRequest and ARPReply are the two opcodes this stack handles.
	ARPRequest = 1
	ARPReply   = 2
)

// ARP is a byte view of an IPv4-over-Ethernet ARP packet.
type ARP []byte

// ParseARP checks that b starts with an ARP request or reply for IPv4 over
// Ethernet and returns the 28-byte view, 28 and nil; or ErrTruncated,
// ErrUnsupported (other hardware or protocol types or address sizes), or
// ErrBadField (an opcode other than request or reply).
func ParseARP(b []byte) (ARP, int, error) {
	if len(b) < ARPLen {
		return nil, 0, ErrTruncated
	}
	if binary.BigEndian.Uint16(b[ARPHardwareTypeOffset:]) != ARPHardwareEthernet ||
		binary.BigEndian.Uint16(b[ARPProtocolTypeOffset:]) != EtherTypeIPv4 ||
		b[ARPHardwareLenOffset] != 6 || b[ARPProtocolLenOffset] != 4 {
		return nil, 0, ErrUnsupported
	}
	switch binary.BigEndian.Uint16(b[ARPOpOffset:]) {
	case ARPRequest, ARPReply:
	default:
		return nil, 0, ErrBadField
	}
	return ARP(b[:ARPLen]), ARPLen, nil
}

// Op returns the opcode (ARPRequest or ARPReply after ParseARP).
func (a ARP) Op() uint16 { return binary.BigEndian.Uint16(a[ARPOpOffset:]) }

// SenderMAC returns the sender hardware address.
func (a ARP) SenderMAC() MAC { return MAC(a[ARPSenderMACOffset : ARPSenderMACOffset+6]) }

// SenderIP returns the sender protocol address.
func (a ARP) SenderIP() [4]byte { return [4]byte(a[ARPSenderIPOffset : ARPSenderIPOffset+4]) }

// TargetMAC returns the target hardware address (zero in a request).
func (a ARP) TargetMAC() MAC { return MAC(a[ARPTargetMACOffset : ARPTargetMACOffset+6]) }

// TargetIP returns the target protocol address.
func (a ARP) TargetIP() [4]byte { return [4]byte(a[ARPTargetIPOffset : ARPTargetIPOffset+4]) }

// EncodeARP writes an IPv4-over-Ethernet ARP packet with opcode op into
// buf (at least 28 bytes) and returns 28. For a request, targetMAC is
// normally the zero MAC and the frame goes to BroadcastMAC.
func EncodeARP(buf []byte, op uint16, senderMAC MAC, senderIP [4]byte, targetMAC MAC, targetIP [4]byte) int {
	_ = buf[ARPLen-1]
	binary.BigEndian.PutUint16(buf[ARPHardwareTypeOffset:], ARPHardwareEthernet)
	binary.BigEndian.PutUint16(buf[ARPProtocolTypeOffset:], EtherTypeIPv4)
	buf[ARPHardwareLenOffset] = 6
	buf[ARPProtocolLenOffset] = 4
	binary.BigEndian.PutUint16(buf[ARPOpOffset:], op)
	copy(buf[ARPSenderMACOffset:], senderMAC[:])
	copy(buf[ARPSenderIPOffset:], senderIP[:])
	copy(buf[ARPTargetMACOffset:], targetMAC[:])
	copy(buf[ARPTargetIPOffset:], targetIP[:])
	return ARPLen
}
