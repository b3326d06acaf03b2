package stack

import (
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpxdp/mpxdp/afxdp"
	"github.com/mpxdp/mpxdp/stack/link"
)

// xdpQueue adapts one AF_XDP socket to link.Queue. It owns a share of the
// port's UMEM frames: free frames sit in a free list and are lent for
// transmission (Alloc) or given to the kernel's fill ring; received frames
// come back through Release and transmitted ones through the completion
// ring. An eventfd lets other goroutines interrupt Wait.
type xdpQueue struct {
	sock      *afxdp.Socket
	umem      *afxdp.UMEM
	fill      *afxdp.FillRing
	comp      *afxdp.CompletionRing
	free      []uint64
	fillTo    int // frames to keep on the fill ring
	onFill    int // frames given to the fill ring and not yet received
	frameSize int
	descs     []afxdp.Desc
	addrs     []uint64
	efd       int
	pfd       []unix.PollFd // this socket, the wake-up eventfd, then the worker's other sockets
}

func newXDPQueue(s *afxdp.Socket, u *afxdp.UMEM, frames []uint64) (*xdpQueue, error) {
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("stack: eventfd for the worker wake-up: %w", err)
	}
	q := &xdpQueue{
		sock: s, umem: u, fill: s.Fill(), comp: s.Completion(),
		free:      append(make([]uint64, 0, len(frames)), frames...),
		fillTo:    len(frames) / 2,
		frameSize: int(u.FrameSize()) - afxdp.PacketHeadroom - int(u.Headroom()),
		descs:     make([]afxdp.Desc, batchSize),
		addrs:     make([]uint64, batchSize*4),
		efd:       efd,
	}
	q.pfd = []unix.PollFd{{Fd: int32(s.FD()), Events: unix.POLLIN}, {Fd: int32(efd), Events: unix.POLLIN}}
	q.refill()
	return q, nil
}

// minTxFrames is how many free frames refill leaves for transmission.
const minTxFrames = 128

// refill tops the fill ring up from the free list.
func (q *xdpQueue) refill() {
	n := min(q.fillTo-q.onFill, len(q.free)-minTxFrames)
	if n <= 0 {
		return
	}
	n = min(n, q.fill.Free())
	k := q.fill.Produce(q.free[len(q.free)-n:])
	q.free = q.free[:len(q.free)-k]
	q.onFill += k
}

func (q *xdpQueue) Receive(fs []link.Frame) int {
	n := q.sock.Receive(q.descs[:min(len(fs), len(q.descs))])
	q.onFill -= n
	for i := 0; i < n; i++ {
		d := q.descs[i]
		fs[i] = link.Frame{Buf: q.umem.Frame(d.Addr), Len: int(d.Len), More: d.Options&afxdp.OptionContd != 0, ID: d.Addr}
	}
	return n
}

func (q *xdpQueue) Release(fs []link.Frame) {
	for i := range fs {
		q.free = append(q.free, q.umem.FrameAddr(fs[i].ID))
	}
	q.refill()
}

func (q *xdpQueue) Alloc(fs []link.Frame) int {
	if len(q.free) < len(fs) {
		q.reclaim()
	}
	n := 0
	for n < len(fs) && len(q.free) > 0 {
		a := q.free[len(q.free)-1]
		q.free = q.free[:len(q.free)-1]
		fs[n] = link.Frame{Buf: q.umem.Frame(a), ID: a}
		n++
	}
	return n
}

func (q *xdpQueue) Transmit(fs []link.Frame) int {
	n := min(len(fs), len(q.descs))
	for i := 0; i < n; i++ {
		q.descs[i] = afxdp.Desc{Addr: fs[i].ID, Len: uint32(fs[i].Len)}
		if fs[i].More {
			q.descs[i].Options = afxdp.OptionContd
		}
	}
	return q.sock.Transmit(q.descs[:n])
}

// reclaim takes completed transmissions back.
func (q *xdpQueue) reclaim() {
	for {
		n := q.comp.Consume(q.addrs)
		for _, a := range q.addrs[:n] {
			q.free = append(q.free, q.umem.FrameAddr(a))
		}
		if n < len(q.addrs) {
			return
		}
	}
}

