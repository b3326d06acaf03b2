package mptcp

// MP_JOIN lengths (RFC 8684 §3.2); the length tells the form.
const (
	JoinLenSYN    = 12
	JoinLenSYNACK = 16
	JoinLenACK    = 24
)

// JoinHMACLen is the length of the full HMAC carried in the third ACK.
const JoinHMACLen = 20

// JoinForm says which handshake segment an MP_JOIN belongs to.
type JoinForm uint8

// MP_JOIN forms.
const (
	JoinSYN    JoinForm = iota + 1 // SYN: token and nonce
	JoinSYNACK                     // SYN/ACK: truncated HMAC and nonce
	JoinACK                        // third ACK: 160-bit HMAC
)

// String returns "SYN", "SYN/ACK" or "ACK".
func (f JoinForm) String() string {
	switch f {
	case JoinSYN:
		return "SYN"
	case JoinSYNACK:
		return "SYN/ACK"
	case JoinACK:
		return "ACK"
	}
	return "JoinForm(" + itoa(uint64(f)) + ")"
}

// Join is the MP_JOIN option. Form selects which fields are on the wire:
// SYN carries Backup, AddrID, Token and Nonce; SYN/ACK carries Backup,
// AddrID, TruncatedHMAC and Nonce; ACK carries HMAC.
type Join struct {
	Form          JoinForm
	Backup        bool              // B: the sender wants this subflow as backup
	AddrID        uint8             // address id of the sender's address
	Token         uint32            // receiver's token (SYN)
	Nonce         uint32            // sender's random number (SYN, SYN/ACK)
	TruncatedHMAC uint64            // leftmost 64 bits of the sender's HMAC (SYN/ACK)
	HMAC          [JoinHMACLen]byte // leftmost 160 bits of the sender's HMAC (ACK)
}

// Size returns the option's length on the wire, or 0 when Form is not set.
func (j *Join) Size() int {
	switch j.Form {
	case JoinSYN:
		return JoinLenSYN
	case JoinSYNACK:
		return JoinLenSYNACK
	case JoinACK:
		return JoinLenACK
	}
	return 0
}

// Write serialises the option into b (at least Size bytes) and returns the
// number of bytes written.
func (j *Join) Write(b []byte) int {
	n := j.Size()
	if n == 0 {
		return 0
	}
	_ = b[n-1]
	var low uint8
	if j.Backup && j.Form != JoinACK {
		low = 1
	}
	putHeader(b, n, SubtypeJoin, low)
	switch j.Form {
	case JoinSYN:
		b[3] = j.AddrID
		be.PutUint32(b[4:], j.Token)
		be.PutUint32(b[8:], j.Nonce)
	case JoinSYNACK:
		b[3] = j.AddrID
		be.PutUint64(b[4:], j.TruncatedHMAC)
		be.PutUint32(b[12:], j.Nonce)
	case JoinACK:
		b[3] = 0
		copy(b[4:24], j.HMAC[:])
	}
	return n
}

func (j *Join) parse(b []byte) error {
	*j = Join{}
	switch len(b) {
	case JoinLenSYN, JoinLenSYNACK:
		j.Backup = b[2]&1 != 0
		j.AddrID = b[3]
		if len(b) == JoinLenSYN {
			j.Form = JoinSYN
			j.Token = be.Uint32(b[4:])
		} else {
			j.Form = JoinSYNACK
			j.TruncatedHMAC = be.Uint64(b[4:])
		}
		j.Nonce = be.Uint32(b[len(b)-4:]) // the nonce ends both forms
	case JoinLenACK:
		j.Form = JoinACK
		copy(j.HMAC[:], b[4:24])
	default:
		return ErrLength
	}
	return nil
}

// ParseJoin parses an MP_JOIN option at the start of b.
func ParseJoin(b []byte) (Join, error) {
	var j Join
	err := parseAs(b, SubtypeJoin, j.parse)
	return j, err
}
