package stack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/conn"
	"github.com/mpxdp/mpxdp/mptcp/pm"
	"github.com/mpxdp/mpxdp/stack/header"
	"github.com/mpxdp/mpxdp/stack/link"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// pipeMTU is the MTU of the in-memory paths (MPTCP subflows get an MSS
// of 1448 on it: the MSS less the option room MPTCP keeps).
const pipeMTU = 1500

// mpPairV6 makes newMPPair address the paths with IPv6 (fd00:0:i::1 and
// ::2 /64) instead of IPv4.
var mpPairV6 bool

// mpPair is two stacks joined by paths in-memory pipes, one interface per
// path on each side: path i is 10.i.0.0/24 (a: .1, b: .2).
type mpPair struct {
	a, b         *Stack
	addrA, addrB []netip.Addr
}

func newMPPair(tb testing.TB, paths, queues int, cfgA, cfgB func(*Config, []netip.Addr, []netip.Addr)) *mpPair {
	tb.Helper()
	return newMPPairMTU(tb, paths, queues, pipeMTU, 2048, cfgA, cfgB)
}

// newMPPairMTU is newMPPair with the paths' MTU and the pipes' frame size.
func newMPPairMTU(tb testing.TB, paths, queues, mtu, frameSize int, cfgA, cfgB func(*Config, []netip.Addr, []netip.Addr)) *mpPair {
	tb.Helper()
	var la, lb []Link
	mp := &mpPair{}
	for i := range paths {
		var qa, qb []link.Queue
		for range queues {
			pp, err := link.NewPipe(1024, frameSize)
			if err != nil {
				tb.Fatal(err)
			}
			qa = append(qa, pp.A)
			qb = append(qb, pp.B)
		}
		a := netip.AddrFrom4([4]byte{10, byte(i), 0, 1})
		b := netip.AddrFrom4([4]byte{10, byte(i), 0, 2})
		bits := 24
		if mpPairV6 {
			a = netip.AddrFrom16([16]byte{0xfd, 0, 0, byte(i), 14: 0, 15: 1})
			b = netip.AddrFrom16([16]byte{0xfd, 0, 0, byte(i), 14: 0, 15: 2})
			bits = 64
		}
		mp.addrA = append(mp.addrA, a)
		mp.addrB = append(mp.addrB, b)
		la = append(la, Link{Name: "a" + string(rune('0'+i)), MAC: net.HardwareAddr{2, 0, 0, 0, byte(i), 0xa},
			Addrs: []netip.Prefix{netip.PrefixFrom(a, bits)}, Queues: qa, MTU: mtu})
		lb = append(lb, Link{Name: "b" + string(rune('0'+i)), MAC: net.HardwareAddr{2, 0, 0, 0, byte(i), 0xb},
			Addrs: []netip.Prefix{netip.PrefixFrom(b, bits)}, Queues: qb, MTU: mtu})
	}
	ca := Config{CloseTimeout: time.Second, MPTCP: true}
	cb := Config{CloseTimeout: time.Second}
	if cfgA != nil {
		cfgA(&ca, mp.addrA, mp.addrB)
	}
	if cfgB != nil {
		cfgB(&cb, mp.addrA, mp.addrB)
	}
	var err error
	if mp.a, err = NewLinks(ca, la); err != nil {
		tb.Fatal(err)
	}
	if mp.b, err = NewLinks(cb, lb); err != nil {
		mp.a.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		mp.a.Close()
		mp.b.Close()
	})
	return mp
}

