package afxdp

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

// testPair is a veth pair between namespace "our" (where the AF_XDP port
// goes) and namespace "peer" (the kernel on the other side).
type testPair struct {
	our, peer   *testbed.NS
	ourV, peerV testbed.Veth
}

var ifCounter atomic.Int32

// newTestPair makes two namespaces and a veth pair; everything is torn down
// with t.Cleanup. The peer end gets 10.77.0.2/24 and a permanent neighbour
// entry for 10.77.0.1 (which only our AF_XDP code answers for) unless
// noNeigh is set.
func newTestPair(t testing.TB, o testbed.LinkOpts, noNeigh bool) *testPair {
	t.Helper()
	testbed.Require(t)
	our, err := testbed.NewNS("afx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { our.Close() })
	peer, err := testbed.NewNS("afxp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	n := ifCounter.Add(1)
	a, b, err := testbed.NewVeth(our, fmt.Sprintf("xa%d", n), peer, fmt.Sprintf("xb%d", n), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddAddr(netip.MustParsePrefix("10.77.0.2/24")); err != nil {
		t.Fatal(err)
	}
	// GSO/TSO and checksum offload off: frames must arrive as plain, full frames.
	if err := b.Ethtool("tx", "off", "tso", "off", "gso", "off"); err != nil {
		t.Logf("ethtool on peer: %v", err)
	}
	if !noNeigh {
		if out, err := peer.Exec("ip", "neigh", "replace", "10.77.0.1", "lladdr", a.MAC.String(), "dev", b.Name, "nud", "permanent"); err != nil {
			t.Fatalf("static neighbour: %v: %s", err, out)
		}
	}
	return &testPair{our: our, peer: peer, ourV: a, peerV: b}
}

// open opens a Port on our end inside our namespace.
func (p *testPair) open(t testing.TB, c Config) *Port {
	t.Helper()
	port, err := p.tryOpen(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	return port
}

func (p *testPair) tryOpen(c Config) (*Port, error) {
	if c.Interface == "" {
		c.Interface = p.ourV.Name
	}
	var port *Port
	err := p.our.Do(func() error {
		var err error
		port, err = Open(c)
		return err
	})
	return port, err
}

// xdpState reads our end's XDP state through netlink inside our namespace.
func (p *testPair) xdpState(t testing.TB) XDPState {
	t.Helper()
	var st XDPState
	if err := p.our.Do(func() error {
		var err error
		st, err = LinkXDP(p.ourV.Name)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return st
}

// ipLinkHasXDP reports whether `ip link show` prints an XDP program on our end.
func (p *testPair) ipLinkHasXDP(t testing.TB) bool {
	t.Helper()
	out, err := p.our.Exec("ip", "link", "show", "dev", p.ourV.Name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(out), "prog/xdp")
}

// peerUDP opens a UDP socket on the peer namespace (10.77.0.2, port 0).
func (p *testPair) peerUDP(t testing.TB) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	if err := p.peer.Do(func() error {
		var err error
		c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(10, 77, 0, 2)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// qWorker drives one socket in a test: it keeps the fill ring topped up
// from its own free list and hands received packets to a callback.
type qWorker struct {
	s     *Socket
	u     *UMEM
	free  *FreeList
	descs []Desc
	addrs []uint64
}

func newQWorker(s *Socket, frames []uint64) *qWorker {
	w := &qWorker{s: s, u: s.UMEM(), free: NewFreeList(len(frames)), descs: make([]Desc, 64), addrs: make([]uint64, 64)}
	w.free.Put(frames...)
	w.refill()
	return w
}

// refill moves free frames onto the fill ring.
func (w *qWorker) refill() {
	for w.free.Len() > 0 {
		n := w.free.Get(w.addrs)
		k := w.s.Fill().Produce(w.addrs[:n])
		if k < n {
			w.free.Put(w.addrs[k:n]...)
			return
		}
	}
}

// reclaim takes completed TX frames back onto the free list.
func (w *qWorker) reclaim() int {
	total := 0
	for {
		n := w.s.Completion().Consume(w.addrs)
		if n == 0 {
			return total
		}
		for i := 0; i < n; i++ {
			w.free.Put(w.u.FrameAddr(w.addrs[i]))
		}
		total += n
	}
}

// poll receives once; fn sees each descriptor (frames are recycled after fn).
func (w *qWorker) poll(fn func(d Desc)) int {
	n := w.s.Receive(w.descs)
	for i := 0; i < n; i++ {
		fn(w.descs[i])
		w.free.Put(w.u.FrameAddr(w.descs[i].Addr))
	}
	w.refill()
	return n
}

// splitFrames hands each of n workers an equal share of the UMEM's frames.
func splitFrames(u *UMEM, n int) [][]uint64 {
	all := u.FrameAddrs(nil)
	per := len(all) / n
	out := make([][]uint64, n)
	for i := range out {
		out[i] = all[i*per : (i+1)*per]
	}
	return out
}

// openFDs counts this process's open file descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// ringMappings counts this process's mappings of socket memory (AF_XDP rings).
func ringMappings(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), " socket:[")
}

// mapsContain reports whether a line of /proc/self/maps starts with prefix.
func mapsContain(t testing.TB, prefix string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
