package conn

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/coupled"
	"github.com/mpxdp/mpxdp/mptcp/pm"
	"github.com/mpxdp/mpxdp/mptcp/sched"
	"github.com/mpxdp/mpxdp/stack/seqnum"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// Errors reported by Conn.Err and the constructors.
var (
	// ErrFastClose: the peer sent MP_FASTCLOSE with our key.
	ErrFastClose = errors.New("mptcp/conn: connection closed by the peer with MP_FASTCLOSE")
	// ErrAborted: Abort was called (we sent MP_FASTCLOSE).
	ErrAborted = errors.New("mptcp/conn: connection aborted locally (MP_FASTCLOSE sent)")
	// ErrNoSubflow: every subflow failed and none is left to carry data.
	ErrNoSubflow = errors.New("mptcp/conn: every subflow failed: check the paths; the path manager may open new ones")
	// ErrUnknownToken: an MP_JOIN SYN named a token no connection owns; answer with a RST.
	ErrUnknownToken = errors.New("mptcp/conn: MP_JOIN for an unknown token: answer the SYN with a RST")
	// ErrJoinRejected: the connection refused another subflow (limit reached or not yet fully established).
	ErrJoinRejected = errors.New("mptcp/conn: MP_JOIN rejected: subflow limit reached or connection not fully established; answer with a RST")
	// ErrNotJoin: AcceptJoin was given a segment without an MP_JOIN SYN option.
	ErrNotJoin = errors.New("mptcp/conn: AcceptJoin needs a SYN carrying MP_JOIN (use ClassifySYN first)")
	// ErrFallback: Join was called on a connection that fell back to plain TCP or is not established yet.
	ErrFallback = errors.New("mptcp/conn: cannot open a subflow: the connection fell back to TCP or is not fully established")
	// ErrNoTable: Config.Tokens is nil.
	ErrNoTable = errors.New("mptcp/conn: Config.Tokens is nil: create one token table per stack with mptcp.NewTokenTable[*conn.Conn]()")
)

// MaxSubflows is the most subflows one connection keeps (the kernel's
// MPTCP_PM_MAX_SUBFLOWS is 8).
const MaxSubflows = 8

// Config configures a connection.
type Config struct {
	// Tokens is the stack-wide token table; required.
	Tokens *mptcp.TokenTable[*Conn]
	// MIB is the owner worker's counters; nil gives the connection its own.
	MIB *mptcp.Counters
	// TCP is the template for every subflow engine (MSS, timers, buffers
	// for SACK bookkeeping ...). ISS, CC, Ext, Send, Recv and
	// ExtOptionSpace are set per subflow.
	TCP tcp.Config
	// CC names the congestion control of the subflows: "lia", "olia",
	// "balia" (coupled) or "cubic", "reno" (uncoupled) ["cubic", as Linux].
	CC string
	// Scheduler picks the subflow for each range [sched.Linger].
	Scheduler sched.Scheduler
	// Checksum asks for DSS checksums (the A bit); they are used when
	// either side asks.
	Checksum bool
	// SendBufSize and RecvBufSize are the connection-level buffers
	// (rounded up to a power of two) [4 MiB each]. The receive window is
	// connection-level: what RecvBufSize leaves free above DATA_ACK.
	SendBufSize, RecvBufSize int
	// SendMem, when set, is the memory of the send buffer (its length a
	// power of two of at least 4096 bytes; SendBufSize is then ignored),
	// shared with the owner so that each byte is copied once: the owner
	// stores the byte of relative DSN d (0 is the first data byte) at
	// SendMem[d mod len] itself, hands bytes over with CommitSend instead
	// of Write, and may overwrite only what lies below SendReleased.
	SendMem []byte
	// RecvMem, when set, is likewise the memory of the receive buffer
	// (RecvBufSize is then ignored): received bytes are stored at
	// RecvMem[d mod len] for relative DSN d. The owner learns with
	// RecvCommit how many more bytes are in order, lets the application
	// read them in place instead of calling Read, and reports with
	// RecvConsumed how far it read: the connection writes only at or
	// above that position and below it plus len(RecvMem).
	RecvMem []byte
	// MaxOOORanges bounds the out-of-order DSN ranges kept above DATA_ACK [1024].
	MaxOOORanges int
	// MaxSubflows limits the subflows (initial included) [MaxSubflows].
	MaxSubflows int
	// Events receives connection events (like `ip mptcp monitor`); nil drops them.
	Events func(Event)
	// Rand returns random 32-bit values for MP_JOIN nonces [crypto/rand].
	Rand func() uint32
	// StaleRTOs is how many retransmission timeouts in a row (without
	// progress) mark a subflow stale: its data is reinjected on the others
	// and it is not scheduled until it recovers [2].
	StaleRTOs int
	// StaleReset is how long a subflow may stay stale while another
	// subflow carries the data before it is reset (MP_TCPRST
	// "unacceptable performance") and reported closed, so that the path
	// manager opens it again once the path works (RetryBase, RetryMax)
	// instead of waiting out the subflow's own retransmission limit
	// [3 s; negative: never].
	StaleReset time.Duration
	// NoMPTCP makes Dial send a plain SYN (a client without MPTCP) and
	// Accept refuse MPTCP (a server without MPTCP): the connection runs in
	// fallback mode. For tests and for operators who turn MPTCP off.
	NoMPTCP bool
}

