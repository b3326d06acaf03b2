package testbed

import (
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// newTopology builds a topology removed at the end of the test, and checks
// then that none of its namespaces is left.
func newTopology(t *testing.T, c Config) *Topology {
	t.Helper()
	Require(t)
	RequireTools(t, "ethtool", "sysctl", "tc", "ping")
	topo, err := NewTopology(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := topo.Close(); err != nil {
			t.Error(err)
		}
		for _, n := range []*NS{topo.Ours, topo.Peer, topo.Router} {
			if n != nil && nsExists(t, n.Name) {
				t.Errorf("namespace %s left after Close", n.Name)
			}
		}
	})
	return topo
}

var pingRE = regexp.MustCompile(`(\d+) packets transmitted, (\d+) (packets )?received`)

// ping sends count echo requests from n to addr, interval apart, and returns
// how many were sent and answered.
func ping(t *testing.T, n *NS, addr netip.Addr, count int, interval string) (sent, recv int) {
	t.Helper()
	out, _ := n.Exec("ping", "-n", "-q", "-c", strconv.Itoa(count), "-i", interval, "-W", "1", addr.String())
	m := pingRE.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("cannot read ping's summary:\n%s", out)
	}
	sent, _ = strconv.Atoi(m[1])
	recv, _ = strconv.Atoi(m[2])
	return sent, recv
}

// pingOK asserts that addr answers from n (a few tries for links coming up).
func pingOK(t *testing.T, n *NS, addr netip.Addr) {
	t.Helper()
	for try := 0; try < 5; try++ {
		if _, recv := ping(t, n, addr, 1, "0.2"); recv == 1 {
			return
		}
	}
	t.Errorf("%s does not answer ping from %s", addr, n.Name)
}

