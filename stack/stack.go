package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/conn"
	"github.com/mpxdp/mpxdp/mptcp/sched"
	"github.com/mpxdp/mpxdp/numa"
	"github.com/mpxdp/mpxdp/stack/header"
	"github.com/mpxdp/mpxdp/stack/link"
	"github.com/mpxdp/mpxdp/stack/neigh"
	"github.com/mpxdp/mpxdp/stack/tcp"
	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

// waker interrupts a worker sleeping in its queue's Wait.
type waker interface{ Wake() }

// chanWaker is the wake-up of workers whose queues cannot be interrupted
// (link.Pipe): the worker sleeps on a channel for at most pollSlice at a
// time (the queue gets no notification of arriving frames), and
// application commands and hand-offs end the sleep at once.
type chanWaker struct {
	ch    chan struct{}
	timer *time.Timer
}

const pollSlice = 50 * time.Microsecond

// spinPolite and spinPinned are the default Config.SpinBeforeSleep of a
// worker without and with a pinned core. An unpinned worker yields its P
// between polls, so a long spin costs the application sharing the P
// little and spares sleeps and wake-ups; a pinned one holds its core while
// it spins (in BenchmarkPipeGoodput/MTU9000-pinned 50 µs gave 42-59
// Gbit/s, 5 µs 73).
const (
	spinPolite = 50 * time.Microsecond
	spinPinned = 5 * time.Microsecond
)

func newChanWaker() *chanWaker {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &chanWaker{ch: make(chan struct{}, 1), timer: t}
}

// Wake implements waker.
func (c *chanWaker) Wake() {
	select {
	case c.ch <- struct{}{}:
	default:
	}
}

func (c *chanWaker) wait(q link.Queue, d time.Duration) {
	_ = q.Wait(0)
	c.timer.Reset(min(d, pollSlice))
	select {
	case <-c.ch:
		c.timer.Stop()
	case <-c.timer.C:
	}
}

// Stack is a user-space TCP/IP host: interfaces with addresses, one worker
// per queue index, listeners and connections. Its methods are safe for
// concurrent use.
type Stack struct {
	cfg      Config
	tcpCfg   tcp.Config
	rcvShift uint8
	ifaces   []*iface
	local    []netip.Addr
	neigh    *neigh.Cache
	sec      *secrets
	workers  []*worker
	wakers   []waker
	cores    [][]int // cores[worker] per interface, first wins
	epoch    time.Time

	lmu       sync.Mutex
	listeners atomic.Pointer[map[uint16]*listener]

	cmu   sync.Mutex
	conns map[*Conn]struct{}

	// MPTCP: the token table of every connection, the MIB (one set of
	// counters per worker), and each connection's owner (control plane:
	// MP_JOIN SYNs look the owner up).
	tokens   *mptcp.TokenTable[*conn.Conn]
	mib      *mptcp.MIB
	mpOwners sync.Map // *conn.Conn -> *mpConn
	events   eventHub // MPTCP event subscribers (SubscribeEvents)

	rr      atomic.Uint32
	closed  atomic.Bool
	wg      sync.WaitGroup
	closers []func() error // device teardown after the workers stop
}

// NewLinks builds a stack over caller-provided queues (for example the
// two ends of a link.Pipe) and starts its workers.
func NewLinks(cfg Config, links []Link) (*Stack, error) {
	s, err := newHost(cfg, links)
	if err != nil {
		return nil, err
	}
	s.start()
	return s, nil
}

