package conn

import "github.com/mpxdp/mpxdp/mptcp"

// shareWindow gives sf the connection-level send window when the window
// its own peer subflow last advertised is smaller (Linux's SndWndShared).
// The peer's receive window belongs to the connection (RFC 8684 §3.3.5):
// every DATA_ACK plus window moves one right edge (rwndEnd), whichever
// subflow carries it. A subflow whose path went quiet keeps the last
// window it saw, possibly zero (the peer's application was slow to read
// at that moment); it would then never be given data, never see a
// retransmission timeout and never go stale, so a dead path would keep a
// live-looking subflow forever, and the mapped data it holds would pin
// the send buffer. The window it gets covers what it holds unacknowledged
// or mapped, plus the connection-level room above the next DSN to send
// (the first pending reinjection, else the next new byte). Data beyond
// the subflow's own window but within the connection's is what a Linux
// peer accepts (it raises its subflow windows to the connection's).
func (c *Conn) shareWindow(sf *Subflow) {
	if !c.bufReady || c.fallback || !c.gotDataAck || sf.ep == nil || !sf.dataReady() {
		return
	}
	ep := sf.ep
	from := c.sndNxt
	if len(c.reinj) > 0 {
		from = min(from, max(c.reinj[0][0], c.dataUna))
	}
	var w uint64
	if c.rwndEnd > from {
		w = c.rwndEnd - from
	}
	if una := ep.SndUna(); una.LessThan(sf.txEnd) {
		w += uint64(una.Size(sf.txEnd))
	}
	if w <= uint64(ep.SendWindow()) {
		return
	}
	if ep.ShareSendWindow(int(min(w, 1<<30))) {
		c.mib.Inc(mptcp.MibSndWndShared)
	}
}
