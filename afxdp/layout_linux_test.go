package afxdp

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestStructLayouts(t *testing.T) {
	if unsafe.Sizeof(Desc{}) != unsafe.Sizeof(unix.XDPDesc{}) || unsafe.Sizeof(Desc{}) != 16 || unsafe.Offsetof(Desc{}.Options) != 12 {
		t.Fatal("Desc does not match struct xdp_desc (16 bytes: addr u64, len u32, options u32)")
	}
	// struct xdp_umem_reg with flags and tx_metadata_len is 32 bytes;
	// struct xdp_statistics has 6 u64 counters.
	if unsafe.Sizeof(unix.XDPUmemReg{}) != 32 || unsafe.Sizeof(unix.XDPStatistics{}) != 48 {
		t.Fatal("x/sys/unix XDP struct sizes differ from the kernel's")
	}
	if unsafe.Sizeof(ethtoolChannels{}) != 36 || unsafe.Sizeof(ifreqData{}) != 40 {
		t.Fatal("ethtool_channels / ifreq layout wrong")
	}
}