func (c *Config) defaults() error {
	if c.Tokens == nil {
		return ErrNoTable
	}
	if c.MIB == nil {
		c.MIB = mptcp.NewMIB(1).Worker(0)
	}
	if c.CC == "" {
		c.CC = "cubic"
	}
	if c.Scheduler == nil {
		c.Scheduler = &sched.Linger{}
	}
	if c.SendBufSize <= 0 {
		c.SendBufSize = 4 << 20
	}
	if c.RecvBufSize <= 0 {
		c.RecvBufSize = 4 << 20
	}
	if c.MaxOOORanges <= 0 {
		c.MaxOOORanges = 1024
	}
	if c.MaxSubflows <= 0 || c.MaxSubflows > MaxSubflows {
		c.MaxSubflows = MaxSubflows
	}
	if c.Rand == nil {
		c.Rand = func() uint32 {
			var b [4]byte
			_, _ = rand.Read(b[:])
			return binary.BigEndian.Uint32(b[:])
		}
	}
	if c.StaleRTOs <= 0 {
		c.StaleRTOs = 2
	}
	if c.StaleReset == 0 {
		c.StaleReset = 3 * time.Second
	}
	if c.TCP.MSS == 0 {
		c.TCP.MSS = 1460
	}
	return nil
}

// Conn is one MPTCP connection: the connection-level state and its
// subflows, as a sans-IO state machine driven by one owner goroutine (see
// the package documentation).
type Conn struct {
	cfg    Config
	mib    *mptcp.Counters
	hasher mptcp.Hasher
	group  *coupled.Group
	sched  sched.Scheduler

	client      bool
	mpc         bool // MP_CAPABLE negotiated (until fallback)
	fullyEst    bool // both keys known and confirmed
	fallback    bool // plain TCP on one subflow
	csum        bool
	localKey    mptcp.Key
	remoteKey   mptcp.Key
	localToken  uint32
	remoteToken uint32
	localIDSN   uint64
	remoteIDSN  uint64
	// DSNs are held as offsets from the first data byte of each direction
	// (sndBase = our IDSN+1, rcvBase = the peer's), so that comparisons
	// never meet the 2^64 wrap; the wire carries base+offset.
	sndBase, rcvBase uint64
	registered       bool
	established      bool // ESTABLISHED event sent

	// send side (DSN space)
	snd       sendBuf
	sndShared bool   // snd.buf is Config.SendMem
	dataUna   uint64 // oldest DSN not acknowledged by DATA_ACK
	sndNxt    uint64 // next DSN never mapped
	sndMax    uint64 // highest DSN mapped + 1 (the DATA_FIN included)
	rwndEnd   uint64 // peer's connection-level window right edge
	rxAck     uint64 // DATA_ACK of the segment being processed (when rxHasAck)
	rxHasAck  bool
	reinj     [][2]uint64
	finQueued bool
	finAcked  bool
	finSent   bool
	finAt     time.Duration // resend the DATA_FIN then (it rides on pure ACKs, which TCP does not retransmit)
	finShift  uint

	// receive side (DSN space)
	rcv        recvBuf
	rcvAdvEnd  uint64 // connection-level right edge last advertised
	rcvWndSent uint64 // highest DATA_ACK plus window we sent (what Linux calls rcv_wnd_sent)
	// strictWindow drops data that becomes in order on its subflow but
	// lies out of order beyond rcvWndSent, as Linux does (NoDSSInWindow).
	// Tests set it to play the kernel's part.
	strictWindow bool
	peerFinSet   bool
	peerFinDSN   uint64
	finRcvd      bool
	rdClosed     bool
	// rcvShared: rcv.buf is Config.RecvMem; rcv.read is then where the
	// application read up to (RecvConsumed) and rcvTaken where the
	// owner took the in-order bytes up to (RecvCommit).
	rcvShared bool
	rcvTaken  uint64
	bufReady  bool

	subflows []*Subflow
	cands    [MaxSubflows]sched.Candidate
	next     int
	nextID   uint8
	picked   int // 1 + the subflow the scheduler picked and that has not pulled yet; 0 for none

	// infinite mapping after MP_FAIL: subflow bytes from infSeq carry DSNs
	// from infDSN on, 1:1
	infPending bool
	infSet     bool
	infSeq     seqnum.Value
	infDSN     uint64

	rtoAt   time.Duration
	probeAt time.Duration // connection-level window probe
	// gotDataAck: a DATA_ACK arrived, so the peer's connection-level
	// window is known. Until then new data goes in order on the initial
	// subflow only (Linux drops out-of-order data beyond the window it
	// last advertised, and it has advertised none).
	gotDataAck bool
	// Orphan detection: a subflow's TCP ACK advanced while DATA_ACK did
	// not; at orphanAt, if DATA_ACK is still orphanUna and no subflow
	// holds that DSN unacknowledged, the peer dropped it at the data
	// level and it is reinjected.
	orphanAt    time.Duration
	orphanUna   uint64
	tcpAcked    bool // a subflow's TCP ACK advanced in the segment being processed
	orphanReinj uint64
	noOrphans   bool // tests: turn the orphan reinjection off, to compare
	rtoShift    uint
	lastAckAt   time.Duration
	now         time.Duration
	err         error
	closing     bool
	fastClose   bool

	// statistics (mptcp_info)
	bytesSent, bytesRecv, bytesAcked, bytesRetrans uint64
	addAddrSignal, addAddrAccepted                 uint32
	reasmDrops                                     uint64
	rstBuf                                         [16]byte
	rx                                             mptcp.Received
	csumTmp                                        [1024]byte
	pmHook                                         PathManager
	pmgr                                           *pm.Manager
	pmActs                                         []pm.Action
	announced                                      []announcement
	localAddrs                                     [8]struct {
		id   uint8
		addr netip.Addr
	}
}