// mpTransfer sends n bytes from a to b and n bytes back, checking both
// with SHA-256, and returns the client's and the server's connection.
func mpTransfer(t *testing.T, p *mpPair, n int64, mid func(cli *Conn)) (cli, srv *Conn) {
	t.Helper()
	ln, err := p.b.Listen("tcp", ":5000")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c    *Conn
		sum  []byte // of what the server received
		down []byte // of what the server sent
		err  error
	}
	done := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- res{err: err}
			return
		}
		h := sha256.New()
		if _, err := io.Copy(h, c); err != nil {
			done <- res{err: err}
			return
		}
		down, err := sendPRNG(c, 2, n)
		if err != nil {
			done <- res{err: err}
			return
		}
		c.(*Conn).CloseWrite()
		done <- res{c: c.(*Conn), sum: h.Sum(nil), down: down}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := p.a.DialContext(ctx, "tcp", netip.AddrPortFrom(p.addrB[0], 5000).String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	cli = c.(*Conn)
	hu := sha256.New()
	src := io.TeeReader(io.LimitReader(newPRNG(1), n), hu)
	if _, err := io.CopyN(cli, src, n/4); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if mid != nil {
		mid(cli)
	}
	if _, err := io.Copy(cli, src); err != nil {
		t.Fatalf("upload: %v", err)
	}
	up := hu.Sum(nil)
	cli.CloseWrite()
	h := sha256.New()
	got, err := io.Copy(h, cli)
	if err != nil || got != n {
		t.Fatalf("download: %d of %d bytes, %v", got, n, err)
	}
	var r res
	select {
	case r = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("server did not finish")
	}
	if r.err != nil {
		t.Fatalf("server: %v", r.err)
	}
	// Compare with what the server sent (the test PRNG's bytes depend on
	// the sizes of the reads that draw them).
	if !bytes.Equal(h.Sum(nil), r.down) {
		t.Fatal("download: SHA-256 differs")
	}
	if !bytes.Equal(r.sum, up) {
		t.Fatal("upload: SHA-256 differs")
	}
	return cli, r.c
}

func TestMPTCPPipeOnePath(t *testing.T) {
	p := newMPPair(t, 1, 1, nil, nil)
	cli, srv := mpTransfer(t, p, 8<<20, func(c *Conn) {
		in := c.Info()
		if in.Fallback || in.Token == 0 || !in.RemoteKeyReceived {
			t.Errorf("%v: info %+v: want MPTCP with a token and the remote key", c.LocalAddr(), in)
		}
		if in.SubflowsTotal != 1 {
			t.Errorf("%v: %d subflows, want 1", c.LocalAddr(), in.SubflowsTotal)
		}
	})
	ma, mb := p.a.MIB(), p.b.MIB()
	if ma.Get(mptcp.MibMPCapableSYNTX) != 1 || mb.Get(mptcp.MibMPCapableSYNRX) != 1 {
		t.Errorf("MIB: client MPCapableSYNTX %d, server MPCapableSYNRX %d: want 1 and 1",
			ma.Get(mptcp.MibMPCapableSYNTX), mb.Get(mptcp.MibMPCapableSYNRX))
	}
	cli.Close()
	srv.Close()
}

func TestMPTCPPipeFallbackPlainListener(t *testing.T) {
	p := newMPPair(t, 1, 1, nil, func(c *Config, _, _ []netip.Addr) { c.NoMPTCPListen = true })
	cli, srv := mpTransfer(t, p, 1<<20, nil)
	if in := cli.Info(); !in.Fallback {
		t.Errorf("client info %+v: want fallback to TCP", in)
	}
	if in := srv.Info(); !in.Fallback {
		t.Errorf("server info %+v: want plain TCP", in)
	}
	cli.Close()
	srv.Close()
}

func TestMPTCPPipeTwoPathsAnnounce(t *testing.T) {
	for _, q := range []int{1, 3} {
		t.Run(fmt.Sprintf("queues%d", q), func(t *testing.T) { testTwoPathsAnnounce(t, q) })
	}
}

// TestMPTCPPipeIPv6: one MPTCP connection over IPv6 paths. (Two paths
// need an IPv6 ADD_ADDR, which mptcp/conn does not send yet: 28 bytes do
// not fit beside timestamps and a DSS.)
func TestMPTCPPipeIPv6(t *testing.T) {
	mpPairV6 = true
	defer func() { mpPairV6 = false }()
	p := newMPPair(t, 1, 1, nil, nil)
	cli, srv := mpTransfer(t, p, 4<<20, func(c *Conn) {
		if in := c.Info(); in.Fallback || in.SubflowsTotal != 1 {
			t.Errorf("info %+v: want MPTCP with one subflow", in)
		}
	})
	if sf := cli.Subflows(nil); len(sf) != 1 || !sf[0].Tuple.LocalAddr.Is6() {
		t.Errorf("subflows %+v: want one IPv6 subflow", sf)
	}
	cli.Close()
	srv.Close()
}

