package tcp

// ShareSendWindow raises the send window to n bytes (counted from SndUna)
// when the peer's last window on this connection is smaller, and reports
// whether it did. It is for MPTCP subflows: the peer's receive window is
// one window shared by all subflows of a connection (RFC 8684 §3.3.5), so
// the last window a subflow saw may be old (its path went quiet while the
// window reopened through another subflow). Linux does the same
// (MPTcpExtSndWndShared). A later ACK sets the window as usual. It does
// nothing unless the connection can send data (ESTABLISHED, CLOSE-WAIT).
func (e *Endpoint) ShareSendWindow(n int) bool {
	if n <= e.sndWnd || !e.state.canSendData() {
		return false
	}
	e.sndWnd = n
	e.maxSndWnd = max(e.maxSndWnd, n)
	e.persistAt = 0
	e.probes = 0
	return true
}
