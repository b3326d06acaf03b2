package mptcp

import "encoding/binary"

// OptionKind is the TCP option kind assigned to Multipath TCP.
const OptionKind = 30

// TCP option kinds used around MPTCP options when walking or padding a TCP
// option area.
const (
	tcpOptEnd = 0
	tcpOptNOP = 1
)

// MaxTCPOptionSpace is the largest TCP option area (data offset 15 words
// minus the 20-byte fixed header).
const MaxTCPOptionSpace = 40

// Subtype is the MPTCP option subtype, carried in the high nibble of the
// third byte of every MPTCP option.
type Subtype uint8

// MPTCP option subtypes (RFC 8684 §8, IANA "MPTCP Option Subtypes").
const (
	SubtypeCapable      Subtype = 0x0 // MP_CAPABLE
	SubtypeJoin         Subtype = 0x1 // MP_JOIN
	SubtypeDSS          Subtype = 0x2 // DSS: data sequence signal
	SubtypeAddAddr      Subtype = 0x3 // ADD_ADDR
	SubtypeRemoveAddr   Subtype = 0x4 // REMOVE_ADDR
	SubtypePrio         Subtype = 0x5 // MP_PRIO
	SubtypeFail         Subtype = 0x6 // MP_FAIL
	SubtypeFastClose    Subtype = 0x7 // MP_FASTCLOSE
	SubtypeTCPRST       Subtype = 0x8 // MP_TCPRST
	SubtypeExperimental Subtype = 0xf // MP_EXPERIMENTAL
)

var subtypeNames = [16]string{
	SubtypeCapable:      "MP_CAPABLE",
	SubtypeJoin:         "MP_JOIN",
	SubtypeDSS:          "DSS",
	SubtypeAddAddr:      "ADD_ADDR",
	SubtypeRemoveAddr:   "REMOVE_ADDR",
	SubtypePrio:         "MP_PRIO",
	SubtypeFail:         "MP_FAIL",
	SubtypeFastClose:    "MP_FASTCLOSE",
	SubtypeTCPRST:       "MP_TCPRST",
	SubtypeExperimental: "MP_EXPERIMENTAL",
}

// String returns the RFC name of the subtype, or "subtype(N)" when unassigned.
func (s Subtype) String() string {
	if int(s) < len(subtypeNames) && subtypeNames[s] != "" {
		return subtypeNames[s]
	}
	return "subtype(" + itoa(uint64(s)) + ")"
}

// Set is a bit set of subtypes: bit s is set when subtype s is present.
type Set uint16

// Has reports whether subtype s is in the set.
func (m Set) Has(s Subtype) bool { return m&(1<<s) != 0 }

// With returns the set with subtype s added.
func (m Set) With(s Subtype) Set { return m | 1<<s }

// Without returns the set with subtype s removed.
func (m Set) Without(s Subtype) Set { return m &^ (1 << s) }

// OptionError is the reason an MPTCP option could not be parsed. It is a
// small comparable value so callers can count failures by kind without
// allocating.
type OptionError uint8

// Option parse errors.
const (
	// ErrTruncated: the buffer is shorter than the option's fixed header or
	// than the length its length byte claims.
	ErrTruncated OptionError = iota + 1
	// ErrNotMPTCP: the option kind is not 30.
	ErrNotMPTCP
	// ErrLength: the length byte is not one of the lengths RFC 8684 allows
	// for this subtype (and, for DSS, these flags).
	ErrLength
	// ErrSubtype: the subtype is not one RFC 8684 defines.
	ErrSubtype
	// ErrBadOptionArea: the TCP option area itself is malformed (an option
	// length below 2 or running past the end).
	ErrBadOptionArea
)

// Error says what is wrong with the option.
func (e OptionError) Error() string {
	switch e {
	case ErrTruncated:
		return "mptcp: option truncated: the buffer ends before the option's length byte says it does"
	case ErrNotMPTCP:
		return "mptcp: not an MPTCP option: kind is not 30"
	case ErrLength:
		return "mptcp: option length is not valid for its subtype and flags (RFC 8684 §3)"
	case ErrSubtype:
		return "mptcp: unknown MPTCP option subtype"
	case ErrBadOptionArea:
		return "mptcp: malformed TCP option area: an option length is below 2 or runs past the end"
	}
	return "mptcp: option error " + itoa(uint64(e))
}

