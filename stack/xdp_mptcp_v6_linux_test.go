package stack

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/internal/testbed"
	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/pm"
)

// TestXDPMPTCPKernelClientJoinsAnnouncedIPv6 is
// TestXDPMPTCPKernelClientJoinsAnnounced over IPv6 with TCP timestamps on
// (Linux's default): our server announces its path-1 IPv6 address, the
// kernel client joins it, both ends report 2 subflows and the download
// is byte-exact. With timestamps only 28 bytes of option space are left,
// exactly an IPv6 ADD_ADDR with its HMAC: it has to go on a pure ACK
// without a DSS (it used to wait forever behind the DSS of every segment).
func TestXDPMPTCPKernelClientJoinsAnnouncedIPv6(t *testing.T) {
	x := newMPTopoWith(t, testbed.Config{Paths: 2, Tag: "mpv6", IPv6: true}, func(c *Config, topo *testbed.Topology) {
		for i, p := range topo.Paths {
			c.Interfaces[i].Addrs = append(c.Interfaces[i].Addrs, netip.PrefixFrom(p.OurAddr6, p.Prefix6.Bits()))
		}
		p1 := topo.Paths[1]
		c.Endpoints = []pm.Endpoint{{ID: 1, Addr: p1.OurAddr6, Ifname: p1.Ours.Name, Flags: pm.Signal}}
		c.MPTCPLimits = pm.Limits{Subflows: 2, AddAddrAccepted: 2}
	})
	p0, p1 := x.topo.Paths[0], x.topo.Paths[1]
	peer := x.topo.Peer
	if err := peer.Sysctl("net.ipv4.tcp_timestamps", "1"); err != nil {
		t.Fatal(err)
	}
	if err := peer.MPTCPLimits(2, 1); err != nil {
		t.Fatal(err)
	}
	// Have the peer resolve both of our addresses first (ND; its
	// addresses may still be in DAD for about 2 s after the interfaces
	// came up). Best effort: a join SYN waits for ND anyway.
	for _, a := range []netip.Addr{p0.OurAddr6, p1.OurAddr6} {
		if out, err := peer.Exec("ping", "-6", "-c1", "-W3", a.String()); err != nil {
			t.Logf("ping %v from the peer: %v: %s", a, err, out)
		}
	}

	const size = 64 << 20
	ln, err := x.s.Listen("tcp", ":5201")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var ours conn2Info
	var oursSubs []string
	sums, errs := serveDownload(ln, size, func(c *Conn) {
		ours = waitSubflows(c, 2)
		for _, s := range c.Subflows(nil) {
			oursSubs = append(oursSubs, s.Tuple.LocalAddr.String()+" -> "+s.Tuple.RemoteAddr.String()+" via "+s.Ifname)
		}
	})
	before := x.kernelMIB(t)
	var kc net.Conn
	start := time.Now()
	err = peer.Do(func() error {
		var d net.Dialer
		d.SetMultipathTCP(true)
		d.Timeout = 5 * time.Second
		var err error
		kc, err = d.Dial("tcp", netip.AddrPortFrom(p0.OurAddr6, 5201).String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	kc.SetDeadline(time.Now().Add(kernelDeadline))
	var kin iperf.MPTCPInfo
	got, n, err := recvHash(kc, size, func() {
		for i := 0; i < 300; i++ {
			if in, ok, _ := iperf.KernelMPTCPInfo(kc); ok && in.Subflows >= 1 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		kin = checkKernelInfo(t, kc, 2)
	})
	el := time.Since(start)
	info := func() {
		if sc := lastServerConn.Load(); sc != nil {
			t.Logf("our connection: %+v", sc.Info())
		}
		t.Logf("our MIB: %v", x.s.MIBMap())
		t.Logf("kernel MIB: %s", mibDelta(before, x.kernelMIB(t), append(kernelMIBKeys, "AddAddr", "EchoAdd", "MPJoinSynAckRx")))
	}
	if err != nil {
		info()
		t.Fatalf("kernel client: %v after %d bytes in %v", err, n, el)
	}
	kc.Close()
	var sum []byte
	select {
	case sum = <-sums:
	case err := <-errs:
		t.Fatalf("our server: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("our server did not finish")
	}
	if n != size || !bytes.Equal(got, sum) {
		t.Fatalf("kernel received %d bytes (want %d), SHA-256 equal: %v", n, size, bytes.Equal(got, sum))
	}
	after := x.kernelMIB(t)
	d := func(k string) uint64 { return after[k] - before[k] }
	if d("AddAddr") < 1 || d("MPJoinSynAckRx") < 1 {
		info()
		t.Errorf("kernel AddAddr +%d, MPJoinSynAckRx +%d: want the IPv6 announcement received and joined", d("AddAddr"), d("MPJoinSynAckRx"))
	}
	for _, k := range []string{"MPCapableFallbackSYNACK", "MPCapableFallbackACK", "DSSNotMatching", "InfiniteMapRx", "AddAddrDrop"} {
		if d(k) != 0 {
			t.Errorf("kernel %s +%d, want 0", k, d(k))
		}
	}
	if m := x.s.MIB(); m.Get(mptcp.MibAddAddrTx) == 0 || m.Get(mptcp.MibEchoAdd) == 0 || m.Get(mptcp.MibAddAddrTxDrop) != 0 {
		t.Errorf("our MIB: AddAddrTx %d, EchoAdd %d, AddAddrTxDrop %d: want the announcement sent and echoed", m.Get(mptcp.MibAddAddrTx), m.Get(mptcp.MibEchoAdd), m.Get(mptcp.MibAddAddrTxDrop))
	}
	if ours.SubflowsTotal != 2 || ours.Fallback {
		t.Errorf("our info %+v: want 2 subflows, MPTCP", ours)
	}
	joined := false
	for _, s := range oursSubs {
		joined = joined || strings.HasPrefix(s, p1.OurAddr6.String()+" ")
	}
	if !joined {
		t.Errorf("no subflow to the announced address %v: %v", p1.OurAddr6, oursSubs)
	}
	t.Logf("kernel MPTCP_INFO: %+v", kin)
	t.Logf("our subflows: %v", oursSubs)
	t.Logf("kernel MPTCP client downloaded %d MiB over IPv6 from our stack over %d subflows in %v (%.2f Gbit/s)", n>>20, ours.SubflowsTotal, el, float64(n)*8/el.Seconds()/1e9)
}
