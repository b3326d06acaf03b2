package main

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
)

// Network opens listeners: the kernel's MPTCP sockets today, mpxdp's
// AF_XDP stack (stack.Stack.Listen) once it exists.
type Network interface {
	Listen(network, addr string) (net.Listener, error)
}

// kernelNet listens on kernel sockets, MPTCP when mptcp is set (the kernel
// falls back to TCP for peers without MPTCP).
type kernelNet struct{ mptcp bool }

// Listen implements Network.
func (k kernelNet) Listen(network, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	lc.SetMultipathTCP(k.mptcp)
	return lc.Listen(context.Background(), network, addr)
}

// serviceStats are one listener's counters.
type serviceStats struct {
	Accepted, Open          atomic.Int64
	BytesRead, BytesWritten atomic.Uint64
}

// registry tracks open connections for /debug/mptcp and metrics.
type registry struct {
	mu       sync.Mutex
	conns    map[*trackedConn]struct{}
	services map[string]*serviceStats
	order    []string
	closed   []debugConn // the last closedKept connections closed, oldest first
}

// closedKept is how many closed connections /debug/mptcp remembers.
const closedKept = 32

func newRegistry() *registry {
	return &registry{conns: map[*trackedConn]struct{}{}, services: map[string]*serviceStats{}}
}

// service returns (creating) the counters of a service.
func (r *registry) service(name string) *serviceStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.services[name]
	if !ok {
		s = &serviceStats{}
		r.services[name] = s
		r.order = append(r.order, name)
	}
	return s
}

// snapshot returns the open connections.
func (r *registry) snapshot() []*trackedConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*trackedConn, 0, len(r.conns))
	for c := range r.conns {
		out = append(out, c)
	}
	return out
}

// closedSnapshot returns a copy of the closed list.
func (r *registry) closedSnapshot() []debugConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]debugConn{}, r.closed...)
}

// trackingListener registers every accepted connection.
type trackingListener struct {
	net.Listener
	reg   *registry
	name  string
	stats *serviceStats
}

func (r *registry) wrap(ln net.Listener, service string) net.Listener {
	return &trackingListener{Listener: ln, reg: r, name: service, stats: r.service(service)}
}

// Accept implements net.Listener.
func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, service: l.name, opened: time.Now(), reg: l.reg, stats: l.stats}
	l.stats.Accepted.Add(1)
	l.stats.Open.Add(1)
	l.reg.mu.Lock()
	l.reg.conns[tc] = struct{}{}
	l.reg.mu.Unlock()
	return tc, nil
}

// trackedConn counts bytes and unregisters itself on Close. It passes
// subflow statistics and ReadFrom (sendfile/splice) through.
type trackedConn struct {
	net.Conn
	service string
	opened  time.Time
	reg     *registry
	stats   *serviceStats
	once    sync.Once
	// read and written count this connection's application bytes.
	read, written atomic.Uint64
}

// Read implements net.Conn, counting bytes.
func (c *trackedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.stats.BytesRead.Add(uint64(n))
	c.read.Add(uint64(n))
	return n, err
}

// Write implements net.Conn, counting bytes.
func (c *trackedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.stats.BytesWritten.Add(uint64(n))
	c.written.Add(uint64(n))
	return n, err
}

// ReadFrom keeps the kernel's sendfile/splice path for file downloads.
func (c *trackedConn) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	var err error
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{c.Conn}, r)
	}
	c.stats.BytesWritten.Add(uint64(n))
	c.written.Add(uint64(n))
	return n, err
}

// NetConn returns the tracked connection (iperf.Unwrap looks through
// trackers with it to reach socket options).
func (c *trackedConn) NetConn() net.Conn { return c.Conn }

// AppendSubflows implements iperf.SubflowSource for the inner socket.
func (c *trackedConn) AppendSubflows(dst []iperf.SubflowStat) ([]iperf.SubflowStat, error) {
	src := iperf.SubflowsOf(c.Conn)
	if src == nil {
		return dst, nil
	}
	return src.AppendSubflows(dst)
}

// Close implements net.Conn and unregisters the connection.
func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.stats.Open.Add(-1)
		now := time.Now()
		last := describe(c, now)
		last.closedAt = now
		c.reg.mu.Lock()
		delete(c.reg.conns, c)
		if len(c.reg.closed) == closedKept {
			c.reg.closed = append(c.reg.closed[:0], c.reg.closed[1:]...)
		}
		c.reg.closed = append(c.reg.closed, last)
		c.reg.mu.Unlock()
	})
	return c.Conn.Close()
}
