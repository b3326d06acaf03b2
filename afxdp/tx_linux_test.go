package afxdp

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

var ourIP = [4]byte{10, 77, 0, 1}

// answer builds into out the reply our fake host sends to frame: an ARP
// reply for 10.77.0.1, or the UDP datagram echoed back to its sender. It
// returns the reply length, 0 for frames we ignore.
func answer(frame, out []byte, ourMAC net.HardwareAddr) int {
	if len(frame) < 14 {
		return 0
	}
	switch binary.BigEndian.Uint16(frame[12:14]) {
	case 0x0806: // ARP
		a := frame[14:]
		if len(a) < 28 || binary.BigEndian.Uint16(a[0:2]) != 1 || binary.BigEndian.Uint16(a[2:4]) != 0x0800 ||
			a[4] != 6 || a[5] != 4 || binary.BigEndian.Uint16(a[6:8]) != 1 || [4]byte(a[24:28]) != ourIP {
			return 0
		}
		copy(out[0:6], a[8:14]) // to the requester
		copy(out[6:12], ourMAC)
		binary.BigEndian.PutUint16(out[12:14], 0x0806)
		r := out[14:42]
		binary.BigEndian.PutUint16(r[0:2], 1)
		binary.BigEndian.PutUint16(r[2:4], 0x0800)
		r[4], r[5] = 6, 4
		binary.BigEndian.PutUint16(r[6:8], 2) // reply
		copy(r[8:14], ourMAC)
		copy(r[14:18], ourIP[:])
		copy(r[18:24], a[8:14])  // target hw = sender hw
		copy(r[24:28], a[14:18]) // target ip = sender ip
		return 42
	case 0x0800: // IPv4
		if !isUDPTo(frame, 9999) {
			return 0
		}
		n := copy(out, frame)
		// Swap MACs, IPs and ports: the IP and UDP checksums stay valid
		// because a ones'-complement sum does not depend on word order.
		copy(out[0:6], frame[6:12])
		copy(out[6:12], ourMAC)
		copy(out[26:30], frame[30:34])
		copy(out[30:34], frame[26:30])
		ihl := int(frame[14]&0x0f) * 4
		u := 14 + ihl
		copy(out[u:u+2], frame[u+2:u+4])
		copy(out[u+2:u+4], frame[u:u+2])
		return n
	}
	return 0
}

// serveEcho runs the fake host on w until stop is closed: it answers ARP
// and echoes UDP datagrams, transmitting from UMEM frames.
func serveEcho(t testing.TB, w *qWorker, ourMAC net.HardwareAddr, stop <-chan struct{}) (sent int) {
	var tx [64]Desc
	for {
		select {
		case <-stop:
			return sent
		default:
		}
		w.reclaim()
		ntx := 0
		w.poll(func(d Desc) {
			addr, ok := w.free.Get1()
			if !ok {
				return
			}
			buf := w.u.Frame(addr)
			n := answer(w.u.Data(d), buf, ourMAC)
			if n == 0 {
				w.free.Put(addr)
				return
			}
			tx[ntx] = Desc{Addr: addr, Len: uint32(n)}
			ntx++
		})
		if ntx > 0 {
			k := w.s.Transmit(tx[:ntx])
			for _, d := range tx[k:ntx] {
				w.free.Put(d.Addr)
			}
			sent += k
			if err := w.s.Kick(); err != nil {
				t.Errorf("kick: %v", err)
				return sent
			}
		}
		if ntx == 0 {
			w.s.Poll(time.Millisecond)
		}
	}
}

// testTxEcho proves the kernel accepts what we transmit: the peer resolves
// 10.77.0.1 through our hand-built ARP reply, then gets its UDP datagrams
// echoed by us.
func testTxEcho(t *testing.T, attach AttachMode) {
	p := newTestPair(t, testbed.LinkOpts{}, true)
	port := p.open(t, Config{Attach: attach, Mode: ModeCopy, NumFrames: 4096})
	w := newQWorker(port.Sockets[0], port.UMEM.FrameAddrs(nil)[:4096])
	stop := make(chan struct{})
	done := make(chan int)
	go func() { done <- serveEcho(t, w, p.ourV.MAC, stop) }()
	defer func() { close(stop); <-done }()

	c := p.peerUDP(t)
	dst := &net.UDPAddr{IP: net.IPv4(10, 77, 0, 1), Port: 9999}
	buf := make([]byte, 2048)
	for i := 0; i < 20; i++ {
		msg := []byte("mpxdp echo #" + string(rune('A'+i)))
		if _, err := c.WriteTo(msg, dst); err != nil {
			t.Fatalf("peer send %d: %v", i, err)
		}
		var got []byte
		for try := 0; try < 50 && got == nil; try++ {
			c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					if try%10 == 9 { // the first datagram may wait for ARP; resend
						c.WriteTo(msg, dst)
					}
					continue
				}
				t.Fatalf("peer read: %v", err)
			}
			if from.(*net.UDPAddr).Port != 9999 {
				t.Fatalf("echo came from %v, want port 9999", from)
			}
			got = buf[:n]
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("echo %d: got %q, want %q", i, got, msg)
		}
	}
	out, err := p.peer.Exec("ip", "neigh", "show", "10.77.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(bytes.ToLower(out), []byte(p.ourV.MAC.String())) {
		t.Fatalf("peer did not learn our MAC %s from our ARP reply: %s", p.ourV.MAC, out)
	}
	st, err := port.Sockets[0].Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.TxInvalidDescs != 0 {
		t.Fatalf("kernel refused %d TX descriptors", st.TxInvalidDescs)
	}
}

func TestTxEchoNative(t *testing.T)  { testTxEcho(t, AttachNative) }
func TestTxEchoGeneric(t *testing.T) { testTxEcho(t, AttachGeneric) }
