package afxdp

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

// TestAutoModesFallBack: on veth, ModeAuto must fall back from zero-copy to
// copy, and AttachAuto from native to generic when native refuses the MTU;
// both reasons reach the caller's logger and Port.Reasons.
func TestAutoModesFallBack(t *testing.T) {
	// MTU 3600 fits a 4096-byte frame but exceeds what native XDP without
	// frags accepts on veth (3506).
	p := newTestPair(t, testbed.LinkOpts{MTU: 3600}, false)
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	port := p.open(t, Config{Mode: ModeAuto, Attach: AttachAuto, Logger: log, NumFrames: 4096})
	if port.Attach != AttachGeneric {
		t.Fatalf("AttachAuto with MTU 3600 on veth ended in %v, want generic", port.Attach)
	}
	if port.Sockets[0].ZeroCopy() {
		t.Fatal("veth socket claims zero-copy")
	}
	all := strings.Join(port.Reasons, "\n")
	if !strings.Contains(all, "native XDP attach") || !strings.Contains(all, "zero-copy bind") {
		t.Fatalf("Reasons %q lack the native and zero-copy fall-backs", port.Reasons)
	}
	if !strings.Contains(logBuf.String(), "zero-copy bind") || !strings.Contains(logBuf.String(), "native XDP attach") {
		t.Fatalf("logger did not get the fall-back reasons: %s", logBuf.String())
	}
	if st := p.xdpState(t); st.Attached != 2 {
		t.Fatalf("netlink shows XDP mode %d, want 2 (generic)", st.Attached)
	}
	// And it works: a datagram from the peer arrives.
	w := newQWorker(port.Sockets[0], port.UMEM.FrameAddrs(nil))
	c := p.peerUDP(t)
	if !sendUntilReceived(t, c, &net.UDPAddr{IP: net.IPv4(10, 77, 0, 1), Port: 9999}, w) {
		t.Fatal("no datagram arrived on the auto-mode port")
	}
}

// sendUntilReceived sends datagrams from c to dst until w receives one (5s).
func sendUntilReceived(t testing.TB, c *net.UDPConn, dst *net.UDPAddr, w *qWorker) bool {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := c.WriteTo([]byte("hello"), dst); err != nil {
			t.Fatalf("send to %v: %v", dst, err)
		}
		got := false
		for i := 0; i < 20 && !got; i++ {
			w.poll(func(d Desc) {
				f := w.u.Data(d)
				if len(f) >= 42 && f[12] == 8 && f[13] == 0 && f[14] == 0x45 && f[23] == 17 &&
					[4]byte(f[30:34]) == [4]byte(dst.IP.To4()) && int(f[36])<<8|int(f[37]) == dst.Port {
					got = true
				}
			})
			if !got {
				w.s.Poll(5 * time.Millisecond)
			}
		}
		if got {
			return true
		}
	}
	return false
}

// TestSharedUMEMAcrossInterfaces opens two ports on two devices over one
// UMEM (XDP_SHARED_UMEM with a fill/completion pair per device) and checks
// that both receive into it.
func TestSharedUMEMAcrossInterfaces(t *testing.T) {
	p := newTestPair(t, testbed.LinkOpts{}, false)
	n := ifCounter.Add(1)
	a2, b2, err := testbed.NewVeth(p.our, fmt.Sprintf("xa%d", n), p.peer, fmt.Sprintf("xb%d", n), testbed.LinkOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b2.AddAddr(netip.MustParsePrefix("10.78.0.2/24")); err != nil {
		t.Fatal(err)
	}
	if out, err := p.peer.Exec("ip", "neigh", "replace", "10.78.0.1", "lladdr", a2.MAC.String(), "dev", b2.Name, "nud", "permanent"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	cfg := Config{Mode: ModeCopy, Attach: AttachNative, Queues: []int{0}, NumFrames: 4096}
	first, err := p.tryOpen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	cfg.Interface = a2.Name
	var second *Port
	if err := p.our.Do(func() error {
		var err error
		second, err = OpenShared(cfg, first.UMEM)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if second.UMEM != first.UMEM || second.Sockets[0].UMEM() != first.UMEM {
		t.Fatal("the second port does not use the first port's UMEM")
	}
	if second.Sockets[0].Fill() == first.Sockets[0].Fill() {
		t.Fatal("two devices share one fill ring; the kernel needs one per (device, queue)")
	}
	halves := splitFrames(first.UMEM, 2)
	w1 := newQWorker(first.Sockets[0], halves[0])
	w2 := newQWorker(second.Sockets[0], halves[1])
	c := p.peerUDP(t)
	if !sendUntilReceived(t, c, &net.UDPAddr{IP: net.IPv4(10, 77, 0, 1), Port: 9999}, w1) {
		t.Fatal("no datagram on the first device")
	}
	var c2 *net.UDPConn
	if err := p.peer.Do(func() error {
		var err error
		c2, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(10, 78, 0, 2)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if !sendUntilReceived(t, c2, &net.UDPAddr{IP: net.IPv4(10, 78, 0, 1), Port: 9999}, w2) {
		t.Fatal("no datagram on the second device (shared UMEM)")
	}
	if err := first.UMEM.Close(); err == nil || !strings.Contains(err.Error(), "sockets still open") {
		t.Fatalf("UMEM.Close with sockets open: %v, want a refusal", err)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
}
