package testbed

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Forwarder is a user-space link emulator: it joins two interfaces of one
// namespace (A and B) with raw AF_PACKET sockets and passes every frame from
// one to the other after a configurable delay. It replaces netem, which this
// kernel lacks. Frames it sends still pass the egress qdisc (SetRate) and
// TCX programs (SetLoss) of the outgoing interface. It is meant for test
// rates (hundreds of Mbit/s at most), not line rate.
type Forwarder struct {
	A, B Veth

	delay, jitter atomic.Int64  // nanoseconds
	reorder, dup  atomic.Uint64 // thresholds for a 32-bit random number (lossThreshold)
	limit         int
	files         [2]*os.File // sockets on A and B
	stats         [2]dirStats // index 0: A -> B, 1: B -> A
	pool          sync.Pool
	bufSize       int
	done          chan struct{}
	wg            sync.WaitGroup
	closeOnce     sync.Once
}

// frame is one queued frame and the time it may leave.
type frame struct {
	buf *[]byte
	n   int
	due time.Time
}

// htons converts a 16-bit value to network byte order for AF_PACKET.
func htons(v uint16) uint16 { return v<<8 | v>>8 }

// openPacketSocket opens a nonblocking raw packet socket bound to ifindex in
// namespace n, ignoring frames the host itself sends on that interface.
func openPacketSocket(n *NS, ifindex int, name string) (*os.File, error) {
	var f *os.File
	err := n.Do(func() error {
		proto := int(htons(unix.ETH_P_ALL))
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, proto)
		if err != nil {
			return fmt.Errorf("testbed: opening a packet socket in %s failed (needs CAP_NET_RAW): %w", n.Name, err)
		}
		ok := false
		defer func() {
			if !ok {
				unix.Close(fd)
			}
		}()
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
			return fmt.Errorf("testbed: PACKET_IGNORE_OUTGOING on %s failed (needs Linux >= 4.20): %w", name, err)
		}
		for _, opt := range []int{unix.SO_RCVBUFFORCE, unix.SO_SNDBUFFORCE} {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt, 8<<20); err != nil {
				return fmt.Errorf("testbed: socket buffer size on %s failed: %w", name, err)
			}
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
			return fmt.Errorf("testbed: binding a packet socket to %s failed: %w", name, err)
		}
		ok = true
		f = os.NewFile(uintptr(fd), "packet:"+name)
		return nil
	})
	return f, err
}

