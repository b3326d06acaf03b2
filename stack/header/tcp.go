package header

import (
	"encoding/binary"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// TCP header layout (RFC 9293 §3.1): byte offsets of the fixed fields.
const (
	TCPSrcPortOffset    = 0
	TCPDstPortOffset    = 2
	TCPSeqOffset        = 4
	TCPAckOffset        = 8
	TCPDataOffsetOffset = 12 // high nibble: header length in 32-bit words
	TCPFlagsOffset      = 13
	TCPWindowOffset     = 14
	TCPChecksumOffset   = 16
	TCPUrgentOffset     = 18

	// TCPMinHeaderLen is the fixed header without options.
	TCPMinHeaderLen = 20
	// TCPMaxHeaderLen is the largest header a 4-bit data offset allows.
	TCPMaxHeaderLen = 60
	// TCPMaxOptionsLen is the options budget: TCPMaxHeaderLen - TCPMinHeaderLen.
	TCPMaxOptionsLen = 40
	// TCPProtocolNumber is TCP's IP protocol number.
	TCPProtocolNumber = 6
)

// TCPFlags is the TCP control-bit byte (header byte 13).
type TCPFlags uint8

// TCP control bits.
const (
	TCPFlagFIN TCPFlags = 1 << iota
	TCPFlagSYN
	TCPFlagRST
	TCPFlagPSH
	TCPFlagACK
	TCPFlagURG
	TCPFlagECE
	TCPFlagCWR
)

// Has reports whether every bit of g is set in f.
func (f TCPFlags) Has(g TCPFlags) bool { return f&g == g }

// String lists the set flags as in tcpdump ("SYN|ACK"); for logs and tests,
// not the per-packet path.
func (f TCPFlags) String() string {
	names := [8]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}
	s := ""
	for i, n := range names {
		if f&(1<<i) != 0 {
			if s != "" {
				s += "|"
			}
			s += n
		}
	}
	if s == "" {
		return "none"
	}
	return s
}

// TCP is a byte view of a TCP segment: the header followed by the payload.
// Accessors do not check lengths beyond what Go's bounds checks do: call
// ParseTCP (or Validate) first.
type TCP []byte

// ParseTCP checks that b starts with a well-formed TCP header (at least 20
// bytes, data offset >= 5 and within b) and returns the view of the whole
// segment b, the header length n (payload is b[n:]), and nil or ErrTruncated
// / ErrHeaderLength. b must be exactly the IP payload (IPv4.Payload or the
// upper-layer slice from IPv6.Transport) so that the payload ends where the
// IP packet does. The checksum is not verified: see ChecksumValid.
func ParseTCP(b []byte) (TCP, int, error) {
	if len(b) < TCPMinHeaderLen {
		return nil, 0, ErrTruncated
	}
	n := int(b[TCPDataOffsetOffset]>>4) * 4
	if n < TCPMinHeaderLen {
		return nil, 0, ErrHeaderLength
	}
	if n > len(b) {
		return nil, 0, ErrTruncated
	}
	return TCP(b), n, nil
}

// Validate reports whether the view holds a well-formed header (as ParseTCP).
func (t TCP) Validate() error {
	_, _, err := ParseTCP(t)
	return err
}

// SrcPort returns the source port.
func (t TCP) SrcPort() uint16 { return binary.BigEndian.Uint16(t[TCPSrcPortOffset:]) }

// DstPort returns the destination port.
func (t TCP) DstPort() uint16 { return binary.BigEndian.Uint16(t[TCPDstPortOffset:]) }

// Seq returns the sequence number.
func (t TCP) Seq() seqnum.Value { return seqnum.Value(binary.BigEndian.Uint32(t[TCPSeqOffset:])) }

// Ack returns the acknowledgment number (meaningful when ACK is set).
func (t TCP) Ack() seqnum.Value { return seqnum.Value(binary.BigEndian.Uint32(t[TCPAckOffset:])) }

// HeaderLen returns the header length in bytes from the data-offset field.
func (t TCP) HeaderLen() int { return int(t[TCPDataOffsetOffset]>>4) * 4 }

// Flags returns the control bits.
func (t TCP) Flags() TCPFlags { return TCPFlags(t[TCPFlagsOffset]) }

// Window returns the raw (unscaled) receive window.
func (t TCP) Window() uint16 { return binary.BigEndian.Uint16(t[TCPWindowOffset:]) }

// Checksum returns the checksum field.
func (t TCP) Checksum() uint16 { return binary.BigEndian.Uint16(t[TCPChecksumOffset:]) }

// Urgent returns the urgent pointer.
func (t TCP) Urgent() uint16 { return binary.BigEndian.Uint16(t[TCPUrgentOffset:]) }

// Options returns the options area (a sub-slice, possibly empty).
func (t TCP) Options() []byte { return t[TCPMinHeaderLen:t.HeaderLen()] }

// Payload returns the bytes after the header (a sub-slice).
func (t TCP) Payload() []byte { return t[t.HeaderLen():] }