// newHost builds the stack and its workers without starting goroutines
// (tests drive the workers directly with virtual time).
func newHost(cfg Config, links []Link) (*Stack, error) {
	cfg.setDefaults()
	if _, err := cc.New(cfg.CC); err != nil {
		return nil, fmt.Errorf("stack: Config.CC: %w", err)
	}
	if _, err := sched.New(cfg.MPTCPScheduler); err != nil {
		return nil, fmt.Errorf("stack: Config.MPTCPScheduler: %w", err)
	}
	if len(links) == 0 {
		return nil, errors.New("stack: no interfaces: give Config.Interfaces (New) or links (NewLinks)")
	}
	s := &Stack{cfg: cfg, tcpCfg: cfg.TCP, neigh: neigh.New(), sec: newSecrets(), epoch: time.Now(), conns: map[*Conn]struct{}{}}
	s.tcpCfg.CC = nil
	s.tcpCfg.Send, s.tcpCfg.Recv, s.tcpCfg.Ext = nil, nil, nil
	// The application's receive ring is each engine's receive buffer (no
	// autotuning): the window scale must cover its whole size.
	if n := newByteRingSize(cfg.RecvBuffer); s.tcpCfg.RecvBufMax < n {
		s.tcpCfg.RecvBufMax = n
	}
	maxBuf := s.tcpCfg.RecvBufMax
	if maxBuf == 0 {
		maxBuf = 16 << 20
	}
	if !s.tcpCfg.NoWindowScale {
		for s.rcvShift < 14 && maxBuf>>s.rcvShift > 65535 {
			s.rcvShift++
		}
	}
	nq := len(links[0].Queues)
	for i, l := range links {
		if len(l.Queues) == 0 {
			return nil, errNoQueues
		}
		if len(l.Queues) != nq {
			return nil, fmt.Errorf("stack: link %q has %d queues and link %q has %d: every link needs the same count (one worker per queue index)",
				l.Name, len(l.Queues), links[0].Name, nq)
		}
		ifc, err := newIface(i, l.Name, l.MAC, l.Addrs, l.MTU)
		if err != nil {
			return nil, err
		}
		ifc.pkt = ifc.mtu
		for _, q := range l.Queues {
			ifc.pkt = min(ifc.pkt, q.FrameSize()-ethLen)
		}
		if ifc.pkt < 576 {
			return nil, fmt.Errorf("stack: link %q: frames of %d bytes are too small for IP (576 bytes plus the Ethernet header)", l.Name, ifc.pkt+ethLen)
		}
		s.ifaces = append(s.ifaces, ifc)
		for _, p := range ifc.v4 {
			s.local = append(s.local, p.Addr())
		}
		for _, p := range ifc.v6 {
			s.local = append(s.local, p.Addr())
		}
	}
	for _, g := range cfg.Gateways {
		if _, _, err := s.onLink(g.Unmap()); err != nil {
			return nil, fmt.Errorf("stack: gateway %v is on none of the interfaces' prefixes: add a prefix that contains it", g)
		}
	}
	m := map[uint16]*listener{}
	s.listeners.Store(&m)
	s.tokens = mptcp.NewTokenTable[*conn.Conn]()
	s.mib = mptcp.NewMIB(nq)
	s.wakers = make([]waker, nq)
	for i := range s.wakers {
		// A worker whose queues can be woken sleeps in its first queue's
		// Wait (frames and commands end the sleep at once): a single
		// queue, or pipe ends joined into one wait (a worker serving
		// several interfaces). Others poll their queues every pollSlice
		// while they sleep on a channel.
		qs := make([]link.Queue, len(links))
		for j, l := range links {
			qs[j] = l.Queues[i]
		}
		if wk, ok := qs[0].(link.Waker); ok && (len(qs) == 1 || link.JoinQueueWaits(qs)) {
			s.wakers[i] = wk
		} else {
			s.wakers[i] = newChanWaker()
		}
	}
	s.cores = make([][]int, nq)
	for w := 0; w < nq; w++ {
		qs := make([]link.Queue, len(links))
		for i, l := range links {
			qs[i] = l.Queues[w]
			if w < len(l.Cores) {
				s.cores[w] = append(s.cores[w], l.Cores[w])
			}
		}
		s.workers = append(s.workers, newWorker(s, w, qs))
	}
	return s, nil
}

// start runs one goroutine per worker.
func (s *Stack) start() {
	for _, w := range s.workers {
		core := -1
		if len(s.cores[w.id]) > 0 {
			core = s.cores[w.id][0]
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			w.run(core)
		}()
	}
}

// now returns the stack's monotonic time.
func (s *Stack) now() time.Duration { return time.Since(s.epoch) }

