package tcp

// State is a TCP connection state (RFC 9293 §3.3.2). There is no LISTEN:
// listening is done without an endpoint (see SYNCookies and NewPassive).
type State uint8

// The connection states.
const (
	Closed State = iota
	SynSent
	SynRcvd
	Established
	FinWait1
	FinWait2
	CloseWait
	Closing
	LastAck
	TimeWait
)

var stateNames = [...]string{"CLOSED", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
	"FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT"}

// String returns the RFC's name of the state.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "INVALID"
}

// canSendData reports whether new data may still be sent in s.
func (s State) canSendData() bool { return s == Established || s == CloseWait }

// canRecvData reports whether the peer may still send data in s.
func (s State) canRecvData() bool { return s == Established || s == FinWait1 || s == FinWait2 }