// SetSrcPort sets the source port.
func (t TCP) SetSrcPort(p uint16) { binary.BigEndian.PutUint16(t[TCPSrcPortOffset:], p) }

// SetDstPort sets the destination port.
func (t TCP) SetDstPort(p uint16) { binary.BigEndian.PutUint16(t[TCPDstPortOffset:], p) }

// SetSeq sets the sequence number.
func (t TCP) SetSeq(v seqnum.Value) { binary.BigEndian.PutUint32(t[TCPSeqOffset:], uint32(v)) }

// SetAck sets the acknowledgment number.
func (t TCP) SetAck(v seqnum.Value) { binary.BigEndian.PutUint32(t[TCPAckOffset:], uint32(v)) }

// SetFlags sets the control bits.
func (t TCP) SetFlags(f TCPFlags) { t[TCPFlagsOffset] = uint8(f) }

// SetWindow sets the raw receive window.
func (t TCP) SetWindow(w uint16) { binary.BigEndian.PutUint16(t[TCPWindowOffset:], w) }

// SetChecksum sets the checksum field.
func (t TCP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(t[TCPChecksumOffset:], c) }

// ChecksumValid reports whether the checksum over the whole view (header
// and payload) verifies with the pseudo-header partial sum pseudo, from
// PseudoHeaderSumIPv4/IPv6 with length len(t).
func (t TCP) ChecksumValid(pseudo uint32) bool {
	return Checksum(t, pseudo) == 0
}

// FinishChecksum computes and stores the checksum over the whole view
// (header and payload) given the pseudo-header partial sum pseudo (length
// len(t)). The checksum field's old value does not matter.
func (t TCP) FinishChecksum(pseudo uint32) {
	t.SetChecksum(0)
	t.SetChecksum(Checksum(t, pseudo))
}

// TCPFields are the fixed-header values EncodeTCP writes.
type TCPFields struct {
	SrcPort, DstPort uint16
	Seq, Ack         seqnum.Value
	Flags            TCPFlags
	Window           uint16
	Urgent           uint16
	// OptionsLen is the length of the options that follow the fixed header
	// (a multiple of 4, at most TCPMaxOptionsLen; from TCPOptionsSize). It
	// sets the data offset; the options themselves are written separately.
	OptionsLen int
}

// TCPHeaderSum returns the partial Internet checksum of the TCP header
// that EncodeTCP writes for f (checksum field zero) followed by the option
// bytes opts, added to the partial sum initial (the pseudo-header's). The
// fixed header's words come from the field values, not from the bytes
// just written: reading back fresh narrow stores with wide loads stalls
// the CPU, and this runs once per transmitted segment. len(opts) must be
// even (options are a multiple of 4 bytes).
func TCPHeaderSum(f *TCPFields, opts []byte, initial uint32) uint32 {
	s := uint64(initial)
	s += uint64(f.SrcPort) + uint64(f.DstPort)
	s += uint64(f.Seq>>16) + uint64(f.Seq&0xffff)
	s += uint64(f.Ack>>16) + uint64(f.Ack&0xffff)
	s += uint64((TCPMinHeaderLen+f.OptionsLen)/4)<<12 | uint64(f.Flags)
	s += uint64(f.Window) + uint64(f.Urgent)
	for i := 0; i+1 < len(opts); i += 2 {
		s += uint64(opts[i])<<8 | uint64(opts[i+1])
	}
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	return uint32(s)
}

// EncodeTCP writes the 20-byte fixed header described by f into buf, with
// the data offset covering f.OptionsLen bytes of options and a zero
// checksum, and returns 20. Write the options into buf[20:] with
// WriteTCPOptions, the payload after them, then call TCP.FinishChecksum.
// buf must hold at least 20 bytes; f.OptionsLen must be a multiple of 4 no
// larger than 40 (EncodeTCP panics otherwise: a programming error).
func EncodeTCP(buf []byte, f *TCPFields) int {
	if f.OptionsLen&3 != 0 || f.OptionsLen > TCPMaxOptionsLen || f.OptionsLen < 0 {
		panic("header: EncodeTCP: OptionsLen must be a multiple of 4 in [0, 40]; size options with TCPOptionsSize")
	}
	_ = buf[TCPMinHeaderLen-1]
	binary.BigEndian.PutUint16(buf[TCPSrcPortOffset:], f.SrcPort)
	binary.BigEndian.PutUint16(buf[TCPDstPortOffset:], f.DstPort)
	binary.BigEndian.PutUint32(buf[TCPSeqOffset:], uint32(f.Seq))
	binary.BigEndian.PutUint32(buf[TCPAckOffset:], uint32(f.Ack))
	buf[TCPDataOffsetOffset] = uint8((TCPMinHeaderLen+f.OptionsLen)/4) << 4
	buf[TCPFlagsOffset] = uint8(f.Flags)
	binary.BigEndian.PutUint16(buf[TCPWindowOffset:], f.Window)
	binary.BigEndian.PutUint16(buf[TCPChecksumOffset:], 0)
	binary.BigEndian.PutUint16(buf[TCPUrgentOffset:], f.Urgent)
	return TCPMinHeaderLen
}