// testTwoPathsAnnounce: with several queues, the join's SYN reaches a
// worker that does not own the connection (hand-off and redirect).
func testTwoPathsAnnounce(t *testing.T, queues int) {
	p := newMPPair(t, 2, queues,
		func(c *Config, a, b []netip.Addr) {
			c.MPTCPLimits = pm.Limits{Subflows: 2, AddAddrAccepted: 2}
		},
		func(c *Config, a, b []netip.Addr) {
			c.Endpoints = []pm.Endpoint{{ID: 1, Addr: b[1], Ifname: "b1", Flags: pm.Signal}}
			c.MPTCPLimits = pm.Limits{Subflows: 2, AddAddrAccepted: 2}
		})
	cli, srv := mpTransfer(t, p, 16<<20, func(c *Conn) {
		for i := 0; i < 500 && c.Info().SubflowsTotal < 2; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if in := c.Info(); in.SubflowsTotal != 2 {
			t.Errorf("client info %+v: want 2 live subflows", in)
			t.Logf("server MIB %v", p.b.MIBMap())
			t.Logf("client MIB %v", p.a.MIBMap())
		}
	})
	subs := cli.Subflows(nil)
	if len(subs) != 2 {
		t.Fatalf("client has %d subflows, want 2: %+v", len(subs), subs)
	}
	for _, s := range subs {
		if s.BytesSent == 0 || s.BytesRecv == 0 {
			t.Errorf("subflow %v via %s carried no data both ways (sent %d, received %d)", s.Tuple, s.Ifname, s.BytesSent, s.BytesRecv)
		}
	}
	if subs[1].Ifname != "a1" || subs[1].Tuple.RemoteAddr != p.addrB[1] {
		t.Errorf("second subflow %v via %q: want to %v via a1", subs[1].Tuple, subs[1].Ifname, p.addrB[1])
	}
	st, err := cli.AppendSubflows(nil)
	if err != nil || len(st) != 2 {
		t.Errorf("AppendSubflows: %d lines, %v: want 2", len(st), err)
	}
	mb := p.b.MIB()
	t.Logf("server: %d frames handed to another worker", p.b.Stats().HandedOff)
	if mb.Get(mptcp.MibMPJoinSynRx) != 1 || mb.Get(mptcp.MibMPJoinAckRx) != 1 {
		t.Errorf("server MIB: MPJoinSynRx %d, MPJoinAckRx %d: want 1 and 1", mb.Get(mptcp.MibMPJoinSynRx), mb.Get(mptcp.MibMPJoinAckRx))
	}
	cli.Close()
	srv.Close()
}

// conn2Info is the connection-level MPTCP state (conn.Info).
type conn2Info = conn.Info

// conn2SubflowInfo is one subflow's state (conn.SubflowInfo).
type conn2SubflowInfo = conn.SubflowInfo

func newSHA() hash.Hash { return sha256.New() }

