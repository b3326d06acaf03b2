package conn

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/simnet"
	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/pm"
	"github.com/mpxdp/mpxdp/stack/seqnum"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// The tests' own wire format over simnet: addresses and ports, then the
// segment (the real encoding lives in stack/header).
func encodePkt(dst []byte, t tcp.FourTuple, s *tcp.Segment) []byte {
	o := &s.Options
	b := dst[:0]
	la, ra := t.LocalAddr.As4(), t.RemoteAddr.As4()
	b = append(b, la[:]...)
	b = append(b, ra[:]...)
	b = binary.BigEndian.AppendUint16(b, t.LocalPort)
	b = binary.BigEndian.AppendUint16(b, t.RemotePort)
	b = binary.BigEndian.AppendUint32(b, uint32(s.Seq))
	b = binary.BigEndian.AppendUint32(b, uint32(s.Ack))
	b = append(b, byte(s.Flags))
	b = binary.BigEndian.AppendUint16(b, s.Window)
	b = binary.BigEndian.AppendUint16(b, o.MSS)
	var fl byte
	if o.HasWScale {
		fl |= 1
	}
	if o.SACKPermitted {
		fl |= 2
	}
	if o.HasTS {
		fl |= 4
	}
	b = append(b, fl, o.WScale, o.NumSACK)
	for i := 0; i < int(o.NumSACK); i++ {
		b = binary.BigEndian.AppendUint32(b, uint32(o.SACK[i].Start))
		b = binary.BigEndian.AppendUint32(b, uint32(o.SACK[i].End))
	}
	b = binary.BigEndian.AppendUint32(b, o.TSVal)
	b = binary.BigEndian.AppendUint32(b, o.TSEcr)
	b = append(b, byte(len(o.Ext)))
	b = append(b, o.Ext...)
	return append(b, s.Payload...)
}

// decodePkt parses a packet into the receiver's tuple and s.
func decodePkt(p []byte, t *tcp.FourTuple, s *tcp.Segment) bool {
	if len(p) < 12+17 {
		return false
	}
	t.RemoteAddr = netip.AddrFrom4([4]byte(p[0:4]))
	t.LocalAddr = netip.AddrFrom4([4]byte(p[4:8]))
	t.RemotePort = binary.BigEndian.Uint16(p[8:])
	t.LocalPort = binary.BigEndian.Uint16(p[10:])
	p = p[12:]
	*s = tcp.Segment{}
	o := &s.Options
	s.Seq = seqnum.Value(binary.BigEndian.Uint32(p))
	s.Ack = seqnum.Value(binary.BigEndian.Uint32(p[4:]))
	s.Flags = tcp.Flags(p[8])
	s.Window = binary.BigEndian.Uint16(p[9:])
	o.MSS = binary.BigEndian.Uint16(p[11:])
	fl := p[13]
	o.HasWScale, o.SACKPermitted, o.HasTS = fl&1 != 0, fl&2 != 0, fl&4 != 0
	o.WScale, o.NumSACK = p[14], p[15]
	p = p[16:]
	if o.NumSACK > tcp.MaxSACKBlocks || len(p) < 8*int(o.NumSACK)+9 {
		return false
	}
	for i := 0; i < int(o.NumSACK); i++ {
		o.SACK[i] = tcp.SACKBlock{Start: seqnum.Value(binary.BigEndian.Uint32(p)), End: seqnum.Value(binary.BigEndian.Uint32(p[4:]))}
		p = p[8:]
	}
	o.TSVal = binary.BigEndian.Uint32(p)
	o.TSEcr = binary.BigEndian.Uint32(p[4:])
	n := int(p[8])
	p = p[9:]
	if len(p) < n {
		return false
	}
	if n > 0 {
		o.Ext = p[:n]
	}
	s.Payload = p[n:]
	return true
}

// pattern is the source of the test streams (period not aligned to segments).
var pattern = func() []byte {
	r := rand.New(rand.NewPCG(3, 4))
	p := make([]byte, 1<<20)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}()

const patternPeriod = 1<<20 - 13

func streamAt(off int64, n int) []byte {
	i := int(off % patternPeriod)
	return pattern[i:min(i+n, patternPeriod)]
}

