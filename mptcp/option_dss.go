package mptcp

// DSS flag bits (the fourth byte of the option, RFC 8684 §3.3).
const (
	DSSFlagAck     = 0x01 // A: DATA_ACK present
	DSSFlagAck64   = 0x02 // a: DATA_ACK is 8 octets
	DSSFlagMap     = 0x04 // M: mapping (DSN, subflow sequence, data-level length, checksum) present
	DSSFlagDSN64   = 0x08 // m: DSN is 8 octets
	DSSFlagDataFin = 0x10 // F: DATA_FIN
	dssFlagMask    = 0x1f
)

// DSS field lengths.
const (
	dssBaseLen = 4
	dssCsumLen = 2
)

// DSS is the Data Sequence Signal option: an optional DATA_ACK and an
// optional mapping from subflow sequence space to data sequence space.
// DataAck and DSN hold the wire value: the low 32 bits only when the
// matching 64-bit flag is clear (expand them with ExpandSeq).
type DSS struct {
	HasAck  bool   // A
	Ack64   bool   // a
	DataAck uint64 // DATA_ACK as sent (32 or 64 bits)

	HasMap      bool   // M
	DSN64       bool   // m
	DSN         uint64 // data sequence number of the mapping's first byte, as sent
	SubflowSeq  uint32 // relative subflow sequence number (from the subflow ISN)
	DataLen     uint16 // data-level length; 0 means an infinite mapping
	HasChecksum bool   // checksum present (only with a mapping)
	Checksum    uint16 // DSS checksum

	DataFin bool // F: the mapping's last data-level byte is a DATA_FIN
}

// DataAckFrom returns the 64-bit DATA_ACK, expanding a 32-bit one against
// ref (the sender's highest DSN sent, or snd_una).
func (d *DSS) DataAckFrom(ref uint64) uint64 { return ExpandDSN(ref, d.DataAck, d.Ack64) }

// DSNFrom returns the mapping's 64-bit DSN, expanding a 32-bit one against
// ref (the receiver's next expected DSN).
func (d *DSS) DSNFrom(ref uint64) uint64 { return ExpandDSN(ref, d.DSN, d.DSN64) }

// Flags returns the flag byte the option carries on the wire.
func (d *DSS) Flags() uint8 {
	var f uint8
	if d.HasAck {
		f |= DSSFlagAck
		if d.Ack64 {
			f |= DSSFlagAck64
		}
	}
	if d.HasMap {
		f |= DSSFlagMap
		if d.DSN64 {
			f |= DSSFlagDSN64
		}
	}
	if d.DataFin {
		f |= DSSFlagDataFin
	}
	return f
}

// dssLen returns the length implied by the flags, without the checksum.
func dssLen(flags uint8) int {
	n := dssBaseLen
	if flags&DSSFlagAck != 0 {
		n += seqLen(flags&DSSFlagAck64 != 0)
	}
	if flags&DSSFlagMap != 0 {
		n += seqLen(flags&DSSFlagDSN64 != 0)
		n += 4 + 2 // subflow sequence number, data-level length
	}
	return n
}

// seqLen is the wire length of a DATA_ACK or DSN: 8 bytes when wide, else 4.
func seqLen(wide bool) int {
	if wide {
		return 8
	}
	return 4
}

// putSeq writes a DATA_ACK or DSN as 8 bytes when wide, else its low 4
// bytes, and returns the bytes written.
func putSeq(b []byte, v uint64, wide bool) int {
	if wide {
		be.PutUint64(b, v)
	} else {
		be.PutUint32(b, uint32(v))
	}
	return seqLen(wide)
}

// getSeq reads a DATA_ACK or DSN of 8 bytes when wide, else 4, and returns
// it with the bytes read.
func getSeq(b []byte, wide bool) (uint64, int) {
	if wide {
		return be.Uint64(b), 8
	}
	return uint64(be.Uint32(b)), 4
}

// Size returns the option's length on the wire.
func (d *DSS) Size() int {
	n := dssLen(d.Flags())
	if d.HasMap && d.HasChecksum {
		n += dssCsumLen
	}
	return n
}

// Write serialises the option into b (at least Size bytes) and returns the
// number of bytes written.
func (d *DSS) Write(b []byte) int {
	n := d.Size()
	_ = b[n-1]
	putHeader(b, n, SubtypeDSS, 0)
	b[3] = d.Flags()
	i := 4
	if d.HasAck {
		i += putSeq(b[i:], d.DataAck, d.Ack64)
	}
	if d.HasMap {
		i += putSeq(b[i:], d.DSN, d.DSN64)
		be.PutUint32(b[i:], d.SubflowSeq)
		be.PutUint16(b[i+4:], d.DataLen)
		i += 6
		if d.HasChecksum {
			be.PutUint16(b[i:], d.Checksum)
			i += 2
		}
	}
	return i
}

// parse accepts exactly the length the flags imply, plus 2 when a mapping
// is present (a checksum). Whether a checksum must be present is a
// connection-level decision (MP_CAPABLE's A bit), checked by the caller.
func (d *DSS) parse(b []byte) error {
	*d = DSS{}
	if len(b) < dssBaseLen {
		return ErrLength
	}
	flags := b[3] & dssFlagMask
	want := dssLen(flags)
	switch {
	case len(b) == want:
	case flags&DSSFlagMap != 0 && len(b) == want+dssCsumLen:
		d.HasChecksum = true
	default:
		return ErrLength
	}
	i := 4
	if flags&DSSFlagAck != 0 {
		d.HasAck = true
		d.Ack64 = flags&DSSFlagAck64 != 0
		var k int
		d.DataAck, k = getSeq(b[i:], d.Ack64)
		i += k
	}
	if flags&DSSFlagMap != 0 {
		d.HasMap = true
		d.DSN64 = flags&DSSFlagDSN64 != 0
		var k int
		d.DSN, k = getSeq(b[i:], d.DSN64)
		i += k
		d.SubflowSeq = be.Uint32(b[i:])
		d.DataLen = be.Uint16(b[i+4:])
		i += 6
		if d.HasChecksum {
			d.Checksum = be.Uint16(b[i:])
		}
	}
	d.DataFin = flags&DSSFlagDataFin != 0
	return nil
}

// ParseDSS parses a DSS option at the start of b.
func ParseDSS(b []byte) (DSS, error) {
	var d DSS
	err := parseAs(b, SubtypeDSS, d.parse)
	return d, err
}