// run is a worker's loop: it reads the clock once per iteration, polls
// its queues, and sleeps in Queue.Wait until the next timer when idle.
// Given a core, it owns the calling OS thread, pinned there. Without one
// it stays an ordinary goroutine: when it sleeps or yields, Go runs the
// application goroutine it just woke on the same P with no thread switch
// (a locked thread hands its P to another thread and back instead, which
// costs two futex wake-ups per sleep where the workers and the
// applications share few cores).
func (w *worker) run(core int) {
	if core >= 0 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		_ = numa.PinThread(core)
	}
	busy := w.st.cfg.BusyPoll
	maxWait := w.st.cfg.MaxIdleWait
	spin := w.st.cfg.SpinBeforeSleep
	if spin <= 0 {
		spin = spinPolite
		if core >= 0 {
			spin = spinPinned
		}
	}
	cw, _ := w.st.wakers[w.id].(*chanWaker)
	var lastWork time.Duration
	for !w.stop.Load() {
		now := w.st.now()
		pending := w.cmds.Len() > 0 || w.inbox.Len() > 0
		got := w.pollQueues(now)
		if w.starvedApp() && core < 0 {
			// Let the application goroutine queued on this P run (see
			// starvedApp); a pinned worker's applications run elsewhere.
			runtime.Gosched()
		}
		stalled := w.txStalled()
		if got || pending || len(w.again) > 0 && !stalled {
			lastWork = now
			continue
		}
		// Idle, or stalled: flows wait for transmit frames that only the
		// peer can give back. A stalled worker sleeps at once (spinning
		// would keep the peer's goroutine, which the last transmit woke
		// onto this P, from running) and for at most pollSlice; a pipe
		// end wakes it when the peer gives frames back.
		if busy || !stalled && now-lastWork < spin {
			if !busy && core < 0 {
				// Spin politely: a goroutine this worker woke, or
				// the peer's worker, may be queued on this P.
				runtime.Gosched()
			}
			continue
		}
		d := maxWait
		if t := w.NextTimer(); t != 0 {
			d = min(d, t-now)
		}
		if stalled {
			d = min(d, pollSlice)
		}
		if d <= 0 {
			continue
		}
		w.sleep.Store(true)
		if w.cmds.Len() == 0 && w.inbox.Len() == 0 {
			if cw != nil {
				cw.wait(w.ports[0].q, d)
			} else {
				_ = w.ports[0].q.Wait(d)
			}
		}
		w.sleep.Store(false)
	}
	w.releaseStock()
}

// Stats returns the sum of every worker's counters.
func (s *Stack) Stats() Stats {
	var st Stats
	for _, w := range s.workers {
		w.c.addTo(&st)
	}
	return st
}

// Neighbours returns the number of neighbour-cache entries.
func (s *Stack) Neighbours() int { return s.neigh.Len() }

// Close closes every listener and connection, waits (at most
// Config.CloseTimeout) for the connections to finish their closing
// handshakes, then stops the workers and detaches from the devices.
func (s *Stack) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return net.ErrClosed
	}
	for _, l := range *s.listeners.Load() {
		l.Close()
	}
	s.cmu.Lock()
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.cmu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	deadline := time.Now().Add(s.cfg.CloseTimeout)
	for time.Now().Before(deadline) {
		open := int64(0)
		for _, w := range s.workers {
			open += w.nbusy.Load()
		}
		if open == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for _, w := range s.workers {
		w.stop.Store(true)
		w.wake()
	}
	s.wg.Wait()
	s.events.closeAll()
	var errs []error
	for _, f := range s.closers {
		errs = append(errs, f())
	}
	return errors.Join(errs...)
}

// --- addresses and routes ---

func (s *Stack) isLocal(a netip.Addr) bool {
	for _, l := range s.local {
		if l == a {
			return true
		}
	}
	return false
}

// wantMulticast6 reports whether dst is a multicast group the stack
// listens to: all-nodes or the solicited-node group of one of its
// addresses.
func (s *Stack) wantMulticast6(dst netip.Addr) bool {
	if dst == netip.IPv6LinkLocalAllNodes() {
		return true
	}
	d := dst.As16()
	for _, l := range s.local {
		if l.Is6() && header.SolicitedNodeMulticast(l.As16()) == d {
			return true
		}
	}
	return false
}

