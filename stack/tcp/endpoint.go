package tcp

import (
	"time"

	"github.com/mpxdp/mpxdp/stack/seqnum"
	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

// Endpoint is one TCP connection (or MPTCP subflow) as a sans-IO state
// machine. It is driven by one goroutine: Input, Output, OnTimer and the
// application calls must not run concurrently.
type Endpoint struct {
	cfg   Config
	state State
	err   error
	cc    cc.Controller
	ext   Extension
	wl    WindowLimiter // Config.Ext's window limit, nil when it has none

	snd     SendBuffer
	rcv     RecvBuffer
	sndRing *sendRing // nil when Config.Send replaced it
	rcvRing *recvRing // nil when Config.Recv replaced it

	// send sequence space
	iss       seqnum.Value
	sndUna    seqnum.Value
	sndNxt    seqnum.Value
	sndWnd    int // scaled send window
	maxSndWnd int
	sndWl1    seqnum.Value
	sndWl2    seqnum.Value
	sndShift  uint8 // peer's window scale
	mss       int   // payload per segment without options (min of both MSSs)
	finQueued bool  // CloseWrite was called
	finSent   bool
	finSeq    seqnum.Value // sequence number of our FIN, valid when finSent

	// receive sequence space
	irs          seqnum.Value
	rcvNxt       seqnum.Value
	rcvAdvEnd    seqnum.Value // right edge of the last window we advertised
	rcvShift     uint8        // our window scale
	rcvClosed    bool         // the application closed the receive side
	finRcvd      bool         // peer's FIN processed
	finPending   bool         // peer's FIN seen out of order
	finPendSeq   seqnum.Value // its sequence number
	ooo          rangeSet     // out-of-order data beyond rcv_nxt
	lastOOO      int          // index in ooo of the range that got the latest segment, -1 none
	lastAckSent  seqnum.Value
	rcvUnacked   int // bytes received since the last ACK we sent
	rcvMSS       int // largest in-order payload received (Config.QuickACKShort)
	ackNow       bool
	forceACK     bool // SendACK: the next Output is a pure ACK
	wsOK, sackOK bool
	tsOK         bool
	tsRecent     uint32
	tsRecentAt   time.Duration

	// retransmission and recovery
	srtt, rttvar, rto time.Duration
	minRTT            time.Duration
	hasRTT            bool
	rttTiming         bool // Karn timing when timestamps are off
	rttSeq            seqnum.Value
	rttStart          time.Duration
	retries           int
	sacked            rangeSet // SACK scoreboard above snd_una
	sackedBytes       int
	inRecovery        bool
	rtoRecovery       bool // the episode started with an RTO
	recoveryPoint     seqnum.Value
	highRxt           seqnum.Value // retransmitted up to here in this episode
	lostEnd           seqnum.Value // holes below this are deemed lost
	dupAcks           int
	dupThresh         int          // adaptive duplicate threshold in segments (recovery.go)
	rxt               rxtRing      // retransmissions of recent episodes (recovery.go)
	rxtHigh           seqnum.Value // highest retransmitted sequence number so far
	rxtHighSet        bool
	rxtHist           [64]seqRange // recent fast retransmissions, for D-SACK
	rxtHistI          int
	rxtTS             uint32 // our timestamp on the last retransmission
	rxtTSSet          bool
	tlpAt             time.Duration // tail-loss-probe timer (tlp.go)
	tlpNow            bool          // send a probe
	tlpOutstanding    bool
	tlpEnd            seqnum.Value // snd_nxt when the probe went out
	forceSend         bool         // sendNew ignores the congestion window (probe)
	relost            rangeSet     // retransmissions lost again, to resend
	rack              rackState    // RACK loss detection and per-segment send times (rack.go)
	prrRecoverFS      int          // PRR (prr.go): pipe when the recovery started
	prrDelivered      int          // bytes delivered during the recovery
	prrOut            int          // bytes sent during the recovery
	prrLastDelivered  int          // bytes delivered by the last ACK
	dsack             SACKBlock
	dsackPending      bool
	needSyn           bool
	probes            int
	probeNow          bool          // send a zero-window probe
	synWnd            int           // window advertised in our SYN
	synAt             time.Duration // when our SYN (or SYN-ACK) was last sent
	synSends          int           // SYNs (or SYN-ACKs) sent: more than one makes the handshake RTT ambiguous
	firstRxtDone      bool          // the episode's first retransmission went out

	// timers: absolute deadlines, 0 = off
	rtoAt, persistAt, delackAt, twAt time.Duration

	// pending RST (reply to a bad segment, or Abort)
	rstPending bool
	rstSeq     seqnum.Value
	rstAck     seqnum.Value
	rstHasAck  bool

	// challenge-ACK rate limit
	chalStart time.Duration
	chalCount int

	// receive-buffer autotuning (Linux DRS)
	rcvRTT     time.Duration
	drsStart   time.Duration
	drsCopied  uint64
	drsSpace   int
	lastNow    time.Duration
	extScratch [40]byte
	extSeg     Segment // what the extension sees

	counters Counters
}

// NewActive creates an endpoint that opens a connection: its first Output
// is the SYN. cfg.ISS must be chosen by the caller (ISNGenerator).
func NewActive(cfg Config, now time.Duration) (*Endpoint, error) {
	e, err := newEndpoint(cfg, now)
	if err != nil {
		return nil, err
	}
	e.state = SynSent
	e.needSyn = true
	return e, nil
}

// NewPassive creates an endpoint for a connection a peer opened with syn
// (a SYN without ACK): it is in SYN-RECEIVED and its first Output is the
// SYN-ACK. cfg.ISS is our initial sequence number.
func NewPassive(cfg Config, syn *Segment, now time.Duration) (*Endpoint, error) {
	if syn.Flags&(FlagSYN|FlagACK|FlagRST|FlagFIN) != FlagSYN {
		return nil, ErrNotSYN
	}
	e, err := newEndpoint(cfg, now)
	if err != nil {
		return nil, err
	}
	e.state = SynRcvd
	e.acceptSYN(syn, now)
	e.needSyn = true
	if e.ext != nil {
		e.extInput(syn)
	}
	return e, nil
}

func newEndpoint(cfg Config, now time.Duration) (*Endpoint, error) {
	if cfg.CC == nil {
		return nil, ErrNoController
	}
	cfg.setDefaults()
	e := &Endpoint{cfg: cfg, cc: cfg.CC, ext: cfg.Ext, lastOOO: -1}
	if wl, ok := cfg.Ext.(WindowLimiter); ok {
		e.wl = wl
	}
	e.snd, e.rcv = cfg.Send, cfg.Recv
	if e.snd == nil {
		e.sndRing = newSendRing(cfg.SendBufSize)
		e.snd = e.sndRing
	}
	if e.rcv == nil {
		e.rcvRing = newRecvRing(cfg.RecvBufSize)
		e.rcv = e.rcvRing
	}
	e.iss = cfg.ISS
	e.sndUna, e.sndNxt = e.iss, e.iss
	e.rto = cfg.InitialRTO
	e.mss = cfg.MSS
	e.ooo = newRangeSet(cfg.MaxOOORanges)
	e.sacked = newRangeSet(cfg.MaxOOORanges)
	e.relost = newRangeSet(cfg.MaxOOORanges)
	e.dupThresh = 3
	if !cfg.NoWindowScale {
		e.rcvShift = windowShift(cfg.RecvBufMax)
	}
	e.cc.Init(e.mss, now)
	e.lastNow = now
	return e, nil
}

// acceptSYN records the peer's SYN: its sequence number and options.
func (e *Endpoint) acceptSYN(syn *Segment, now time.Duration) {
	e.irs = syn.Seq
	e.rcvNxt = syn.Seq + 1
	e.rcvAdvEnd = e.rcvNxt.Add(seqnum.Size(e.synWnd))
	e.lastAckSent = e.rcvNxt
	e.sndWnd = int(syn.Window) // never scaled in a SYN
	e.maxSndWnd = e.sndWnd
	e.sndWl1 = syn.Seq
	o := &syn.Options
	if o.MSS != 0 && int(o.MSS) < e.mss {
		e.mss = int(o.MSS)
	}
	if o.MSS == 0 && e.mss > 536 {
		e.mss = 536 // RFC 9293 default for a peer that sends no MSS
	}
	if e.mss < 64 {
		e.mss = 64
	}
	e.cc.SetMSS(e.mss)
	if o.HasWScale && !e.cfg.NoWindowScale {
		e.wsOK = true
		e.sndShift = min(o.WScale, 14)
	} else {
		e.rcvShift = 0
	}
	e.sackOK = o.SACKPermitted && !e.cfg.NoSACK
	if o.HasTS && !e.cfg.NoTimestamps {
		e.tsOK = true
		e.tsRecent = o.TSVal
		e.tsRecentAt = now
	}
}

// ISS returns our initial sequence number.
func (e *Endpoint) ISS() seqnum.Value { return e.iss }

// IRS returns the peer's initial sequence number (valid once its SYN arrived).
func (e *Endpoint) IRS() seqnum.Value { return e.irs }

// State returns the connection state.
func (e *Endpoint) State() State { return e.state }

// Err returns why the connection failed, or nil.
func (e *Endpoint) Err() error { return e.err }

// Counters returns a copy of the endpoint's counters.
func (e *Endpoint) Counters() Counters { return e.counters }

// MSS returns the payload size per segment without options.
func (e *Endpoint) MSS() int { return e.mss }

// SRTT returns the smoothed round-trip time (0 before the first sample).
func (e *Endpoint) SRTT() time.Duration { return e.srtt }

// RTO returns the current retransmission timeout.
func (e *Endpoint) RTO() time.Duration { return e.rto }

// SndUna returns the oldest unacknowledged sequence number.
func (e *Endpoint) SndUna() seqnum.Value { return e.sndUna }

// SndNxt returns the next sequence number to send.
func (e *Endpoint) SndNxt() seqnum.Value { return e.sndNxt }

// RcvNxt returns the next sequence number expected from the peer.
func (e *Endpoint) RcvNxt() seqnum.Value { return e.rcvNxt }

// SendWindow returns the peer's advertised window in bytes.
func (e *Endpoint) SendWindow() int { return e.sndWnd }

// Controller returns the congestion controller.
func (e *Endpoint) Controller() cc.Controller { return e.cc }

// RecvBufferSize returns the current size of the built-in receive buffer
// (it grows with autotuning), or 0 when Config.Recv replaced it.
func (e *Endpoint) RecvBufferSize() int {
	if e.rcvRing == nil {
		return 0
	}
	return len(e.rcvRing.buf)
}

// OOOBytes returns the out-of-order bytes held beyond rcv_nxt.
func (e *Endpoint) OOOBytes() int { return e.ooo.bytes() }

// Writable returns how many bytes Write would accept now.
func (e *Endpoint) Writable() int {
	if e.sndRing == nil || e.finQueued || e.err != nil || !(e.state == SynSent || e.state == SynRcvd || e.state.canSendData()) {
		return 0
	}
	return e.sndRing.space()
}

// Write queues p for sending and returns how many bytes fit in the send
// buffer. It returns 0 after CloseWrite, after an error, or when Config.Send
// replaced the built-in buffer.
func (e *Endpoint) Write(p []byte) int {
	if e.Writable() == 0 {
		return 0
	}
	return e.sndRing.write(p)
}

// Readable returns how many in-order bytes Read would return now.
func (e *Endpoint) Readable() int {
	if e.rcvRing == nil {
		return 0
	}
	return e.rcvRing.n
}

// Read copies received in-order bytes into p and returns the count. When
// the window opened enough (receiver SWS avoidance, RFC 9293 §3.8.6.2.2) it
// schedules a window update: call Output afterwards.
func (e *Endpoint) Read(p []byte) int {
	if e.rcvRing == nil {
		return 0
	}
	n := e.rcvRing.read(p)
	if n > 0 {
		e.checkWindowUpdate()
	}
	return n
}

// RecvBufferFreed tells the endpoint that the application consumed data
// from the external receive buffer (Config.Recv), so that Free grew. It
// re-evaluates the window we could advertise with the same receiver SWS
// rule as Read (RFC 9293 §3.8.6.2.2): when the right edge moved by at
// least min(MSS, half the buffer), or the advertised window was zero, it
// schedules a window update, and the next Output returns that ACK. Call it
// after consuming (cheap when nothing changed; calling it once per batch
// of reads is enough), then call Output. With the built-in buffer Read
// does this itself; calling it is harmless.
func (e *Endpoint) RecvBufferFreed() {
	e.checkWindowUpdate()
}

// checkWindowUpdate asks for an ACK when the right edge we could advertise
// has moved by at least min(MSS, buffer/2) past the one we advertised.
func (e *Endpoint) checkWindowUpdate() {
	if !e.state.canRecvData() {
		return
	}
	edge := e.rcvNxt.Add(seqnum.Size(e.recvSpace()))
	if !edge.GreaterThan(e.rcvAdvEnd) {
		return
	}
	grow := int(e.rcvAdvEnd.Size(edge))
	thr := e.mss
	if half := (e.rcvNxt.Size(edge)) / 2; int(half) < thr {
		thr = int(half)
	}
	if grow >= thr || e.rcvAdvEnd == e.rcvNxt {
		if !e.ackNow {
			e.counters.WindowUpdates++
		}
		e.ackNow = true
	}
}

// SendACK makes the next Output return a pure ACK: no payload, no SYN or
// FIN, sequence number snd_nxt, acknowledging rcv_nxt, with the current
// window, timestamps, SACK blocks and the options Config.Ext writes for it.
// It is sent even when nothing else needs sending, and before any data,
// retransmission or probe waiting in the same Output loop (a pending RST
// still comes first). MPTCP uses it for option-only segments: the fourth
// ACK of MP_JOIN, DATA_FIN and DATA_ACK updates, ADD_ADDR echoes, MP_PRIO
// and connection-level window updates. Calling it again before Output
// still gives one ACK. It reports whether the ACK was scheduled: false in
// CLOSED, SYN-SENT and SYN-RECEIVED (no synchronized ACK exists yet).
// Counted in Counters.ForcedACKs when sent.
func (e *Endpoint) SendACK() bool {
	switch e.state {
	case Established, FinWait1, FinWait2, CloseWait, Closing, LastAck, TimeWait:
		e.forceACK = true
		return true
	}
	return false
}

// PeerClosed reports whether the peer's FIN was received and every byte
// before it has been read: the receive side has reached end of stream.
func (e *Endpoint) PeerClosed() bool {
	return e.finRcvd && e.Readable() == 0
}

// CloseWrite shuts the send side: a FIN follows the data already written.
// In SYN-SENT with nothing written it abandons the open (CLOSED).
func (e *Endpoint) CloseWrite() {
	if e.finQueued || e.err != nil {
		return
	}
	switch e.state {
	case SynSent:
		if e.snd.Buffered() == 0 {
			e.state = Closed // nothing to deliver: give up the open
			e.stopTimers()
			return
		}
		// data is queued: send it and the FIN once established
	case Established:
		e.state = FinWait1
	case CloseWait:
		e.state = LastAck
	case SynRcvd:
		// the FIN is sent once established
	default:
		return
	}
	e.finQueued = true
}

// Close shuts both directions. Unread received data makes it an Abort
// (RST), as in Linux and RFC 2525; otherwise it is CloseWrite, and data the
// peer sends afterwards is acknowledged and discarded.
func (e *Endpoint) Close() {
	if e.rcvRing != nil && e.rcvRing.n > 0 && e.state != Closed {
		e.Abort()
		return
	}
	e.rcvClosed = true
	e.CloseWrite()
	if e.state == FinWait2 && e.twAt == 0 {
		e.twAt = e.lastNow + e.cfg.FinWait2Timeout
	}
}

// Abort resets the connection: the next Output is a RST, and the endpoint
// is CLOSED with ErrAborted.
func (e *Endpoint) Abort() {
	if e.state == Closed {
		return
	}
	if e.state != SynSent {
		e.queueRST(e.sndNxt, e.rcvNxt, true)
	}
	e.fail(ErrAborted)
}

func (e *Endpoint) queueRST(seq, ack seqnum.Value, withAck bool) {
	e.rstPending = true
	e.rstSeq, e.rstAck, e.rstHasAck = seq, ack, withAck
}

// fail moves to CLOSED with err (the first error sticks).
func (e *Endpoint) fail(err error) {
	if e.err == nil {
		e.err = err
	}
	e.state = Closed
	e.forceACK = false
	e.stopTimers()
}

func (e *Endpoint) stopTimers() {
	e.rtoAt, e.persistAt, e.delackAt, e.twAt, e.tlpAt = 0, 0, 0, 0, 0
	e.rack.at = 0
}

// NextTimer returns the earliest pending timer deadline, 0 when none. The
// caller calls OnTimer (or Output, which runs due timers) at that time.
func (e *Endpoint) NextTimer() time.Duration {
	// Called before every Output: plain comparisons, no loop.
	t := e.rtoAt
	if d := e.persistAt; d != 0 && (t == 0 || d < t) {
		t = d
	}
	if d := e.delackAt; d != 0 && (t == 0 || d < t) {
		t = d
	}
	if d := e.twAt; d != 0 && (t == 0 || d < t) {
		t = d
	}
	if d := e.tlpAt; d != 0 && (t == 0 || d < t) {
		t = d
	}
	if d := e.rack.at; d != 0 && (t == 0 || d < t) {
		t = d
	}
	return t
}

// OnTimer runs every timer due at now. Afterwards call Output until it
// reports nothing to send.
func (e *Endpoint) OnTimer(now time.Duration) {
	e.lastNow = now
	if e.twAt != 0 && now >= e.twAt {
		e.twAt = 0
		if e.state == FinWait2 {
			e.counters.FinWait2Timeouts++
			e.queueRST(e.sndNxt, e.rcvNxt, true)
		}
		e.state = Closed
		e.stopTimers()
		return
	}
	if e.delackAt != 0 && now >= e.delackAt {
		e.delackAt = 0
		e.ackNow = true
		e.counters.DelayedACKs++
	}
	if e.persistAt != 0 && now >= e.persistAt {
		e.persistAt = 0
		e.onPersist(now)
	}
	if e.rack.at != 0 && now >= e.rack.at {
		e.rack.at = 0
		e.onRACKTimer(now)
	}
	if e.tlpAt != 0 && now >= e.tlpAt {
		e.tlpAt = 0
		e.onTLP()
	}
	if e.rtoAt != 0 && now >= e.rtoAt {
		e.rtoAt = 0
		e.tlpAt, e.tlpNow, e.tlpOutstanding = 0, false, false
		e.onRTO(now)
	}
}

func (e *Endpoint) backoffRTO() time.Duration {
	d := e.rto
	for i := 0; i < e.retries && d < e.cfg.MaxRTO; i++ {
		d *= 2
	}
	return min(d, e.cfg.MaxRTO)
}

func (e *Endpoint) onRTO(now time.Duration) {
	switch e.state {
	case SynSent, SynRcvd:
		e.retries++
		if e.retries > e.cfg.SYNRetries {
			e.fail(ErrTimeout)
			return
		}
		e.needSyn = true
		e.counters.RTOs++
		return
	case Closed, TimeWait:
		return
	}
	if e.sndNxt == e.sndUna {
		return
	}
	e.retries++
	if e.retries > e.cfg.MaxRetries {
		e.fail(ErrTimeout)
		return
	}
	e.counters.RTOs++
	if !e.inRecovery && e.sackedBytes >= 3*e.mss {
		// A timeout while enough was SACKed for the default threshold:
		// the reordering estimate is too high (as Linux's tcp_enter_loss).
		e.dupThresh = 3
	}
	if e.retries > 1 {
		// Repeated timeouts: stop trusting SACK information (the receiver
		// may have reneged, RFC 2018 §8).
		e.sacked.clear()
		e.sackedBytes = 0
	}
	e.cc.OnRTO(now)
	e.rack.at = 0
	e.inRecovery = true
	e.rtoRecovery = true
	e.recoveryPoint = e.sndNxt
	e.highRxt = e.sndUna
	e.lostEnd = e.sndNxt
	e.resetRecoveryLog()
	e.firstRxtDone = false
	e.dupAcks = 0
	e.rttTiming = false
	e.rtoAt = now + e.backoffRTO()
}

func (e *Endpoint) onPersist(now time.Duration) {
	if e.sndWnd != 0 || e.sndNxt != e.sndUna || !e.hasUnsent() {
		e.probes = 0
		return
	}
	e.probes++
	if e.probes > e.cfg.MaxRetries {
		e.fail(ErrTimeout)
		return
	}
	e.counters.WindowProbes++
	e.probeNow = true
	e.armPersist(now)
}

func (e *Endpoint) armPersist(now time.Duration) {
	d := e.rto
	for i := 0; i < e.probes && d < e.cfg.MaxRTO; i++ {
		d *= 2
	}
	e.persistAt = now + min(d, e.cfg.MaxRTO)
}

// dataEnd is the sequence number after the last byte in the send buffer.
func (e *Endpoint) dataEnd() seqnum.Value {
	base := e.sndUna
	if e.state == SynSent || e.state == SynRcvd {
		base = e.iss + 1
	}
	return base.Add(seqnum.Size(e.snd.Buffered()))
}

// hasUnsent reports whether data or a FIN waits to be sent for the first time.
func (e *Endpoint) hasUnsent() bool {
	if e.finSent {
		return false
	}
	return e.sndNxt.LessThan(e.dataEnd()) || e.finQueued
}

// tsNow is our timestamp clock: milliseconds plus the offset.
func (e *Endpoint) tsNow(now time.Duration) uint32 {
	return uint32(now/time.Millisecond) + e.cfg.TSOffset
}

// rttSample updates SRTT, RTTVAR and RTO (RFC 6298 §2).
func (e *Endpoint) rttSample(r time.Duration) {
	if r < 0 {
		return
	}
	if !e.hasRTT {
		e.srtt = r
		e.rttvar = r / 2
		e.hasRTT = true
		e.minRTT = r
	} else {
		d := e.srtt - r
		if d < 0 {
			d = -d
		}
		e.rttvar = (3*e.rttvar + d) / 4
		e.srtt = (7*e.srtt + r) / 8
		if r < e.minRTT {
			e.minRTT = r
		}
	}
	k := 4 * e.rttvar
	if k < time.Millisecond {
		k = time.Millisecond
	}
	e.rto = max(e.cfg.MinRTO, min(e.cfg.MaxRTO, e.srtt+k))
}

// Info is a snapshot of an endpoint's transmission state, like Linux's
// TCP_INFO, for tools and tests.
type Info struct {
	State        State
	MSS          int
	Cwnd         int // congestion window, bytes
	Ssthresh     int
	SRTT, RTTVar time.Duration
	MinRTT, RTO  time.Duration
	InFlight     int // bytes sent and not acknowledged or SACKed (pipe)
	Unacked      int // snd_nxt - snd_una
	SACKed       int // bytes SACKed above snd_una
	SendWindow   int // peer's window, bytes
	SendBuffered int // bytes in the send buffer (sent or not)
	RecvBuffer   int // size of the built-in receive buffer
	Readable     int // in-order bytes waiting for Read
	OOOBytes     int // out-of-order bytes held
	InRecovery   bool
	DupThresh    int // current (adaptive) duplicate threshold, segments
}

// Info returns a snapshot of the endpoint's transmission state.
func (e *Endpoint) Info() Info {
	return Info{
		State: e.state, MSS: e.mss, Cwnd: e.cc.Cwnd(), Ssthresh: e.cc.Ssthresh(),
		SRTT: e.srtt, RTTVar: e.rttvar, MinRTT: e.minRTT, RTO: e.rto,
		InFlight: e.pipe(), Unacked: int(e.sndUna.Size(e.sndNxt)), SACKed: e.sackedBytes,
		SendWindow: e.sndWnd, SendBuffered: e.snd.Buffered(), RecvBuffer: e.RecvBufferSize(),
		Readable: e.Readable(), OOOBytes: e.ooo.bytes(), InRecovery: e.inRecovery, DupThresh: e.dupThresh,
	}
}
