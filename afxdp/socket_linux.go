package afxdp

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// SocketConfig says where and how to bind one AF_XDP socket.
type SocketConfig struct {
	// Ifindex and Queue name the device queue.
	Ifindex int
	Queue   int
	// RxSize and TxSize are ring sizes (powers of two).
	RxSize, TxSize uint32
	// Mode is copy, zero-copy or auto.
	Mode Mode
	// NeedWakeup sets XDP_USE_NEED_WAKEUP.
	NeedWakeup bool
	// MultiBuffer sets XDP_USE_SG.
	MultiBuffer bool
	// TxBudget sets XDP_MAX_TX_SKB_BUDGET when non-zero; with
	// TxBudgetOptional a kernel refusal is ignored.
	TxBudget         uint32
	TxBudgetOptional bool
}

// Stats are the kernel's per-socket counters (XDP_STATISTICS).
type Stats struct {
	// RxDropped counts packets dropped for reasons other than invalid descriptors.
	RxDropped uint64
	// RxInvalidDescs counts RX descriptors the kernel found invalid.
	RxInvalidDescs uint64
	// TxInvalidDescs counts TX descriptors the kernel refused (bad address or length).
	TxInvalidDescs uint64
	// RxRingFull counts packets dropped because the RX ring was full.
	RxRingFull uint64
	// RxFillRingEmptyDescs counts times the fill ring was empty when a packet came.
	RxFillRingEmptyDescs uint64
	// TxRingEmptyDescs counts times the kernel found the TX ring empty.
	TxRingEmptyDescs uint64
}

// Socket is one AF_XDP socket bound to one (device, queue). Its rings are
// single-producer/single-consumer: use a Socket from one goroutine at a time.
type Socket struct {
	fd         int
	umem       *UMEM
	ifindex    int
	queue      int
	zeroCopy   bool
	needWakeup bool
	multiBuf   bool

	rx   RxRing
	tx   TxRing
	fill *FillRing
	comp *CompletionRing

	maps   [][]byte
	pfd    [1]unix.PollFd
	closed bool
}