// PathManager is what a connection tells its path manager. UsePathManager
// installs the built-in one (package mptcp/pm); SetPathManager any other.
type PathManager interface {
	// Established reports that the connection became fully established.
	Established(c *Conn, now time.Duration)
	// SubflowUp reports a subflow that can carry data.
	SubflowUp(c *Conn, sf *Subflow, now time.Duration)
	// AddAddr reports a verified ADD_ADDR from the peer.
	AddAddr(c *Conn, a *mptcp.AddAddr, now time.Duration)
	// RemoveAddr reports a REMOVE_ADDR from the peer.
	RemoveAddr(c *Conn, id uint8, now time.Duration)
	// SubflowClosed reports a subflow that ended (err nil: orderly).
	SubflowClosed(c *Conn, sf *Subflow, err error, now time.Duration)
}

// SetPathManager installs a path manager hook.
func (c *Conn) SetPathManager(p PathManager) { c.pmHook = p }

func newConn(cfg Config, client bool) (*Conn, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	g, err := coupled.New(cfg.CC)
	if err != nil {
		return nil, err
	}
	c := &Conn{cfg: cfg, mib: cfg.MIB, group: g, sched: cfg.Scheduler, client: client}
	c.reinj = make([][2]uint64, 0, 64)
	c.announced = make([]announcement, 0, 8)
	c.subflows = make([]*Subflow, 0, cfg.MaxSubflows)
	return c, nil
}