// TestMPTCPJoinUnknownToken: an MP_JOIN SYN whose token no connection
// owns is answered with a RST carrying MP_TCPRST, and counted.
func TestMPTCPJoinUnknownToken(t *testing.T) {
	v := newVnet(t, Config{}, Config{})
	if _, err := v.b.Listen("tcp", ":90"); err != nil {
		t.Fatal(err)
	}
	opt := mptcp.Option{Subtype: mptcp.SubtypeJoin, Join: mptcp.Join{Form: mptcp.JoinSYN, Token: 0x12345678, Nonce: 7, AddrID: 1}}
	var ob [40]byte
	syn := tcp.Segment{Seq: 1000, Flags: tcp.FlagSYN, Window: 65535}
	syn.Options.MSS = 1460
	syn.Options.Ext = ob[:opt.Write(ob[:])]
	v.b.workers[0].Process(0, frames(v.craft(40000, 90, &syn)), v.now)
	out := v.qb.take()
	if len(out) != 1 {
		t.Fatalf("%d frames in answer to an MP_JOIN SYN with an unknown token, want one RST", len(out))
	}
	eth, n, err := header.ParseEthernet(out[0])
	if err != nil || eth.EtherType() != header.EtherTypeIPv4 {
		t.Fatalf("answer is not IPv4: %v", err)
	}
	ip, _, err := header.ParseIPv4(out[0][n:])
	if err != nil {
		t.Fatal(err)
	}
	th, _, err := header.ParseTCP(ip.Payload())
	if err != nil {
		t.Fatal(err)
	}
	if th.Flags()&header.TCPFlagRST == 0 || th.Ack() != 1001 {
		t.Errorf("answer flags %v ack %d: want RST acknowledging the SYN (1001)", th.Flags(), th.Ack())
	}
	var r mptcp.Received
	if err := mptcp.ParseTCPOptions(th.Options(), &r); err != nil || !r.Present.Has(mptcp.SubtypeTCPRST) {
		t.Errorf("RST carries no MP_TCPRST (%v)", err)
	}
	if d := v.b.Stats().Drop(DropJoinRefused); d != 1 {
		t.Errorf("DropJoinRefused %d, want 1", d)
	}
	if m := v.b.MIB(); m.Get(mptcp.MibMPJoinNoTokenFound) != 1 || m.Get(mptcp.MibMPJoinSynRx) != 1 {
		t.Errorf("MIB MPJoinNoTokenFound %d MPJoinSynRx %d, want 1 and 1", m.Get(mptcp.MibMPJoinNoTokenFound), m.Get(mptcp.MibMPJoinSynRx))
	}
}

