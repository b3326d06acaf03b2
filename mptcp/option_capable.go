package mptcp

// Version1 is the MPTCP protocol version of RFC 8684, carried in the low
// nibble of MP_CAPABLE's subtype byte.
const Version1 = 1

// MP_CAPABLE lengths (RFC 8684 §3.1).
const (
	CapableLenSYN         = 4  // SYN: no key
	CapableLenSYNACK      = 12 // SYN/ACK: the sender's key
	CapableLenACK         = 20 // third ACK: both keys
	CapableLenData        = 22 // first data: both keys and the data-level length
	CapableLenDataCsum    = 24 // as CapableLenData, plus the DSS checksum
	capableFlagsByteIndex = 3
)

// MP_CAPABLE flag bits (the fourth byte of the option).
const (
	CapableChecksum      = 0x80 // A: DSS checksums are required
	CapableExtensibility = 0x40 // B: extensibility, unused in v1
	CapableNoJoinID0     = 0x20 // C: do not open new subflows to this address (address id 0)
	CapableHMACSHA256    = 0x01 // H: HMAC-SHA256 is the crypto algorithm
)

// Capable is the MP_CAPABLE option. The form (and so the length) follows
// from which parts are present: a SYN has none, a SYN/ACK has SenderKey, the
// third ACK adds ReceiverKey, the first data segment adds DataLen and
// optionally Checksum. When writing, a later part implies the earlier ones.
type Capable struct {
	Version     uint8  // protocol version; 1 for RFC 8684
	Flags       uint8  // Capable* flag bits
	Keys        uint8  // number of keys present: 0, 1 (sender's) or 2 (sender's, receiver's)
	SenderKey   Key    // key of the option's sender (SYN/ACK, ACK, data)
	ReceiverKey Key    // key of the option's receiver (ACK, data)
	HasDataLen  bool   // data-level length present (length 22 or 24)
	DataLen     uint16 // data-level length of the payload this mapping covers
	HasChecksum bool   // DSS checksum present (length 24)
	Checksum    uint16 // DSS checksum
}

// Size returns the option's length on the wire.
func (c *Capable) Size() int {
	switch {
	case c.HasChecksum:
		return CapableLenDataCsum
	case c.HasDataLen:
		return CapableLenData
	case c.Keys >= 2:
		return CapableLenACK
	case c.Keys == 1:
		return CapableLenSYNACK
	}
	return CapableLenSYN
}

// Write serialises the option into b (at least Size bytes) and returns the
// number of bytes written.
func (c *Capable) Write(b []byte) int {
	n := c.Size()
	_ = b[n-1]
	putHeader(b, n, SubtypeCapable, c.Version)
	b[3] = c.Flags
	if n >= CapableLenSYNACK {
		be.PutUint64(b[4:], uint64(c.SenderKey))
	}
	if n >= CapableLenACK {
		be.PutUint64(b[12:], uint64(c.ReceiverKey))
	}
	if n >= CapableLenData {
		be.PutUint16(b[20:], c.DataLen)
	}
	if n >= CapableLenDataCsum {
		be.PutUint16(b[22:], c.Checksum)
	}
	return n
}

// parse accepts the lengths of version 1 only; an RFC 6824 (version 0)
// option may fit one of them, so callers check Version before trusting it.
func (c *Capable) parse(b []byte) error {
	*c = Capable{}
	switch len(b) {
	case CapableLenSYN, CapableLenSYNACK, CapableLenACK, CapableLenData, CapableLenDataCsum:
	default:
		return ErrLength
	}
	c.Version = b[2] & 0x0f
	c.Flags = b[3]
	n := len(b)
	if n >= CapableLenSYNACK {
		c.Keys = 1
		c.SenderKey = Key(be.Uint64(b[4:]))
	}
	if n >= CapableLenACK {
		c.Keys = 2
		c.ReceiverKey = Key(be.Uint64(b[12:]))
	}
	if n >= CapableLenData {
		c.HasDataLen = true
		c.DataLen = be.Uint16(b[20:])
	}
	if n >= CapableLenDataCsum {
		c.HasChecksum = true
		c.Checksum = be.Uint16(b[22:])
	}
	return nil
}

// ParseCapable parses an MP_CAPABLE option at the start of b.
func ParseCapable(b []byte) (Capable, error) {
	var c Capable
	err := parseAs(b, SubtypeCapable, c.parse)
	return c, err
}
