//go:build !linux

package iperf

import (
	"errors"
	"net"
)

// KernelSubflows returns nil: kernel subflow statistics are read on Linux
// only.
func KernelSubflows(c net.Conn) SubflowSource { return nil }

// KernelMPTCPInfo reports ok=false: MPTCP_INFO exists on Linux only.
func KernelMPTCPInfo(c net.Conn) (info MPTCPInfo, ok bool, err error) { return info, false, nil }

// unsentBytes is unknown off Linux.
func unsentBytes(c net.Conn) (int, bool) { return 0, false }

// setCongestion is unsupported off Linux.
func setCongestion(c net.Conn, name string) error {
	return errors.New("iperf: setting the congestion control needs Linux")
}

// congestionOf is unknown off Linux.
func congestionOf(c net.Conn) string { return "" }