// Dial creates a client connection on tuple t whose first subflow sends
// a SYN with MP_CAPABLE (a plain SYN with Config.NoMPTCP). Drive the
// returned subflow with Input/Output like every other.
func Dial(cfg Config, t tcp.FourTuple, iss seqnum.Value, now time.Duration) (*Conn, *Subflow, error) {
	c, err := newConn(cfg, true)
	if err != nil {
		return nil, nil, err
	}
	c.now = now
	if !cfg.NoMPTCP {
		k, tok, idsn, err := cfg.Tokens.NewLocalKey(c)
		if err != nil {
			c.mib.Inc(mptcp.MibMPFallbackTokenInit)
			c.cfg.NoMPTCP = true
		} else {
			c.localKey, c.localToken, c.localIDSN, c.registered = k, tok, idsn, true
			c.mpc = true
			c.csum = cfg.Checksum
		}
	}
	sf := c.newSubflow(t, iss, roleMPC)
	ep, err := tcp.NewActive(sf.tcpConfig(iss), now)
	if err != nil {
		c.release()
		return nil, nil, err
	}
	sf.ep = ep
	if c.mpc {
		c.mib.Inc(mptcp.MibMPCapableSYNTX)
	}
	c.event(Event{Type: EventCreated})
	return c, sf, nil
}

// Accept creates the server connection for syn, a SYN that ClassifySYN
// called NewConn (or Plain: the connection then runs in fallback mode).
// Its subflow's first Output is the SYN/ACK.
func Accept(cfg Config, t tcp.FourTuple, syn *tcp.Segment, iss seqnum.Value, now time.Duration) (*Conn, *Subflow, error) {
	c, err := newConn(cfg, false)
	if err != nil {
		return nil, nil, err
	}
	c.now = now
	var r mptcp.Received
	_ = mptcp.ParseTCPOptions(syn.Options.Ext, &r)
	if r.Present.Has(mptcp.SubtypeCapable) && r.Capable.Version == mptcp.Version1 {
		c.mib.Inc(mptcp.MibMPCapableSYNRX)
		if !cfg.NoMPTCP {
			k, tok, idsn, err := cfg.Tokens.NewLocalKey(c)
			if err != nil {
				c.mib.Inc(mptcp.MibMPFallbackTokenInit)
			} else {
				c.localKey, c.localToken, c.localIDSN, c.registered = k, tok, idsn, true
				c.mpc = true
				c.csum = cfg.Checksum || r.Capable.Flags&mptcp.CapableChecksum != 0
			}
		}
	}
	sf := c.newSubflow(t, iss, roleMPC)
	sf.peerWS = syn.Options.HasWScale
	sf.irs = syn.Seq
	sf.rxNxt = syn.Seq + 1
	sf.rxMapEnd = sf.rxNxt
	if !c.mpc {
		c.enterFallback(sf)
		sf.fbSeq, sf.fbDSN = sf.rxNxt, 0
	}
	ep, err := tcp.NewPassive(sf.tcpConfig(iss), syn, now)
	if err != nil {
		c.release()
		return nil, nil, err
	}
	sf.ep = ep
	c.event(Event{Type: EventCreated})
	return c, sf, nil
}

// SYNKind is what a listener should do with a SYN (ClassifySYN).
type SYNKind uint8

// SYN kinds.
const (
	// SYNPlain: no MPTCP option: plain TCP (or Accept in fallback mode).
	SYNPlain SYNKind = iota
	// SYNNewConn: MP_CAPABLE: a new MPTCP connection (Accept).
	SYNNewConn
	// SYNJoin: MP_JOIN: a new subflow of the connection with the returned token (AcceptJoin).
	SYNJoin
)

// ClassifySYN tells a listener what a SYN asks for: plain TCP, a new MPTCP
// connection, or a subflow joining the connection whose local token is
// returned. It does not allocate.
func ClassifySYN(syn *tcp.Segment) (SYNKind, uint32) {
	var r mptcp.Received
	_ = mptcp.ParseTCPOptions(syn.Options.Ext, &r)
	switch {
	case r.Present.Has(mptcp.SubtypeJoin) && r.Join.Form == mptcp.JoinSYN:
		return SYNJoin, r.Join.Token
	case r.Present.Has(mptcp.SubtypeCapable) && r.Capable.Version == mptcp.Version1 && r.Capable.Keys == 0:
		return SYNNewConn, 0
	}
	return SYNPlain, 0
}

