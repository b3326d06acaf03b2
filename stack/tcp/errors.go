package tcp

import "errors"

// Errors an endpoint reports through Err once it has failed, and errors of
// the constructors.
var (
	// ErrConnectionReset: the peer sent an acceptable RST.
	ErrConnectionReset = errors.New("tcp: connection reset by peer")
	// ErrConnectionRefused: the peer answered our SYN with a RST.
	ErrConnectionRefused = errors.New("tcp: connection refused by peer (RST in reply to SYN)")
	// ErrTimeout: retransmissions (or SYNs, or window probes) went
	// unanswered Config.MaxRetries (SYNRetries) times.
	ErrTimeout = errors.New("tcp: connection timed out: the peer stopped acknowledging, check the path and the peer")
	// ErrAborted: Abort was called on this endpoint, or data arrived after Close.
	ErrAborted = errors.New("tcp: connection aborted locally")
	// ErrNoController: Config.CC is nil.
	ErrNoController = errors.New("tcp: Config.CC is nil: set a congestion controller (e.g. cc.NewCubic)")
	// ErrNotSYN: NewPassive was given a segment that is not a plain SYN.
	ErrNotSYN = errors.New("tcp: NewPassive needs a SYN without ACK, RST or FIN")
	// ErrBadCookieACK: NewFromCookie was given an ACK the new endpoint
	// could not accept (check it with SYNCookies.Check first).
	ErrBadCookieACK = errors.New("tcp: the cookie ACK was not acceptable to the new endpoint")
)
