package header

// Reason is the typed cause of a parse failure. Every parser in this package
// returns one of the Reason constants below as its error (never a wrapped or
// freshly allocated error), so the per-packet path can count drops without
// allocating: use the Reason as an index into a [NumReasons]uint64 counter
// array, or compare it with == / errors.Is.
type Reason uint8

// Parse failure reasons. Each is also an error value.
const (
	// ErrTruncated: the buffer is shorter than the fixed header, or than a
	// length field inside it says. The frame is dropped.
	ErrTruncated Reason = iota + 1
	// ErrVersion: the IP version nibble does not match the parser.
	ErrVersion
	// ErrHeaderLength: a header-length field (IPv4 IHL, TCP data offset,
	// IPv6 extension length) is below its minimum or runs past the buffer.
	ErrHeaderLength
	// ErrTotalLength: IPv4 total length or IPv6 payload length is smaller
	// than the header or larger than the frame.
	ErrTotalLength
	// ErrChecksum: the checksum over the header (or message) is wrong.
	ErrChecksum
	// ErrFragment: the IP packet is a fragment. The view is still returned
	// so the caller can count it; this stack does not reassemble.
	ErrFragment
	// ErrVLAN: the Ethernet frame carries stacked VLAN tags (QinQ), which
	// this stack does not handle. A single 802.1Q tag is accepted.
	ErrVLAN
	// ErrUnsupported: a valid but unhandled variant (IPv6 jumbogram, ESP,
	// unknown ARP hardware/protocol type, ICMP type without a view here).
	ErrUnsupported
	// ErrExtensionHeaders: the IPv6 extension-header chain is too long or
	// ends without reaching an upper-layer protocol.
	ErrExtensionHeaders
	// ErrOptionLength: a TCP or ND option's length byte is wrong for its
	// kind (MSS len != 4, window scale len != 3, timestamps len != 10,
	// SACK len not 2+8k with k >= 1, any len < 2, MPTCP len < 3, ND len 0).
	ErrOptionLength
	// ErrOptionTruncated: a TCP or ND option runs past the end of the
	// options area.
	ErrOptionTruncated
	// ErrOptionCount: more SACK blocks or MPTCP options than TCPOptions
	// has room for (MaxSACKBlocks, MaxMPTCPOptions).
	ErrOptionCount
	// ErrOptionsTooLong: options to be written do not fit in the 40-byte
	// TCP options budget.
	ErrOptionsTooLong
	// ErrBadField: a fixed field has a value the protocol forbids (ARP
	// opcode, ICMP code for echo/ND, ND target that is multicast).
	ErrBadField

	// NumReasons is one more than the largest Reason: the size of a
	// counter array indexed by Reason.
	NumReasons
)

var reasonText = [NumReasons]string{
	0:                   "header: no error",
	ErrTruncated:        "header: packet truncated: buffer shorter than the header or its length field (dropped)",
	ErrVersion:          "header: wrong IP version nibble (dropped)",
	ErrHeaderLength:     "header: header-length field below minimum or past the buffer (dropped)",
	ErrTotalLength:      "header: IP total/payload length inconsistent with header or frame (dropped)",
	ErrChecksum:         "header: checksum mismatch (dropped)",
	ErrFragment:         "header: IP fragment: reassembly is not supported (dropped; peers should use PMTU discovery)",
	ErrVLAN:             "header: stacked VLAN tags (QinQ) are not supported (dropped; remove the outer tag on the switch)",
	ErrUnsupported:      "header: valid but unsupported protocol variant (dropped)",
	ErrExtensionHeaders: "header: IPv6 extension-header chain too long or without an upper-layer header (dropped)",
	ErrOptionLength:     "header: option length byte wrong for its kind (dropped)",
	ErrOptionTruncated:  "header: option runs past the end of the options area (dropped)",
	ErrOptionCount:      "header: more SACK blocks or MPTCP options than the parser records (dropped)",
	ErrOptionsTooLong:   "header: TCP options exceed the 40-byte budget: reserve fewer bytes or drop an option",
	ErrBadField:         "header: field value forbidden by the protocol (dropped)",
}

var reasonName = [NumReasons]string{
	0:                   "None",
	ErrTruncated:        "Truncated",
	ErrVersion:          "Version",
	ErrHeaderLength:     "HeaderLength",
	ErrTotalLength:      "TotalLength",
	ErrChecksum:         "Checksum",
	ErrFragment:         "Fragment",
	ErrVLAN:             "VLAN",
	ErrUnsupported:      "Unsupported",
	ErrExtensionHeaders: "ExtensionHeaders",
	ErrOptionLength:     "OptionLength",
	ErrOptionTruncated:  "OptionTruncated",
	ErrOptionCount:      "OptionCount",
	ErrOptionsTooLong:   "OptionsTooLong",
	ErrBadField:         "BadField",
}

// Error describes the failure and what happens to the packet.
func (r Reason) Error() string {
	if r < NumReasons {
		return reasonText[r]
	}
	return "header: unknown reason"
}

// String returns a short CamelCase name, suitable as a counter name.
func (r Reason) String() string {
	if r < NumReasons {
		return reasonName[r]
	}
	return "Unknown"
}