func (q *xdpQueue) Flush() error {
	err := q.sock.Kick()
	q.reclaim()
	q.refill()
	if q.fill.NeedsWakeup() {
		_ = q.sock.WakeRx()
	}
	return err
}

func (q *xdpQueue) Wait(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	ts := unix.NsecToTimespec(int64(d))
	for i := range q.pfd {
		q.pfd[i].Revents = 0
	}
	_, err := unix.Ppoll(q.pfd, &ts, nil)
	if q.pfd[1].Revents != 0 {
		var b [8]byte
		_, _ = unix.Read(q.efd, b[:])
	}
	if err == unix.EINTR {
		return nil
	}
	return err
}

func (q *xdpQueue) FrameSize() int { return q.frameSize }

// Wake interrupts Wait from another goroutine.
func (q *xdpQueue) Wake() {
	b := [8]byte{1}
	_, _ = unix.Write(q.efd, b[:])
}

func (q *xdpQueue) close() error { return unix.Close(q.efd) }

// New opens AF_XDP sockets on cfg.Interfaces (queue 0 .. Queues-1 of each)
// and starts a stack on them. It must run in the network namespace that
// holds the interfaces (the sockets stay usable from anywhere afterwards)
// and needs CAP_NET_ADMIN and CAP_BPF (root).
func New(cfg Config) (s *Stack, err error) {
	if len(cfg.Interfaces) == 0 {
		return nil, errors.New("stack: Config.Interfaces is empty: name at least one interface")
	}
	var links []Link
	var ports []*afxdp.Port
	var queues [][]*xdpQueue
	defer func() {
		if err != nil {
			for _, qs := range queues {
				for _, q := range qs {
					q.close()
				}
			}
			for _, p := range ports {
				p.Close()
			}
		}
	}()
	for _, ic := range cfg.Interfaces {
		nq := max(ic.Queues, 1)
		ifi, err := net.InterfaceByName(ic.Name)
		if err != nil {
			return nil, fmt.Errorf("stack: interface %q not found: check the name with `ip link` (and the network namespace): %w", ic.Name, err)
		}
		qids := make([]int, nq)
		for i := range qids {
			qids[i] = i
		}
		// Above what one frame holds, the program must be frags-aware so
		// the kernel accepts the MTU; our MSS keeps TCP within a frame and
		// larger packets (chains) are dropped and counted.
		fs := cfg.FrameSize
		if fs == 0 {
			fs = afxdp.DefaultFrameSize
		}
		mtu := ic.MTU
		if mtu == 0 {
			mtu = ifi.MTU
		}
		multi := mtu > fs-afxdp.PacketHeadroom-ethLen
		p, err := afxdp.Open(afxdp.Config{
			Interface: ic.Name, Queues: qids, Mode: cfg.XDPMode, Attach: cfg.Attach,
			FrameSize: uint32(cfg.FrameSize), NumFrames: uint32(cfg.NumFrames), MultiBuffer: multi,
		})
		if err != nil {
			return nil, err
		}
		ports = append(ports, p)
		all := p.UMEM.FrameAddrs(nil)
		per := len(all) / len(p.Sockets)
		var qs []*xdpQueue
		var lqs []link.Queue
		for i, sk := range p.Sockets {
			q, err := newXDPQueue(sk, p.UMEM, all[i*per:(i+1)*per])
			if err != nil {
				return nil, err
			}
			qs = append(qs, q)
			lqs = append(lqs, q)
		}
		queues = append(queues, qs)
		links = append(links, Link{Name: ic.Name, MAC: ifi.HardwareAddr, Addrs: ic.Addrs, Queues: lqs, Cores: ic.Cores, MTU: mtu})
	}
	s, err = newHost(cfg, links)
	if err != nil {
		return nil, err
	}
	for i := range s.workers {
		// Worker i sleeps in the Wait of its first interface's queue,
		// which also watches its queues on the other interfaces.
		q0 := queues[0][i]
		for _, qs := range queues[1:] {
			q0.pfd = append(q0.pfd, unix.PollFd{Fd: int32(qs[i].sock.FD()), Events: unix.POLLIN})
		}
		s.wakers[i] = q0
	}
	for i, p := range ports {
		qs := queues[i]
		s.closers = append(s.closers, func() error {
			err := p.Close()
			for _, q := range qs {
				q.close()
			}
			return err
		})
	}
	s.start()
	return s, nil
}