// addr returns host h's (0 client, 1 server) address on path i.
func addr(h, i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(h), byte(i), 1}) }

// pathOf returns the path of an address made by addr.
func pathOf(a netip.Addr) int { return int(a.As4()[2]) }

type flowRef struct {
	c  *Conn
	sf *Subflow
}

// host is one end of a simnet test: connections, a listener, an
// application that writes toSend bytes then closes, and reads everything.
type host struct {
	t       testing.TB
	name    string
	id      int
	sim     *simnet.Sim
	out     []*simnet.Link // per path, to the peer
	cfg     Config
	mib     *mptcp.MIB
	tokens  *mptcp.TokenTable[*Conn]
	conns   []*Conn
	flows   map[tcp.FourTuple]flowRef
	frame   []byte
	pkt     []byte
	rbuf    []byte
	seg     tcp.Segment
	timerAt time.Duration
	lastEv  time.Duration
	sameEv  int
	nextPt  uint16

	toSend   int64
	sent     int64
	sendHash hash.Hash
	recvd    int64
	recvHash hash.Hash
	eof      bool
	doneAt   time.Duration
	events   []Event
	joinTo   int  // client: open subflows on paths 1..joinTo-1 once fully established
	joined   bool // client: joins opened
	rsts     int  // RSTs the listener would send (refused SYNs)
	drop     func(path int, s *tcp.Segment) bool
	pmCfg    *pm.Config
	actions  []pm.Action
	app2     func() // extra application step (tests)
	noRead   bool   // the application does not read (zero-window tests)
	mangle   func(path int, t tcp.FourTuple, s *tcp.Segment)
	strict   bool // drop out-of-order data beyond the advertised window, as Linux does
	// txQueue > 0 models the stack's transmit queues: a subflow whose
	// path has txQueue bytes or more waiting to be serialised is blocked
	// (SetBlocked) until they drain; maxQueued is the most seen.
	txQueue   int
	maxQueued int
	down      func(path int) bool // a path whose device takes no frame (blocked), when it reports true
}

func newHost(t testing.TB, name string, id int, sim *simnet.Sim, cfg Config) *host {
	h := &host{t: t, name: name, id: id, sim: sim, cfg: cfg, mib: mptcp.NewMIB(1), tokens: mptcp.NewTokenTable[*Conn](),
		flows: map[tcp.FourTuple]flowRef{}, frame: make([]byte, 65536), pkt: make([]byte, 0, 70000),
		rbuf: make([]byte, 256<<10), sendHash: sha256.New(), recvHash: sha256.New(), nextPt: 40000}
	h.cfg.Tokens = h.tokens
	h.cfg.MIB = h.mib.Worker(0)
	h.cfg.Events = func(e Event) { h.events = append(h.events, e) }
	r := sim.Rand()
	h.cfg.Rand = func() uint32 { return r.Uint32() }
	return h
}

type pathRx struct {
	h    *host
	path int
}

func (p *pathRx) Receive(now time.Duration, pkt []byte) { p.h.receive(now, p.path, pkt) }

// net links two hosts with n paths of the given configurations.
func link(sim *simnet.Sim, a, b *host, cfgs ...simnet.LinkConfig) {
	for i, cfg := range cfgs {
		a.out = append(a.out, sim.NewLink(cfg, &pathRx{b, i}))
		b.out = append(b.out, sim.NewLink(cfg, &pathRx{a, i}))
	}
}

func (h *host) receive(now time.Duration, path int, pkt []byte) {
	var tu tcp.FourTuple
	if !decodePkt(pkt, &tu, &h.seg) {
		h.t.Fatalf("%s: undecodable packet", h.name)
	}
	if h.drop != nil && h.drop(path, &h.seg) {
		return
	}
	if f, ok := h.flows[tu]; ok {
		f.c.Input(f.sf, &h.seg, now)
	} else if h.seg.Flags == tcp.FlagSYN {
		h.listen(now, tu)
	} else {
		return
	}
	h.flush(now)
}

