package afxdp

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// UMEM is a registered packet-buffer area shared by one or more sockets, on
// one or several queues and devices. Control-plane methods are safe for
// concurrent use; the frame bytes follow the ownership rules in the package
// documentation.
type UMEM struct {
	mem       []byte
	frameSize uint32
	numFrames uint32
	headroom  uint32
	fillSize  uint32
	compSize  uint32

	mu        sync.Mutex
	ownerFD   int  // the socket the UMEM is registered on
	ownerUsed bool // ownerFD has been handed to a Socket
	// Mode of the first socket, which every shared socket inherits.
	zeroCopy, needWakeup, multiBuf bool
	sockets                        int // open sockets on this UMEM
	closed                         bool
}

// NewUMEM maps an anonymous area of NumFrames*FrameSize bytes and registers
// it with the kernel (XDP_UMEM_REG) on a fresh AF_XDP socket, which becomes
// the first socket bound through Bind. As root it lifts RLIMIT_MEMLOCK; as
// another user it fails clearly when the area exceeds the limit.
func NewUMEM(c UMEMConfig) (*UMEM, error) {
	page := uint32(os.Getpagesize())
	if !isPow2(c.FrameSize) || c.FrameSize < 2048 || c.FrameSize > page {
		return nil, fmt.Errorf("afxdp: UMEMConfig.FrameSize %d is invalid: use a power of two from 2048 to %d", c.FrameSize, page)
	}
	if c.NumFrames == 0 {
		return nil, errors.New("afxdp: UMEMConfig.NumFrames is 0: give the UMEM at least as many frames as the fill ring holds")
	}
	if !isPow2(c.FillSize) || !isPow2(c.CompletionSize) {
		return nil, fmt.Errorf("afxdp: UMEMConfig.FillSize %d / CompletionSize %d must be powers of two", c.FillSize, c.CompletionSize)
	}
	size := int(c.NumFrames) * int(c.FrameSize)
	if err := ensureMemlock(uint64(size)); err != nil {
		return nil, err
	}
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("afxdp: mmap of a %d-byte UMEM failed: %v: lower NumFrames", size, err)
	}
	fd, err := newXSK()
	if err != nil {
		unix.Munmap(mem)
		return nil, err
	}
	if err := registerUMEM(fd, mem, c.FrameSize, c.FrameHeadroom); err != nil {
		unix.Close(fd)
		unix.Munmap(mem)
		if errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.ENOMEM) || errors.Is(err, unix.EPERM) {
			return nil, fmt.Errorf("afxdp: XDP_UMEM_REG of %d bytes failed: %v: RLIMIT_MEMLOCK is too low; run as root (CAP_IPC_LOCK) or raise it with `ulimit -l`", size, err)
		}
		return nil, fmt.Errorf("afxdp: XDP_UMEM_REG (%d frames of %d bytes, headroom %d) failed: %v", c.NumFrames, c.FrameSize, c.FrameHeadroom, err)
	}
	return &UMEM{
		mem: mem, frameSize: c.FrameSize, numFrames: c.NumFrames, headroom: c.FrameHeadroom,
		fillSize: c.FillSize, compSize: c.CompletionSize, ownerFD: fd,
	}, nil
}

func newXSK() (int, error) {
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return -1, fmt.Errorf("afxdp: socket(AF_XDP) failed: %v: needs root (CAP_NET_RAW)", err)
		}
		return -1, fmt.Errorf("afxdp: socket(AF_XDP) failed: %v: is CONFIG_XDP_SOCKETS enabled?", err)
	}
	return fd, nil
}

// ensureMemlock lifts RLIMIT_MEMLOCK for root and checks it otherwise.
func ensureMemlock(need uint64) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim); err != nil {
		return nil // cannot tell; let the kernel decide
	}
	if lim.Cur == unix.RLIM_INFINITY || lim.Cur >= need {
		return nil
	}
	if os.Geteuid() == 0 {
		inf := unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
		if unix.Setrlimit(unix.RLIMIT_MEMLOCK, &inf) == nil {
			return nil
		}
		return nil // root has CAP_IPC_LOCK: UMEM pages are not charged
	}
	if lim.Max == unix.RLIM_INFINITY || lim.Max >= need {
		raised := unix.Rlimit{Cur: lim.Max, Max: lim.Max}
		if unix.Setrlimit(unix.RLIMIT_MEMLOCK, &raised) == nil {
			return nil
		}
	}
	return fmt.Errorf("afxdp: the UMEM needs %d bytes of locked memory but RLIMIT_MEMLOCK is %d (hard %d): run as root (CAP_IPC_LOCK), raise it with `ulimit -l`, or lower NumFrames", need, lim.Cur, lim.Max)
}

// Bytes returns the whole UMEM area.
func (u *UMEM) Bytes() []byte { return u.mem }

// FrameSize returns the chunk size in bytes.
func (u *UMEM) FrameSize() uint32 { return u.frameSize }

// NumFrames returns the number of frames.
func (u *UMEM) NumFrames() uint32 { return u.numFrames }

// Headroom returns the configured extra headroom per frame.
func (u *UMEM) Headroom() uint32 { return u.headroom }

// FrameAddr rounds an address inside a frame down to the frame's start.
func (u *UMEM) FrameAddr(addr uint64) uint64 { return addr &^ uint64(u.frameSize-1) }

// Data returns the packet bytes a descriptor points at (no copy).
func (u *UMEM) Data(d Desc) []byte {
	return u.mem[d.Addr : d.Addr+uint64(d.Len) : d.Addr+uint64(d.Len)]
}

// Frame returns the bytes from addr to the end of its frame, for building a
// packet to transmit.
func (u *UMEM) Frame(addr uint64) []byte {
	end := u.FrameAddr(addr) + uint64(u.frameSize)
	return u.mem[addr:end:end]
}

// FrameAddrs appends the address of every frame (first to last) to dst.
func (u *UMEM) FrameAddrs(dst []uint64) []uint64 {
	for i := uint64(0); i < uint64(u.numFrames); i++ {
		dst = append(dst, i*uint64(u.frameSize))
	}
	return dst
}

// Close releases the UMEM mapping. Every Socket on it must be closed first.
func (u *UMEM) Close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return nil
	}
	if u.sockets > 0 {
		return fmt.Errorf("afxdp: UMEM.Close with %d sockets still open: close the sockets (or the Port) first", u.sockets)
	}
	u.closed = true
	var errs []error
	if !u.ownerUsed {
		if err := unix.Close(u.ownerFD); err != nil {
			errs = append(errs, fmt.Errorf("afxdp: close UMEM socket: %w", err))
		}
	}
	if err := unix.Munmap(u.mem); err != nil {
		errs = append(errs, fmt.Errorf("afxdp: munmap UMEM: %w", err))
	}
	u.mem = nil
	return errors.Join(errs...)
}
