package mptcp

// Out holds the MPTCP options a segment would like to carry. Set the fields
// of the options wanted and their bits in Want, then call Fit with the
// option space left after the TCP options already chosen (timestamps, SACK,
// MSS, window scale), and Write with the set Fit returned. Out is meant to
// live in a worker's scratch space and be reused; it does not allocate.
type Out struct {
	Want       Set
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

// FitOrder is the priority in which Fit places options: the ones that end
// or set up a subflow first, then the data-level signal, then the path
// manager's announcements, which can wait for a later segment.
var FitOrder = [...]Subtype{
	SubtypeTCPRST,
	SubtypeFastClose,
	SubtypeCapable,
	SubtypeJoin,
	SubtypeFail,
	SubtypeDSS,
	SubtypeRemoveAddr,
	SubtypeAddAddr,
	SubtypePrio,
}

// SizeOf returns the wire length of the option of subtype st held in o.
func (o *Out) SizeOf(st Subtype) int {
	switch st {
	case SubtypeCapable:
		return o.Capable.Size()
	case SubtypeJoin:
		return o.Join.Size()
	case SubtypeDSS:
		return o.DSS.Size()
	case SubtypeAddAddr:
		return o.AddAddr.Size()
	case SubtypeRemoveAddr:
		return o.RemoveAddr.Size()
	case SubtypePrio:
		return o.Prio.Size()
	case SubtypeFail:
		return o.Fail.Size()
	case SubtypeFastClose:
		return o.FastClose.Size()
	case SubtypeTCPRST:
		return o.TCPRST.Size()
	}
	return 0
}

func (o *Out) writeOne(st Subtype, b []byte) int {
	switch st {
	case SubtypeCapable:
		return o.Capable.Write(b)
	case SubtypeJoin:
		return o.Join.Write(b)
	case SubtypeDSS:
		return o.DSS.Write(b)
	case SubtypeAddAddr:
		return o.AddAddr.Write(b)
	case SubtypeRemoveAddr:
		return o.RemoveAddr.Write(b)
	case SubtypePrio:
		return o.Prio.Write(b)
	case SubtypeFail:
		return o.Fail.Write(b)
	case SubtypeFastClose:
		return o.FastClose.Write(b)
	case SubtypeTCPRST:
		return o.TCPRST.Write(b)
	}
	return 0
}

func pad4(n int) int { return (n + 3) &^ 3 }

// Fit decides which of the wanted options go into a segment that has space
// bytes of TCP option area left (MaxTCPOptionSpace minus what the other TCP
// options use, e.g. 40-12 = 28 with timestamps). It walks FitOrder and takes
// each wanted option whose addition keeps the total, padded with NOPs to a
// multiple of 4, within space. It returns the options to send, those that
// did not fit and must wait for a later segment (deferred), and the padded
// number of bytes Write will produce.
//
// Example: with timestamps (28 bytes left), a DSS with a DATA_ACK and a
// 64-bit mapping (26 bytes) leaves no room for an 18-byte ADD_ADDR, so the
// ADD_ADDR is deferred.
func (o *Out) Fit(space int) (send, deferred Set, size int) {
	total := 0
	for _, st := range FitOrder {
		if !o.Want.Has(st) {
			continue
		}
		n := o.SizeOf(st)
		if n == 0 {
			continue
		}
		if pad4(total+n) <= space {
			total += n
			send = send.With(st)
		} else {
			deferred = deferred.With(st)
		}
	}
	return send, deferred, pad4(total)
}

// Write serialises the options in send (normally what Fit returned), in
// FitOrder, into b, pads with NOPs to a multiple of 4 bytes, and returns the
// number of bytes written. b must hold the size Fit reported.
func (o *Out) Write(b []byte, send Set) int {
	n := 0
	for _, st := range FitOrder {
		if send.Has(st) {
			n += o.writeOne(st, b[n:])
		}
	}
	for n&3 != 0 {
		b[n] = tcpOptNOP
		n++
	}
	return n
}