// Bind opens a socket on this UMEM and binds it to c.Ifindex/c.Queue. The
// first Bind uses the socket the UMEM was registered on; later ones share the
// UMEM (XDP_SHARED_UMEM) and get their own fill/completion pair, as the
// kernel requires for each (device, queue). In ModeAuto a zero-copy refusal
// is returned as reason and the socket is bound in copy mode. Bind must run
// in the network namespace that holds the device.
func (u *UMEM) Bind(c SocketConfig) (s *Socket, reason string, err error) {
	if !isPow2(c.RxSize) || !isPow2(c.TxSize) {
		return nil, "", fmt.Errorf("afxdp: SocketConfig RxSize %d / TxSize %d must be powers of two", c.RxSize, c.TxSize)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return nil, "", errors.New("afxdp: Bind on a closed UMEM: make a new one with NewUMEM")
	}
	shared := u.ownerUsed
	fd := u.ownerFD
	if shared {
		if fd, err = newXSK(); err != nil {
			return nil, "", err
		}
	}
	s = &Socket{fd: fd, umem: u, ifindex: c.Ifindex, queue: c.Queue, needWakeup: c.NeedWakeup, multiBuf: c.MultiBuffer,
		fill: new(FillRing), comp: new(CompletionRing)}
	fail := func(format string, args ...any) (*Socket, string, error) {
		s.unmap()
		if shared {
			unix.Close(fd)
		}
		return nil, "", fmt.Errorf(format, args...)
	}
	where := fmt.Sprintf("ifindex %d queue %d", c.Ifindex, c.Queue)
	// Rings. The fill/completion pair of the owner socket is set here too.
	if err := unix.SetsockoptInt(fd, unix.SOL_XDP, unix.XDP_UMEM_FILL_RING, int(u.fillSize)); err != nil {
		return fail("afxdp: %s: setting the fill ring size %d failed: %v", where, u.fillSize, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_XDP, unix.XDP_UMEM_COMPLETION_RING, int(u.compSize)); err != nil {
		return fail("afxdp: %s: setting the completion ring size %d failed: %v", where, u.compSize, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_XDP, unix.XDP_RX_RING, int(c.RxSize)); err != nil {
		return fail("afxdp: %s: setting the RX ring size %d failed: %v", where, c.RxSize, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_XDP, unix.XDP_TX_RING, int(c.TxSize)); err != nil {
		return fail("afxdp: %s: setting the TX ring size %d failed: %v", where, c.TxSize, err)
	}
	off, err := mmapOffsets(fd)
	if err != nil {
		return fail("afxdp: %s: XDP_MMAP_OFFSETS failed: %v", where, err)
	}
	var m []byte
	if m, err = mapFillRing(fd, off.Fr, u.fillSize, s.fill); err != nil {
		return fail("afxdp: %s: mapping the fill ring failed: %v", where, err)
	}
	s.maps = append(s.maps, m)
	if m, err = mapCompletionRing(fd, off.Cr, u.compSize, s.comp); err != nil {
		return fail("afxdp: %s: mapping the completion ring failed: %v", where, err)
	}
	s.maps = append(s.maps, m)
	if m, err = mapRxRing(fd, off.Rx, c.RxSize, &s.rx); err != nil {
		return fail("afxdp: %s: mapping the RX ring failed: %v", where, err)
	}
	s.maps = append(s.maps, m)
	if m, err = mapTxRing(fd, off.Tx, c.TxSize, &s.tx); err != nil {
		return fail("afxdp: %s: mapping the TX ring failed: %v", where, err)
	}
	s.maps = append(s.maps, m)
	if c.TxBudget != 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_XDP, unix.XDP_MAX_TX_SKB_BUDGET, int(c.TxBudget)); err != nil && !c.TxBudgetOptional {
			return fail("afxdp: %s: XDP_MAX_TX_SKB_BUDGET %d refused: %v: use a value from 32 up to the TX ring size (0 keeps the kernel's default)", where, c.TxBudget, err)
		}
	}
	sa := &unix.SockaddrXDP{Ifindex: uint32(c.Ifindex), QueueID: uint32(c.Queue)}
	if shared {
		// The kernel refuses mode flags on a shared bind: the socket inherits
		// copy/zero-copy, need_wakeup and multi-buffer from the UMEM's first
		// socket, so the request must agree with what that one got.
		if c.NeedWakeup != u.needWakeup || c.MultiBuffer != u.multiBuf || (c.Mode == ModeZeroCopy && !u.zeroCopy) || (c.Mode == ModeCopy && u.zeroCopy) {
			return fail("afxdp: %s: a socket sharing a UMEM inherits the first socket's mode (zero-copy %v, need_wakeup %v, multi-buffer %v): ask for the same (or ModeAuto)",
				where, u.zeroCopy, u.needWakeup, u.multiBuf)
		}
		sa.SharedUmemFD = uint32(u.ownerFD)
		sa.Flags = unix.XDP_SHARED_UMEM
		err = bindRetry(fd, sa)
		s.zeroCopy = u.zeroCopy
	} else {
		var flags uint16
		if c.NeedWakeup {
			flags |= unix.XDP_USE_NEED_WAKEUP
		}
		if c.MultiBuffer {
			flags |= unix.XDP_USE_SG
		}
		switch c.Mode {
		case ModeCopy:
			sa.Flags = flags | unix.XDP_COPY
			err = bindRetry(fd, sa)
		case ModeZeroCopy:
			sa.Flags = flags | unix.XDP_ZEROCOPY
			err = bindRetry(fd, sa)
			s.zeroCopy = err == nil
		default:
			sa.Flags = flags | unix.XDP_ZEROCOPY
			if zerr := bindRetry(fd, sa); zerr == nil {
				s.zeroCopy = true
			} else {
				reason = fmt.Sprintf("zero-copy bind on %s refused (%v); using copy mode", where, zerr)
				sa.Flags = flags | unix.XDP_COPY
				err = bindRetry(fd, sa)
			}
		}
	}
	if err != nil {
		return fail("afxdp: %s: bind in %s mode failed: %v%s", where, c.Mode, err, bindHint(err, c))
	}
	if !shared {
		u.ownerUsed = true
		u.zeroCopy, u.needWakeup, u.multiBuf = s.zeroCopy, c.NeedWakeup, c.MultiBuffer
	}
	u.sockets++
	s.pfd[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	return s, reason, nil
}

// bindRetry binds, retrying EBUSY for up to a second: the kernel releases a
// closed socket's hold on its queue from a work queue, so a queue closed a
// moment ago can still read as busy.
func bindRetry(fd int, sa *unix.SockaddrXDP) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = unix.Bind(fd, sa); !errors.Is(err, unix.EBUSY) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

func bindHint(err error, c SocketConfig) string {
	switch {
	case errors.Is(err, unix.ENODEV):
		return ": the interface is gone or in another network namespace"
	case errors.Is(err, unix.EINVAL):
		return ": check that the queue id exists (`ethtool -l`) and the ring sizes"
	case errors.Is(err, unix.EOPNOTSUPP):
		if c.MultiBuffer {
			return ": the driver may not support multi-buffer (XDP_USE_SG); try without MultiBuffer"
		}
		return ": the driver does not support this mode; use ModeCopy"
	case errors.Is(err, unix.EBUSY):
		return ": another AF_XDP socket is bound to this queue (waited 1s for a closed one to be released)"
	}
	return ""
}

// FD returns the socket's file descriptor (for the XSKMAP and poll).
func (s *Socket) FD() int { return s.fd }

// Queue returns the queue id the socket is bound to.
func (s *Socket) Queue() int { return s.queue }

// Ifindex returns the device index the socket is bound to.
func (s *Socket) Ifindex() int { return s.ifindex }

// ZeroCopy reports whether the socket is in zero-copy mode.
func (s *Socket) ZeroCopy() bool { return s.zeroCopy }

// UMEM returns the UMEM the socket is bound on.
func (s *Socket) UMEM() *UMEM { return s.umem }

// Fill returns the fill ring serving this socket's (device, queue).
func (s *Socket) Fill() *FillRing { return s.fill }

// Completion returns the completion ring serving this socket's (device, queue).
func (s *Socket) Completion() *CompletionRing { return s.comp }

// Rx returns the RX ring.
func (s *Socket) Rx() *RxRing { return &s.rx }

// Tx returns the TX ring.
func (s *Socket) Tx() *TxRing { return &s.tx }

// Receive takes up to len(descs) received descriptors; see RxRing.Consume.
// With multi-buffer a packet is a run of descriptors whose Options have
// OptionContd set, ended by one without; a run may span two calls.
func (s *Socket) Receive(descs []Desc) int { return s.rx.Consume(descs) }

// Transmit queues descriptors on the TX ring without kicking; see
// TxRing.Produce. Call Kick afterwards.
func (s *Socket) Transmit(descs []Desc) int { return s.tx.Produce(descs) }

// Kick asks the kernel to send what is on the TX ring (sendto with
// MSG_DONTWAIT). With need_wakeup it does so only when the ring's flags ask
// for it. Transient conditions (EAGAIN, ENOBUFS, EBUSY) are not errors: the
// frames stay queued and the next Kick retries.
func (s *Socket) Kick() error {
	if s.needWakeup && !s.tx.needWakeup() {
		return nil
	}
	switch e := kick(s.fd); e {
	case 0, unix.EAGAIN, unix.ENOBUFS, unix.EBUSY, unix.EINTR:
		return nil
	default:
		return fmt.Errorf("afxdp: TX kick (sendto) on ifindex %d queue %d failed: %w: is the device up and the socket open?", s.ifindex, s.queue, e)
	}
}

// WakeRx wakes the kernel's RX processing (recvfrom with MSG_DONTWAIT) when
// the fill ring asks for it; needed by zero-copy drivers after an empty fill ring.
func (s *Socket) WakeRx() error {
	if s.needWakeup && !s.fill.needWakeup() {
		return nil
	}
	switch e := wakeRx(s.fd); e {
	case 0, unix.EAGAIN, unix.ENOBUFS, unix.EBUSY, unix.EINTR:
		return nil
	default:
		return fmt.Errorf("afxdp: RX wakeup (recvfrom) on ifindex %d queue %d failed: %w: is the device up and the socket open?", s.ifindex, s.queue, e)
	}
}

// Poll waits up to timeout for the RX ring to become non-empty (poll with
// POLLIN, which also wakes the kernel). A negative timeout waits forever.
func (s *Socket) Poll(timeout time.Duration) (readable bool, err error) {
	ms := -1
	if timeout >= 0 {
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	s.pfd[0].Revents = 0
	n, err := unix.Poll(s.pfd[:], ms)
	if err != nil {
		if errors.Is(err, unix.EINTR) {
			return false, nil
		}
		return false, fmt.Errorf("afxdp: poll on queue %d failed: %w", s.queue, err)
	}
	return n > 0 && s.pfd[0].Revents&unix.POLLIN != 0, nil
}

// Stats reads the kernel's counters for this socket.
func (s *Socket) Stats() (Stats, error) {
	st, err := readStats(s.fd)
	if err != nil {
		return Stats{}, fmt.Errorf("afxdp: XDP_STATISTICS on queue %d failed: %w", s.queue, err)
	}
	return Stats{
		RxDropped: st.Rx_dropped, RxInvalidDescs: st.Rx_invalid_descs, TxInvalidDescs: st.Tx_invalid_descs,
		RxRingFull: st.Rx_ring_full, RxFillRingEmptyDescs: st.Rx_fill_ring_empty_descs, TxRingEmptyDescs: st.Tx_ring_empty_descs,
	}, nil
}

func (s *Socket) unmap() {
	for _, m := range s.maps {
		unix.Munmap(m)
	}
	s.maps = nil
}

// Close unmaps the rings and closes the socket. Frames the kernel still held
// (fill ring, TX ring) are simply forgotten with the UMEM.
func (s *Socket) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.unmap()
	err := unix.Close(s.fd)
	s.umem.mu.Lock()
	s.umem.sockets--
	s.umem.mu.Unlock()
	if err != nil {
		return fmt.Errorf("afxdp: close socket on queue %d: %w", s.queue, err)
	}
	return nil
}
