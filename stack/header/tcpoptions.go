package header

import (
	"encoding/binary"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// TCP option kinds and their fixed lengths (RFC 9293, 7323, 2018, 8684).
const (
	TCPOptionEOL           = 0
	TCPOptionNOP           = 1
	TCPOptionMSS           = 2
	TCPOptionWindowScale   = 3
	TCPOptionSACKPermitted = 4
	TCPOptionSACK          = 5
	TCPOptionTimestamps    = 8
	TCPOptionMPTCP         = 30

	TCPOptionMSSLen           = 4
	TCPOptionWindowScaleLen   = 3
	TCPOptionSACKPermittedLen = 2
	TCPOptionTimestampsLen    = 10
	// TCPOptionSACKBlockLen is the size of one SACK block; a SACK option is
	// 2 + 8k bytes for k blocks.
	TCPOptionSACKBlockLen = 8
	// TCPOptionMPTCPMinLen is the shortest MPTCP option the parser passes
	// on: kind, length and the subtype byte.
	TCPOptionMPTCPMinLen = 3

	// MaxSACKBlocks is the most SACK blocks one header can carry (and
	// TCPOptions records).
	MaxSACKBlocks = 4
	// MaxMPTCPOptions is how many kind-30 options TCPOptions records.
	MaxMPTCPOptions = 4
	// MaxWindowScale is the largest shift RFC 7323 allows; larger values
	// are parsed as sent and clamped by the engine, not here.
	MaxWindowScale = 14
)

// SACKBlock is one selective-acknowledgment range [Start, End).
type SACKBlock struct {
	Start, End seqnum.Value
}

// TCPOptions is the parsed form of a TCP options area, and the input to
// TCPOptionsSize and WriteTCPOptions. A worker keeps one and calls Reset
// (or lets ParseTCPOptions reset it) for each segment; nothing in it is
// allocated per packet: MPTCP holds sub-slices of the parsed packet.
type TCPOptions struct {
	// MSS is the maximum segment size (valid when HasMSS).
	MSS    uint16
	HasMSS bool
	// WindowScale is the shift count (valid when HasWindowScale).
	WindowScale    uint8
	HasWindowScale bool
	// SACKPermitted is set when the SACK-permitted option is present.
	SACKPermitted bool
	// TSVal and TSEcr are the timestamps (valid when HasTimestamps).
	TSVal, TSEcr  uint32
	HasTimestamps bool
	// SACK holds NumSACK blocks in the order they appear.
	SACK    [MaxSACKBlocks]SACKBlock
	NumSACK int
	// MPTCP holds NumMPTCP kind-30 options, each the complete option
	// (kind and length bytes included) as a sub-slice of the parsed
	// buffer: valid only while that buffer is. Ignored by the writer.
	MPTCP    [MaxMPTCPOptions][]byte
	NumMPTCP int

	// ReserveLen asks the writer for room for ReserveLen bytes of caller
	// options (the MPTCP option, written by package mptcp). The writer
	// pads the area to a multiple of 4 and fills it with NOPs, so the
	// caller may write fewer bytes than it reserved. Ignored by the parser.
	ReserveLen int
}

// Reset clears every field, dropping references to the previous packet.
func (o *TCPOptions) Reset() { *o = TCPOptions{} }

// ParseTCPOptions resets o and parses the options area b (TCP.Options())
// into it. It returns the number of bytes examined (up to and including an
// End-of-Option-List, or len(b)) and nil, or one of ErrOptionLength,
// ErrOptionTruncated, ErrOptionCount. Unknown kinds are skipped after their
// length is checked; a repeated MSS, window-scale or timestamps option
// overwrites the earlier one (policy belongs to the caller); SACK blocks and
// MPTCP options accumulate.
func ParseTCPOptions(b []byte, o *TCPOptions) (int, error) {
	o.Reset()
	i := 0
	for i < len(b) {
		kind := b[i]
		switch kind {
		case TCPOptionEOL:
			return i + 1, nil
		case TCPOptionNOP:
			i++
			continue
		}
		if i+1 >= len(b) {
			return i, ErrOptionTruncated
		}
		l := int(b[i+1])
		if l < 2 {
			return i, ErrOptionLength
		}
		if i+l > len(b) {
			return i, ErrOptionTruncated
		}
		opt := b[i : i+l]
		switch kind {
		case TCPOptionMSS:
			if l != TCPOptionMSSLen {
				return i, ErrOptionLength
			}
			o.MSS = binary.BigEndian.Uint16(opt[2:])
			o.HasMSS = true
		case TCPOptionWindowScale:
			if l != TCPOptionWindowScaleLen {
				return i, ErrOptionLength
			}
			o.WindowScale = opt[2]
			o.HasWindowScale = true
		case TCPOptionSACKPermitted:
			if l != TCPOptionSACKPermittedLen {
				return i, ErrOptionLength
			}
			o.SACKPermitted = true
		case TCPOptionTimestamps:
			if l != TCPOptionTimestampsLen {
				return i, ErrOptionLength
			}
			o.TSVal = binary.BigEndian.Uint32(opt[2:])
			o.TSEcr = binary.BigEndian.Uint32(opt[6:])
			o.HasTimestamps = true
		case TCPOptionSACK:
			if l < 2+TCPOptionSACKBlockLen || (l-2)%TCPOptionSACKBlockLen != 0 {
				return i, ErrOptionLength
			}
			for j := 2; j < l; j += TCPOptionSACKBlockLen {
				if o.NumSACK == MaxSACKBlocks {
					return i, ErrOptionCount
				}
				o.SACK[o.NumSACK] = SACKBlock{
					Start: seqnum.Value(binary.BigEndian.Uint32(opt[j:])),
					End:   seqnum.Value(binary.BigEndian.Uint32(opt[j+4:])),
				}
				o.NumSACK++
			}
		case TCPOptionMPTCP:
			if l < TCPOptionMPTCPMinLen {
				return i, ErrOptionLength
			}
			if o.NumMPTCP == MaxMPTCPOptions {
				return i, ErrOptionCount
			}
			o.MPTCP[o.NumMPTCP] = opt
			o.NumMPTCP++
		}
		i += l
	}
	return i, nil
}

// TCPOptionsSize decides what WriteTCPOptions will write for o and returns
// its size in bytes (a multiple of 4, at most TCPMaxOptionsLen). Deciding
// means one thing: SACK blocks that do not fit in what the other options
// leave of the 40-byte budget are dropped from the end (o.NumSACK is
// lowered), as a TCP sender does. It returns ErrOptionsTooLong when the
// other options and ReserveLen alone exceed 40 bytes, and ErrOptionCount
// when NumSACK is outside [0, MaxSACKBlocks] or ReserveLen is negative.
//
// Layout (the one Linux uses, so segments look familiar in captures):
// MSS(4) | SACK-permitted+timestamps(12), or NOP NOP timestamps(12), or
// NOP NOP SACK-permitted(4) | NOP window-scale(4) | NOP padding + reserved
// caller area | NOP NOP SACK(2+8k).
func TCPOptionsSize(o *TCPOptions) (int, error) {
	if o.NumSACK < 0 || o.NumSACK > MaxSACKBlocks || o.ReserveLen < 0 {
		return 0, ErrOptionCount
	}
	n := fixedOptionsSize(o)
	if n > TCPMaxOptionsLen {
		return 0, ErrOptionsTooLong
	}
	if o.NumSACK > 0 {
		room := (TCPMaxOptionsLen - n - 4) / TCPOptionSACKBlockLen
		if room < 0 {
			room = 0
		}
		if o.NumSACK > room {
			o.NumSACK = room
		}
		if o.NumSACK > 0 {
			n += 4 + TCPOptionSACKBlockLen*o.NumSACK
		}
	}
	return n, nil
}

// TCPOptionsRemaining returns how many bytes of the 40-byte budget are left
// after MSS, SACK-permitted, timestamps and window scale as the writer lays
// them out: the most a caller can reserve (ReserveLen) for its own option.
// Package mptcp uses it to choose a DSS form that fits, as the kernel's
// option code does with its "remaining" argument. SACK blocks and
// ReserveLen are not counted: SACK blocks give way to the reserved area.
func TCPOptionsRemaining(o *TCPOptions) int {
	r := *o
	r.ReserveLen = 0
	return TCPMaxOptionsLen - fixedOptionsSize(&r)
}

// fixedOptionsSize is the size of everything but the SACK blocks.
func fixedOptionsSize(o *TCPOptions) int {
	n := 0
	if o.HasMSS {
		n += 4
	}
	if o.HasTimestamps {
		n += 12
	} else if o.SACKPermitted {
		n += 4
	}
	if o.HasWindowScale {
		n += 4
	}
	return n + (o.ReserveLen+3)&^3
}

// WriteTCPOptions serialises o into buf as decided by TCPOptionsSize (call
// that first: WriteTCPOptions does not trim SACK blocks and panics if the
// options do not fit in buf). It returns the bytes written n and the offset
// reserved of the caller area: buf[reserved:reserved+o.ReserveLen], filled
// with NOPs and preceded by NOP padding so that it ends on a 4-byte
// boundary. With ReserveLen 0, reserved is where the area would have been.
func WriteTCPOptions(buf []byte, o *TCPOptions) (n int, reserved int) {
	if o.HasMSS {
		_ = buf[n+3]
		buf[n] = TCPOptionMSS
		buf[n+1] = TCPOptionMSSLen
		binary.BigEndian.PutUint16(buf[n+2:], o.MSS)
		n += 4
	}
	switch {
	case o.HasTimestamps:
		_ = buf[n+11]
		if o.SACKPermitted {
			buf[n] = TCPOptionSACKPermitted
			buf[n+1] = TCPOptionSACKPermittedLen
		} else {
			buf[n] = TCPOptionNOP
			buf[n+1] = TCPOptionNOP
		}
		buf[n+2] = TCPOptionTimestamps
		buf[n+3] = TCPOptionTimestampsLen
		binary.BigEndian.PutUint32(buf[n+4:], o.TSVal)
		binary.BigEndian.PutUint32(buf[n+8:], o.TSEcr)
		n += 12
	case o.SACKPermitted:
		_ = buf[n+3]
		buf[n] = TCPOptionNOP
		buf[n+1] = TCPOptionNOP
		buf[n+2] = TCPOptionSACKPermitted
		buf[n+3] = TCPOptionSACKPermittedLen
		n += 4
	}
	if o.HasWindowScale {
		_ = buf[n+3]
		buf[n] = TCPOptionNOP
		buf[n+1] = TCPOptionWindowScale
		buf[n+2] = TCPOptionWindowScaleLen
		buf[n+3] = o.WindowScale
		n += 4
	}
	if o.ReserveLen > 0 {
		end := n + (o.ReserveLen+3)&^3
		area := buf[n:end]
		for i := range area {
			area[i] = TCPOptionNOP
		}
		n = end
		reserved = end - o.ReserveLen
	} else {
		reserved = n
	}
	if o.NumSACK > 0 {
		l := 2 + TCPOptionSACKBlockLen*o.NumSACK
		_ = buf[n+2+l-1]
		buf[n] = TCPOptionNOP
		buf[n+1] = TCPOptionNOP
		buf[n+2] = TCPOptionSACK
		buf[n+3] = uint8(l)
		p := n + 4
		for _, blk := range o.SACK[:o.NumSACK] {
			binary.BigEndian.PutUint32(buf[p:], uint32(blk.Start))
			binary.BigEndian.PutUint32(buf[p+4:], uint32(blk.End))
			p += TCPOptionSACKBlockLen
		}
		n = p
	}
	return n, reserved
}