// ifAddrs lists the addresses on dev in n.
func ifAddrs(t *testing.T, n *NS, dev string) []string {
	t.Helper()
	out, err := n.ip("-j", "addr", "show", "dev", dev)
	if err != nil {
		t.Fatal(err)
	}
	var l []struct {
		AddrInfo []struct {
			Local string `json:"local"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal(out, &l); err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, li := range l {
		for _, a := range li.AddrInfo {
			addrs = append(addrs, a.Local)
		}
	}
	return addrs
}

func TestTopologyDirectKernelMode(t *testing.T) {
	t.Parallel()
	topo := newTopology(t, Config{Paths: 2, MTU: 9000, Queues: 2, IPv6: true, Tag: "direct"})
	if len(topo.Paths) != 2 || topo.Router != nil {
		t.Fatalf("got %d paths, router %v", len(topo.Paths), topo.Router)
	}
	for i, p := range topo.Paths {
		// Stack mode: ours has no kernel address at all (IPv6 disabled too).
		if a := ifAddrs(t, topo.Ours, p.Ours.Name); len(a) != 0 {
			t.Errorf("path %d: ours has kernel addresses %v in stack mode", i, a)
		}
		peer := ifAddrs(t, topo.Peer, p.Peer.Name)
		if !strings.Contains(strings.Join(peer, " "), p.PeerAddr.String()) || !strings.Contains(strings.Join(peer, " "), p.PeerAddr6.String()) {
			t.Errorf("path %d: peer addresses %v lack %v/%v", i, peer, p.PeerAddr, p.PeerAddr6)
		}
		out, err := topo.Peer.Exec("ethtool", "-k", p.Peer.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"tx-checksumming: off", "tcp-segmentation-offload: off", "generic-segmentation-offload: off", "generic-receive-offload: off"} {
			if !strings.Contains(string(out), f) {
				t.Errorf("path %d: peer offload not %q", i, f)
			}
		}
		out, err = topo.Ours.Exec("ls", "/sys/class/net/"+p.Ours.Name+"/queues")
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(out), "rx-"); n != 2 {
			t.Errorf("path %d: ours has %d rx queues, want 2", i, n)
		}
	}
	if err := topo.KernelMode(); err != nil {
		t.Fatal(err)
	}
	for _, p := range topo.Paths {
		pingOK(t, topo.Ours, p.PeerAddr)
		pingOK(t, topo.Ours, p.PeerAddr6)
		pingOK(t, topo.Peer, p.OurAddr)
	}
	if err := topo.StackMode(); err != nil {
		t.Fatal(err)
	}
	for i, p := range topo.Paths {
		if a := ifAddrs(t, topo.Ours, p.Ours.Name); len(a) != 0 {
			t.Errorf("path %d: ours keeps addresses %v after StackMode", i, a)
		}
	}
	if err := topo.LinkDown(5); err == nil {
		t.Error("LinkDown(5) on a 2-path topology succeeded")
	}
}

func TestLossDropsHalfOfPings(t *testing.T) {
	t.Parallel()
	topo := newTopology(t, Config{Paths: 1, Tag: "loss"})
	if err := topo.KernelMode(); err != nil {
		t.Fatal(err)
	}
	p := topo.Paths[0]
	pingOK(t, topo.Ours, p.PeerAddr) // resolve ARP before the loss starts
	if err := topo.SetLoss(0, 50); err != nil {
		t.Fatal(err)
	}
	const n = 200
	sent, recv := ping(t, topo.Ours, p.PeerAddr, n, "0.005")
	if sent != n {
		t.Fatalf("ping sent %d, want %d", sent, n)
	}
	lost := sent - recv
	if lost < n/4 || lost > 3*n/4 {
		t.Errorf("50%% loss dropped %d of %d pings, want 25%%..75%%", lost, n)
	}
	toPeer, toOurs, err := topo.LossCounters(0)
	if err != nil {
		t.Fatal(err)
	}
	if toPeer != (LossStats{}) {
		t.Errorf("direct topology has a toward-peer loss count %+v", toPeer)
	}
	// Replies are dropped on the peer's egress: every lost ping is a counted
	// drop; the peer may also have sent a few ARP/ND packets.
	if toOurs.Dropped < uint64(lost) || toOurs.Dropped > uint64(lost)+10 {
		t.Errorf("counter says %d dropped, ping lost %d", toOurs.Dropped, lost)
	}
	if toOurs.Passed < uint64(recv) || toOurs.Passed > uint64(recv)+10 {
		t.Errorf("counter says %d passed, ping received %d", toOurs.Passed, recv)
	}
	// 0% keeps the program but lets everything through.
	if err := topo.SetLoss(0, 0); err != nil {
		t.Fatal(err)
	}
	if sent, recv := ping(t, topo.Ours, p.PeerAddr, 20, "0.005"); recv != sent {
		t.Errorf("with 0%% loss %d of %d pings came back", recv, sent)
	}
	after, err := LossCounters(p.Peer)
	if err != nil {
		t.Fatal(err)
	}
	if after.Dropped != toOurs.Dropped || after.Passed < toOurs.Passed+20 {
		t.Errorf("at 0%%: counters %+v after %+v and 20 pings", after, toOurs)
	}
}

// transfer sends from the peer to ours over TCP for d and returns the rate
// the receiver measured, in Mbit/s, and the bytes received.
func transfer(t *testing.T, topo *Topology, p Path, d time.Duration) (mbit float64, n int64) {
	t.Helper()
	var ln net.Listener
	if err := topo.Ours.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", netip.AddrPortFrom(p.OurAddr, 0).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var c net.Conn
	if err := topo.Peer.Do(func() error {
		var err error
		c, err = net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		buf := make([]byte, 64<<10)
		_ = c.SetWriteDeadline(time.Now().Add(d + 5*time.Second))
		for {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf := make([]byte, 64<<10)
	if _, err := io.ReadFull(s, buf[:1]); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = s.SetReadDeadline(start.Add(d))
	for {
		k, err := s.Read(buf)
		n += int64(k)
		if err != nil {
			break
		}
	}
	el := time.Since(start)
	return float64(n) * 8 / el.Seconds() / 1e6, n
}

func TestRateLimitsKernelTCP(t *testing.T) {
	t.Parallel()
	const limit = 50
	topo := newTopology(t, Config{Paths: 1, MTU: 9000, RateMbit: []int{limit}, Tag: "rate"})
	out, err := topo.Peer.Exec("tc", "qdisc", "show", "dev", topo.Paths[0].Peer.Name)
	if err != nil || !strings.Contains(string(out), "tbf") || !strings.Contains(string(out), "50Mbit") {
		t.Fatalf("no 50 Mbit tbf on the peer: %s %v", out, err)
	}
	if err := topo.KernelMode(); err != nil {
		t.Fatal(err)
	}
	rate, n := transfer(t, topo, topo.Paths[0], 1500*time.Millisecond)
	t.Logf("kernel TCP through a %d Mbit/s tbf: %.1f Mbit/s (%d bytes)", limit, rate, n)
	if n < 1<<20 {
		t.Errorf("only %d bytes crossed the shaped path in 1.5 s", n)
	}
	if rate > 1.3*limit {
		t.Errorf("measured %.1f Mbit/s through a %d Mbit/s limit", rate, limit)
	}
	if err := topo.SetRate(0, 0); err != nil {
		t.Fatal(err)
	}
	if out, _ := topo.Peer.Exec("tc", "qdisc", "show", "dev", topo.Paths[0].Peer.Name); strings.Contains(string(out), "tbf") {
		t.Errorf("tbf still present after SetRate(0): %s", out)
	}
	if err := topo.SetRate(0, 0); err != nil {
		t.Errorf("removing an absent limit: %v", err)
	}
}

func TestRouterTopologyForwards(t *testing.T) {
	t.Parallel()
	topo := newTopology(t, Config{Paths: 2, Router: true, Tag: "rtr"})
	if topo.Router == nil {
		t.Fatal("no router namespace")
	}
	env := strings.Join(topo.Env(), "\n") + "\n"
	for _, want := range []string{
		"MPX_ROUTER=" + topo.Router.Name + "\n",
		"MPX_PATHS=2\n",
		"MPX_PATH1_OURS_IF=" + topo.Paths[1].Ours.Name + "\n",
		"MPX_PATH1_OURS_IFINDEX=" + strconv.Itoa(topo.Paths[1].Ours.Index) + "\n",
		"MPX_PATH1_PEER_ADDR=10.101.0.2\n",
	} {
		if !strings.Contains(env, want) {
			t.Errorf("Env lacks %q:\n%s", want, env)
		}
	}
	if err := topo.KernelMode(); err != nil {
		t.Fatal(err)
	}
	for i, p := range topo.Paths {
		pingOK(t, topo.Ours, p.PeerAddr)
		// The packets went through this path's bridge ports.
		out, err := topo.Router.ip("-j", "link", "show", "master", p.Bridge)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), p.RouterOurs.Name) || !strings.Contains(string(out), p.RouterPeer.Name) {
			t.Errorf("path %d: bridge %s ports: %s", i, p.Bridge, out)
		}
	}
	// Cable pull on path 0: it stops answering, path 1 is unaffected.
	if err := topo.LinkDown(0); err != nil {
		t.Fatal(err)
	}
	if _, recv := ping(t, topo.Ours, topo.Paths[0].PeerAddr, 1, "0.2"); recv != 0 {
		t.Error("path 0 answers while its link is down")
	}
	pingOK(t, topo.Ours, topo.Paths[1].PeerAddr)
	if err := topo.LinkUp(0); err != nil {
		t.Fatal(err)
	}
	pingOK(t, topo.Ours, topo.Paths[0].PeerAddr)
	// 100% loss on path 1: requests die on the router's port toward the peer.
	if err := topo.SetLoss(1, 100); err != nil {
		t.Fatal(err)
	}
	if _, recv := ping(t, topo.Ours, topo.Paths[1].PeerAddr, 3, "0.01"); recv != 0 {
		t.Errorf("%d pings crossed a 100%% loss path", recv)
	}
	toPeer, _, err := topo.LossCounters(1)
	if err != nil {
		t.Fatal(err)
	}
	if toPeer.Dropped < 3 {
		t.Errorf("router dropped %d packets toward the peer, want >= 3", toPeer.Dropped)
	}
	if err := topo.SetLoss(1, 0); err != nil {
		t.Fatal(err)
	}
	pingOK(t, topo.Ours, topo.Paths[1].PeerAddr)
	if err := topo.SetRate(1, 100); err != nil {
		t.Fatal(err)
	}
	for _, v := range []Veth{topo.Paths[1].RouterOurs, topo.Paths[1].RouterPeer} {
		if out, _ := topo.Router.Exec("tc", "qdisc", "show", "dev", v.Name); !strings.Contains(string(out), "100Mbit") {
			t.Errorf("no 100 Mbit tbf on router port %s: %s", v.Name, out)
		}
	}
}

func TestMPTCPEndpointsAndLimits(t *testing.T) {
	t.Parallel()
	topo := newTopology(t, Config{Paths: 2, IPv6: true, Tag: "mptcp"})
	if err := topo.KernelMode(); err != nil {
		t.Fatal(err)
	}
	peer := topo.Peer
	if err := peer.MPTCPLimits(4, 3); err != nil {
		t.Fatal(err)
	}
	sub, add, err := peer.MPTCPGetLimits()
	if err != nil || sub != 4 || add != 3 {
		t.Fatalf("limits read back %d, %d, %v; want 4, 3", sub, add, err)
	}
	p0, p1 := topo.Paths[0], topo.Paths[1]
	if err := peer.MPTCPEndpoint(p1.PeerAddr, p1.Peer.Name, "signal"); err != nil {
		t.Fatal(err)
	}
	if err := peer.MPTCPEndpoint(p1.PeerAddr6, "", "subflow", "backup"); err != nil {
		t.Fatal(err)
	}
	if err := peer.MPTCPEndpoint(p0.PeerAddr, "", "bogus"); err == nil {
		t.Error("unknown endpoint flag accepted")
	}
	eps, err := peer.MPTCPEndpoints()
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 2 || eps[0].Addr != p1.PeerAddr || eps[0].Dev != p1.Peer.Name || strings.Join(eps[0].Flags, ",") != "signal" ||
		eps[1].Addr != p1.PeerAddr6 || strings.Join(eps[1].Flags, ",") != "subflow,backup" {
		t.Errorf("endpoints read back %+v", eps)
	}
	counters, err := peer.Nstat()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"MPTcpExtMPCapableSYNRX", "TcpExtTCPTimeouts", "TcpActiveOpens"} {
		if _, ok := counters[name]; !ok {
			t.Errorf("Nstat lacks %s", name)
		}
	}
	before, err := peer.MPTcpExt()
	if err != nil {
		t.Fatal(err)
	}
	// A kernel MPTCP connection on path 0 gets a second subflow on path 1
	// from the signalled address: the peer's join counters move.
	if err := topo.Ours.MPTCPLimits(2, 2); err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	if err := peer.Do(func() error {
		lc := net.ListenConfig{}
		lc.SetMultipathTCP(true)
		var err error
		// Any address: the join arrives at path 1's address.
		ln, err = lc.Listen(t.Context(), "tcp4", ":0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var c net.Conn
	if err := topo.Ours.Do(func() error {
		d := net.Dialer{Timeout: 5 * time.Second}
		d.SetMultipathTCP(true)
		var err error
		port := ln.Addr().(*net.TCPAddr).Port
		c, err = d.Dial("tcp", netip.AddrPortFrom(p0.PeerAddr, uint16(port)).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	var joined bool
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		after, err := peer.MPTcpExt()
		if err != nil {
			t.Fatal(err)
		}
		if after["MPCapableSYNRX"] > before["MPCapableSYNRX"] && after["MPJoinAckRx"] > before["MPJoinAckRx"] {
			joined = true
			break
		}
	}
	if !joined {
		after, _ := peer.MPTcpExt()
		o, _ := topo.Ours.MPTcpExt()
		t.Errorf("no MP_CAPABLE + MP_JOIN seen by the peer: before %v after %v ours %v", before, after, o)
	}
	if err := peer.MPTCPFlush(); err != nil {
		t.Fatal(err)
	}
	if eps, err := peer.MPTCPEndpoints(); err != nil || len(eps) != 0 {
		t.Errorf("after flush: %+v, %v", eps, err)
	}
	tcp, err := peer.TCPExt()
	if err != nil || len(tcp) == 0 {
		t.Errorf("TCPExt = %d counters, %v", len(tcp), err)
	}
}

func TestLossBothWaysAndStats(t *testing.T) {
	t.Parallel()
	topo := newTopology(t, Config{Paths: 1, LossBothWays: true, Tag: "both"})
	if err := topo.KernelMode(); err != nil {
		t.Fatal(err)
	}
	p := topo.Paths[0]
	pingOK(t, topo.Ours, p.PeerAddr)
	before, err := p.Peer.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if sent, recv := ping(t, topo.Ours, p.PeerAddr, 5, "0.01"); recv != sent || sent != 5 {
		t.Fatalf("%d of %d pings answered", recv, sent)
	}
	after, err := p.Peer.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if after.RxPackets < before.RxPackets+5 || after.TxPackets < before.TxPackets+5 {
		t.Errorf("peer counters %+v -> %+v after 5 pings", before, after)
	}
	// 100% both ways: requests die on the peer's ingress.
	if err := topo.SetLoss(0, 100); err != nil {
		t.Fatal(err)
	}
	if _, recv := ping(t, topo.Ours, p.PeerAddr, 3, "0.01"); recv != 0 {
		t.Errorf("%d pings crossed 100%% loss", recv)
	}
	toPeer, _, err := topo.LossCounters(0)
	if err != nil {
		t.Fatal(err)
	}
	if toPeer.Dropped < 3 {
		t.Errorf("peer ingress dropped %d packets, want >= 3", toPeer.Dropped)
	}
}

func TestCommandOutput(t *testing.T) {
	t.Parallel()
	Require(t)
	n := newNS(t, "cmd")
	cmd, err := n.Command("ip", "-o", "link", "show")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	// A fresh namespace has only its loopback interface.
	if lines := strings.Count(out.String(), "\n"); lines != 1 || !strings.Contains(out.String(), "lo:") {
		t.Errorf("links in a fresh namespace:\n%s", out.String())
	}
	if _, err := n.Command("true"); err != nil { // never started: Close must cope
		t.Fatal(err)
	}
}

func TestTopologyFailureRemovesEverything(t *testing.T) {
	t.Parallel()
	Require(t)
	RequireTools(t, "ethtool", "sysctl")
	// The MTU is rejected only when the first veth is made, after the
	// namespaces exist: they must all be gone again.
	topo, err := NewTopology(Config{Paths: 2, Router: true, MTU: 70000, Tag: "failtopo"})
	if err == nil {
		topo.Close()
		t.Fatal("NewTopology accepted MTU 70000")
	}
	if !strings.Contains(err.Error(), "MTU") {
		t.Errorf("error %q does not name the MTU", err)
	}
	prefix := NSPrefix + "failtopo-"
	out, lerr := run("ip", "netns", "list")
	if lerr != nil {
		t.Fatal(lerr)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, prefix) && strings.Contains(line, "-"+strconv.Itoa(os.Getpid())+"-") {
			t.Errorf("namespace left after a failed NewTopology: %s", line)
		}
	}
}

func TestKernelMPTCPJoinsEveryPath(t *testing.T) {
	t.Parallel()
	topo := newTopology(t, Config{Paths: 3, Tag: "kmptcp"})
	if err := topo.KernelMode(); err != nil {
		t.Fatal(err)
	}
	if err := topo.KernelMPTCP(topo.Peer, "signal"); err != nil {
		t.Fatal(err)
	}
	if err := topo.KernelMPTCP(topo.Ours); err != nil {
		t.Fatal(err)
	}
	if err := topo.KernelMPTCP(topo.Router, "signal"); err == nil {
		t.Error("KernelMPTCP accepted a namespace outside the topology")
	}
	eps, err := topo.Peer.MPTCPEndpoints()
	if err != nil || len(eps) != 2 || eps[0].Addr != topo.Paths[1].PeerAddr || eps[1].Addr != topo.Paths[2].PeerAddr {
		t.Fatalf("peer endpoints %+v, %v; want paths 1 and 2", eps, err)
	}
	var ln net.Listener
	if err := topo.Peer.Do(func() error {
		lc := net.ListenConfig{}
		lc.SetMultipathTCP(true)
		var err error
		ln, err = lc.Listen(t.Context(), "tcp4", ":0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	var c net.Conn
	if err := topo.Ours.Do(func() error {
		d := net.Dialer{Timeout: 5 * time.Second}
		d.SetMultipathTCP(true)
		var err error
		c, err = d.Dial("tcp", netip.AddrPortFrom(topo.Paths[0].PeerAddr, port).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var joins uint64
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		m, err := topo.Peer.MPTcpExt()
		if err != nil {
			t.Fatal(err)
		}
		if joins = m["MPJoinAckRx"]; joins >= 2 {
			break
		}
	}
	if joins != 2 {
		t.Errorf("peer completed %d MP_JOINs, want 2 (paths 1 and 2)", joins)
	}
}
