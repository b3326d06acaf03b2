package stack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/testbed"
	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/pm"
)

// Must-show 5: one path's link goes down in the middle of a transfer; the
// transfer completes on the other path with every byte intact; when the
// link comes back, a subflow is re-established.
//
// Our dialer (with its path manager) connects to a kernel MPTCP server
// that announces its second address (a `signal` endpoint) and joins it.
// Both directions carry data. Once both subflows carry data, path 1's link
// goes down (a cable pull at the router). Both transfers finish over path
// 0 byte-exact (each side reinjects what path 1 held). Our subflow on path
// 1 is given data (the connection-level window is shared by all subflows,
// so even one whose last window from the kernel was zero takes some), goes
// stale and, after conn.Config.StaleReset, is reset; the path manager
// retries it with back-off. When the link comes back, a new subflow on
// path 1 comes up: Conn.Subflows shows it established, our MIB counts the
// join (MPJoinSynTx, MPJoinSynAckRx), and the kernel counts the MP_JOIN
// SYN it received (MPJoinSynRx).
//
// Our upload holds its second half until the link is down: on a loaded
// machine it could otherwise finish first, and a subflow with nothing to
// send never sees a timeout (nor does the kernel reset its own stale
// subflow), so the old subflow would merely resume once the link is back
// and the stale/reset/rejoin path would go untested.
func TestXDPMPTCPLinkDownReestablish(t *testing.T) {
	x := newMPTopoWith(t, testbed.Config{Paths: 2, Tag: "mpr", Router: true}, func(c *Config, topo *testbed.Topology) {
		c.MPTCP = true
		c.MPTCPLimits = pm.Limits{Subflows: 2, AddAddrAccepted: 2}
	})
	if err := x.topo.KernelMPTCP(x.topo.Peer, "signal"); err != nil {
		t.Fatal(err)
	}
	p0, p1 := x.topo.Paths[0], x.topo.Paths[1]
	var kl net.Listener
	if err := x.topo.Peer.Do(func() error {
		var lc net.ListenConfig
		lc.SetMultipathTCP(true)
		var err error
		kl, err = lc.Listen(context.Background(), "tcp", ":5206")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer kl.Close()
	size := int64(32 << 20)
	type res struct {
		down, up []byte
		err      error
	}
	done := make(chan res, 1)
	release := make(chan struct{})
	go func() {
		c, err := kl.Accept()
		if err != nil {
			done <- res{err: err}
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(90 * time.Second))
		werr := make(chan error, 1)
		var down []byte
		go func() {
			var err error
			down, err = sendPRNG(c, 5, size)
			werr <- err
		}()
		h := sha256.New()
		_, err = io.CopyN(h, c, size)
		if e := <-werr; err == nil {
			err = e
		}
		done <- res{down: down, up: h.Sum(nil), err: err}
		<-release // keep the connection until the test is done
	}()
	defer close(release)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	cc, err := x.s.DialContext(ctx, "tcp", netip.AddrPortFrom(p0.PeerAddr, 5206).String())
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	c := cc.(*Conn)
	defer c.Close()
	c.SetDeadline(time.Now().Add(90 * time.Second))
	upErr := make(chan error, 1)
	var upSum []byte
	gate := make(chan struct{})
	var openGate sync.Once
	defer openGate.Do(func() { close(gate) })
	go func() {
		var err error
		upSum, err = sendPRNG(&gatedWriter{w: c, hold: size / 2, gate: gate}, 6, size)
		upErr <- err
	}()
	path1 := func() []conn2SubflowInfo {
		var out []conn2SubflowInfo
		for _, s := range c.Subflows(nil) {
			if s.Tuple.LocalAddr == p1.OurAddr {
				out = append(out, s)
			}
		}
		return out
	}
	h := sha256.New()
	start := time.Now()
	if _, err := io.CopyN(h, c, size/4); err != nil {
		t.Fatalf("download before the link went down: %v", err)
	}
	if in := waitSubflows(c, 2); in.SubflowsTotal != 2 {
		t.Fatalf("our info %+v: the join of the announced address did not come up", in)
	}
	old := path1()
	if len(old) != 1 || (old[0].BytesSent == 0 && old[0].BytesRecv == 0) {
		t.Fatalf("subflows on path 1 before the outage: %+v: want one that carried data", old)
	}
	describe := func() []string {
		var all []string
		for _, s := range c.Subflows(nil) {
			all = append(all, fmt.Sprintf("%v:%d->%v:%d %v stale %v sent %d recv %d wnd %d cwnd %d unacked %d rtx %d", s.Tuple.LocalAddr, s.Tuple.LocalPort, s.Tuple.RemoteAddr, s.Tuple.RemotePort, s.State, s.Stale, s.BytesSent, s.BytesRecv, s.SendWindow, s.Cwnd, s.Unacked, s.Retransmits))
		}
		return all
	}
	if err := x.topo.LinkDown(1); err != nil {
		t.Fatal(err)
	}
	downAt := time.Now()
	t.Logf("link down; our subflows: %v", describe())
	openGate.Do(func() { close(gate) })
	linkUp := false
	defer func() {
		if !linkUp {
			x.topo.LinkUp(1)
		}
	}()
	if _, err := io.CopyN(h, c, size-size/4); err != nil {
		t.Fatalf("download with path 1 down: %v", err)
	}
	if err := <-upErr; err != nil {
		t.Fatalf("upload with path 1 down: %v", err)
	}
	var r res
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the kernel server did not finish")
	}
	if r.err != nil {
		t.Fatalf("kernel server: %v", r.err)
	}
	if !bytes.Equal(h.Sum(nil), r.down) {
		t.Fatal("download: SHA-256 differs")
	}
	if !bytes.Equal(r.up, upSum) {
		t.Fatal("upload: the kernel's SHA-256 differs")
	}
	finished := time.Since(downAt)
	t.Logf("both %d MiB transfers done %v after path 1 went down (%v in all)", size>>20, finished, time.Since(start))

	// Leave the link down long enough for the stale subflow to be given
	// up (conn.Config.StaleReset, 3 s) and a retry to fail, then bring it
	// back.
	if d := 5*time.Second - time.Since(downAt); d > 0 {
		time.Sleep(d)
	}
	// Under load the old subflow may go stale late; give the reset its
	// due (StaleReset after going stale) before the link comes back, so
	// that a stale subflow is replaced, not revived.
	for time.Since(downAt) < 10*time.Second {
		staleOpen := false
		for _, s := range path1() {
			if s.Tuple.LocalPort == old[0].Tuple.LocalPort && s.Stale && s.State.String() != "CLOSED" {
				staleOpen = true
			}
		}
		if !staleOpen {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("before the link comes back; our subflows: %v", describe())
	m0 := x.s.MIB()
	k0 := x.kernelMIB(t)
	if err := x.topo.LinkUp(1); err != nil {
		t.Fatal(err)
	}
	linkUp = true
	upAt := time.Now()
	var fresh []conn2SubflowInfo
	for time.Since(upAt) < 20*time.Second {
		fresh = fresh[:0]
		for _, s := range path1() {
			if s.Tuple.LocalPort != old[0].Tuple.LocalPort && s.State.String() == "ESTABLISHED" {
				fresh = append(fresh, s)
			}
		}
		if len(fresh) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	m1 := x.s.MIB()
	k1 := x.kernelMIB(t)
	t.Logf("our subflows: %v", describe())
	t.Logf("our MIB: %v", x.s.MIBMap())
	if len(fresh) == 0 {
		if out, err := x.topo.Peer.Exec("ss", "-tinM"); err == nil {
			t.Logf("kernel ss -tinM:\n%s", out)
		}
		if out, err := x.topo.Peer.Exec("ss", "-tin"); err == nil {
			t.Logf("kernel ss -tin:\n%s", out)
		}
		t.Logf("kernel MIB: %v", k1)
		t.Fatalf("no new subflow on path 1 within 20 s of the link coming back")
	}
	t.Logf("new subflow on path 1 %v after the link came back", time.Since(upAt))
	if m1.Get(mptcp.MibMPJoinSynAckRx) <= m0.Get(mptcp.MibMPJoinSynAckRx) && m0.Get(mptcp.MibMPJoinSynAckRx) < 2 {
		t.Errorf("our MPJoinSynAckRx %d -> %d: want the new join counted", m0.Get(mptcp.MibMPJoinSynAckRx), m1.Get(mptcp.MibMPJoinSynAckRx))
	}
	if m1.Get(mptcp.MibMPJoinSynTx) < 2 {
		t.Errorf("our MPJoinSynTx %d: want at least 2 (the first join and the re-established one)", m1.Get(mptcp.MibMPJoinSynTx))
	}
	if m1.Get(mptcp.MibSubflowStale) == 0 {
		t.Errorf("our SubflowStale is 0: the path 1 subflow never went stale")
	}
	if k1["MPJoinSynRx"] <= k0["MPJoinSynRx"] {
		t.Errorf("kernel MPJoinSynRx %d -> %d after the link came back: want the new MP_JOIN SYN counted", k0["MPJoinSynRx"], k1["MPJoinSynRx"])
	}
}

// gatedWriter passes writes to w until hold bytes went through, then waits
// for gate to close before it writes more.
type gatedWriter struct {
	w    io.Writer
	hold int64
	gate <-chan struct{}
	n    int64
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	if g.n+int64(len(p)) > g.hold {
		if k := g.hold - g.n; k > 0 {
			m, err := g.w.Write(p[:k])
			g.n += int64(m)
			if err != nil {
				return m, err
			}
			n, err := g.Write(p[k:])
			return m + n, err
		}
		<-g.gate
	}
	n, err := g.w.Write(p)
	g.n += int64(n)
	return n, err
}
