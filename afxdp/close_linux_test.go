package afxdp

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

// TestCloseReleasesEverything opens and closes a 4-queue port and checks
// that no file descriptor or mapping is left and no XDP program stays on the
// device (by netlink and by `ip link show`).
func TestCloseReleasesEverything(t *testing.T) {
	for _, attach := range []AttachMode{AttachNative, AttachGeneric} {
		t.Run(attach.String(), func(t *testing.T) {
			p := newTestPair(t, testbed.LinkOpts{Queues: 4}, true)
			fds, maps := openFDs(t), ringMappings(t)
			port, err := p.tryOpen(Config{Attach: attach, Mode: ModeCopy, NumFrames: 8192})
			if err != nil {
				t.Fatal(err)
			}
			umemStart := fmt.Sprintf("%x-", uintptr(unsafe.Pointer(&port.UMEM.Bytes()[0])))
			if !mapsContain(t, umemStart) {
				t.Fatalf("UMEM mapping %s not found in /proc/self/maps", umemStart)
			}
			if got := ringMappings(t); got < maps+16 {
				t.Fatalf("with a 4-queue port open: %d ring mappings, want at least %d (4 per socket)", got, maps+16)
			}
			if got := openFDs(t); got < fds+4 {
				t.Fatalf("with a 4-queue port open: %d fds, want at least %d (one per socket)", got, fds+4)
			}
			st := p.xdpState(t)
			if st.Attached == 0 || st.ProgID == 0 {
				t.Fatalf("netlink shows no XDP program after Open: %+v", st)
			}
			if want := map[AttachMode]uint8{AttachNative: 1, AttachGeneric: 2}[attach]; st.Attached != want {
				t.Fatalf("netlink XDP attach mode %d, want %d (%v)", st.Attached, want, attach)
			}
			if !p.ipLinkHasXDP(t) {
				t.Fatal("`ip link show` shows no XDP program after Open")
			}
			if err := port.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := port.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if got := openFDs(t); got != fds {
				t.Errorf("after Close: %d fds open, before Open %d", got, fds)
			}
			if got := ringMappings(t); got != maps {
				t.Errorf("after Close: %d ring mappings, before Open %d", got, maps)
			}
			if mapsContain(t, umemStart) {
				t.Errorf("after Close the UMEM mapping %s is still there", umemStart)
			}
			if st := p.xdpState(t); st.Attached != 0 {
				t.Errorf("netlink still shows XDP after Close: %+v", st)
			}
			if p.ipLinkHasXDP(t) {
				t.Error("`ip link show` still shows an XDP program after Close")
			}
			// Every queue is free again: the same configuration opens at once.
			again, err := p.tryOpen(Config{Attach: attach, Mode: ModeCopy, NumFrames: 8192})
			if err != nil {
				t.Fatalf("re-Open right after Close: %v", err)
			}
			if err := again.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOpenBadInput checks that bad configurations fail with an error naming
// the problem and leave nothing attached or open.
func TestOpenBadInput(t *testing.T) {
	p := newTestPair(t, testbed.LinkOpts{Queues: 2, MTU: 9000}, true)
	cases := []struct {
		name string
		c    Config
		want string
	}{
		{"missing interface", Config{Interface: "nosuchif0"}, `interface "nosuchif0" not found`},
		{"queue beyond device", Config{Queues: []int{0, 2}, MultiBuffer: true}, "queue 2 does not exist"},
		{"frame size not power of two", Config{FrameSize: 3000}, "FrameSize 3000"},
		{"jumbo MTU without multi-buffer, native", Config{Attach: AttachNative, FrameSize: 4096}, "MTU 9000"},
		{"ring size", Config{RxSize: 1000, MultiBuffer: true}, "RxSize 1000"},
		// Fails after the program is attached: Open must detach it again.
		{"zero-copy on veth", Config{Mode: ModeZeroCopy, MultiBuffer: true, Attach: AttachNative}, "bind in zero-copy mode failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fds := openFDs(t)
			port, err := p.tryOpen(tc.c)
			if err == nil {
				port.Close()
				t.Fatalf("Open succeeded, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), ": ") || !strings.HasPrefix(err.Error(), "afxdp: ") {
				t.Fatalf("error %q lacks the afxdp prefix or a hint", err)
			}
			if got := openFDs(t); got != fds {
				t.Errorf("failed Open left %d fds open (before: %d)", got, fds)
			}
			if st := p.xdpState(t); st.Attached != 0 {
				t.Errorf("failed Open left XDP attached: %+v", st)
			}
		})
	}
	// A device that already has an XDP program is refused before anything is
	// touched, and the first port's program survives the refusal.
	t.Run("device already has XDP", func(t *testing.T) {
		first := p.open(t, Config{Queues: []int{0}, MultiBuffer: true, Attach: AttachNative})
		fds := openFDs(t)
		// The device already has our program: Open refuses before touching it.
		_, err := p.tryOpen(Config{Queues: []int{0}, MultiBuffer: true, Attach: AttachNative})
		if err == nil || !strings.Contains(err.Error(), "already has an XDP program") {
			t.Fatalf("second Open on a busy device: %v, want \"already has an XDP program\"", err)
		}
		if got := openFDs(t); got != fds {
			t.Errorf("failed Open left %d fds open (before: %d)", got, fds)
		}
		if st := p.xdpState(t); st.Attached != 1 {
			t.Errorf("the first port's program is gone after a refused Open: %+v", st)
		}
		first.Close()
		if st := p.xdpState(t); st.Attached != 0 {
			t.Errorf("XDP still attached after Close: %+v", st)
		}
	})
}
