package iperf

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestTCPInfoOffsets checks our tcp_info offsets against x/sys/unix's
// struct, which is generated from the kernel headers.
func TestTCPInfoOffsets(t *testing.T) {
	var ti unix.TCPInfo
	for _, c := range []struct {
		name     string
		ours, xs uintptr
	}{
		{"snd_mss", tiSndMSS, unsafe.Offsetof(ti.Snd_mss)},
		{"pmtu", tiPMTU, unsafe.Offsetof(ti.Pmtu)},
		{"rtt", tiRTT, unsafe.Offsetof(ti.Rtt)},
		{"rttvar", tiRTTVar, unsafe.Offsetof(ti.Rttvar)},
		{"snd_cwnd", tiSndCwnd, unsafe.Offsetof(ti.Snd_cwnd)},
		{"total_retrans", tiTotalRetrans, unsafe.Offsetof(ti.Total_retrans)},
		{"bytes_acked", tiBytesAcked, unsafe.Offsetof(ti.Bytes_acked)},
		{"bytes_received", tiBytesRecv, unsafe.Offsetof(ti.Bytes_received)},
		{"delivery_rate", tiDelivRate, unsafe.Offsetof(ti.Delivery_rate)},
		{"bytes_sent", tiBytesSent, unsafe.Offsetof(ti.Bytes_sent)},
		{"bytes_retrans", tiBytesRetrans, unsafe.Offsetof(ti.Bytes_retrans)},
		{"snd_wnd", tiSndWnd, unsafe.Offsetof(ti.Snd_wnd)},
	} {
		if c.ours != c.xs {
			t.Errorf("tcpi_%s at %d, x/sys/unix says %d", c.name, c.ours, c.xs)
		}
	}
	if unix.SizeofTCPInfo != sizeofTCPInfoUser {
		t.Errorf("sizeof(tcp_info) %d, we ask for %d", unix.SizeofTCPInfo, sizeofTCPInfoUser)
	}
	if minTCPInfo != unsafe.Offsetof(ti.Total_retrans)+4 {
		t.Errorf("minTCPInfo %d does not end at tcpi_total_retrans", minTCPInfo)
	}
}
