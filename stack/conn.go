package stack

import (
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpxdp/mpxdp/mptcp/conn"
	"github.com/mpxdp/mpxdp/ring"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// Connection status bits (Conn.status), set by the worker except
// stClosed and stWriteShut, which the application sets.
const (
	stEstablished uint32 = 1 << iota // handshake completed
	stEOF                            // peer's FIN reached and every byte before it is in the ring
	stFailed                         // the connection failed; Conn.err says why
	stDone                           // the engine is closed and the flow retired
	stClosed                         // the application called Close
	stWriteShut                      // the application called CloseWrite
)

// Requests the application posts to the worker (Conn.want).
const (
	wantUpdate     uint32 = 1 << iota // data written or room freed
	wantCloseWrite                    // send a FIN after the data
	wantClose                         // close both directions
	wantAbort                         // reset
)

// Conn is a TCP connection of a Stack. It implements net.Conn (with
// deadlines), CloseWrite, io.ReaderFrom and io.WriterTo. Data crosses
// between the application goroutine and the connection's worker through
// two lock-free byte rings; a side that finds its ring full or empty sleeps
// on a channel that the other side signals only when it sees a sleeper.
type Conn struct {
	st *Stack
	w  *worker
	fl *flow   // worker only
	mp *mpConn // worker only: the MPTCP connection, nil for plain TCP

	laddr, raddr netip.AddrPort
	snd, rcv     *byteRing

	want   atomic.Uint32
	queued atomic.Bool
	status atomic.Uint32
	err    error // written by the worker before it sets stFailed

	rdWait, wrWait atomic.Bool
	rcvFull        atomic.Bool // the worker advertised a small window: report freed room
	rdCh, wrCh     chan struct{}
	rdDL, wrDL     deadline
	rmu, wmu       sync.Mutex // one reader and one writer at a time
	final          atomic.Pointer[tcp.Counters]
}

// EngineCounters returns the TCP engine's counters once the connection
// has closed (the worker publishes them when the flow enters TIME-WAIT or
// is retired), and false before.
func (c *Conn) EngineCounters() (tcp.Counters, bool) {
	if p := c.final.Load(); p != nil {
		return *p, true
	}
	return tcp.Counters{}, false
}

var (
	_ net.Conn      = (*Conn)(nil)
	_ io.ReaderFrom = (*Conn)(nil)
	_ io.WriterTo   = (*Conn)(nil)
)

func (c *Conn) setStatus(b uint32)      { c.status.Or(b) }
func (c *Conn) hasStatus(b uint32) bool { return c.status.Load()&b != 0 }

// fail records err and wakes both sides (worker side).
func (c *Conn) fail(err error) {
	if c.hasStatus(stFailed) {
		return
	}
	c.err = err
	c.setStatus(stFailed)
	c.wakeReader()
	c.wakeWriter()
}

// wakeReader and wakeWriter signal a blocked reader or writer.
func (c *Conn) wakeReader() { signal(c.rdCh) }

func (c *Conn) wakeWriter() { signal(c.wrCh) }

// signal posts a wake-up token unless one is pending; it reports whether
// it posted one.
func signal(ch chan struct{}) bool {
	select {
	case ch <- struct{}{}:
		return true
	default:
		return false
	}
}

// request posts bits for the worker and queues the connection on the
// worker's command ring unless it is queued already.
func (c *Conn) request(bits uint32) {
	c.want.Or(bits)
	if c.queued.CompareAndSwap(false, true) {
		for !c.w.cmds.Enqueue(command{op: opUpdate, c: c}) {
			if c.w.stop.Load() {
				return // the stack is closed: nobody will drain the ring
			}
			runtime.Gosched()
		}
		c.w.wake()
	}
}

// opErr wraps err the way package net does.
func (c *Conn) opErr(op string, err error) error {
	switch err {
	case tcp.ErrConnectionReset:
		err = syscall.ECONNRESET
	case tcp.ErrConnectionRefused:
		err = syscall.ECONNREFUSED
	case tcp.ErrTimeout:
		err = syscall.ETIMEDOUT
	case tcp.ErrAborted, conn.ErrAborted:
		err = syscall.ECONNABORTED
	case conn.ErrFastClose:
		err = syscall.ECONNRESET // the peer's MP_FASTCLOSE is MPTCP's reset
	}
	e := &net.OpError{Op: op, Net: "tcp", Err: err}
	if c.laddr.IsValid() {
		e.Source = net.TCPAddrFromAddrPort(c.laddr)
	}
	if c.raddr.IsValid() {
		e.Addr = net.TCPAddrFromAddrPort(c.raddr)
	}
	return e
}

// Read reads received bytes; it returns io.EOF after the peer's FIN.
func (c *Conn) Read(b []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		st := c.status.Load()
		if st&stClosed != 0 {
			return 0, c.opErr("read", net.ErrClosed)
		}
		if len(b) == 0 {
			return 0, nil
		}
		if c.rdDL.expired() {
			return 0, c.opErr("read", os.ErrDeadlineExceeded)
		}
		if n := c.rcv.Read(b); n > 0 {
			c.readDone()
			return n, nil
		}
		if st&stEOF != 0 {
			return 0, io.EOF
		}
		if st&stFailed != 0 {
			return 0, c.opErr("read", c.err)
		}
		if st&stDone != 0 {
			return 0, io.EOF
		}
		if err := c.waitRead(); err != nil {
			return 0, err
		}
	}
}

