package main

import (
	"runtime"

	"github.com/mpxdp/mpxdp/internal/netstat"
)

// MIBSource supplies MPTCP MIB counters by the kernel's MPTcpExt names
// (MPCapableSYNRX, MPJoinSynRx, ...). mpxdp's stack will provide one
// from its own counters; kernelMIB reads the kernel's.
type MIBSource interface {
	MIB() (map[string]uint64, error)
}

// kernelMIB reads the MPTcpExt counters of this network namespace from
// /proc/thread-self/net/netstat.
type kernelMIB struct{ path string }

// MIB implements MIBSource.
func (k kernelMIB) MIB() (map[string]uint64, error) {
	p := k.path
	if p == "" {
		// This thread's namespace: /proc/net follows the main thread,
		// which a namespace switch elsewhere in the process may have moved.
		p = "/proc/thread-self/net/netstat"
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	return netstat.ReadSection(p, "MPTcpExt")
}