// Option is one parsed MPTCP option. Subtype says which of the fields is
// meaningful; the others are zero.
type Option struct {
	Subtype    Subtype
	Capable    Capable
	Join       Join
	DSS        DSS
	AddAddr    AddAddr
	RemoveAddr RemoveAddr
	Prio       Prio
	Fail       Fail
	FastClose  FastClose
	TCPRST     TCPRST
}

// header checks the kind, the length byte against the buffer and returns the
// option's bytes (exactly its length) and its subtype.
func header(b []byte) ([]byte, Subtype, error) {
	if len(b) < 3 {
		return nil, 0, ErrTruncated
	}
	if b[0] != OptionKind {
		return nil, 0, ErrNotMPTCP
	}
	n := int(b[1])
	if n < 3 {
		return nil, 0, ErrLength
	}
	if n > len(b) {
		return nil, 0, ErrTruncated
	}
	return b[:n], Subtype(b[2] >> 4), nil
}

// parseAs checks the header of the option at the start of b, requires
// subtype st and hands the option's bytes to parse.
func parseAs(b []byte, st Subtype, parse func([]byte) error) error {
	opt, got, err := header(b)
	if err != nil {
		return err
	}
	if got != st {
		return ErrSubtype
	}
	return parse(opt)
}

// ParseOption parses the MPTCP option at the start of b (b[0] is the kind
// byte). It returns the option, the number of bytes it occupies and an
// OptionError (and a zero Option) when the option is malformed.
// Variable-length fields
// (RemoveAddr.IDs) alias b. It does not allocate.
func ParseOption(b []byte) (Option, int, error) {
	var o Option
	n, err := o.parse(b)
	if err != nil {
		return Option{}, 0, err
	}
	return o, n, nil
}

// parse dispatches on the subtype as Received.parseOne does, but parses in
// place: going through a Received would cost ParseOption two copies of the
// structs (measured: twice its time).
func (o *Option) parse(b []byte) (int, error) {
	opt, st, err := header(b)
	if err != nil {
		return 0, err
	}
	o.Subtype = st
	switch st {
	case SubtypeCapable:
		err = o.Capable.parse(opt)
	case SubtypeJoin:
		err = o.Join.parse(opt)
	case SubtypeDSS:
		err = o.DSS.parse(opt)
	case SubtypeAddAddr:
		err = o.AddAddr.parse(opt)
	case SubtypeRemoveAddr:
		err = o.RemoveAddr.parse(opt)
	case SubtypePrio:
		err = o.Prio.parse(opt)
	case SubtypeFail:
		err = o.Fail.parse(opt)
	case SubtypeFastClose:
		err = o.FastClose.parse(opt)
	case SubtypeTCPRST:
		err = o.TCPRST.parse(opt)
	default:
		err = ErrSubtype
	}
	if err != nil {
		return 0, err
	}
	return len(opt), nil
}

// out returns the option as an Out holding it (Out holds the
// subtype-to-struct dispatch for sizing and writing).
func (o *Option) out() Out {
	return Out{Want: Set(0).With(o.Subtype), Capable: o.Capable, Join: o.Join, DSS: o.DSS, AddAddr: o.AddAddr,
		RemoveAddr: o.RemoveAddr, Prio: o.Prio, Fail: o.Fail, FastClose: o.FastClose, TCPRST: o.TCPRST}
}

// Size returns the number of bytes the option occupies on the wire.
func (o *Option) Size() int {
	out := o.out()
	return out.SizeOf(o.Subtype)
}

// Write serialises the option into b, which must hold at least Size bytes,
// and returns the number of bytes written. An option with an undefined
// subtype writes nothing.
func (o *Option) Write(b []byte) int {
	out := o.out()
	return out.writeOne(o.Subtype, b)
}