// TestMPTCPConnSemantics: deadlines, errors after Close, and a Close with
// unread data that resets the connection (MP_FASTCLOSE) on an MPTCP Conn.
func TestMPTCPConnSemantics(t *testing.T) {
	p := newMPPair(t, 1, 1, nil, nil)
	ln, err := p.b.Listen("tcp", ":5001")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvc := make(chan *Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(srvc)
			return
		}
		srvc <- c.(*Conn)
	}()
	cc, err := p.a.Dial("tcp", netip.AddrPortFrom(p.addrB[0], 5001).String())
	if err != nil {
		t.Fatal(err)
	}
	c := cc.(*Conn)
	srv := <-srvc
	if srv == nil {
		t.Fatal("accept failed")
	}
	if c.Info().Fallback || srv.Info().Fallback {
		t.Fatal("connection fell back to TCP")
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	var b [16]byte
	if _, err := c.Read(b[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	c.SetReadDeadline(time.Time{})
	// The server closes with data it never read: the client sees a reset.
	if _, err := c.Write(make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200 && srv.rcv.Len() == 0; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	srv.Close()
	if _, err := srv.Read(b[:]); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after Close: %v, want net.ErrClosed", err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(b[:])
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client read after the server reset: %v, want ECONNRESET", err)
	}
	t.Logf("client read after the server's reset: %v", err)
	if m := p.a.MIB(); m.Get(mptcp.MibMPFastcloseRx) != 1 {
		t.Errorf("client MPFastcloseRx %d, want 1", m.Get(mptcp.MibMPFastcloseRx))
	}
	c.Close()
}

// BenchmarkMPTCPPipeGoodput measures one MPTCP connection between two
// stacks in this process over one or two in-memory paths (link.Pipe, MTU
// 1500: MSS 1448 less the MPTCP option room; MTU 9000 on 16 KiB frames),
// the application writing 256 KiB chunks and the receiver discarding. Each
// stack has one interface per path and one worker that serves all of them
// (one queue per interface), so 1 and 2 subflows run on the same cores
// with the same goroutines. Gbit/s counts up to the last byte received,
// x-copy is that over one core's copy() bandwidth measured in the same
// process (as BenchmarkPipeGoodput); ms-to-EOF is the time from the last
// byte to the receiver's EOF (the DATA_FIN). cpu-s/GB and vcsw/MB are the
// process's CPU time and voluntary context switches per data moved.
// Allocations per op cover the whole path (application, both workers,
// both connections).
func BenchmarkMPTCPPipeGoodput(b *testing.B) {
	for _, mtu := range []int{1500, 9000} {
		for _, v := range mpBenchVariants {
			b.Run(fmt.Sprintf("MTU%d/%s", mtu, v.name), func(b *testing.B) { mptcpPipeGoodput(b, mtu, v.paths, v.sched) })
		}
	}
}

// mpBenchVariants are the MPTCP benchmarks' cases: one subflow, two with
// the default scheduler (Linger: the subflow whose queue drains first) and
// two with round robin (each carries half: the DSN merge works on every
// range). 2nd-share reports what the second subflow carried.
var mpBenchVariants = []struct {
	name  string
	paths int
	sched string
}{{"paths1", 1, ""}, {"paths2", 2, ""}, {"paths2-rr", 2, "roundrobin"}}

func mptcpPipeGoodput(b *testing.B, mtu, paths int, scheduler string) {
	fs := 2048
	if mtu > 1500 {
		fs = 16384
	}
	p := newMPPairMTU(b, paths, 1, mtu, fs, func(c *Config, _, _ []netip.Addr) {
		c.SendBuffer, c.RecvBuffer = 4<<20, 4<<20
		c.MPTCPLimits = pm.Limits{Subflows: 2, AddAddrAccepted: 2}
		c.MPTCPScheduler = scheduler
	}, func(c *Config, _, bs []netip.Addr) {
		c.SendBuffer, c.RecvBuffer = 4<<20, 4<<20
		if len(bs) > 1 {
			c.Endpoints = []pm.Endpoint{{ID: 1, Addr: bs[1], Flags: pm.Signal}}
			c.MPTCPLimits = pm.Limits{Subflows: 2, AddAddrAccepted: 2}
		}
	})
	if len(p.a.workers) != 1 || len(p.b.workers) != 1 {
		b.Fatalf("workers a %d b %d, want one per stack whatever the paths", len(p.a.workers), len(p.b.workers))
	}
	ln, err := p.b.Listen("tcp", ":9")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan int64)
	var lw lastWrite
	var eof atomic.Int64
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- 0
			return
		}
		n, _ := io.Copy(&lw, c)
		eof.Store(time.Now().UnixNano())
		c.Close()
		done <- n
	}()
	cc, err := p.a.Dial("tcp", netip.AddrPortFrom(p.addrB[0], 9).String())
	if err != nil {
		b.Fatal(err)
	}
	c := cc.(*Conn)
	chunk := make([]byte, 256<<10)
	newPRNG(2).Read(chunk)
	if paths > 1 {
		if in := waitSubflows(c, paths); int(in.SubflowsTotal) < paths {
			b.Fatalf("%d subflows after 5 s, want %d", in.SubflowsTotal, paths)
		}
	}
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, sw0, uok := procUsage()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	c.CloseWrite()
	n := <-done
	el := time.Since(start)
	cpu1, sw1, _ := procUsage()
	b.StopTimer()
	if in := c.Info(); int(in.SubflowsTotal) < paths && n < int64(b.N)*int64(len(chunk)) {
		b.Logf("info %+v", in)
	}
	subs := c.Subflows(nil)
	if testing.Verbose() {
		b.Logf("drops a %v b %v; MIB a %v b %v; subflows %+v", p.a.Stats().Drops, p.b.Stats().Drops, p.a.MIBMap(), p.b.MIBMap(), subs)
	}
	c.Close()
	if n != int64(b.N)*int64(len(chunk)) {
		b.Fatalf("received %d of %d bytes", n, int64(b.N)*int64(len(chunk)))
	}
	// Goodput up to the last byte; the DATA_FIN's way to EOF is
	// reported apart.
	last := time.Unix(0, lw.at.Load())
	gbps := float64(n) * 8 / last.Sub(start).Seconds() / 1e9
	b.ReportMetric(gbps, "Gbit/s")
	b.ReportMetric(gbps/copyGbps(), "x-copy")
	b.ReportMetric(float64(time.Unix(0, eof.Load()).Sub(last).Microseconds())/1e3, "ms-to-EOF")
	b.ReportMetric(el.Seconds()*1e3, "ms-total")
	if paths > 1 {
		b.ReportMetric(sentShare(subs), "2nd-share")
	}
	if uok && n > 0 {
		b.ReportMetric((cpu1-cpu0)/(float64(n)/1e9), "cpu-s/GB")
		b.ReportMetric(float64(sw1-sw0)/(float64(n)/1e6), "vcsw/MB")
	}
}