func (s *Stack) mssFor(ifc *iface, v6 bool) int {
	return ifc.pkt - ipHeaderLen(v6) - header.TCPMinHeaderLen
}

// onLink finds the interface and source address for an on-link dst.
func (s *Stack) onLink(dst netip.Addr) (*iface, netip.Addr, error) {
	for _, ifc := range s.ifaces {
		ps := ifc.v4
		if dst.Is6() {
			ps = ifc.v6
		}
		for _, p := range ps {
			if p.Contains(dst) {
				return ifc, p.Addr(), nil
			}
		}
	}
	return nil, netip.Addr{}, fmt.Errorf("stack: %v is not on any interface's prefix", dst)
}

// route returns the interface, source address and next hop for dst.
// A valid want fixes the source address.
func (s *Stack) route(dst, want netip.Addr) (*iface, netip.Addr, netip.Addr, error) {
	dst = dst.Unmap()
	if ifc, src, err := s.onLink(dst); err == nil {
		if want.IsValid() && !want.IsUnspecified() {
			if !s.isLocal(want) {
				return nil, netip.Addr{}, netip.Addr{}, fmt.Errorf("stack: local address %v is not one of the stack's", want)
			}
			src = want
		}
		return ifc, src, dst, nil
	}
	for _, g := range s.cfg.Gateways {
		g = g.Unmap()
		if g.Is4() != dst.Is4() {
			continue
		}
		if ifc, src, err := s.onLink(g); err == nil {
			if want.IsValid() && !want.IsUnspecified() {
				src = want
			}
			return ifc, src, g, nil
		}
	}
	return nil, netip.Addr{}, netip.Addr{}, fmt.Errorf("stack: no route to %v: add an interface prefix that contains it or a gateway (Config.Gateways)", dst)
}

// sourceFor picks our address on ifc to use toward a.
func (s *Stack) sourceFor(ifc *iface, a netip.Addr) (netip.Addr, bool) {
	ps := ifc.v4
	if a.Is6() {
		ps = ifc.v6
	}
	for _, p := range ps {
		if p.Contains(a) {
			return p.Addr(), true
		}
	}
	if len(ps) > 0 {
		return ps[0].Addr(), true
	}
	return netip.Addr{}, false
}

// --- listeners ---

func (s *Stack) listenerFor(port uint16, laddr netip.Addr) *listener {
	l := (*s.listeners.Load())[port]
	if l == nil || (l.addr.IsValid() && !l.addr.IsUnspecified() && l.addr != laddr) {
		return nil
	}
	return l
}

// Listen announces on the stack's address (or all of them for an empty or
// unspecified host). network is "tcp", "tcp4" or "tcp6". Port 0 picks a
// free port.
func (s *Stack) Listen(network, address string) (net.Listener, error) {
	if s.closed.Load() {
		return nil, &net.OpError{Op: "listen", Net: network, Err: net.ErrClosed}
	}
	ap, err := parseAddr(context.Background(), network, address, true)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	if ap.Addr().IsValid() && !ap.Addr().IsUnspecified() && !s.isLocal(ap.Addr()) {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: net.TCPAddrFromAddrPort(ap),
			Err: fmt.Errorf("stack: %v is not one of the stack's addresses", ap.Addr())}
	}
	s.lmu.Lock()
	defer s.lmu.Unlock()
	old := *s.listeners.Load()
	port := ap.Port()
	if port == 0 {
		for p := uint16(20000); p < 32768; p++ {
			if old[p] == nil {
				port = p
				break
			}
		}
	}
	if port == 0 || old[port] != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: net.TCPAddrFromAddrPort(ap), Err: errAddrInUse}
	}
	l := newListener(s, netip.AddrPortFrom(ap.Addr(), port), s.cfg.Backlog)
	m := make(map[uint16]*listener, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[port] = l
	s.listeners.Store(&m)
	return l, nil
}