// Received collects the MPTCP options found in one segment's TCP option
// area, in the manner of the kernel's mptcp_options_received: Present says
// which subtypes were seen and parsed; the matching fields hold them. When a
// subtype appears twice, the first one is kept. Reuse one Received per
// worker; ParseTCPOptions resets it.
type Received struct {
	Present    Set // subtypes parsed successfully
	Invalid    Set // subtypes seen but malformed (count them, then ignore)
	Capable    Capable
	Join       Join
	DSS        DSS
	AddAddr    AddAddr
	RemoveAddr RemoveAddr
	Prio       Prio
	Fail       Fail
	FastClose  FastClose
	TCPRST     TCPRST
}

// ParseTCPOptions walks a TCP option area (the bytes after the fixed 20-byte
// TCP header) and parses every MPTCP option in it into r. Other kinds are
// skipped. A malformed MPTCP option sets its bit in r.Invalid and the walk
// goes on; the first such error is returned. A malformed option area (bad
// length) stops the walk and returns ErrBadOptionArea. It does not allocate;
// r.RemoveAddr.IDs aliases opts.
func ParseTCPOptions(opts []byte, r *Received) error {
	*r = Received{}
	var first error
	for i, n := 0, 0; ; i += n {
		var ok bool
		if n, ok = optionLen(opts, i); !ok {
			return ErrBadOptionArea
		}
		if n == 0 {
			return first
		}
		if opts[i] == OptionKind {
			if err := r.parseOne(opts[i : i+n]); err != nil && first == nil {
				first = err
			}
		}
	}
}

// optionLen returns the length of the TCP option at opts[i] (1 for a NOP,
// else its length byte), 0 at the end of the area (no bytes left, or End
// of Option List), and false when the length byte is missing or wrong.
func optionLen(opts []byte, i int) (int, bool) {
	if i >= len(opts) || opts[i] == tcpOptEnd {
		return 0, true
	}
	if opts[i] == tcpOptNOP {
		return 1, true
	}
	if i+1 >= len(opts) {
		return 0, false
	}
	n := int(opts[i+1])
	return n, n >= 2 && i+n <= len(opts)
}

// FindDSS returns the first well-formed DSS option in a TCP option area
// (the bytes after the fixed TCP header, or a segment's MPTCP options
// alone) and true, or false when the area holds none or is malformed
// before one. It is the lookup of a receive fast path that only needs the
// mapping: ParseTCPOptions remains the parser that counts bad input.
func FindDSS(opts []byte) (DSS, bool) {
	for i, n := 0, 0; ; i += n {
		var ok bool
		if n, ok = optionLen(opts, i); !ok || n == 0 {
			return DSS{}, false
		}
		if opts[i] == OptionKind && n >= 3 && Subtype(opts[i+2]>>4) == SubtypeDSS {
			var d DSS
			if d.parse(opts[i:i+n]) != nil {
				return DSS{}, false
			}
			return d, true
		}
	}
}

func (r *Received) parseOne(b []byte) error {
	if len(b) < 3 {
		return ErrLength
	}
	st := Subtype(b[2] >> 4)
	if r.Present.Has(st) {
		return nil
	}
	var err error
	switch st {
	case SubtypeCapable:
		err = r.Capable.parse(b)
	case SubtypeJoin:
		err = r.Join.parse(b)
	case SubtypeDSS:
		err = r.DSS.parse(b)
	case SubtypeAddAddr:
		err = r.AddAddr.parse(b)
	case SubtypeRemoveAddr:
		err = r.RemoveAddr.parse(b)
	case SubtypePrio:
		err = r.Prio.parse(b)
	case SubtypeFail:
		err = r.Fail.parse(b)
	case SubtypeFastClose:
		err = r.FastClose.parse(b)
	case SubtypeTCPRST:
		err = r.TCPRST.parse(b)
	default:
		err = ErrSubtype
	}
	if err != nil {
		r.Invalid = r.Invalid.With(st) // a failed parse leaves its struct zero
		return err
	}
	r.Present = r.Present.With(st)
	return nil
}

// putHeader writes kind, length and the subtype byte (subtype in the high
// nibble, low nibble as given).
func putHeader(b []byte, length int, st Subtype, low uint8) {
	_ = b[2]
	b[0] = OptionKind
	b[1] = uint8(length)
	b[2] = uint8(st)<<4 | low&0x0f
}

var be = binary.BigEndian

// itoa formats v in decimal without fmt (used in error and String paths).
func itoa(v uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(buf[i:])
}
