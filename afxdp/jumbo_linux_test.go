package afxdp

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

// TestJumboMultiBuffer runs MTU 9000 on both ends in native mode with the
// frags-aware program: a 8900-byte UDP datagram from the peer arrives as a
// chain of descriptors (OptionContd), which we reassemble and check byte for
// byte, then echo back as a chained TX frame that the peer's kernel accepts.
func TestJumboMultiBuffer(t *testing.T) {
	p := newTestPair(t, testbed.LinkOpts{MTU: 9000}, false)
	port := p.open(t, Config{Attach: AttachNative, Mode: ModeCopy, MultiBuffer: true, NumFrames: 4096})
	if !port.Program.Frags() {
		t.Fatal("multi-buffer port loaded a program without BPF_F_XDP_HAS_FRAGS")
	}
	w := newQWorker(port.Sockets[0], port.UMEM.FrameAddrs(nil))
	c := p.peerUDP(t)
	payload := make([]byte, 8900)
	for i := range payload {
		payload[i] = byte(i*7 + i>>8)
	}
	dst := &net.UDPAddr{IP: net.IPv4(10, 77, 0, 1), Port: 9999}
	if _, err := c.WriteTo(payload, dst); err != nil {
		t.Fatalf("peer send: %v", err)
	}

	// Receive and reassemble one packet.
	var pkt []byte
	chain := 0
	deadline := time.Now().Add(5 * time.Second)
	for done := false; !done && time.Now().Before(deadline); {
		w.poll(func(d Desc) {
			if done {
				return
			}
			pkt = append(pkt, port.UMEM.Data(d)...)
			chain++
			if d.Options&OptionContd == 0 {
				if isUDPTo(pkt, 9999) {
					done = true
					return
				}
				pkt, chain = pkt[:0], 0 // something else (e.g. IPv6 noise): start over
			}
		})
		if !done {
			w.s.Poll(10 * time.Millisecond)
		}
	}
	if !isUDPTo(pkt, 9999) {
		t.Fatalf("no jumbo UDP datagram arrived (have %d bytes, stats %+v)", len(pkt), mustStats(t, w.s))
	}
	if want := 14 + 20 + 8 + len(payload); len(pkt) != want {
		t.Fatalf("reassembled %d bytes, want %d", len(pkt), want)
	}
	if chain < 3 {
		t.Fatalf("a %d-byte frame came in %d descriptors; with 4096-byte frames it needs at least 3", len(pkt), chain)
	}
	if !bytes.Equal(pkt[42:], payload) {
		t.Fatal("reassembled payload differs from what the peer sent")
	}
	t.Logf("received %d bytes in %d chained descriptors", len(pkt), chain)

	// Echo it back as a chain of full frames.
	reply := make([]byte, len(pkt))
	n := answer(pkt, reply, p.ourV.MAC)
	if n != len(pkt) {
		t.Fatalf("answer built %d bytes, want %d", n, len(pkt))
	}
	var descs []Desc
	fs := int(port.UMEM.FrameSize())
	for off := 0; off < n; off += fs {
		addr, ok := w.free.Get1()
		if !ok {
			t.Fatal("out of frames")
		}
		k := copy(port.UMEM.Frame(addr), reply[off:n])
		descs = append(descs, Desc{Addr: addr, Len: uint32(k), Options: OptionContd})
	}
	descs[len(descs)-1].Options = 0
	if got := w.s.Transmit(descs); got != len(descs) {
		t.Fatalf("Transmit took %d of %d chained descriptors", got, len(descs))
	}
	if err := w.s.Kick(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 9100)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	m, _, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatalf("peer did not receive the chained jumbo echo: %v (stats %+v)", err, mustStats(t, w.s))
	}
	if !bytes.Equal(buf[:m], payload) {
		t.Fatalf("echo of %d bytes differs from the %d bytes sent", m, len(payload))
	}
	deadline = time.Now().Add(2 * time.Second)
	for done := 0; done < len(descs) && time.Now().Before(deadline); {
		done += w.reclaim()
	}
	t.Logf("sent %d bytes as %d chained descriptors", n, len(descs))
}

func mustStats(t testing.TB, s *Socket) Stats {
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return st
}
