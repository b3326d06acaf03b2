package afxdp

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// getsockopt and setsockopt with a raw struct; used for XDP_MMAP_OFFSETS,
// XDP_UMEM_REG and XDP_STATISTICS, which golang.org/x/sys has no helpers for.
func getsockoptRaw(fd, level, opt int, p unsafe.Pointer, size uintptr) (uintptr, error) {
	l := uint32(size)
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt), uintptr(p), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return uintptr(l), nil
}

func setsockoptRaw(fd, level, opt int, p unsafe.Pointer, size uintptr) error {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt), uintptr(p), size, 0)
	if e != 0 {
		return e
	}
	return nil
}

// kick is sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) without allocating.
func kick(fd int) unix.Errno {
	_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), 0, 0, unix.MSG_DONTWAIT, 0, 0)
	return e
}

// wakeRx is recvfrom(fd, NULL, 0, MSG_DONTWAIT, NULL, NULL) without allocating.
func wakeRx(fd int) unix.Errno {
	_, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), 0, 0, unix.MSG_DONTWAIT, 0, 0)
	return e
}

// mapRing maps one ring of a socket and returns the mapping with pointers to
// its producer, consumer and flags words and to its first descriptor.
func mapRing(fd int, pgoff int64, off unix.XDPRingOffset, entries uint32, entSize uintptr) (mem []byte, prod, cons, flags *uint32, desc unsafe.Pointer, err error) {
	length := int(off.Desc) + int(entries)*int(entSize)
	mem, err = unix.Mmap(fd, pgoff, length, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	base := unsafe.Pointer(&mem[0])
	prod = (*uint32)(unsafe.Add(base, off.Producer))
	cons = (*uint32)(unsafe.Add(base, off.Consumer))
	flags = (*uint32)(unsafe.Add(base, off.Flags))
	desc = unsafe.Add(base, off.Desc)
	return mem, prod, cons, flags, desc, nil
}

func mapFillRing(fd int, off unix.XDPRingOffset, entries uint32, r *FillRing) ([]byte, error) {
	mem, p, c, f, d, err := mapRing(fd, unix.XDP_UMEM_PGOFF_FILL_RING, off, entries, 8)
	if err != nil {
		return nil, err
	}
	r.ringIdx = newRingIdx(p, c, f, entries)
	r.addrs = unsafe.Slice((*uint64)(d), entries)
	return mem, nil
}

func mapCompletionRing(fd int, off unix.XDPRingOffset, entries uint32, r *CompletionRing) ([]byte, error) {
	mem, p, c, f, d, err := mapRing(fd, unix.XDP_UMEM_PGOFF_COMPLETION_RING, off, entries, 8)
	if err != nil {
		return nil, err
	}
	r.ringIdx = newRingIdx(p, c, f, entries)
	r.addrs = unsafe.Slice((*uint64)(d), entries)
	return mem, nil
}

func mapRxRing(fd int, off unix.XDPRingOffset, entries uint32, r *RxRing) ([]byte, error) {
	mem, p, c, f, d, err := mapRing(fd, unix.XDP_PGOFF_RX_RING, off, entries, unsafe.Sizeof(Desc{}))
	if err != nil {
		return nil, err
	}
	r.ringIdx = newRingIdx(p, c, f, entries)
	r.descs = unsafe.Slice((*Desc)(d), entries)
	return mem, nil
}

func mapTxRing(fd int, off unix.XDPRingOffset, entries uint32, r *TxRing) ([]byte, error) {
	mem, p, c, f, d, err := mapRing(fd, unix.XDP_PGOFF_TX_RING, off, entries, unsafe.Sizeof(Desc{}))
	if err != nil {
		return nil, err
	}
	r.ringIdx = newRingIdx(p, c, f, entries)
	r.descs = unsafe.Slice((*Desc)(d), entries)
	return mem, nil
}

func mmapOffsets(fd int) (unix.XDPMmapOffsets, error) {
	var off unix.XDPMmapOffsets
	n, err := getsockoptRaw(fd, unix.SOL_XDP, unix.XDP_MMAP_OFFSETS, unsafe.Pointer(&off), unsafe.Sizeof(off))
	if err != nil {
		return off, err
	}
	if n != unsafe.Sizeof(off) {
		return off, unix.EPROTO // a pre-5.4 layout without the flags word
	}
	return off, nil
}

func registerUMEM(fd int, mem []byte, frameSize, headroom uint32) error {
	reg := unix.XDPUmemReg{
		Addr:     uint64(uintptr(unsafe.Pointer(&mem[0]))),
		Len:      uint64(len(mem)),
		Size:     frameSize,
		Headroom: headroom,
	}
	return setsockoptRaw(fd, unix.SOL_XDP, unix.XDP_UMEM_REG, unsafe.Pointer(&reg), unsafe.Sizeof(reg))
}

func readStats(fd int) (unix.XDPStatistics, error) {
	var st unix.XDPStatistics
	_, err := getsockoptRaw(fd, unix.SOL_XDP, unix.XDP_STATISTICS, unsafe.Pointer(&st), unsafe.Sizeof(st))
	return st, err
}

// ethtoolChannels is struct ethtool_channels.
type ethtoolChannels struct {
	Cmd                                         uint32
	MaxRx, MaxTx, MaxOther, MaxCombined         uint32
	RxCount, TxCount, OtherCount, CombinedCount uint32
}

// ifreqData is struct ifreq with the ifr_data member of the union.
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24 - unsafe.Sizeof(uintptr(0))]byte
}

// channelCounts asks the driver (ETHTOOL_GCHANNELS, in the calling thread's
// network namespace) how many RX and TX queues are in use.
func channelCounts(name string) (rx, tx int, err error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, 0, err
	}
	defer unix.Close(fd)
	ch := ethtoolChannels{Cmd: unix.ETHTOOL_GCHANNELS}
	var ifr ifreqData
	copy(ifr.name[:unix.IFNAMSIZ-1], name)
	ifr.data = unsafe.Pointer(&ch)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr))); e != 0 {
		return 0, 0, e
	}
	return int(ch.RxCount + ch.CombinedCount), int(ch.TxCount + ch.CombinedCount), nil
}
