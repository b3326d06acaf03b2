package afxdp

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// xdpAttrGolden is an IFLA_XDP payload as the kernel sends it for a
// natively attached program with id 0x1234: IFLA_XDP_ATTACHED (u8, padded)
// then IFLA_XDP_PROG_ID (u32), each attribute 4-byte aligned.
var xdpAttrGolden = func() []byte {
	b := make([]byte, 0, 24)
	b = binary.NativeEndian.AppendUint16(b, 5) // len: 4 header + 1 value
	b = binary.NativeEndian.AppendUint16(b, iflaXDPAttached)
	b = append(b, 1, 0, 0, 0) // value + 3 padding
	b = binary.NativeEndian.AppendUint16(b, 8)
	b = binary.NativeEndian.AppendUint16(b, iflaXDPProgID)
	b = binary.NativeEndian.AppendUint32(b, 0x1234)
	b = binary.NativeEndian.AppendUint16(b, 8) // IFLA_XDP_DRV_PROG_ID, ignored
	b = binary.NativeEndian.AppendUint16(b, 5)
	b = binary.NativeEndian.AppendUint32(b, 0x1234)
	return b
}()

func TestParseXDPAttrGolden(t *testing.T) {
	got := parseXDPAttr(xdpAttrGolden)
	if got != (XDPState{Attached: 1, ProgID: 0x1234}) {
		t.Fatalf("parseXDPAttr(golden) = %+v", got)
	}
	if got := parseXDPAttr(nil); got != (XDPState{}) {
		t.Fatalf("empty attribute parsed as %+v", got)
	}
}

// TestParseXDPAttrTruncated cuts the golden bytes at every length: the
// parser must not panic and must only report attributes that are complete.
func TestParseXDPAttrTruncated(t *testing.T) {
	for n := 0; n < len(xdpAttrGolden); n++ {
		got := parseXDPAttr(xdpAttrGolden[:n])
		if n < 5 && got.Attached != 0 {
			t.Fatalf("cut at %d: Attached %d from an incomplete attribute", n, got.Attached)
		}
		if n < 16 && got.ProgID != 0 {
			t.Fatalf("cut at %d: ProgID %d from an incomplete attribute", n, got.ProgID)
		}
		if n >= 16 && got.ProgID != 0x1234 {
			t.Fatalf("cut at %d: lost the complete ProgID attribute", n)
		}
	}
	// A length field pointing past the end stops the walk.
	bad := append([]byte(nil), xdpAttrGolden...)
	binary.NativeEndian.PutUint16(bad[0:2], 200)
	if got := parseXDPAttr(bad); got != (XDPState{}) {
		t.Fatalf("overlong attribute parsed as %+v", got)
	}
}

// FuzzParseXDPAttr: encode a state, parse it back (round trip), and never
// panic on arbitrary bytes.
func FuzzParseXDPAttr(f *testing.F) {
	f.Add(uint8(1), uint32(0x1234), xdpAttrGolden)
	f.Add(uint8(2), uint32(0), []byte{4, 0})
	f.Fuzz(func(t *testing.T, attached uint8, id uint32, junk []byte) {
		parseXDPAttr(junk)
		var b []byte
		b = binary.NativeEndian.AppendUint16(b, 5)
		b = binary.NativeEndian.AppendUint16(b, iflaXDPAttached)
		b = append(b, attached, 0, 0, 0)
		b = binary.NativeEndian.AppendUint16(b, 8)
		b = binary.NativeEndian.AppendUint16(b, iflaXDPProgID)
		b = binary.NativeEndian.AppendUint32(b, id)
		if got := parseXDPAttr(b); got != (XDPState{Attached: attached, ProgID: id}) {
			t.Fatalf("round trip of {%d %d} gave %+v", attached, id, got)
		}
	})
}

// TestKernelConstants checks our portable copies of uapi values against
// golang.org/x/sys/unix, and the Desc layout against struct xdp_desc.
func TestKernelConstants(t *testing.T) {
	if PacketHeadroom != unix.XDP_PACKET_HEADROOM || OptionContd != unix.XDP_PKT_CONTD || ringNeedWakeup != unix.XDP_RING_NEED_WAKEUP {
		t.Fatal("afxdp's kernel constants disagree with golang.org/x/sys/unix")
	}
	if iflaXDPAttached != unix.IFLA_XDP_ATTACHED || iflaXDPProgID != unix.IFLA_XDP_PROG_ID {
		t.Fatal("IFLA_XDP_* constants disagree with golang.org/x/sys/unix")
	}
	if unix.XDP_USE_SG != 1<<4 || unix.XDP_MAX_TX_SKB_BUDGET != 9 || unix.XDP_STATISTICS != 7 || unix.XDP_MMAP_OFFSETS != 1 || unix.XDP_UMEM_REG != 4 {
		t.Fatal("x/sys/unix uapi values differ from linux/if_xdp.h as checked for this package")
	}
}