func (h *host) listen(now time.Duration, tu tcp.FourTuple) {
	iss := seqnum.Value(h.sim.Rand().Uint32())
	kind, _ := ClassifySYN(&h.seg)
	switch kind {
	case SYNJoin:
		c, sf, err := AcceptJoin(h.tokens, h.cfg.MIB, tu, &h.seg, iss, now)
		if err != nil {
			h.rsts++
			var b [8]byte
			rst := RefuseSYN(&h.seg, mptcp.ResetMPTCPError, b[:])
			h.pkt = encodePkt(h.pkt, tu, &rst)
			h.out[pathOf(tu.RemoteAddr)].Send(h.pkt)
			return
		}
		h.flows[tu] = flowRef{c, sf}
	default:
		c, sf, err := Accept(h.cfg, tu, &h.seg, iss, now)
		if err != nil {
			h.t.Fatalf("%s: accept: %v", h.name, err)
		}
		c.strictWindow = h.strict
		h.attachPM(c)
		h.conns = append(h.conns, c)
		h.flows[tu] = flowRef{c, sf}
	}
}

// block marks c's subflows blocked whose path queue is full (txQueue) or
// whose path is down.
func (h *host) block(c *Conn) {
	for _, sf := range c.subflows {
		p := pathOf(sf.tuple.LocalAddr)
		if h.id == 1 {
			p = pathOf(sf.tuple.RemoteAddr)
		}
		sf.SetBlocked((h.txQueue > 0 && h.out[p].QueuedBytes() >= h.txQueue) || (h.down != nil && h.down(p)))
	}
}

// dial opens the client connection on path 0.
func (h *host) dial(now time.Duration) *Conn {
	tu := tcp.FourTuple{LocalAddr: addr(h.id, 0), RemoteAddr: addr(1-h.id, 0), LocalPort: h.nextPt, RemotePort: 80}
	h.nextPt++
	c, sf, err := Dial(h.cfg, tu, seqnum.Value(h.sim.Rand().Uint32()), now)
	if err != nil {
		h.t.Fatal(err)
	}
	c.strictWindow = h.strict
	h.attachPM(c)
	h.conns = append(h.conns, c)
	h.flows[tu] = flowRef{c, sf}
	h.flush(now)
	return c
}

// join opens a subflow of c on path p.
func (h *host) join(c *Conn, p int, now time.Duration) (*Subflow, error) {
	tu := tcp.FourTuple{LocalAddr: addr(h.id, p), RemoteAddr: addr(1-h.id, p), LocalPort: h.nextPt, RemotePort: 80}
	h.nextPt++
	sf, err := c.Join(tu, seqnum.Value(h.sim.Rand().Uint32()), uint8(p), false, now)
	if err != nil {
		return nil, err
	}
	h.flows[tu] = flowRef{c, sf}
	return sf, nil
}

func (h *host) HandleEvent(now time.Duration, _ uint64) {
	if now == h.lastEv {
		h.sameEv++
		if h.sameEv > 100000 {
			h.t.Fatalf("%s: timer loop at %v: a deadline in the past is never cleared", h.name, now)
		}
	} else {
		h.lastEv, h.sameEv = now, 0
	}
	if now >= h.timerAt {
		h.timerAt = 0
	}
	for _, c := range h.conns {
		if t := c.NextTimer(); t != 0 && t <= now {
			c.OnTimer(now)
		}
	}
	h.flush(now)
}

// flush runs the application and sends everything the connections have.
func (h *host) flush(now time.Duration) {
	for round := 0; round < 4; round++ {
		h.app(now)
		moved := false
		for _, c := range h.conns {
			for {
				if h.txQueue > 0 || h.down != nil {
					h.block(c)
				}
				sf, seg, ok := c.Output(now, h.frame[:1500])
				if !ok {
					break
				}
				moved = true
				tu := sf.Tuple()
				// The path is the client's interface: its address picks it.
				p := pathOf(tu.LocalAddr)
				if h.id == 1 {
					p = pathOf(tu.RemoteAddr)
				}
				if h.mangle != nil {
					h.mangle(p, tu, &seg)
				}
				h.pkt = encodePkt(h.pkt, tu, &seg)
				h.out[p].Send(h.pkt)
				h.maxQueued = max(h.maxQueued, h.out[p].QueuedBytes())
			}
		}
		if !moved {
			break
		}
	}
	var t time.Duration
	for _, c := range h.conns {
		if x := c.NextTimer(); x != 0 && (t == 0 || x < t) {
			t = x
		}
		if x := c.PathTimer(); x != 0 && (t == 0 || x < t) {
			t = max(x, now+time.Microsecond)
		}
	}
	if t != 0 && (h.timerAt == 0 || t < h.timerAt) {
		h.timerAt = t
		h.sim.Schedule(t, h, 0)
	}
}