// AcceptJoin handles an MP_JOIN SYN: it finds the connection by token in
// table and creates the subflow whose first Output is the SYN/ACK with the
// truncated HMAC. An unknown token (MPJoinNoTokenFound) or a refused join
// returns an error: answer the SYN with a RST. mib may be nil.
func AcceptJoin(table *mptcp.TokenTable[*Conn], mib *mptcp.Counters, t tcp.FourTuple, syn *tcp.Segment, iss seqnum.Value, now time.Duration) (*Conn, *Subflow, error) {
	var r mptcp.Received
	_ = mptcp.ParseTCPOptions(syn.Options.Ext, &r)
	if !r.Present.Has(mptcp.SubtypeJoin) || r.Join.Form != mptcp.JoinSYN {
		return nil, nil, ErrNotJoin
	}
	c, ok := table.Lookup(r.Join.Token)
	if !ok {
		if mib != nil {
			mib.Inc(mptcp.MibMPJoinSynRx)
			mib.Inc(mptcp.MibMPJoinNoTokenFound)
		}
		return nil, nil, ErrUnknownToken
	}
	sf, err := c.acceptJoin(t, syn, &r, iss, now)
	if err != nil {
		return nil, nil, err
	}
	return c, sf, nil
}

func (c *Conn) acceptJoin(t tcp.FourTuple, syn *tcp.Segment, r *mptcp.Received, iss seqnum.Value, now time.Duration) (*Subflow, error) {
	c.now = now
	c.mib.Inc(mptcp.MibMPJoinSynRx)
	if r.Join.Backup {
		c.mib.Inc(mptcp.MibMPJoinSynBackupRx)
	}
	if c.fallback || !c.fullyEst || c.err != nil || c.closing || c.live() >= c.cfg.MaxSubflows {
		c.mib.Inc(mptcp.MibMPJoinRejected)
		return nil, ErrJoinRejected
	}
	sf := c.newSubflow(t, iss, roleJoinServer)
	sf.peerWS = syn.Options.HasWScale
	sf.remoteNonce = r.Join.Nonce
	sf.localNonce = c.cfg.Rand()
	sf.remoteID = r.Join.AddrID
	sf.peerBackup = r.Join.Backup
	for _, a := range c.localAddrs {
		if a.addr.IsValid() && a.addr == t.LocalAddr {
			sf.localID = a.id // the SYN came to an address we announced
		}
	}
	ep, err := tcp.NewPassive(sf.tcpConfig(iss), syn, now)
	if err != nil {
		c.dropSubflow(sf)
		return nil, err
	}
	sf.ep = ep
	sf.irs = syn.Seq
	sf.rxNxt = syn.Seq + 1
	return sf, nil
}

// Join opens an additional subflow on tuple t (client side, after the
// connection is fully established): its first Output is a SYN with MP_JOIN.
// localID is the address id of t's local address (0 for the initial one).
func (c *Conn) Join(t tcp.FourTuple, iss seqnum.Value, localID uint8, backup bool, now time.Duration) (*Subflow, error) {
	c.now = now
	if c.fallback || !c.fullyEst || c.err != nil || c.closing {
		return nil, ErrFallback
	}
	if c.live() >= c.cfg.MaxSubflows {
		return nil, ErrJoinRejected
	}
	sf := c.newSubflow(t, iss, roleJoinClient)
	sf.localNonce = c.cfg.Rand()
	sf.localID = localID
	sf.backup = backup
	ep, err := tcp.NewActive(sf.tcpConfig(iss), now)
	if err != nil {
		c.dropSubflow(sf)
		return nil, err
	}
	sf.ep = ep
	c.mib.Inc(mptcp.MibMPJoinSynTx)
	return sf, nil
}

// live counts the subflows that are not closed.
func (c *Conn) live() int {
	n := 0
	for _, sf := range c.subflows {
		if !sf.closed {
			n++
		}
	}
	return n
}

func (c *Conn) newSubflow(t tcp.FourTuple, iss seqnum.Value, role sfRole) *Subflow {
	if len(c.subflows) >= c.cfg.MaxSubflows {
		// Forget closed subflows (failed joins and retries would
		// otherwise pile up over a long outage).
		k := 0
		for _, x := range c.subflows {
			if !x.closed {
				c.subflows[k] = x
				k++
			}
		}
		clear(c.subflows[k:])
		c.subflows = c.subflows[:k]
		c.next, c.picked = 0, 0
	}
	sf := &Subflow{c: c, tuple: t, role: role, iss: iss, id: c.nextID}
	c.nextID++
	sf.txUna, sf.txEnd = iss+1, iss+1
	sf.tx = make([]txMap, 0, 256)
	sf.rx = make([]rxMap, 0, 64)
	sf.ctl = c.group.NewSubflow()
	c.subflows = append(c.subflows, sf)
	return sf
}