// NewForwarder starts forwarding frames between a and b, which must be in
// the same namespace, with the delay of o. Both interfaces should have no
// addresses and no bridge master. Close (or closing the namespace) stops it.
func NewForwarder(a, b Veth, o DelayOpts) (*Forwarder, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if a.NS == nil || a.NS != b.NS || a.Name == b.Name {
		return nil, fmt.Errorf("testbed: a forwarder joins two different interfaces of one namespace, got %v and %v", a, b)
	}
	mtu := 0
	for _, v := range []Veth{a, b} {
		out, err := v.NS.ip("-j", "link", "show", "dev", v.Name)
		if err != nil {
			return nil, err
		}
		l, err := parseLinkJSON(out)
		if err != nil {
			return nil, err
		}
		mtu = max(mtu, l.MTU)
	}
	f := &Forwarder{A: a, B: b, limit: o.Limit, bufSize: mtu + 64, done: make(chan struct{})}
	if f.limit == 0 {
		f.limit = defaultDelayLimit
	}
	f.pool.New = func() any { b := make([]byte, f.bufSize); return &b }
	f.store(o)
	for i, v := range []Veth{a, b} {
		file, err := openPacketSocket(v.NS, v.Index, v.String())
		if err != nil {
			for _, g := range f.files[:i] {
				g.Close()
			}
			return nil, err
		}
		f.files[i] = file
	}
	for dir := 0; dir < 2; dir++ {
		q := make(chan frame, f.limit)
		fast := make(chan frame, f.limit)
		f.wg.Add(2)
		go f.receive(dir, q, fast)
		go f.send(dir, q, fast)
	}
	if err := a.NS.addCloser(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// SetDelay changes the delay and jitter of both directions; frames already
// queued keep their departure time.
func (f *Forwarder) SetDelay(delay, jitter time.Duration) {
	f.delay.Store(int64(delay))
	f.jitter.Store(int64(jitter))
}

// Update changes delay, jitter, reordering and duplication (not Limit) for
// frames arriving from now on.
func (f *Forwarder) Update(o DelayOpts) error {
	if err := o.validate(); err != nil {
		return err
	}
	f.store(o)
	return nil
}

func (f *Forwarder) store(o DelayOpts) {
	r, _ := lossThreshold(o.ReorderPct)
	d, _ := lossThreshold(o.DupPct)
	f.reorder.Store(r)
	f.dup.Store(d)
	f.SetDelay(o.Delay, o.Jitter)
}

// Stats returns the counters of each direction: A to B and B to A.
func (f *Forwarder) Stats() (aToB, bToA ForwarderStats) {
	return f.stats[0].snapshot(), f.stats[1].snapshot()
}

// chance reports true with probability thr / 2^32.
func chance(thr uint64) bool {
	return thr > 0 && uint64(rand.Uint32()) < thr
}

// receive reads frames arriving on side dir and queues them: on q with
// their departure time, or on fast to leave at once (reordering). It ends
// when the socket is closed.
func (f *Forwarder) receive(dir int, q, fast chan<- frame) {
	defer f.wg.Done()
	defer close(q)
	defer close(fast)
	st := &f.stats[dir]
	in := f.files[dir]
	var last time.Time
	enqueue := func(fr frame) {
		if chance(f.reorder.Load()) {
			select {
			case fast <- fr:
				st.reordered.Add(1)
				return
			default:
			}
		} else {
			due := time.Now().Add(time.Duration(f.delay.Load()))
			if j := f.jitter.Load(); j > 0 {
				due = due.Add(time.Duration(rand.Int64N(j)))
			}
			if due.Before(last) {
				due = last // jitter never reorders
			}
			last = due
			fr.due = due
			select {
			case q <- fr:
				return
			default:
			}
		}
		st.dropped.Add(1)
		f.pool.Put(fr.buf)
	}
	for {
		bp := f.pool.Get().(*[]byte)
		n, err := in.Read(*bp)
		if err != nil {
			f.pool.Put(bp)
			if errors.Is(err, os.ErrClosed) {
				return
			}
			continue // transient (e.g. ENOBUFS); keep going
		}
		if chance(f.dup.Load()) {
			cp := f.pool.Get().(*[]byte)
			copy(*cp, (*bp)[:n])
			st.duplicated.Add(1)
			enqueue(frame{buf: cp, n: n})
		}
		enqueue(frame{buf: bp, n: n})
	}
}

// send writes frames out of the other side: those on fast at once, those on
// q when they are due. It ends when the receiver has closed both channels.
func (f *Forwarder) send(dir int, q, fast <-chan frame) {
	defer f.wg.Done()
	st := &f.stats[dir]
	out := f.files[1-dir]
	closing := false
	write := func(fr frame) {
		if closing {
			f.pool.Put(fr.buf)
			return
		}
		if _, err := out.Write((*fr.buf)[:fr.n]); err != nil {
			st.dropped.Add(1)
		} else {
			st.forwarded.Add(1)
		}
		f.pool.Put(fr.buf)
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var head frame
	have := false
	for q != nil || fast != nil || have {
		if !have {
			select {
			case fr, ok := <-q:
				if !ok {
					q = nil
					continue
				}
				head, have = fr, true
			case fr, ok := <-fast:
				if !ok {
					fast = nil
					continue
				}
				write(fr)
			}
			continue
		}
		d := time.Until(head.due)
		if d <= 0 || closing {
			write(head)
			have = false
			continue
		}
		timer.Reset(d)
		select {
		case <-timer.C:
			write(head)
			have = false
		case fr, ok := <-fast:
			timer.Stop()
			if !ok {
				fast = nil
				continue
			}
			write(fr)
		case <-f.done:
			timer.Stop()
			closing = true
		}
	}
}

// Close stops forwarding and closes the sockets. It is safe to call twice.
func (f *Forwarder) Close() error {
	var err error
	f.closeOnce.Do(func() {
		close(f.done)
		err = errors.Join(f.files[0].Close(), f.files[1].Close())
		f.wg.Wait()
	})
	return err
}