// app writes the stream, reads what arrived, and closes when done.
func (h *host) app(now time.Duration) {
	if len(h.conns) == 0 {
		return
	}
	c := h.conns[0]
	if h.app2 != nil {
		h.app2()
	}
	h.runPM(now)
	if h.joinTo > 1 && !h.joined && c.FullyEstablished() && !c.Fallback() {
		h.joined = true
		for p := 1; p < h.joinTo; p++ {
			if _, err := h.join(c, p, now); err != nil {
				h.t.Errorf("%s: join path %d: %v", h.name, p, err)
			}
		}
	}
	for h.sent < h.toSend {
		b := streamAt(h.sent, int(min(h.toSend-h.sent, 64<<10)))
		n := c.Write(b)
		if n == 0 {
			break
		}
		h.sendHash.Write(b[:n])
		h.sent += int64(n)
		if h.sent == h.toSend {
			c.CloseWrite()
		}
	}
	for !h.noRead {
		n := c.Read(h.rbuf)
		if n == 0 {
			break
		}
		h.recvHash.Write(h.rbuf[:n])
		h.recvd += int64(n)
	}
	if !h.eof && c.PeerClosed() {
		h.eof = true
		h.doneAt = now
		if h.toSend == 0 {
			c.CloseWrite()
		}
	}
}

// expectedHash is the SHA-256 of the first n stream bytes.
func expectedHash(n int64) []byte {
	h := sha256.New()
	for off := int64(0); off < n; {
		b := streamAt(off, int(min(n-off, 1<<20)))
		h.Write(b)
		off += int64(len(b))
	}
	return h.Sum(nil)
}

// pair builds a client and a server over paths with cfgs.
func pair(t testing.TB, seed uint64, ccfg, scfg Config, cfgs ...simnet.LinkConfig) (*simnet.Sim, *host, *host) {
	sim := simnet.New(seed)
	cl := newHost(t, "client", 0, sim, ccfg)
	sv := newHost(t, "server", 1, sim, scfg)
	link(sim, cl, sv, cfgs...)
	return sim, cl, sv
}

func (h *host) count(c mptcp.Counter) uint64 {
	s := h.mib.Snapshot()
	return s.Get(c)
}

func (h *host) hasEvent(t EventType) bool {
	for _, e := range h.events {
		if e.Type == t {
			return true
		}
	}
	return false
}

type tcpSegment = tcp.Segment

func equalHash(h *host, n int64) bool {
	return string(h.recvHash.Sum(nil)) == string(expectedHash(n))
}

type tcpTuple = tcp.FourTuple

type tcpSeq = seqnum.Value

func (h *host) attachPM(c *Conn) {
	if h.pmCfg == nil {
		return
	}
	cfg := *h.pmCfg
	if h.id == 1 {
		cfg.Role = pm.Server
	}
	m, err := pm.New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	c.UsePathManager(m)
}

// runPM opens the subflows the path managers ask for (what the stack does).
func (h *host) runPM(now time.Duration) {
	for _, c := range h.conns {
		h.actions = c.PathActions(now, h.actions[:0])
		for _, a := range h.actions {
			p := pathOf(a.Remote.Addr())
			if a.Local.Addr.IsValid() {
				p = pathOf(a.Local.Addr)
			}
			tu := tcp.FourTuple{LocalAddr: addr(h.id, p), RemoteAddr: a.Remote.Addr(), LocalPort: h.nextPt, RemotePort: a.Remote.Port()}
			h.nextPt++
			sf, err := c.Join(tu, seqnum.Value(h.sim.Rand().Uint32()), a.Local.ID, a.Backup, now)
			if err != nil {
				c.PathManager().SubflowDown(tu.LocalAddr, a.Remote, now)
				continue
			}
			h.flows[tu] = flowRef{c, sf}
		}
	}
}
