package tcp

import (
	"strings"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// Flags are the TCP control bits the engine uses.
type Flags uint8

// The control bits, with the values they have in the TCP header's flag byte.
const (
	FlagFIN Flags = 1 << 0
	FlagSYN Flags = 1 << 1
	FlagRST Flags = 1 << 2
	FlagPSH Flags = 1 << 3
	FlagACK Flags = 1 << 4
	FlagECE Flags = 1 << 6
	FlagCWR Flags = 1 << 7
)

// Has reports whether all bits of g are set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// String returns the set flags like tcpdump: "S.", "F.", "R", "P." ...
func (f Flags) String() string {
	var b strings.Builder
	for _, x := range []struct {
		f Flags
		c byte
	}{{FlagSYN, 'S'}, {FlagFIN, 'F'}, {FlagRST, 'R'}, {FlagPSH, 'P'}, {FlagECE, 'E'}, {FlagCWR, 'W'}, {FlagACK, '.'}} {
		if f&x.f != 0 {
			b.WriteByte(x.c)
		}
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// SACKBlock is one selective-acknowledgement block (RFC 2018): the peer
// holds the bytes [Start, End).
type SACKBlock struct {
	Start, End seqnum.Value
}

// MaxSACKBlocks is the most SACK blocks an option can carry.
const MaxSACKBlocks = 4

// Options are the TCP options the engine understands, already parsed. A
// zero MSS means the option is absent; the other options have a presence
// flag.
type Options struct {
	MSS           uint16 // maximum segment size, 0 when absent (SYN only)
	WScale        uint8  // window-scale shift (SYN only), valid when HasWScale
	HasWScale     bool
	SACKPermitted bool // SACK-permitted (SYN only)
	NumSACK       uint8
	SACK          [MaxSACKBlocks]SACKBlock // the first NumSACK blocks are valid
	HasTS         bool
	TSVal, TSEcr  uint32
	// Ext holds the raw bytes of extension options (whole options: kind,
	// length, data; MPTCP kind 30), as the stack found them on input or as
	// the Extension wrote them on output. On output it points into the
	// endpoint's memory and is valid until the next Output call.
	Ext []byte
}

// Blocks returns the valid SACK blocks.
func (o *Options) Blocks() []SACKBlock { return o.SACK[:o.NumSACK] }

// Segment is a TCP segment without wire format: the stack converts it to
// and from header bytes. Payload aliases the caller's memory (the received
// frame on input, the buffer given to Output on output).
type Segment struct {
	Seq     seqnum.Value
	Ack     seqnum.Value // meaningful when Flags has FlagACK
	Flags   Flags
	Window  uint16 // the raw, unscaled window field
	Options Options
	Payload []byte
}

// Len returns the sequence space the segment occupies: payload plus one
// each for SYN and FIN.
func (s *Segment) Len() seqnum.Size {
	n := seqnum.Size(len(s.Payload))
	if s.Flags&FlagSYN != 0 {
		n++
	}
	if s.Flags&FlagFIN != 0 {
		n++
	}
	return n
}

// OptionLen returns the bytes the options take in a TCP header, padded to
// a multiple of four the way the engine lays them out (NOPs before
// timestamps and SACK, the MSS/window-scale/SACK-permitted block on SYNs).
func (o *Options) OptionLen(syn bool) int {
	n := 0
	if syn {
		if o.MSS != 0 {
			n += 4
		}
		if o.HasWScale {
			n += 4 // NOP + 3
		}
		if o.SACKPermitted && !o.HasTS {
			n += 4 // NOP NOP + 2
		}
	}
	if o.HasTS {
		n += 12 // NOP NOP + 10, or SACK-permitted + 10 on a SYN
	}
	if o.NumSACK > 0 {
		n += 4 + 8*int(o.NumSACK)
	}
	n += (len(o.Ext) + 3) &^ 3
	return n
}
