//go:build !linux

package iperf

import "net"

// KernelSubflows returns nil: kernel subflow statistics are read on Linux
// only.
func KernelSubflows(c net.Conn) SubflowSource { return nil }

// KernelMPTCPInfo reports ok=false: MPTCP_INFO exists on Linux only.
func KernelMPTCPInfo(c net.Conn) (info MPTCPInfo, ok bool, err error) { return info, false, nil }

// unsentBytes is unknown off Linux.
func unsentBytes(c net.Conn) (int, bool) { return 0, false }
