package iperf

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// kernelSource reads subflow statistics of a kernel TCP or MPTCP socket.
type kernelSource struct {
	raw           syscall.RawConn
	local, remote net.Addr

	mu     sync.Mutex
	plain  bool // SOL_MPTCP refused: a plain TCP socket or a fallback
	info   []byte
	addrs  []byte
	ifaces ifaceCache
}

// KernelSubflows returns a SubflowSource for a kernel socket (a
// *net.TCPConn, MPTCP or not), or nil when c has no file descriptor.
func KernelSubflows(c net.Conn) SubflowSource {
	c = Unwrap(c)
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return &kernelSource{raw: raw, local: c.LocalAddr(), remote: c.RemoteAddr(), ifaces: ifaceCache{}}
}

// getsockopt reads option (level, opt) into b and returns the length the
// kernel wrote.
func getsockopt(fd uintptr, level, opt int, b []byte) (int, error) {
	l := uint32(len(b))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, fd, uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return int(l), nil
}

// subflowArray runs one MPTCP_TCPINFO or MPTCP_SUBFLOW_ADDRS request,
// growing *buf until every subflow fits.
func subflowArray(fd uintptr, opt int, elem int, buf *[]byte) ([][]byte, error) {
	n := 8
	for range 4 {
		need := sizeofSubflowData + n*elem
		if cap(*buf) < need {
			*buf = make([]byte, need)
		}
		b := (*buf)[:need]
		clear(b)
		putSubflowData(b, uint32(elem))
		l, err := getsockopt(fd, solMPTCP, opt, b)
		if err != nil {
			return nil, err
		}
		h, elems, err := parseSubflowData(b[:l])
		if err != nil {
			return nil, err
		}
		if int(h.NumSubflows) <= n {
			return elems, nil
		}
		n = int(h.NumSubflows) + 4
	}
	return nil, errors.New("iperf: the subflow count keeps changing")
}

// AppendSubflows implements SubflowSource.
func (k *kernelSource) AppendSubflows(dst []SubflowStat) ([]SubflowStat, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []SubflowStat
	var opErr error
	err := k.raw.Control(func(fd uintptr) {
		if !k.plain {
			infos, err := subflowArray(fd, optMPTCPTCPInfo, sizeofTCPInfoUser, &k.info)
			if err == nil {
				var addrs [][]byte
				addrs, err = subflowArray(fd, optMPTCPSubflowAd, sizeofSubflowAddrs, &k.addrs)
				if err == nil {
					for i := 0; i < len(infos) && i < len(addrs); i++ {
						ti, err := parseTCPInfo(infos[i])
						if err != nil {
							opErr = err
							return
						}
						s := ti.stat()
						s.Local, s.Remote, err = parseSubflowAddrs(addrs[i])
						if err != nil {
							opErr = err
							return
						}
						s.Iface = k.iface(fd, s.Local.Addr())
						out = append(out, s)
					}
					if len(infos) > 0 {
						return
					}
				}
			}
			var en syscall.Errno
			if errors.As(err, &en) && (en == unix.EOPNOTSUPP || en == unix.ENOPROTOOPT || en == unix.EINVAL) {
				k.plain = true
			} else if err != nil {
				opErr = err
				return
			}
		}
		// Plain TCP (or an MPTCP socket that fell back): one subflow.
		b := make([]byte, sizeofTCPInfoUser)
		l, err := getsockopt(fd, unix.IPPROTO_TCP, unix.TCP_INFO, b)
		if err != nil {
			opErr = err
			return
		}
		ti, err := parseTCPInfo(b[:l])
		if err != nil {
			opErr = err
			return
		}
		s := ti.stat()
		s.Local, s.Remote = addrPortOf(k.local), addrPortOf(k.remote)
		s.Iface = k.iface(fd, s.Local.Addr())
		out = append(out, s)
	})
	if err != nil {
		return dst, err
	}
	if opErr != nil {
		return dst, opErr
	}
	return append(dst, out...), nil
}