// readDone tells the worker that room was freed when it asked for that
// (its last advertised window was small) and a quarter of the ring is free:
// the engine then sends a window update.
func (c *Conn) readDone() {
	if c.rcvFull.Load() && c.rcv.Free() >= c.rcv.Cap()/4 && c.rcvFull.CompareAndSwap(true, false) {
		c.request(wantUpdate)
	}
}

func (c *Conn) waitRead() error {
	c.rdWait.Store(true)
	defer c.rdWait.Store(false)
	if c.rcv.Len() > 0 || c.status.Load()&(stEOF|stFailed|stDone|stClosed) != 0 {
		return nil
	}
	select {
	case <-c.rdCh:
		return nil
	case <-c.rdDL.wait():
		return c.opErr("read", os.ErrDeadlineExceeded)
	}
}

// WriteTo implements io.WriterTo: it writes received bytes straight from
// the connection's ring to w until EOF.
func (c *Conn) WriteTo(w io.Writer) (int64, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	var total int64
	for {
		st := c.status.Load()
		if st&stClosed != 0 {
			return total, c.opErr("read", net.ErrClosed)
		}
		if p := c.rcv.Peek(); len(p) > 0 {
			n, err := w.Write(p)
			c.rcv.Consume(n)
			total += int64(n)
			c.readDone()
			if err != nil {
				return total, err
			}
			continue
		}
		if st&(stEOF|stDone) != 0 {
			return total, nil
		}
		if st&stFailed != 0 {
			return total, c.opErr("read", c.err)
		}
		if err := c.waitRead(); err != nil {
			return total, err
		}
	}
}

// writeCheck returns the error that stops writing, or nil.
func (c *Conn) writeCheck() error {
	st := c.status.Load()
	switch {
	case st&stClosed != 0:
		return c.opErr("write", net.ErrClosed)
	case st&stFailed != 0:
		return c.opErr("write", c.err)
	case st&stWriteShut != 0, st&stDone != 0:
		return c.opErr("write", syscall.EPIPE)
	}
	return nil
}

func (c *Conn) waitWrite() error {
	c.wrWait.Store(true)
	defer c.wrWait.Store(false)
	if c.snd.Free() > 0 || c.writeCheck() != nil {
		return nil
	}
	select {
	case <-c.wrCh:
		return nil
	case <-c.wrDL.wait():
		return c.opErr("write", os.ErrDeadlineExceeded)
	}
}

// Write queues b for sending, blocking while the send ring is full.
func (c *Conn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	total := 0
	for {
		if err := c.writeCheck(); err != nil {
			return total, err
		}
		if c.wrDL.expired() {
			return total, c.opErr("write", os.ErrDeadlineExceeded)
		}
		n := c.snd.Write(b[total:])
		if n > 0 {
			total += n
			c.request(wantUpdate)
		}
		if total == len(b) {
			return total, nil
		}
		if err := c.waitWrite(); err != nil {
			return total, err
		}
	}
}

