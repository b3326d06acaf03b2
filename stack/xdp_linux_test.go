package stack

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

// xdpTopo is one path between our stack (AF_XDP in namespace "ours") and
// the kernel in namespace "peer".
type xdpTopo struct {
	topo *testbed.Topology
	s    *Stack
	path testbed.Path
	loss float64
}

func newXDPTopo(t *testing.T, loss float64) *xdpTopo {
	t.Helper()
	testbed.Require(t)
	topo, err := testbed.NewTopology(testbed.Config{Paths: 1, Tag: "stk", LossBothWays: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	path := topo.Paths[0]
	if loss > 0 {
		if err := topo.SetLoss(0, loss); err != nil {
			t.Fatal(err)
		}
	}
	var s *Stack
	err = topo.Ours.Do(func() error {
		var err error
		s, err = New(Config{
			Interfaces: []InterfaceConfig{{Name: path.Ours.Name, Addrs: []netip.Prefix{netip.PrefixFrom(path.OurAddr, 24)}}},
			SendBuffer: 4 << 20, RecvBuffer: 4 << 20,
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &xdpTopo{topo: topo, s: s, path: path, loss: loss}
}

// checkSS checks, while the connection is open, that the kernel's side
// negotiated SACK, window scaling and timestamps: `ss -tin` in the peer
// namespace must show wscale (iproute2 6.1's ss prints neither "ts" nor
// "sack" on this kernel, not even kernel to kernel), and the kernel
// socket's TCP_INFO options must have all three bits.
func (x *xdpTopo) checkSS(t *testing.T, kc net.Conn) {
	out, err := x.topo.Peer.Exec("ss", "-tin", "dst", x.path.OurAddr.String())
	if err != nil {
		t.Errorf("ss: %v: %s", err, out)
	} else if !strings.Contains(string(out), "wscale:") {
		t.Errorf("ss -tin in the peer shows no wscale:\n%s", out)
	}
	rc, err := kc.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var info *unix.TCPInfo
	var ierr error
	rc.Control(func(fd uintptr) { info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) })
	if ierr != nil {
		t.Fatalf("TCP_INFO: %v", ierr)
	}
	const optTS, optSACK, optWS = 1, 2, 4
	if info.Options&(optTS|optSACK|optWS) != optTS|optSACK|optWS {
		t.Errorf("kernel TCP_INFO options %#x: want timestamps, SACK and window scaling (0x7)", info.Options)
	}
}

// logLoss reports the random loss the testbed applied (and fails if a
// lossy run dropped nothing).
func (x *xdpTopo) logLoss(t *testing.T) {
	toPeer, toOurs, err := x.topo.LossCounters(0)
	if err != nil {
		t.Logf("loss counters: %v", err)
		return
	}
	t.Logf("testbed loss: toward the peer %+v, toward us %+v", toPeer, toOurs)
	if x.loss > 0 && (toPeer.Dropped == 0 || toOurs.Dropped == 0) {
		t.Errorf("%.0f%% loss configured but the testbed dropped nothing in one direction", x.loss)
	}
}

const xdpTransfer = 256 << 20

// sendPRNG writes n bytes of seed's stream to w and returns their SHA-256.
func sendPRNG(w io.Writer, seed uint64, n int64) ([]byte, error) {
	h := sha256.New()
	_, err := io.Copy(w, io.TeeReader(io.LimitReader(newPRNG(seed), n), h))
	return h.Sum(nil), err
}

// recvHash reads r to EOF, calling mid once after a quarter of n.
func recvHash(r io.Reader, n int64, mid func()) ([]byte, int64, error) {
	h := sha256.New()
	got, err := io.CopyN(h, r, n/4)
	if err != nil {
		return nil, got, err
	}
	mid()
	m, err := io.Copy(h, r)
	return h.Sum(nil), got + m, err
}

func testKernelClientDownloads(t *testing.T, loss float64) {
	x := newXDPTopo(t, loss)
	// 256 MiB in every case. With 2% loss both ways our sender takes about
	// 15 s on the 2-core test machine: it recovers by SACK/RACK without
	// RTOs, but the AF_XDP round trip (~0.5-1 ms with sleeping workers)
	// keeps its window small (Mathis); the kernel sender loses whole GSO
	// super-packets per drop and so sees far fewer loss events.
	size := int64(xdpTransfer)
	ln, err := x.s.Listen("tcp", ":5201")
	if err != nil {
		t.Fatal(err)
	}
	var sum []byte
	var serr error
	var wg sync.WaitGroup
	wg.Add(1)
	var sc *Conn
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			serr = err
			return
		}
		sc = c.(*Conn)
		defer c.Close()
		sum, serr = sendPRNG(c, 1, size)
		c.(*Conn).CloseWrite()
		io.Copy(io.Discard, c)
	}()
	var kc net.Conn
	start := time.Now()
	err = x.topo.Peer.Do(func() error {
		var err error
		kc, err = net.DialTimeout("tcp", netip.AddrPortFrom(x.path.OurAddr, 5201).String(), 5*time.Second)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	kc.SetDeadline(time.Now().Add(120 * time.Second))
	got, n, err := recvHash(kc, size, func() { x.checkSS(t, kc) })
	el := time.Since(start)
	kc.Close()
	wg.Wait()
	if err != nil || serr != nil {
		t.Fatalf("kernel client: %v after %d bytes; our server: %v", err, n, serr)
	}
	if n != size || !bytes.Equal(got, sum) {
		t.Fatalf("kernel received %d bytes (want %d), SHA-256 equal: %v", n, size, bytes.Equal(got, sum))
	}
	x.logLoss(t)
	for i := 0; i < 500; i++ {
		if ctr, ok := sc.EngineCounters(); ok {
			t.Logf("our sender: %+v", ctr)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("kernel client downloaded %d MiB from our stack in %v (%.2f Gbit/s), loss %.0f%%; stack drops %v",
		n>>20, el, float64(n)*8/el.Seconds()/1e9, loss, x.s.Stats().Drops)
}

func testOurDialerDownloads(t *testing.T, loss float64) {
	x := newXDPTopo(t, loss)
	var kl net.Listener
	err := x.topo.Peer.Do(func() error {
		var err error
		kl, err = net.Listen("tcp", netip.AddrPortFrom(x.path.PeerAddr, 5202).String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer kl.Close()
	var sum []byte
	var serr error
	var wg sync.WaitGroup
	wg.Add(1)
	kcs := make(chan net.Conn, 1)
	go func() {
		defer wg.Done()
		c, err := kl.Accept()
		if err != nil {
			serr = err
			close(kcs)
			return
		}
		kcs <- c
		defer c.Close()
		sum, serr = sendPRNG(c, 2, xdpTransfer)
	}()
	start := time.Now()
	c, err := x.s.Dial("tcp", netip.AddrPortFrom(x.path.PeerAddr, 5202).String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(120 * time.Second))
	got, n, err := recvHash(c, xdpTransfer, func() {
		if kc := <-kcs; kc != nil {
			x.checkSS(t, kc)
		}
	})
	el := time.Since(start)
	c.Close()
	wg.Wait()
	if err != nil || serr != nil {
		t.Fatalf("our client: %v after %d bytes; kernel server: %v", err, n, serr)
	}
	if n != xdpTransfer || !bytes.Equal(got, sum) {
		t.Fatalf("we received %d bytes (want %d), SHA-256 equal: %v", n, xdpTransfer, bytes.Equal(got, sum))
	}
	x.logLoss(t)
	t.Logf("our dialer downloaded %d MiB from the kernel in %v (%.2f Gbit/s), loss %.0f%%; stack drops %v",
		n>>20, el, float64(n)*8/el.Seconds()/1e9, loss, x.s.Stats().Drops)
}

func TestXDPKernelClientDownloads(t *testing.T) {
	for _, loss := range []float64{0, 2} {
		t.Run(fmt.Sprintf("loss%.0f", loss), func(t *testing.T) { testKernelClientDownloads(t, loss) })
	}
}

func TestXDPOurDialerDownloads(t *testing.T) {
	for _, loss := range []float64{0, 2} {
		t.Run(fmt.Sprintf("loss%.0f", loss), func(t *testing.T) { testOurDialerDownloads(t, loss) })
	}
}
