package mptcp

// Lengths of the fixed-size options.
const (
	PrioLen      = 3  // MP_PRIO (v1 carries no address id)
	FailLen      = 12 // MP_FAIL
	FastCloseLen = 12 // MP_FASTCLOSE
	TCPRSTLen    = 4  // MP_TCPRST
)

// Prio is the MP_PRIO option: change the priority of the subflow it is sent
// on. RFC 8684 removed the address id that RFC 6824 allowed.
type Prio struct {
	Backup bool // B: the sender wants this subflow treated as backup
}

// Size returns the option's length on the wire.
func (p *Prio) Size() int { return PrioLen }

// Write serialises the option into b (at least Size bytes) and returns the
// number of bytes written.
func (p *Prio) Write(b []byte) int {
	var low uint8
	if p.Backup {
		low = 1
	}
	putHeader(b, PrioLen, SubtypePrio, low)
	return PrioLen
}

func (p *Prio) parse(b []byte) error {
	*p = Prio{}
	if len(b) != PrioLen {
		return ErrLength
	}
	p.Backup = b[2]&1 != 0
	return nil
}

// Fail is the MP_FAIL option: a checksum failure at this data sequence
// number; fall back to a single subflow.
type Fail struct {
	DSN uint64 // 64-bit data sequence number of the failed mapping's start
}

// Size returns the option's length on the wire.
func (f *Fail) Size() int { return FailLen }

// Write serialises the option into b (at least Size bytes) and returns the
// number of bytes written.
func (f *Fail) Write(b []byte) int {
	_ = b[FailLen-1]
	putHeader(b, FailLen, SubtypeFail, 0)
	b[3] = 0
	be.PutUint64(b[4:], f.DSN)
	return FailLen
}

func (f *Fail) parse(b []byte) error {
	*f = Fail{}
	if len(b) != FailLen {
		return ErrLength
	}
	f.DSN = be.Uint64(b[4:])
	return nil
}

// FastClose is the MP_FASTCLOSE option: abruptly close the whole
// connection. It carries the option receiver's key as authentication.
type FastClose struct {
	ReceiverKey Key
}

// Size returns the option's length on the wire.
func (f *FastClose) Size() int { return FastCloseLen }

// Write serialises the option into b (at least Size bytes) and returns the
// number of bytes written.
func (f *FastClose) Write(b []byte) int {
	_ = b[FastCloseLen-1]
	putHeader(b, FastCloseLen, SubtypeFastClose, 0)
	b[3] = 0
	be.PutUint64(b[4:], uint64(f.ReceiverKey))
	return FastCloseLen
}

func (f *FastClose) parse(b []byte) error {
	*f = FastClose{}
	if len(b) != FastCloseLen {
		return ErrLength
	}
	f.ReceiverKey = Key(be.Uint64(b[4:]))
	return nil
}

// MP_TCPRST flag bits (low nibble of the subtype byte).
const (
	TCPRSTFlagU = 0x8 // unassigned in RFC 8684
	TCPRSTFlagV = 0x4 // unassigned in RFC 8684
	TCPRSTFlagW = 0x2 // unassigned in RFC 8684
	TCPRSTFlagT = 0x1 // T: the error is transient; the subflow may be re-established
)

// ResetReason is the reason code carried by MP_TCPRST (RFC 8684 §3.6).
type ResetReason uint8

// MP_TCPRST reason codes.
const (
	ResetUnspecified             ResetReason = 0x00 // unspecified error
	ResetMPTCPError              ResetReason = 0x01 // MPTCP-specific error
	ResetLackOfResources         ResetReason = 0x02 // lack of resources
	ResetAdministrativelyDenied  ResetReason = 0x03 // administratively prohibited
	ResetTooMuchOutstandingData  ResetReason = 0x04 // too much outstanding data
	ResetUnacceptablePerformance ResetReason = 0x05 // unacceptable performance
	ResetMiddleboxInterference   ResetReason = 0x06 // middlebox interference
)

var resetReasonNames = [...]string{
	"unspecified error",
	"MPTCP-specific error",
	"lack of resources",
	"administratively prohibited",
	"too much outstanding data",
	"unacceptable performance",
	"middlebox interference",
}

// String returns the RFC's description of the reason code.
func (r ResetReason) String() string {
	if int(r) < len(resetReasonNames) {
		return resetReasonNames[r]
	}
	return "reason(" + itoa(uint64(r)) + ")"
}

// TCPRST is the MP_TCPRST option, sent with a TCP RST to say why a subflow
// is reset.
type TCPRST struct {
	Flags  uint8 // TCPRSTFlag* bits
	Reason ResetReason
}

// Transient reports whether the T flag is set.
func (r *TCPRST) Transient() bool { return r.Flags&TCPRSTFlagT != 0 }

// Size returns the option's length on the wire.
func (r *TCPRST) Size() int { return TCPRSTLen }

// Write serialises the option into b (at least Size bytes) and returns the
// number of bytes written.
func (r *TCPRST) Write(b []byte) int {
	_ = b[TCPRSTLen-1]
	putHeader(b, TCPRSTLen, SubtypeTCPRST, r.Flags)
	b[3] = uint8(r.Reason)
	return TCPRSTLen
}

func (r *TCPRST) parse(b []byte) error {
	*r = TCPRST{}
	if len(b) != TCPRSTLen {
		return ErrLength
	}
	r.Flags = b[2] & 0x0f
	r.Reason = ResetReason(b[3])
	return nil
}

// ParsePrio parses an MP_PRIO option at the start of b.
func ParsePrio(b []byte) (Prio, error) {
	var p Prio
	err := parseAs(b, SubtypePrio, p.parse)
	return p, err
}

// ParseFail parses an MP_FAIL option at the start of b.
func ParseFail(b []byte) (Fail, error) {
	var f Fail
	err := parseAs(b, SubtypeFail, f.parse)
	return f, err
}

// ParseFastClose parses an MP_FASTCLOSE option at the start of b.
func ParseFastClose(b []byte) (FastClose, error) {
	var f FastClose
	err := parseAs(b, SubtypeFastClose, f.parse)
	return f, err
}

// ParseTCPRST parses an MP_TCPRST option at the start of b.
func ParseTCPRST(b []byte) (TCPRST, error) {
	var r TCPRST
	err := parseAs(b, SubtypeTCPRST, r.parse)
	return r, err
}
