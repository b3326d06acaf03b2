package iperf

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// State is a one-byte control message of the iperf3 protocol (a signed
// char on the wire).
type State int8

// The control messages (iperf_api.h values).
const (
	TestStart       State = 1
	TestRunning     State = 2
	TestEnd         State = 4
	ParamExchange   State = 9
	CreateStreams   State = 10
	ServerTerminate State = 11
	ClientTerminate State = 12
	ExchangeResults State = 13
	DisplayResults  State = 14
	IperfStart      State = 15
	IperfDone       State = 16
	AccessDenied    State = -1
	ServerError     State = -2
)

var stateNames = map[State]string{
	TestStart: "TEST_START", TestRunning: "TEST_RUNNING", TestEnd: "TEST_END",
	ParamExchange: "PARAM_EXCHANGE", CreateStreams: "CREATE_STREAMS",
	ServerTerminate: "SERVER_TERMINATE", ClientTerminate: "CLIENT_TERMINATE",
	ExchangeResults: "EXCHANGE_RESULTS", DisplayResults: "DISPLAY_RESULTS",
	IperfStart: "IPERF_START", IperfDone: "IPERF_DONE",
	AccessDenied: "ACCESS_DENIED", ServerError: "SERVER_ERROR",
}

// String returns iperf3's name of the state, or its number.
func (s State) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("State(%d)", int8(s))
}

// CookieSize is the length of the cookie each connection of a test starts
// with: 36 characters and a NUL.
const CookieSize = 37

// cookieChars is the alphabet iperf3 draws cookie characters from.
const cookieChars = "abcdefghijklmnopqrstuvwxyz234567"

// Cookie identifies one test: every control and data connection sends it
// first.
type Cookie [CookieSize]byte

// NewCookie returns a random cookie.
func NewCookie() (Cookie, error) {
	var c Cookie
	if _, err := rand.Read(c[:CookieSize-1]); err != nil {
		return c, fmt.Errorf("iperf: reading random bytes for the cookie: %w", err)
	}
	for i := 0; i < CookieSize-1; i++ {
		c[i] = cookieChars[c[i]%byte(len(cookieChars))]
	}
	c[CookieSize-1] = 0
	return c, nil
}

// String returns the cookie's text without the NUL.
func (c Cookie) String() string {
	n := 0
	for n < CookieSize && c[n] != 0 {
		n++
	}
	return string(c[:n])
}

// Default settings, as iperf3 has them.
const (
	DefaultPort      = 5201
	DefaultBlockSize = 128 * 1024
	// MaxBlockSize bounds "len" (iperf3: MAX_BLOCKSIZE, 1 MiB).
	MaxBlockSize = 1 << 20
	// MaxStreams bounds "parallel" (iperf3: MAX_STREAMS).
	MaxStreams = 128
	// MaxJSON bounds a length-prefixed JSON message we accept.
	MaxJSON = 4 << 20
)

// iperf3 error numbers (i_errno) sent after SERVER_ERROR.
const (
	ieNumStreams = 6
	ieBlockSize  = 7
	ieUnimp      = 13
)

// writeState sends one control message.
func writeState(w io.Writer, s State) error {
	_, err := w.Write([]byte{byte(s)})
	if err != nil {
		return fmt.Errorf("iperf: sending %v: %w", s, err)
	}
	return nil
}

// readState reads one control message.
func readState(r io.Reader) (State, error) {
	var b [1]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, err
	}
	return State(int8(b[0])), nil
}

// writeJSON sends v as iperf3 does: a 4-byte big-endian length, then the
// JSON text (no NUL).
func writeJSON(w io.Writer, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("iperf: encoding JSON: %w", err)
	}
	buf := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(buf, uint32(len(body)))
	copy(buf[4:], body)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("iperf: sending JSON: %w", err)
	}
	return nil
}

// ErrJSONTooLarge is returned for a length prefix over MaxJSON.
var ErrJSONTooLarge = errors.New("iperf: JSON message longer than MaxJSON")