// iface names the interface that holds local address a, looking in the
// socket's own network namespace (SIOCGSKNS), which may differ from the
// calling thread's (sockets opened inside a test namespace). Results are
// cached per address; a miss costs one interface listing.
func (k *kernelSource) iface(fd uintptr, a netip.Addr) string {
	a = a.Unmap()
	if n, ok := k.ifaces[a]; ok {
		return n
	}
	name := ""
	nsfd, err := unix.IoctlRetInt(int(fd), unix.SIOCGSKNS)
	if err != nil || sameNetns(nsfd) {
		name = ifaceOf(a)
	} else {
		name = ifaceInNetns(nsfd, a)
	}
	if err == nil {
		unix.Close(nsfd)
	}
	k.ifaces[a] = name
	return name
}

// sameNetns reports whether the namespace fd nsfd is this thread's.
func sameNetns(nsfd int) bool {
	var a, b unix.Stat_t
	if unix.Fstat(nsfd, &a) != nil || unix.Stat("/proc/thread-self/ns/net", &b) != nil {
		return true // cannot tell: look here
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// ifaceInNetns runs ifaceOf on a thread that joined namespace nsfd; the
// thread is discarded afterwards. It needs CAP_SYS_ADMIN; without it the
// name stays unknown.
func ifaceInNetns(nsfd int, a netip.Addr) string {
	ch := make(chan string, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with us
		if err := unix.Setns(nsfd, unix.CLONE_NEWNET); err != nil {
			ch <- ""
			return
		}
		ch <- ifaceOf(a)
	}()
	return <-ch
}

// KernelMPTCPInfo returns the struct mptcp_info of a kernel MPTCP socket;
// ok is false for plain TCP sockets and MPTCP sockets that fell back.
func KernelMPTCPInfo(c net.Conn) (info MPTCPInfo, ok bool, err error) {
	c = Unwrap(c)
	sc, isSC := c.(syscall.Conn)
	if !isSC {
		return info, false, nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return info, false, err
	}
	var opErr error
	b := make([]byte, sizeofMPTCPInfo)
	cerr := raw.Control(func(fd uintptr) {
		l, err := getsockopt(fd, solMPTCP, optMPTCPInfo, b)
		if err != nil {
			opErr = err
			return
		}
		info, opErr = parseMPTCPInfo(b[:l])
		ok = opErr == nil
	})
	if cerr != nil {
		return info, false, cerr
	}
	var en syscall.Errno
	if errors.As(opErr, &en) && (en == unix.EOPNOTSUPP || en == unix.ENOPROTOOPT || en == unix.EINVAL) {
		return info, false, nil
	}
	return info, ok, opErr
}

// unsentBytes reports how many bytes c's socket still holds unacknowledged
// (SIOCOUTQ); ok is false when that cannot be read.
func unsentBytes(c net.Conn) (n int, ok bool) {
	c = Unwrap(c)
	sc, isSC := c.(syscall.Conn)
	if !isSC {
		return 0, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var ierr error
	if err := raw.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) }); err != nil || ierr != nil {
		return 0, false
	}
	return n, true
}

// setCongestion selects the TCP congestion control algorithm of a kernel
// socket (TCP_CONGESTION; MPTCP applies it to every subflow).
func setCongestion(c net.Conn, name string) error {
	c = Unwrap(c)
	sc, ok := c.(syscall.Conn)
	if !ok {
		return errors.New("iperf: not a kernel socket: cannot set the congestion control")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION, name)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("iperf: congestion control %q: %w (see /proc/sys/net/ipv4/tcp_available_congestion_control)", name, serr)
	}
	return nil
}

// congestionOf returns a kernel socket's congestion control name, or "".
func congestionOf(c net.Conn) string {
	c = Unwrap(c)
	sc, ok := c.(syscall.Conn)
	if !ok {
		return ""
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return ""
	}
	var name string
	_ = raw.Control(func(fd uintptr) {
		b := make([]byte, 16)
		n, err := getsockopt(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION, b)
		if err == nil {
			name = string(bytes.TrimRight(b[:n], "\x00"))
		}
	})
	return name
}
