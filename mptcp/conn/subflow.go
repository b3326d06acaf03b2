package conn

import (
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/stack/seqnum"
	"github.com/mpxdp/mpxdp/stack/tcp"
	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

// sfRole says how a subflow was created.
type sfRole uint8

const (
	roleMPC        sfRole = iota // the initial subflow (MP_CAPABLE)
	roleJoinClient               // we sent the MP_JOIN SYN
	roleJoinServer               // we answered an MP_JOIN SYN
)

// extSpace is the option space reserved for MPTCP on every segment the
// engine builds: a DSS with a 32-bit DSN and checksum fits even next to a
// SACK block and timestamps; larger forms are used when there is room.
const extSpace = 16

// dssFull is the largest DSS we write: DATA_ACK (4), 64-bit DSN mapping and checksum.
const dssFull = 24

// txMap is one mapping we sent: subflow bytes [sseq, sseq+n) carry DSNs
// [dsn, dsn+n).
type txMap struct {
	sseq seqnum.Value
	n    uint32
	dsn  uint64
	csum uint16
}

// rxMap is one mapping we received.
type rxMap struct {
	sseq    seqnum.Value
	n       uint32
	dsn     uint64
	csum    uint16
	hasCsum bool
}

func (m *rxMap) end() seqnum.Value { return m.sseq.Add(seqnum.Size(m.n)) }

// Subflow is one TCP subflow of a connection: a tcp.Endpoint plus the
// mapping state between its sequence space and the connection's DSNs.
type Subflow struct {
	c     *Conn
	ep    *tcp.Endpoint
	ctl   cc.Controller
	tuple tcp.FourTuple
	role  sfRole
	id    uint8

	localID, remoteID       uint8
	backup, peerBackup      bool
	localNonce, remoteNonce uint32
	joinOK                  bool // join handshake verified (server: HMAC ACK; client: 4th ACK)
	joinAckSent             bool
	established             bool // SF_ESTABLISHED reported
	closed                  bool
	wrShut                  bool // the peer closed it (FIN, no DATA_FIN) and so did we (closeHalf)
	fbRx                    bool // fallback: data maps 1:1
	mpcDataSent             bool
	poison                  bool
	noOpt                   int   // segments in a row without any MPTCP option // the segment being processed had a refused mapping
	needAck                 bool  // ask the engine for a pure ACK (SendACK) at the next Output
	sentWS, peerWS          bool  // window scale option in our SYN, in the peer's
	wsShift                 uint8 // our receive window shift (when both sent the option)

	iss seqnum.Value
	irs seqnum.Value

	// transmit mappings, contiguous in subflow space from txUna to txEnd
	tx    []txMap
	txUna seqnum.Value
	txEnd seqnum.Value
	redNx uint64 // redundant scheduler's cursor

	// receive mappings, sorted, non-overlapping
	rx    []rxMap
	rxNxt seqnum.Value
	// rxMapEnd and rxMapDSN are where the highest mapping received ends,
	// in subflow and data sequence space: a fallback continues from there.
	rxMapEnd seqnum.Value
	rxMapDSN uint64
	fbSeq    seqnum.Value
	fbDSN    uint64

	// pending control options
	sendPrio   bool
	sendFail   bool
	failSent   bool
	failDSN    uint64
	rstReason  mptcp.ResetReason
	rstPending bool
	addAddr    []mptcp.AddAddr
	rmAddr     []uint8

	stale        bool
	blocked      bool          // the device has no transmit buffer for the subflow's path (SetBlocked)
	blockedAt    time.Duration // when Output first found it blocked (blockedSeen)
	blockedSeen  bool
	staleBlocked bool          // stale because it stayed blocked (not because of RTOs)
	staleAt      time.Duration // when the subflow went stale
	staleRTOs    uint64
	lastUna      seqnum.Value
	ifname       string
	bytesSent    uint64
	bytesAcked   uint64
	bytesRecv    uint64
	bytesRetrans uint64
	out          mptcp.Out

	// payPtr, payLen and paySum describe the last CopyAt: its
	// destination's first byte and length and their partial Internet
	// checksum (PayloadSum).
	payPtr *byte
	payLen int
	paySum uint32
	// prePtr, preLen and preDSN describe the payload PlaceSum stored in
	// the receive buffer ahead of Input: WriteAt skips copying it again.
	prePtr *byte
	preLen int
	preDSN uint64
}

// PlaceSum is the receive fast path for the payload of an in-order
// segment of the subflow whose subflow sequence number is seq: before the
// segment is checked and given to Input, it copies the payload to its
// place in the connection's receive buffer and returns the bytes' partial
// Internet checksum (header.Sum from an even offset), computed in the
// same pass, so that the frame is read once. opts is the segment's TCP
// option area (or its MPTCP options alone): the DSS mapping the segment
// itself carries places it when no mapping received earlier covers it
// (the first segment of every mapping). It reports false, copying
// nothing, unless the place is certain and holds nothing the connection
// counts as received: a mapping covers the whole payload, no subflow
// holds out-of-order data and no DSS checksum is in use. When the
// segment's checksum is wrong, call Unplace and drop the segment (the
// bytes lie where no received data is); otherwise give it to Input next,
// which takes the placed bytes as written (and copies them again should
// Input record another mapping for them than the one used here).
func (sf *Subflow) PlaceSum(seq seqnum.Value, payload, opts []byte) (uint32, bool) {
	sf.prePtr = nil
	c := sf.c
	if len(payload) == 0 || !c.bufReady || c.fallback || c.csum || c.rdClosed || sf.fbRx || sf.poison ||
		sf.closed || sf.ep == nil || seq != sf.ep.RcvNxt() || seq != sf.rxNxt {
		return 0, false
	}
	for _, o := range c.subflows {
		if o.ep != nil && o.ep.OOOBytes() != 0 {
			return 0, false
		}
	}
	end := seq.Add(seqnum.Size(len(payload)))
	var m rxMap
	if i := sf.findRx(seq); i < len(sf.rx) && sf.rx[i].covers(seq, end) {
		m = sf.rx[i]
	} else {
		var ok bool
		if m, ok = sf.segMapping(opts); !ok || !m.covers(seq, end) {
			return 0, false
		}
	}
	if m.hasCsum {
		return 0, false
	}
	dsn := m.dsn + uint64(m.sseq.Size(seq))
	dend := dsn + uint64(len(payload))
	if dsn < c.rcv.nxt || dend > c.rcv.limit() {
		return 0, false
	}
	for _, r := range c.rcv.ooo.r {
		if r[0] < dend && r[1] > dsn {
			return 0, false
		}
	}
	sum := c.rcv.copySumIn(dsn, payload)
	sf.prePtr, sf.preLen, sf.preDSN = &payload[0], len(payload), dsn
	return sum, true
}

// covers reports whether m maps every byte of subflow sequence space
// [seq, end).
func (m *rxMap) covers(seq, end seqnum.Value) bool {
	return !seq.LessThan(m.sseq) && !end.GreaterThan(m.end())
}

// segMapping returns the data mapping of a segment's DSS option (as
// onMapping would record it), or false when the options carry none that
// maps data.
func (sf *Subflow) segMapping(opts []byte) (rxMap, bool) {
	d, ok := mptcp.FindDSS(opts)
	if !ok || !d.HasMap || d.DataLen == 0 {
		return rxMap{}, false
	}
	n := uint32(d.DataLen)
	if d.DataFin {
		n-- // the DATA_FIN takes the mapping's last data-level byte
	}
	return sf.rxMapOf(&d, n), true
}

// Unplace forgets the payload PlaceSum placed (its segment is dropped).
func (sf *Subflow) Unplace() { sf.prePtr = nil }

// PayloadSum returns the partial Internet checksum (header.Sum from an
// even offset, initial 0) of payload when payload is exactly what the
// subflow's engine copied in while building the segment Output just
// returned (the copy summed the bytes in the same pass); false otherwise.
// The stack adds it to the header's sum instead of reading the payload
// again. The sum is given once: a second call reports false.
func (sf *Subflow) PayloadSum(payload []byte) (uint32, bool) {
	if len(payload) == 0 || sf.payPtr != &payload[0] || sf.payLen != len(payload) {
		return 0, false
	}
	sf.payPtr = nil
	return sf.paySum, true
}

// Endpoint returns the subflow's TCP engine (read-only use: state, RTT,
// counters; the connection drives it).
func (sf *Subflow) Endpoint() *tcp.Endpoint { return sf.ep }

// Tuple returns the subflow's addresses and ports.
func (sf *Subflow) Tuple() tcp.FourTuple { return sf.tuple }

// ID returns the subflow's index in its connection (creation order).
func (sf *Subflow) ID() uint8 { return sf.id }

// Closed reports whether the subflow ended.
func (sf *Subflow) Closed() bool { return sf.closed }

// Backup reports whether either end marked the subflow as backup.
func (sf *Subflow) Backup() bool { return sf.backup || sf.peerBackup }

// Stale reports whether the subflow stopped making progress (its data was
// reinjected on the others).
func (sf *Subflow) Stale() bool { return sf.stale }

// SetBlocked tells the connection whether the device the subflow leaves
// through can take a frame now. While it is blocked, Output asks its
// engine for nothing and the scheduler gives new ranges to the other
// subflows (it counts as having no room): a path whose transmit queue is
// full pushes data back onto the others instead of losing segments that
// were already built. The stack sets it before every Output (Output reads
// it; other calls may see an old value). A subflow that Output finds
// blocked for longer than Config.StaleRTOs of its retransmission timeouts
// (a link that lost its carrier keeps its frames) goes stale like one
// whose timer fired: its data is reinjected on the others and
// Config.StaleReset applies; it recovers once Output finds it unblocked.
func (sf *Subflow) SetBlocked(blocked bool) {
	if !blocked {
		sf.blockedSeen = false
	}
	sf.blocked = blocked
}

// blockedStaleAt returns when a blocked subflow goes stale.
func (sf *Subflow) blockedStaleAt() time.Duration {
	return sf.blockedAt + time.Duration(max(sf.c.cfg.StaleRTOs, 1))*sf.ep.RTO()
}

// Blocked reports what SetBlocked last set.
func (sf *Subflow) Blocked() bool { return sf.blocked }

// tcpConfig returns the engine configuration of the subflow.
func (sf *Subflow) tcpConfig(iss seqnum.Value) tcp.Config {
	cfg := sf.c.cfg.TCP
	cfg.ISS = iss
	cfg.CC = sf.ctl
	cfg.Ext = (*sfExt)(sf)
	cfg.ExtOptionSpace = extSpace
	cfg.Send = (*sfSend)(sf)
	cfg.Recv = (*sfRecv)(sf)
	return cfg
}

// dataReady reports whether the subflow may carry connection data.
func (sf *Subflow) dataReady() bool {
	if sf.closed || sf.wrShut || sf.ep == nil {
		return false
	}
	st := sf.ep.State()
	if st != tcp.Established && st != tcp.CloseWait {
		return false
	}
	c := sf.c
	if c.fallback {
		return true
	}
	if !c.fullyEst && !(c.client && c.mpc && sf.role == roleMPC) {
		return false
	}
	return sf.role == roleMPC || sf.joinOK
}

// chunk is the payload of one mapping: one full segment with timestamps
// and the largest DSS.
func (sf *Subflow) chunk() int {
	n := sf.ep.MSS() - dssFull
	if !sf.c.cfg.TCP.NoTimestamps {
		n -= 12
	}
	return min(max(n, 64), maxMapLen)
}

// room returns the bytes the subflow's congestion and send windows allow
// beyond what is in flight and already mapped.
func (sf *Subflow) room() int {
	ep := sf.ep
	out := int(ep.SndUna().Size(ep.SndNxt()))
	if ep.SndNxt().LessThan(sf.txEnd) {
		out += int(ep.SndNxt().Size(sf.txEnd))
	}
	r := min(sf.ctl.Cwnd(), ep.SendWindow()) - out
	if r < sf.chunk() && out > 0 {
		return 0
	}
	return max(r, 0)
}

// findTx returns the index of the transmit mapping holding seq, or -1.
func (sf *Subflow) findTx(seq seqnum.Value) int {
	lo, hi := 0, len(sf.tx)
	for lo < hi {
		m := (lo + hi) / 2
		t := &sf.tx[m]
		switch {
		case seq.LessThan(t.sseq):
			hi = m
		case seq.GreaterThanEq(t.sseq.Add(seqnum.Size(t.n))):
			lo = m + 1
		default:
			return m
		}
	}
	return -1
}

// findRx returns the index of the first receive mapping that ends after seq.
func (sf *Subflow) findRx(seq seqnum.Value) int {
	for i := range sf.rx {
		if sf.rx[i].end().GreaterThan(seq) {
			return i
		}
	}
	return len(sf.rx)
}

// sfSend is the subflow's tcp.SendBuffer: the mapped part of the
// connection's send buffer.
type sfSend Subflow

// Buffered implements tcp.SendBuffer. When the engine has sent everything
// mapped so far, it pulls the next range from the connection (if the
// scheduler picks this subflow).
func (s *sfSend) Buffered() int {
	sf := (*Subflow)(s)
	if sf.ep != nil && sf.ep.SndNxt() == sf.txEnd && sf.dataReady() {
		sf.c.pull(sf)
	}
	return int(sf.txUna.Size(sf.txEnd))
}

// CopyAt implements tcp.SendBuffer; a copy stops at the end of a mapping so
// that every segment carries exactly one mapping.
func (s *sfSend) CopyAt(off int, p []byte) int {
	sf := (*Subflow)(s)
	seq := sf.txUna.Add(seqnum.Size(off))
	i := sf.findTx(seq)
	if i < 0 {
		return 0
	}
	m := &sf.tx[i]
	d := uint32(m.sseq.Size(seq))
	n := min(len(p), int(m.n-d))
	sf.payPtr = nil
	if n > 0 {
		sf.paySum = sf.c.snd.copySumAt(m.dsn+uint64(d), p[:n])
		sf.payPtr, sf.payLen = &p[0], n
	}
	sf.bytesSent += uint64(n)
	sf.c.bytesSent += uint64(n)
	if sf.ep != nil && seq.LessThan(sf.ep.SndNxt()) {
		sf.bytesRetrans += uint64(n)
	}
	return n
}

// Consume implements tcp.SendBuffer: the subflow acknowledged n bytes.
func (s *sfSend) Consume(n int) {
	sf := (*Subflow)(s)
	sf.c.tcpAcked = true
	sf.bytesAcked += uint64(n)
	sf.txUna = sf.txUna.Add(seqnum.Size(n))
	k := 0
	for k < len(sf.tx) && sf.tx[k].sseq.Add(seqnum.Size(sf.tx[k].n)).LessThanEq(sf.txUna) {
		k++
	}
	if sf.c.fallback && (!sf.c.infSet || sf.txUna.GreaterThan(sf.c.infSeq)) {
		// Plain TCP: the subflow's ACK is the data-level acknowledgement.
		end := sf.dsnOfTx(sf.txUna)
		if k > 0 && end == 0 {
			end = sf.tx[k-1].dsn + uint64(sf.tx[k-1].n)
		}
		sf.c.dataAcked(end)
	}
	if k > 0 {
		sf.tx = append(sf.tx[:0], sf.tx[k:]...)
	}
	sf.c.releaseSend()
}

// dsnOfTx returns the DSN subflow byte seq carries, or 0 when unmapped.
func (sf *Subflow) dsnOfTx(seq seqnum.Value) uint64 {
	i := sf.findTx(seq)
	if i < 0 {
		return 0
	}
	return sf.tx[i].dsn + uint64(sf.tx[i].sseq.Size(seq))
}

// oldestDSN returns the lowest DSN the subflow may still have to resend.
func (sf *Subflow) oldestDSN() (uint64, bool) {
	if len(sf.tx) == 0 || sf.closed {
		return 0, false
	}
	lo := sf.tx[0].dsn
	for i := 1; i < len(sf.tx) && i < 8; i++ {
		lo = min(lo, sf.tx[i].dsn)
	}
	return lo, true
}

// sfRecv is the subflow's tcp.RecvBuffer: it writes payload into the
// connection's receive buffer at the DSN its mapping gives.
type sfRecv Subflow

// Free implements tcp.RecvBuffer: the connection-level window.
func (r *sfRecv) Free() int {
	sf := (*Subflow)(r)
	if !sf.c.bufReady {
		return min(sf.c.cfg.RecvBufSize, 65535)
	}
	return sf.c.rcv.free()
}

// WriteAt implements tcp.RecvBuffer.
func (r *sfRecv) WriteAt(off int, p []byte) {
	sf := (*Subflow)(r)
	c := sf.c
	if !c.bufReady {
		return
	}
	if sf.poison {
		return
	}
	seq := sf.rxNxt.Add(seqnum.Size(off))
	if sf.fbRx {
		if seq.LessThan(sf.fbSeq) { // still under the mappings received before the fallback
			k := min(len(p), int(seq.Size(sf.fbSeq)))
			sf.writeMapped(seq, p[:k])
			p = p[k:]
			seq = seq.Add(seqnum.Size(k))
		}
		if len(p) > 0 {
			c.rcv.put(sf.fbDSN+uint64(sf.fbSeq.Size(seq)), p)
		}
		return
	}
	sf.writeMapped(seq, p)
}

// writeMapped writes subflow bytes p at seq through the received mappings.
func (sf *Subflow) writeMapped(seq seqnum.Value, p []byte) {
	c := sf.c
	for i := sf.findRx(seq); i < len(sf.rx) && len(p) > 0; i++ {
		m := &sf.rx[i]
		if seq.LessThan(m.sseq) {
			skip := int(seq.Size(m.sseq))
			if skip >= len(p) {
				return
			}
			p = p[skip:]
			seq = m.sseq
		}
		d := uint32(m.sseq.Size(seq))
		k := min(len(p), int(m.n-d))
		dsn := m.dsn + uint64(d)
		// In place already when PlaceSum stored these bytes there.
		placed := sf.prePtr != nil && &p[0] == sf.prePtr && k <= sf.preLen && dsn == sf.preDSN
		c.rcv.putAt(dsn, p[:k], placed)
		p = p[k:]
		seq = seq.Add(seqnum.Size(k))
	}
}

// Advance implements tcp.RecvBuffer: subflow bytes up to rxNxt+n are in
// order; the mapped ones become received data at the connection level.
func (r *sfRecv) Advance(n int) {
	sf := (*Subflow)(r)
	old := sf.rxNxt
	sf.rxNxt = old.Add(seqnum.Size(n))
	sf.bytesRecv += uint64(n)
	c := sf.c
	if !c.bufReady || sf.poison {
		return
	}
	if sf.fbRx {
		if old.LessThan(sf.fbSeq) {
			now := sf.rxNxt
			sf.rxNxt = seqnum.Min(now, sf.fbSeq)
			c.deliver(sf, old)
			sf.rxNxt = now
			old = seqnum.Max(old, sf.fbSeq)
		}
		if old.LessThan(sf.rxNxt) {
			s := sf.fbDSN + uint64(sf.fbSeq.Size(old))
			c.received(sf, s, s+uint64(old.Size(sf.rxNxt)))
		}
		return
	}
	c.deliver(sf, old)
}

// sfExt is the subflow's tcp.Extension: MPTCP options out and in.
type sfExt Subflow

// WriteOptions implements tcp.Extension.
func (x *sfExt) WriteOptions(seg *tcp.Segment, buf []byte) int {
	return (*Subflow)(x).writeOptions(seg, buf)
}

// OnSegment implements tcp.Extension.
func (x *sfExt) OnSegment(seg *tcp.Segment) {
	(*Subflow)(x).onSegment(seg)
}

// RecvWindowLimit implements tcp.WindowLimiter: the subflow never
// advertises beyond the connection-level window (RFC 8684 §3.3.4), whose
// right edge is the connection receive buffer's limit. The window counts
// from DATA_ACK, as Linux's subflow windows do: data queued above a hole
// must not close the window of the subflow that has to carry the hole's
// reinjection. The peer adds the window to the DATA_ACK of the same
// segment (lowered when needed, see windowAck).
func (x *sfExt) RecvWindowLimit() int {
	sf := (*Subflow)(x)
	c := sf.c
	if !c.bufReady || c.fallback || sf.fbRx {
		return 1 << 30 // the engine's own buffer rule (Free) applies
	}
	from := c.rcv.nxt
	lim := c.rcv.limit()
	if from >= lim {
		return 0
	}
	return int(min(lim-from, 1<<30))
}