// readJSONBytes reads one length-prefixed JSON message.
func readJSONBytes(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("iperf: reading JSON length: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxJSON {
		return nil, fmt.Errorf("%w (%d bytes announced)", ErrJSONTooLarge, n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("iperf: reading %d bytes of JSON: %w", n, err)
	}
	// Tolerate a trailing NUL (some implementations count it).
	if n > 0 && body[n-1] == 0 {
		body = body[:n-1]
	}
	return body, nil
}

// readJSON reads one length-prefixed JSON message into v.
func readJSON(r io.Reader, v any) error {
	body, err := readJSONBytes(r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("iperf: decoding JSON %q: %w", truncate(body, 200), err)
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// Params is the client's test description sent at PARAM_EXCHANGE
// (iperf3's send_parameters keys). Unknown keys are ignored.
type Params struct {
	TCP            bool    `json:"tcp,omitempty"`
	UDP            bool    `json:"udp,omitempty"`
	SCTP           bool    `json:"sctp,omitempty"`
	Omit           int     `json:"omit"`
	Time           int     `json:"time"`
	Num            Count   `json:"num,omitempty"`
	BlockCount     Count   `json:"blockcount,omitempty"`
	MSS            int     `json:"MSS,omitempty"`
	NoDelay        bool    `json:"nodelay,omitempty"`
	Parallel       int     `json:"parallel"`
	Reverse        bool    `json:"reverse,omitempty"`
	Bidirectional  bool    `json:"bidirectional,omitempty"`
	Window         int     `json:"window,omitempty"`
	Len            int     `json:"len,omitempty"`
	Bandwidth      float64 `json:"bandwidth,omitempty"`
	PacingTimer    int     `json:"pacing_timer,omitempty"`
	Title          string  `json:"title,omitempty"`
	ExtraData      string  `json:"extra_data,omitempty"`
	Congestion     string  `json:"congestion,omitempty"`
	GetServerOut   int     `json:"get_server_output,omitempty"`
	ClientVersion  string  `json:"client_version,omitempty"`
	CongestionUsed string  `json:"congestion_used,omitempty"`
}

// Count is a byte count in iperf3's JSON; it also accepts the exponent
// form ("1.5e+15") that cJSON prints for very large numbers.
type Count uint64

// UnmarshalJSON decodes an integer or an integral float.
func (c *Count) UnmarshalJSON(b []byte) error {
	s := string(b)
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		*c = Count(u)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > math.MaxUint64 {
		return fmt.Errorf("iperf: %q is not a byte count", s)
	}
	*c = Count(f)
	return nil
}

// Int is a signed number in iperf3's JSON. cJSON on some platforms prints
// -1 as 18446744073709551615; Int reads that (and any value above
// MaxInt64) as the two's-complement int64, and accepts integral floats.
type Int int64

// UnmarshalJSON decodes an integer, a wrapped unsigned or a float.
func (v *Int) UnmarshalJSON(b []byte) error {
	s := string(b)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		*v = Int(i)
		return nil
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		*v = Int(int64(u))
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < math.MinInt64 || f >= 1<<64 {
		return fmt.Errorf("iperf: %q is not an integer", s)
	}
	if f >= 1<<63 {
		*v = Int(int64(uint64(f)))
	} else {
		*v = Int(f)
	}
	return nil
}

// StreamReport is one stream's entry in the results exchange.
type StreamReport struct {
	ID          int     `json:"id"`
	Bytes       Count   `json:"bytes"`
	Retransmits Int     `json:"retransmits"`
	Jitter      float64 `json:"jitter"`
	Errors      Int     `json:"errors"`
	Packets     Int     `json:"packets"`
	StartTime   float64 `json:"start_time"`
	EndTime     float64 `json:"end_time"`
}

// ResultsReport is what each side sends at EXCHANGE_RESULTS (iperf3's
// send_results keys).
type ResultsReport struct {
	CPUUtilTotal         float64        `json:"cpu_util_total"`
	CPUUtilUser          float64        `json:"cpu_util_user"`
	CPUUtilSystem        float64        `json:"cpu_util_system"`
	SenderHasRetransmits Int            `json:"sender_has_retransmits"`
	CongestionUsed       string         `json:"congestion_used,omitempty"`
	Streams              []StreamReport `json:"streams"`
}

// validate checks the keys iperf3's get_results requires.
func (r *ResultsReport) validate() error {
	if r.Streams == nil {
		return errors.New("iperf: peer's results have no \"streams\" array")
	}
	return nil
}

// streamID returns iperf3's id of the i-th stream (0-based) of a test:
// iperf3 numbers its streams 1, 3, 4, 5, ...
func streamID(i int) int {
	if i == 0 {
		return 1
	}
	return i + 2
}