// sentShare returns the share of the payload the second subflow sent.
func sentShare(subs []conn.SubflowInfo) float64 {
	var all, second uint64
	for i, si := range subs {
		all += si.BytesSent
		if i == 1 {
			second = si.BytesSent
		}
	}
	if all == 0 {
		return 0
	}
	return float64(second) / float64(all)
}

// waitSubflows waits (at most 5 s) until c has want live subflows.
func waitSubflows(c *Conn, want int) conn2Info {
	var in conn2Info
	for i := 0; i < 500; i++ {
		in = c.Info()
		if int(in.SubflowsTotal) >= want {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return in
}

// lastWrite discards what it is given and records when the last write came.
type lastWrite struct{ at atomic.Int64 }

func (w *lastWrite) Write(p []byte) (int, error) {
	w.at.Store(time.Now().UnixNano())
	return len(p), nil
}

// newMPHandPath is handPath for one MPTCP connection over paths in-memory
// paths of the given MTU: both hosts driven by hand on one goroutine with
// virtual time, so that the per-byte CPU cost of 1 and 2 subflows can be
// compared without the scheduler in the figure.
func newMPHandPath(tb testing.TB, paths, mtu int, scheduler string) *handPath {
	fs := 2048
	if mtu > 1500 {
		fs = 16384
	}
	var la, lb []Link
	var addrB []netip.Addr
	for i := range paths {
		pp, err := link.NewPipe(1024, fs)
		if err != nil {
			tb.Fatal(err)
		}
		a := netip.AddrFrom4([4]byte{10, byte(i), 0, 1})
		b := netip.AddrFrom4([4]byte{10, byte(i), 0, 2})
		addrB = append(addrB, b)
		la = append(la, Link{Name: "a" + itoa(i), MAC: net.HardwareAddr{2, 0, 0, 0, byte(i), 0xa},
			Addrs: []netip.Prefix{netip.PrefixFrom(a, 24)}, Queues: []link.Queue{pp.A}, MTU: mtu})
		lb = append(lb, Link{Name: "b" + itoa(i), MAC: net.HardwareAddr{2, 0, 0, 0, byte(i), 0xb},
			Addrs: []netip.Prefix{netip.PrefixFrom(b, 24)}, Queues: []link.Queue{pp.B}, MTU: mtu})
	}
	ca := Config{MPTCP: true, SendBuffer: 1 << 20, RecvBuffer: 1 << 20, MPTCPLimits: pm.Limits{Subflows: 2, AddAddrAccepted: 2}, MPTCPScheduler: scheduler}
	cb := Config{SendBuffer: 1 << 20, RecvBuffer: 1 << 20}
	if paths > 1 {
		cb.Endpoints = []pm.Endpoint{{ID: 1, Addr: addrB[1], Flags: pm.Signal}}
		cb.MPTCPLimits = pm.Limits{Subflows: 2, AddAddrAccepted: 2}
	}
	sa, err := newHost(ca, la)
	if err != nil {
		tb.Fatal(err)
	}
	sb, err := newHost(cb, lb)
	if err != nil {
		tb.Fatal(err)
	}
	wa, wb := sa.workers[0], sb.workers[0]
	var now time.Duration
	step := func() {
		now += 20 * time.Microsecond
		wa.pollQueues(now)
		wb.pollQueues(now)
	}
	ln, _ := sb.Listen("tcp", ":1")
	l := ln.(*listener)
	c := sa.newConn(nil, wa)
	c.raddr = netip.AddrPortFrom(addrB[0], 1)
	wa.cmds.Enqueue(command{op: opDial, c: c})
	for i := 0; i < 1000 && l.acceptQ.Len() == 0; i++ {
		step()
	}
	s, ok := l.acceptQ.Dequeue()
	if !ok || c.mp == nil {
		tb.Fatal("no MPTCP connection")
	}
	for i := 0; i < 100000 && len(c.mp.mc.SubflowList()) < paths; i++ {
		step()
	}
	if n := len(c.mp.mc.SubflowList()); n != paths {
		tb.Fatalf("%d subflows, want %d", n, paths)
	}
	h := &handPath{sa: sa, sb: sb, mc: c.mp.mc}
	h.move = handMover(c, s, step)
	for range 200 { // warm up: slow start, both subflows in use
		h.move()
	}
	return h
}

// BenchmarkMPTCPWorkerPath moves 64 KiB per operation through one MPTCP
// connection of two hand-driven hosts (one goroutine, virtual time) over 1
// or 2 subflows: the CPU cost of the whole per-packet path, DSS mapping
// and the DSN merge included, without scheduling. It must report 0
// allocs/op; paths2 should cost about what paths1 costs.
func BenchmarkMPTCPWorkerPath(b *testing.B) {
	for _, mtu := range []int{1500, 9000} {
		for _, v := range mpBenchVariants {
			b.Run(fmt.Sprintf("MTU%d/%s", mtu, v.name), func(b *testing.B) {
				h := newMPHandPath(b, v.paths, mtu, v.sched)
				b.SetBytes(64 << 10)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					h.move()
				}
				b.StopTimer()
				frames := h.sa.Stats().TxFrames + h.sb.Stats().TxFrames
				b.ReportMetric(float64(frames)/float64(b.N+200), "frames/op")
				if v.paths > 1 {
					b.ReportMetric(sentShare(h.mc.Subflows(nil)), "2nd-share")
				}
			})
		}
	}
}

// TestMPTCPWorkerPathZeroAlloc is the allocation check of
// BenchmarkMPTCPWorkerPath as a test: steady-state segments of a
// connection with two subflows allocate nothing.
func TestMPTCPWorkerPathZeroAlloc(t *testing.T) {
	h := newMPHandPath(t, 2, 1500, "roundrobin")
	if n := testing.AllocsPerRun(50, h.move); n != 0 {
		t.Fatalf("%v allocations per 64 KiB moved over two subflows", n)
	}
	if sh := sentShare(h.mc.Subflows(nil)); sh < 0.3 || sh > 0.7 {
		t.Fatalf("the second subflow sent %.2f of the data with round robin, want about half", sh)
	}
}

// TestMPTCPSchedulerConfig checks that an unknown Config.MPTCPScheduler is
// refused, that "lowrtt" (lowest RTT with room) leaves the second of two
// equal subflows mostly idle, and that the default (Linger) uses it,
// as round robin does (TestMPTCPWorkerPathZeroAlloc).
func TestMPTCPSchedulerConfig(t *testing.T) {
	if _, err := newHost(Config{MPTCPScheduler: "fastest"}, []Link{{Name: "x", MAC: macA,
		Addrs: []netip.Prefix{netip.MustParsePrefix("10.9.0.1/24")}, Queues: []link.Queue{mustPipe(t).A}}}); err == nil {
		t.Fatal("an unknown scheduler name was accepted")
	}
	h := newMPHandPath(t, 2, 1500, "lowrtt")
	if sh := sentShare(h.mc.Subflows(nil)); sh > 0.2 {
		t.Errorf("the second subflow sent %.2f of the data with the lowrtt scheduler on equal paths, want little (the first has room)", sh)
	}
	h = newMPHandPath(t, 2, 1500, "")
	if sh := sentShare(h.mc.Subflows(nil)); sh < 0.25 {
		t.Errorf("the second subflow sent %.2f of the data with the default scheduler on equal paths, want at least a quarter", sh)
	}
	// newMPHandPath's 200 warm-up moves ran; TestMPTCPWorkerPathZeroAlloc
	// checks round robin's even split.
}

func mustPipe(t *testing.T) *link.Pipe {
	p, err := link.NewPipe(64, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