func (s *Stack) removeListener(l *listener) {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	old := *s.listeners.Load()
	if old[l.ap.Port()] != l {
		return
	}
	m := make(map[uint16]*listener, len(old))
	for k, v := range old {
		if v != l {
			m[k] = v
		}
	}
	s.listeners.Store(&m)
}

// parseAddr resolves "host:port" for network.
func parseAddr(ctx context.Context, network, address string, listen bool) (netip.AddrPort, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return netip.AddrPort{}, fmt.Errorf("stack: network %q is not supported: use tcp, tcp4 or tcp6", network)
	}
	host, ps, err := net.SplitHostPort(address)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("stack: port %q in %q is not a number", ps, address)
	}
	if host == "" {
		if !listen {
			return netip.AddrPort{}, fmt.Errorf("stack: %q has no host to dial", address)
		}
		return netip.AddrPortFrom(netip.Addr{}, uint16(port)), nil
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		ips, lerr := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if lerr != nil || len(ips) == 0 {
			return netip.AddrPort{}, fmt.Errorf("stack: cannot resolve %q: %v", host, lerr)
		}
		a = ips[0]
	}
	a = a.Unmap()
	if (network == "tcp4" && !a.Is4()) || (network == "tcp6" && !a.Is6()) {
		return netip.AddrPort{}, fmt.Errorf("stack: %v does not belong to network %s", a, network)
	}
	return netip.AddrPortFrom(a, uint16(port)), nil
}

// Dial connects to address over the stack (see DialContext).
func (s *Stack) Dial(network, address string) (net.Conn, error) {
	return s.DialContext(context.Background(), network, address)
}

// DialContext connects to address ("host:port") over network ("tcp",
// "tcp4", "tcp6"). The handshake is bounded by ctx. A host name is
// resolved with Go's resolver over the host's own (kernel) network; give
// IP literals to stay within the stack.
func (s *Stack) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := parseAddr(ctx, network, address, false)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	return s.DialAddrPort(ctx, netip.AddrPort{}, ap)
}

// DialAddrPort connects from laddr (zero: chosen by the stack) to raddr.
func (s *Stack) DialAddrPort(ctx context.Context, laddr, raddr netip.AddrPort) (*Conn, error) {
	if s.closed.Load() {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(raddr), Err: net.ErrClosed}
	}
	w := s.workers[int(s.rr.Add(1))%len(s.workers)]
	c := s.newConn(nil, w)
	c.laddr, c.raddr = laddr, raddr
	for !w.cmds.Enqueue(command{op: opDial, c: c}) {
		runtime.Gosched()
	}
	w.wake()
	for {
		st := c.status.Load()
		if st&stFailed != 0 {
			return nil, c.opErr("dial", c.err)
		}
		if st&stEstablished != 0 {
			s.track(c)
			return c, nil
		}
		c.wrWait.Store(true)
		if c.status.Load()&(stFailed|stEstablished) != 0 {
			c.wrWait.Store(false)
			continue
		}
		select {
		case <-c.wrCh:
		case <-ctx.Done():
			c.wrWait.Store(false)
			c.setStatus(stClosed)
			c.request(wantAbort)
			return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(raddr), Err: ctx.Err()}
		}
		c.wrWait.Store(false)
	}
}

func (s *Stack) newConn(key *flowKey, w *worker) *Conn {
	c := &Conn{
		st:   s,
		w:    w,
		snd:  newByteRing(s.cfg.SendBuffer),
		rcv:  newByteRing(s.cfg.RecvBuffer),
		rdCh: make(chan struct{}, 1),
		wrCh: make(chan struct{}, 1),
	}
	c.rdDL.init()
	c.wrDL.init()
	if key != nil {
		c.laddr = netip.AddrPortFrom(key.laddr, key.lport)
		c.raddr = netip.AddrPortFrom(key.raddr, key.rport)
	}
	return c
}

func (s *Stack) track(c *Conn) {
	s.cmu.Lock()
	s.conns[c] = struct{}{}
	s.cmu.Unlock()
}

func (s *Stack) untrack(c *Conn) {
	s.cmu.Lock()
	delete(s.conns, c)
	s.cmu.Unlock()
}