// ReadFrom implements io.ReaderFrom: it reads from r straight into the
// send ring until EOF.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var total int64
	for {
		if err := c.writeCheck(); err != nil {
			return total, err
		}
		sp := c.snd.WriteSpace()
		if len(sp) == 0 {
			if err := c.waitWrite(); err != nil {
				return total, err
			}
			continue
		}
		n, err := r.Read(sp)
		if n > 0 {
			c.snd.Commit(n)
			total += int64(n)
			c.request(wantUpdate)
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// CloseWrite sends a FIN after the data written so far; reading goes on.
func (c *Conn) CloseWrite() error {
	if c.hasStatus(stClosed) {
		return c.opErr("close", net.ErrClosed)
	}
	// Mark first and wake a writer blocked on a full ring (it returns
	// EPIPE), then wait for a Write in progress so that the FIN follows
	// everything it queued.
	c.setStatus(stWriteShut)
	c.wakeWriter()
	c.wmu.Lock()
	//lint:ignore SA2001 the empty critical section waits for a Write in progress
	c.wmu.Unlock()
	c.request(wantCloseWrite)
	return nil
}

// Close closes the connection: data already written is still sent, then a
// FIN; received data not yet read is discarded (if the engine still holds
// some, the connection is reset, as Linux does).
func (c *Conn) Close() error {
	for {
		st := c.status.Load()
		if st&stClosed != 0 {
			return c.opErr("close", net.ErrClosed)
		}
		if c.status.CompareAndSwap(st, st|stClosed) {
			break
		}
	}
	c.request(wantClose)
	c.wakeReader()
	c.wakeWriter()
	c.st.untrack(c)
	return nil
}

// LocalAddr returns the local address (a *net.TCPAddr).
func (c *Conn) LocalAddr() net.Addr { return net.TCPAddrFromAddrPort(c.laddr) }

// RemoteAddr returns the peer's address (a *net.TCPAddr).
func (c *Conn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.raddr) }

// SetDeadline sets both the read and the write deadline.
func (c *Conn) SetDeadline(t time.Time) error {
	c.rdDL.set(t)
	c.wrDL.set(t)
	return nil
}

// SetReadDeadline sets the read deadline; a zero t removes it.
func (c *Conn) SetReadDeadline(t time.Time) error { c.rdDL.set(t); return nil }

// SetWriteDeadline sets the write deadline; a zero t removes it.
func (c *Conn) SetWriteDeadline(t time.Time) error { c.wrDL.set(t); return nil }

// deadline is a settable expiry that blocked calls select on (a channel
// closed when it passes), as in net.Pipe.
type deadline struct {
	mu     sync.Mutex
	timer  *time.Timer
	ch     chan struct{}
	closed chan struct{}
}

func (d *deadline) init() {
	d.ch = make(chan struct{})
	d.closed = make(chan struct{})
}

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.ch // the timer fired and closed it
	}
	d.timer = nil
	closed := isClosed(d.ch)
	if t.IsZero() {
		if closed {
			d.ch = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if closed {
			d.ch = make(chan struct{})
		}
		ch := d.ch
		d.timer = time.AfterFunc(dur, func() { close(ch) })
		return
	}
	if !closed {
		close(d.ch)
	}
}

// wait returns a channel closed when the deadline passes.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

func (d *deadline) expired() bool { return isClosed(d.wait()) }

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// listener is a Stack's net.Listener. Workers create connections for its
// port and push them on acceptQ once established; Accept pops them.
type listener struct {
	s       *Stack
	ap      netip.AddrPort
	addr    netip.Addr
	backlog int
	acceptQ *ring.MPSC[*Conn]
	pending atomic.Int32 // half-open plus queued connections
	closed  atomic.Bool
	waiting atomic.Bool
	ch      chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	once    sync.Once
}

func newListener(s *Stack, ap netip.AddrPort, backlog int) *listener {
	n := 2
	for n < backlog {
		n <<= 1
	}
	q, _ := ring.NewMPSC[*Conn](n)
	return &listener{s: s, ap: ap, addr: ap.Addr(), backlog: backlog, acceptQ: q,
		ch: make(chan struct{}, 1), done: make(chan struct{})}
}

func (l *listener) wake() {
	if l.waiting.Load() {
		select {
		case l.ch <- struct{}{}:
		default:
		}
	}
}

// Accept waits for the next established connection.
func (l *listener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if l.closed.Load() {
			return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: net.ErrClosed}
		}
		if c, ok := l.acceptQ.Dequeue(); ok {
			l.pending.Add(-1)
			l.s.track(c)
			return c, nil
		}
		l.waiting.Store(true)
		if l.acceptQ.Len() == 0 {
			select {
			case <-l.ch:
			case <-l.done:
			}
		}
		l.waiting.Store(false)
	}
}

// Close stops listening; connections not yet accepted are reset.
func (l *listener) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return &net.OpError{Op: "close", Net: "tcp", Addr: l.Addr(), Err: net.ErrClosed}
	}
	l.s.removeListener(l)
	l.once.Do(func() { close(l.done) })
	l.mu.Lock()
	for {
		c, ok := l.acceptQ.Dequeue()
		if !ok {
			break
		}
		c.setStatus(stClosed)
		c.request(wantAbort)
	}
	l.mu.Unlock()
	return nil
}

// Addr returns the listening address.
func (l *listener) Addr() net.Addr { return net.TCPAddrFromAddrPort(l.ap) }
