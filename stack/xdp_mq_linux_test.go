package stack

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/testbed"
	"github.com/mpxdp/mpxdp/stack/neigh"
)

// TestXDPMultiQueueIPv6 runs our stack with two workers on a two-queue
// veth (the kernel spreads a flow's packets over the queues by the sending
// CPU, so frames reach workers that do not own the flow and are handed
// over) and with IPv6 (Neighbor Discovery against the kernel in both
// directions). Kernel clients download over IPv4 and IPv6 at once.
func TestXDPMultiQueueIPv6(t *testing.T) {
	testbed.Require(t)
	topo, err := testbed.NewTopology(testbed.Config{Paths: 1, Queues: 2, IPv6: true, Tag: "stkmq"})
	if err != nil {
		t.Fatal(err)
	}
	defer topo.Close()
	path := topo.Paths[0]
	var s *Stack
	if err := topo.Ours.Do(func() error {
		var err error
		s, err = New(Config{Interfaces: []InterfaceConfig{{
			Name: path.Ours.Name, Queues: 2,
			Addrs: []netip.Prefix{netip.PrefixFrom(path.OurAddr, 24), netip.PrefixFrom(path.OurAddr6, 64)},
		}}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln, err := s.Listen("tcp", ":5400")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const size = 64 << 20
	sums := make(chan []byte, 2)
	go func() {
		for i := 0; i < 2; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				seed := uint64(10)
				if c.RemoteAddr().(*net.TCPAddr).IP.To4() == nil {
					seed = 11
				}
				sum, err := sendPRNG(c, seed, size)
				if err != nil {
					t.Errorf("send to %v: %v", c.RemoteAddr(), err)
				}
				c.(*Conn).CloseWrite()
				io.Copy(io.Discard, c)
				sums <- sum
			}()
		}
	}()
	var wg sync.WaitGroup
	got := make([][]byte, 2)
	for i, dst := range []netip.Addr{path.OurAddr, path.OurAddr6} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var kc net.Conn
			if err := topo.Peer.Do(func() error {
				var err error
				kc, err = net.DialTimeout("tcp", netip.AddrPortFrom(dst, 5400).String(), 5*time.Second)
				return err
			}); err != nil {
				t.Errorf("dial %v: %v", dst, err)
				return
			}
			defer kc.Close()
			kc.SetDeadline(time.Now().Add(60 * time.Second))
			h, n, err := recvHash(kc, size, func() {})
			if err != nil || n != size {
				t.Errorf("from %v: %d bytes, %v", dst, n, err)
				return
			}
			got[i] = h
		}()
	}
	wg.Wait()
	want := map[string]bool{}
	for i := 0; i < 2; i++ {
		select {
		case s := <-sums:
			want[string(s)] = true
		case <-time.After(10 * time.Second):
			t.Fatal("server side did not finish")
		}
	}
	for i, h := range got {
		if h == nil || !want[string(h)] {
			t.Errorf("download %d: SHA-256 does not match what was sent", i)
		}
	}
	if bytes.Equal(got[0], got[1]) {
		t.Error("IPv4 and IPv6 downloads carried the same stream")
	}
	// Our dialer to the kernel over IPv6: forget what the kernel's own NS
	// taught us, so that we must solicit its address.
	s.neigh.Delete(neigh.Key{Iface: 0, Addr: path.PeerAddr6})
	var kl net.Listener
	if err := topo.Peer.Do(func() error {
		var err error
		kl, err = net.Listen("tcp", netip.AddrPortFrom(path.PeerAddr6, 5401).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer kl.Close()
	go func() {
		c, err := kl.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	c, err := s.Dial("tcp", netip.AddrPortFrom(path.PeerAddr6, 5401).String())
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 1<<20)
	newPRNG(12).Read(msg)
	go func() { c.Write(msg); c.(*Conn).CloseWrite() }()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	echo, err := io.ReadAll(c)
	c.Close()
	if err != nil || !bytes.Equal(echo, msg) {
		t.Fatalf("IPv6 echo through the kernel: %d of %d bytes, %v", len(echo), len(msg), err)
	}
	st := s.Stats()
	if st.NDSolicits == 0 {
		t.Error("dialing the kernel over IPv6 sent no neighbour solicitation")
	}
	t.Logf("hand-offs %d, ND solicitations %d, adverts %d, ARP requests %d, replies %d, drops %v",
		st.HandedOff, st.NDSolicits, st.NDAdverts, st.ARPRequests, st.ARPReplies, st.Drops)
	if st.NDAdverts == 0 || st.ARPReplies == 0 {
		t.Error("the kernel resolved us without our ARP replies or neighbour advertisements")
	}
}

// TestXDPJumboMTU runs our stack on a veth pair with MTU 9000: the redirect
// program is loaded frags-aware so the kernel accepts the MTU, and our MSS
// keeps every TCP segment within one 4 KiB UMEM frame. A kernel client
// downloads 64 MiB, byte-exact.
func TestXDPJumboMTU(t *testing.T) {
	testbed.Require(t)
	topo, err := testbed.NewTopology(testbed.Config{Paths: 1, MTU: 9000, Tag: "stkj"})
	if err != nil {
		t.Fatal(err)
	}
	defer topo.Close()
	path := topo.Paths[0]
	var s *Stack
	if err := topo.Ours.Do(func() error {
		var err error
		s, err = New(Config{Interfaces: []InterfaceConfig{{Name: path.Ours.Name, Addrs: []netip.Prefix{netip.PrefixFrom(path.OurAddr, 24)}}},
			SendBuffer: 4 << 20, RecvBuffer: 4 << 20})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln, err := s.Listen("tcp", ":5500")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const size = 64 << 20
	sum := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			sum <- nil
			return
		}
		defer c.Close()
		h, _ := sendPRNG(c, 20, size)
		c.(*Conn).CloseWrite()
		io.Copy(io.Discard, c)
		sum <- h
	}()
	var kc net.Conn
	if err := topo.Peer.Do(func() error {
		var err error
		kc, err = net.DialTimeout("tcp", netip.AddrPortFrom(path.OurAddr, 5500).String(), 5*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	kc.SetDeadline(time.Now().Add(60 * time.Second))
	start := time.Now()
	h, n, err := recvHash(kc, size, func() {})
	el := time.Since(start)
	kc.Close()
	if err != nil || n != size {
		t.Fatalf("kernel client: %d bytes, %v", n, err)
	}
	if want := <-sum; !bytes.Equal(h, want) {
		t.Fatal("SHA-256 mismatch")
	}
	st := s.Stats()
	t.Logf("MTU 9000: %d MiB in %v (%.2f Gbit/s); drops %v", n>>20, el, float64(n)*8/el.Seconds()/1e9, st.Drops)
}

// TestXDPTwoInterfaces runs one worker over two interfaces (one queue each,
// the worker sleeps on both) with a kernel client downloading on each path
// at once.
func TestXDPTwoInterfaces(t *testing.T) {
	testbed.Require(t)
	topo, err := testbed.NewTopology(testbed.Config{Paths: 2, Tag: "stk2"})
	if err != nil {
		t.Fatal(err)
	}
	defer topo.Close()
	var ifs []InterfaceConfig
	for _, p := range topo.Paths {
		ifs = append(ifs, InterfaceConfig{Name: p.Ours.Name, Addrs: []netip.Prefix{netip.PrefixFrom(p.OurAddr, 24)}})
	}
	var s *Stack
	if err := topo.Ours.Do(func() error {
		var err error
		s, err = New(Config{Interfaces: ifs})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln, err := s.Listen("tcp", ":5600")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const size = 32 << 20
	sums := make(chan []byte, 2)
	go func() {
		for range 2 {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				h, _ := sendPRNG(c, 30, size)
				c.(*Conn).CloseWrite()
				io.Copy(io.Discard, c)
				sums <- h
			}()
		}
	}()
	var wg sync.WaitGroup
	got := make([][]byte, 2)
	for i, p := range topo.Paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var kc net.Conn
			if err := topo.Peer.Do(func() error {
				var err error
				kc, err = net.DialTimeout("tcp", netip.AddrPortFrom(p.OurAddr, 5600).String(), 5*time.Second)
				return err
			}); err != nil {
				t.Errorf("path %d: %v", i, err)
				return
			}
			defer kc.Close()
			kc.SetDeadline(time.Now().Add(60 * time.Second))
			h, n, err := recvHash(kc, size, func() {})
			if err != nil || n != size {
				t.Errorf("path %d: %d bytes, %v", i, n, err)
			}
			got[i] = h
		}()
	}
	wg.Wait()
	want := <-sums
	if w2 := <-sums; !bytes.Equal(want, w2) {
		t.Fatal("the two server streams differ")
	}
	for i, h := range got {
		if !bytes.Equal(h, want) {
			t.Errorf("path %d: SHA-256 mismatch", i)
		}
	}
	if st := s.Stats(); st.ARPReplies < 2 {
		t.Errorf("%d ARP replies for two interfaces", st.ARPReplies)
	}
}