func (c *Conn) dropSubflow(sf *Subflow) {
	for i, x := range c.subflows {
		if x == sf {
			c.subflows = append(c.subflows[:i], c.subflows[i+1:]...)
			break
		}
	}
	c.group.Remove(sf.ctl)
}

// release forgets the token.
func (c *Conn) release() {
	if c.registered {
		c.cfg.Tokens.Remove(c.localToken)
		c.registered = false
	}
}

// setRemoteKey learns the peer's key (MP_CAPABLE) and sets up the DSN spaces.
func (c *Conn) setRemoteKey(k mptcp.Key) {
	c.remoteKey = k
	c.remoteToken, c.remoteIDSN = k.TokenIDSN()
	c.initBuffers(c.localIDSN+1, c.remoteIDSN+1)
}

func (c *Conn) initBuffers(sndStart, rcvStart uint64) {
	if c.bufReady {
		return
	}
	c.bufReady = true
	c.sndBase, c.rcvBase = sndStart, rcvStart
	if m := c.cfg.SendMem; len(m) >= 4096 && len(m)&(len(m)-1) == 0 {
		c.snd = sendBuf{buf: m, mask: uint64(len(m) - 1)}
		c.sndShared = true
	} else {
		c.snd = newSendBuf(c.cfg.SendBufSize, 0)
	}
	if m := c.cfg.RecvMem; len(m) >= 4096 && len(m)&(len(m)-1) == 0 {
		c.rcv = recvBuf{buf: m, mask: uint64(len(m) - 1), ooo: newRanges(c.cfg.MaxOOORanges)}
		c.rcvShared = true
	} else {
		c.rcv = newRecvBuf(c.cfg.RecvBufSize, c.cfg.MaxOOORanges, 0)
	}
}

// enterFallback turns the connection into plain TCP over sf.
func (c *Conn) enterFallback(sf *Subflow) {
	if c.fallback {
		return
	}
	c.fallback = true
	c.mpc = false
	c.fullyEst = false
	c.initBuffers(0, 0)
	sf.fbRx = true
	c.release()
}

// event sends e to the sink with the connection's token filled in.
func (c *Conn) event(e Event) {
	if c.cfg.Events == nil {
		return
	}
	e.Token = c.localToken
	c.cfg.Events(e)
}

// MIB returns the counters the connection increments.
func (c *Conn) MIB() *mptcp.Counters { return c.mib }

// Token returns the local token (0 before keys exist or in fallback without keys).
func (c *Conn) Token() uint32 { return c.localToken }

// Fallback reports whether the connection runs as plain TCP.
func (c *Conn) Fallback() bool { return c.fallback }

// Checksums reports whether DSS checksums are in use.
func (c *Conn) Checksums() bool { return c.csum && !c.fallback }

// FullyEstablished reports whether both keys are known and confirmed (or
// the connection fell back and its subflow is established).
func (c *Conn) FullyEstablished() bool {
	if c.fallback {
		return len(c.subflows) > 0 && c.subflows[0].ep != nil && c.subflows[0].ep.State() >= tcp.Established
	}
	return c.fullyEst
}

// Err returns why the connection failed, or nil.
func (c *Conn) Err() error { return c.err }

// SubflowList returns the subflows (do not modify the slice).
func (c *Conn) SubflowList() []*Subflow { return c.subflows }

// RefuseSYN builds the RST (with ACK) that answers a SYN the listener
// refuses (an MP_JOIN for an unknown token, a refused join): it carries
// MP_TCPRST with reason, written into buf (at least mptcp.TCPRSTLen
// bytes), which the returned segment's options alias.
func RefuseSYN(syn *tcp.Segment, reason mptcp.ResetReason, buf []byte) tcp.Segment {
	seg := tcp.Segment{Seq: 0, Ack: syn.Seq.Add(seqnum.Size(syn.Len())), Flags: tcp.FlagRST | tcp.FlagACK}
	o := mptcp.TCPRST{Reason: reason}
	if len(buf) >= o.Size() {
		seg.Options.Ext = buf[:o.Write(buf)]
	}
	return seg
}
