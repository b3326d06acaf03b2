package stack

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpxdp/mpxdp/internal/testbed"
	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/stack/header"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// TestXDPMPTCPBadInputFromPeer: a kernel MPTCP client downloads from our
// listener over two subflows while a raw MPTCP peer in the peer namespace
// (mpRawPeer, from a made-up address on path 1) sends hostile MPTCP input
// at the same connection:
//
//   - MP_JOIN SYNs with an unknown token: answered with a RST, counted
//     (MPJoinNoTokenFound, DropJoinRefused);
//   - MP_JOINs with the right token (from the keys read off the
//     connection's handshake) and a wrong HMAC in the third ACK, or no
//     MP_JOIN in it at all: the subflow is reset and not added
//     (MPJoinAckHMacFailure);
//   - ADD_ADDRs with a wrong HMAC on a joined subflow: dropped without an
//     echo (AddAddrDrop); one with the right HMAC is echoed, to show the
//     injection itself works;
//   - ADD_ADDRs with a wrong HMAC on the kernel's own subflow (its address,
//     port and sequence numbers, read off the wire): dropped (AddAddrDrop),
//     and the kernel sees no echo;
//   - DSS mappings on joined subflows that contradict an earlier mapping
//     of the same subflow bytes, in order or not (DSSNotMatching), lie
//     2^40 bytes beyond the receive window (NoDSSInWindow), or do not
//     cover the segment they came with (DSSNoMatchTCP): the mapping is
//     refused and the subflow reset (DSSCorruptionReset, MP_TCPRST), its
//     data never reaches the connection;
//   - a mapping 8 MiB beyond the window (4 MiB buffer): the subflow
//     acknowledges the bytes, the connection drops them (NoDSSInWindow)
//     and keeps the subflow.
//
// Meanwhile the download keeps running (its reader slows down until the
// injection is over, so that it cannot finish early, and must move at
// least 1 MiB during it), both of its subflows stay established, the raw
// peer's are all gone, and the download completes byte-exact. Each kind
// must be answered as expected at least half the times (as in
// TestXDPBadInputFromPeer) and each answer counted. How the kernel answers
// and counts the same input: TestKernelMPTCPBadInputCounters.
func TestXDPMPTCPBadInputFromPeer(t *testing.T) { testMPTCPBadInput(t, false) }

// TestXDPMPTCPBadInputFromPeerIPv6 is TestXDPMPTCPBadInputFromPeer over
// IPv6: both paths, the raw peer and the announcements are IPv6.
func TestXDPMPTCPBadInputFromPeerIPv6(t *testing.T) { testMPTCPBadInput(t, true) }

// mpFamily picks a path's addresses of one IP version.
type mpFamily bool

func (v6 mpFamily) our(p testbed.Path) netip.Addr {
	if v6 {
		return p.OurAddr6
	}
	return p.OurAddr
}

func (v6 mpFamily) peer(p testbed.Path) netip.Addr {
	if v6 {
		return p.PeerAddr6
	}
	return p.PeerAddr
}

func (v6 mpFamily) prefix(p testbed.Path) netip.Prefix {
	if v6 {
		return p.Prefix6
	}
	return p.Prefix
}

// mpHost returns the address with host part h on prefix pf.
func mpHost(pf netip.Prefix, h byte) netip.Addr {
	a := pf.Addr().AsSlice()
	a[len(a)-1] = h
	ip, _ := netip.AddrFromSlice(a)
	return ip
}

func testMPTCPBadInput(t *testing.T, v6 mpFamily) {
	tag := "mpbad"
	if v6 {
		tag = "mpbad6"
	}
	x := newMPTopoWith(t, testbed.Config{Paths: 2, Tag: tag, IPv6: bool(v6)}, func(c *Config, topo *testbed.Topology) {
		if v6 {
			for i, p := range topo.Paths {
				c.Interfaces[i].Addrs = append(c.Interfaces[i].Addrs, netip.PrefixFrom(p.OurAddr6, p.Prefix6.Bits()))
			}
		}
	})
	p0, p1 := x.topo.Paths[0], x.topo.Paths[1]
	if err := x.topo.Peer.MPTCPLimits(2, 2); err != nil {
		t.Fatal(err)
	}
	if v6 {
		// The kernel's subflow from its path-1 address goes to our
		// path-0 address (as over IPv4); IPv6 needs a route for that.
		if out, err := x.topo.Peer.Exec("ip", "-6", "route", "add", v6.our(p0).String()+"/128", "from", v6.peer(p1).String(), "dev", p1.Peer.Name); err != nil {
			t.Fatalf("source route for the kernel's second subflow: %v: %s", err, out)
		}
	}
	if err := x.topo.Peer.MPTCPEndpoint(v6.peer(p1), p1.Peer.Name, "subflow"); err != nil {
		t.Fatal(err)
	}
	const (
		size     = 64 << 20
		port     = 5201
		nUnknown = 40 // MP_JOIN SYNs with an unknown token
		nBadHMAC = 20 // MP_JOINs with a wrong HMAC in the third ACK
		nNoJoin  = 10 // MP_JOINs whose third ACK has no MP_JOIN
		nAddAddr = 40 // ADD_ADDRs with a wrong HMAC on a raw subflow
		nKernAdd = 40 // ADD_ADDRs with a wrong HMAC on the kernel's subflow
		nDSS     = 15 // joined subflows per kind of bad DSS mapping
	)
	ln, err := x.s.Listen("tcp", ":5201")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type served struct {
		sum []byte
		err error
	}
	conns := make(chan *Conn, 1)
	done := make(chan served, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- served{err: err}
			return
		}
		sc := c.(*Conn)
		conns <- sc
		defer c.Close()
		sum, err := sendPRNG(c, 9, size)
		sc.CloseWrite()
		io.Copy(io.Discard, c)
		done <- served{sum: sum, err: err}
	}()

	spoof := spoofAddr(v6.prefix(p1))
	raw := &mpRawPeer{t: t, tx: -1, rx: -1, src: spoof, dst: v6.our(p1), dport: port, rng: rand.New(rand.NewPCG(3, 4))}
	capFD := -1
	var kc net.Conn
	err = x.topo.Peer.Do(func() error {
		var err error
		if capFD, err = openCaptureSock(p0.Peer.Index); err != nil {
			return err
		}
		if raw.rx, err = openPacketSock(p1.Peer.Index, raw.src, false); err != nil {
			return err
		}
		if raw.tx, err = openRawSocket(bool(v6)); err != nil {
			return err
		}
		var d net.Dialer
		d.SetMultipathTCP(true)
		d.Timeout = 5 * time.Second
		kc, err = d.Dial("tcp", netip.AddrPortFrom(v6.our(p0), port).String())
		return err
	})
	for _, fd := range []int{raw.rx, raw.tx} {
		if fd >= 0 {
			defer unix.Close(fd)
		}
	}
	if err != nil {
		if capFD >= 0 {
			unix.Close(capFD)
		}
		t.Fatal(err)
	}
	defer kc.Close()
	raw.ckey, raw.skey, err = captureKeys(capFD, port, 3*time.Second)
	unix.Close(capFD)
	if err != nil {
		t.Fatalf("reading the MPTCP keys off the kernel client's handshake: %v", err)
	}
	kc.SetDeadline(time.Now().Add(50 * time.Second))

	// The download, read slowly while hold is set (and not to its last
	// 8 MiB), so that the connection is busy for the whole injection.
	var hold atomic.Bool
	var progress atomic.Int64 // bytes the download has read
	hold.Store(true)
	defer hold.Store(false)
	quarter := make(chan struct{})
	type downloaded struct {
		sum []byte
		n   int64
		err error
	}
	dl := make(chan downloaded, 1)
	go func() {
		h := sha256.New()
		buf := make([]byte, 256<<10)
		var n int64
		signalled := false
		for n < size {
			lim := len(buf)
			if n >= size/4 && !signalled {
				close(quarter)
				signalled = true
			}
			if hold.Load() && n >= size/4 {
				if size-n <= 8<<20 {
					time.Sleep(time.Millisecond)
					continue
				}
				lim = 8 << 10
				time.Sleep(time.Millisecond)
			}
			k, err := kc.Read(buf[:lim])
			h.Write(buf[:k])
			n += int64(k)
			progress.Store(n)
			if err != nil {
				if !signalled {
					close(quarter)
				}
				if errors.Is(err, io.EOF) {
					err = nil
				}
				dl <- downloaded{h.Sum(nil), n, err}
				return
			}
		}
		if !signalled {
			close(quarter)
		}
		dl <- downloaded{h.Sum(nil), n, nil}
	}()

	var sc *Conn
	select {
	case sc = <-conns:
	case s := <-done:
		t.Fatalf("our server: %v", s.err)
	case <-time.After(10 * time.Second):
		t.Fatal("our listener accepted no connection in 10 s")
	}
	select {
	case <-quarter:
	case <-time.After(20 * time.Second):
		t.Fatal("the download did not reach a quarter in 20 s")
	}
	if in := waitSubflows(sc, 2); in.SubflowsTotal != 2 || in.Fallback {
		t.Fatalf("our connection %+v: want MPTCP with 2 subflows before the injection", in)
	}
	in0 := sc.Info()
	token := in0.Token
	if raw.skey.Token() != token {
		t.Fatalf("the server key read off the wire gives token %#x, our connection's is %#x", raw.skey.Token(), token)
	}
	// The kernel client sends nothing: our DATA_ACK is its IDSN + 1.
	rcvNxt := in0.RcvNxt
	if want := raw.ckey.IDSN() + 1; rcvNxt != want {
		t.Errorf("our DATA_ACK %#x, want the client's IDSN+1 %#x", rcvNxt, want)
	}
	orig := map[tcp.FourTuple]bool{}
	for _, s := range sc.Subflows(nil) {
		orig[s.Tuple] = true
	}

	// Have the peer kernel resolve our path-1 address first: with IPv6 it
	// holds the raw peer's first packets until its new link-local address
	// has passed DAD (about 2 s after the interface came up).
	// (Best effort: without it the first joins may go unanswered.)
	if out, err := x.topo.Peer.Exec("ping", "-c1", "-W3", v6.our(p1).String()); err != nil {
		t.Logf("ping %v from the peer: %v: %s", v6.our(p1), err, out)
	}

	mib0, st0, km0 := x.s.MIB(), x.s.Stats(), x.kernelMIB(t)
	read0 := progress.Load()
	start := time.Now()
	sport := uint16(20000)
	next := func() uint16 { sport++; return sport }
	var res struct {
		unknownRST, unknownOther    int
		hmacRST, hmacOther          int
		noJoinRST                   int
		addAddrSent, controlEchoed  int
		kernAddSent, kernAddDrops   int
		conflictRST, oowRST, tcpRST int
		dssJoins, dssLost           int
		nearAcked                   int
		reasons                     map[int]int
	}
	res.reasons = map[int]int{}
	// At least half of each kind must have been seen and answered (as in
	// TestXDPBadInputFromPeer); each answer must be counted.
	atLeast := func(what string, n, of int) {
		t.Helper()
		if n < (of+1)/2 {
			t.Errorf("%s: %d of %d answered or counted as expected, want at least half", what, n, of)
		}
	}

	phases := map[string]time.Duration{}
	phase := func(name string, since time.Time) { phases[name] = time.Since(since).Round(time.Millisecond) }
	// MP_JOIN with an unknown token.
	t0 := time.Now()
	for i := 0; i < nUnknown; i++ {
		bad := token ^ uint32(0x80000001+i*0x10000)
		if raw.unknownToken(next(), bad) {
			res.unknownRST++
		} else {
			res.unknownOther++
		}
	}
	phase("unknown-token", t0)
	// MP_JOIN with the right token and a wrong HMAC in the third ACK.
	t0 = time.Now()
	for i := 0; i < nBadHMAC; i++ {
		sf, r := raw.join(next(), token, ackBadHMAC)
		switch r {
		case joinACKRST:
			res.hmacRST++
		case joinEstablished:
			t.Errorf("a join with a wrong HMAC in its third ACK was established (port %d)", sf.sport)
			raw.reset(sf)
		default:
			res.hmacOther++
		}
	}
	// joined returns an established backup subflow of the raw peer.
	joined := func() (rawSubflow, bool) {
		for try := 0; try < 3; try++ {
			sf, r := raw.join(next(), token, ackGoodHMAC)
			if r == joinEstablished {
				return sf, true
			}
			if r == joinACKRST {
				t.Errorf("a join with the right HMAC was reset (port %d)", sf.sport)
			}
			if sf.sport != 0 {
				raw.reset(sf)
			}
		}
		return rawSubflow{}, false
	}
	// ... and a third ACK without MP_JOIN (no HMAC at all).
	for i := 0; i < nNoJoin; i++ {
		sf, r := raw.join(next(), token, ackNoJoin)
		switch r {
		case joinACKRST:
			res.noJoinRST++
		case joinEstablished:
			t.Errorf("a join whose third ACK had no MP_JOIN was established (port %d)", sf.sport)
			raw.reset(sf)
		}
	}
	phase("bad-join-hmac", t0)
	// ADD_ADDR with a wrong HMAC, then one with the right HMAC.
	t0 = time.Now()
	if sf, ok := joined(); !ok {
		t.Error("no joined subflow for the ADD_ADDR injection")
	} else {
		var ob [40]byte
		for i := 0; i < nAddAddr; i++ {
			a := mptcp.AddAddr{ID: uint8(1 + i), Addr: mpHost(v6.prefix(p1), byte(100+i))}
			a.HMAC = raw.h.AddAddrHMAC(raw.ckey, raw.skey, a.ID, a.Addr, 0) ^ 1<<raw.rng.IntN(64)
			raw.send(sf.sport, sf.seq, sf.ack, header.TCPFlagACK, rawOptions(ob[:], 0, &a), nil)
			res.addAddrSent++
			time.Sleep(200 * time.Microsecond)
		}
		good := mptcp.AddAddr{ID: 200, Addr: mpHost(v6.prefix(p1), 200)}
		good.HMAC = raw.h.AddAddrHMAC(raw.ckey, raw.skey, good.ID, good.Addr, 0)
		for try := 0; try < 3 && res.controlEchoed == 0; try++ {
			raw.send(sf.sport, sf.seq, sf.ack, header.TCPFlagACK, rawOptions(ob[:], 0, &good), nil)
			var r mptcp.Received
			raw.recv(sf.sport, rawReplyTimeout, func(th header.TCP) bool {
				_ = mptcp.ParseTCPOptions(th.Options(), &r)
				if !r.Present.Has(mptcp.SubtypeAddAddr) || !r.AddAddr.Echo {
					return false
				}
				if r.AddAddr.ID != good.ID {
					t.Errorf("our stack echoed ADD_ADDR id %d (%v), which had a wrong HMAC", r.AddAddr.ID, r.AddAddr.Addr)
					return false
				}
				res.controlEchoed++
				return true
			})
		}
		raw.reset(sf)
	}
	phase("add-addr", t0)
	t0 = time.Now()
	// ADD_ADDR with a wrong HMAC on one of the kernel's own subflows, from
	// the kernel's address and port, at the kernel's sequence number: on
	// the first of them seen sending (the kernel acknowledges on the
	// subflow that got data, and the scheduler may favour either).
	type kernelSub struct {
		fd       int
		src, dst netip.Addr
		sport    uint16
	}
	var ksubs []kernelSub
	for tup := range orig {
		for _, p := range x.topo.Paths {
			if v6.peer(p) != tup.RemoteAddr {
				continue
			}
			ks := kernelSub{fd: -1, src: tup.RemoteAddr, dst: tup.LocalAddr, sport: tup.RemotePort}
			if err := x.topo.Peer.Do(func() error {
				var err error
				ks.fd, err = openPacketSock(p.Peer.Index, ks.src, true)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer unix.Close(ks.fd)
			ksubs = append(ksubs, ks)
		}
	}
	mibK := x.s.MIB()
	sbuf := make([]byte, 1<<16)
	var k kernelSegment
	var ksub *kernelSub
	for end := time.Now().Add(3 * time.Second); ksub == nil && time.Now().Before(end); {
		for i := range ksubs {
			if k2, ok := latestKernelSegment(ksubs[i].fd, sbuf, ksubs[i].sport, port, 0); ok {
				k, ksub = k2, &ksubs[i]
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
	if ksub == nil {
		t.Errorf("saw no segment on any of the kernel's %d subflows in 3 s", len(ksubs))
	} else {
		t.Logf("ADD_ADDRs with a wrong HMAC go on the kernel's subflow from %v:%d", ksub.src, ksub.sport)
	}
	for i := 0; i < nKernAdd && ksub != nil; i++ {
		// A stale segment does as well: the kernel's sequence number
		// does not move, an old ACK stays old.
		if k2, ok := latestKernelSegment(ksub.fd, sbuf, ksub.sport, port, 0); ok {
			k = k2
		}
		a := mptcp.AddAddr{ID: uint8(100 + i), Addr: mpHost(v6.prefix(p0), byte(100+i))}
		a.HMAC = raw.h.AddAddrHMAC(raw.ckey, raw.skey, a.ID, a.Addr, 0) ^ 1<<raw.rng.IntN(64)
		raw.sendOnKernelSubflow(ksub.src, ksub.dst, ksub.sport, k, &a)
		res.kernAddSent++
		time.Sleep(200 * time.Microsecond)
	}
	for i := 0; i < 50; i++ {
		m := x.s.MIB()
		if res.kernAddDrops = int(m.Get(mptcp.MibAddAddrDrop) - mibK.Get(mptcp.MibAddAddrDrop)); res.kernAddDrops >= res.kernAddSent {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	atLeast("ADD_ADDR with a wrong HMAC on the kernel's subflow", res.kernAddDrops, nKernAdd)
	phase("add-addr-kernel-subflow", t0)
	t0 = time.Now()

	// Bad DSS mappings, each on a subflow of its own (a refused mapping
	// resets the subflow it came on).
	far := rcvNxt + 64<<10 // in the receive buffer, beyond anything delivered
	dssKind := func(send func(sf rawSubflow), count *int) {
		for i := 0; i < nDSS; i++ {
			sf, ok := joined()
			if !ok {
				res.dssLost++
				continue
			}
			res.dssJoins++
			send(sf)
			if th, ok := raw.waitRST(sf); ok {
				*count++
				res.reasons[rstReason(th)]++
			} else {
				raw.reset(sf, 100, 200) // the mapping was accepted: so was its data
			}
		}
	}
	// A mapping that contradicts an earlier one for the same subflow
	// bytes: in order (the kernel's DSSNotMatching case), and with the
	// second segment first (the kernel takes that one without a counter,
	// ours refuses it too).
	dssKind(func(sf rawSubflow) { raw.dssConflictInOrder(sf, far) }, &res.conflictRST)
	dssKind(func(sf rawSubflow) { raw.dssConflict(sf, far) }, &res.conflictRST)
	// A mapping 2^40 bytes beyond the receive window.
	dssKind(func(sf rawSubflow) { raw.dssAt(sf, rcvNxt+1<<40, 1) }, &res.oowRST)
	// A mapping for other subflow bytes than the segment's.
	dssKind(func(sf rawSubflow) { raw.dssAt(sf, far, 5001) }, &res.tcpRST)
	// A mapping just beyond the receive window (8 MiB past DATA_ACK with a
	// 4 MiB buffer): a sender could get there, so the kernel's way is
	// taken: the subflow acknowledges the bytes, the connection drops
	// them (NoDSSInWindow) and keeps the subflow.
	for i := 0; i < nDSS; i++ {
		sf, ok := joined()
		if !ok {
			res.dssLost++
			continue
		}
		res.dssJoins++
		raw.dssAt(sf, rcvNxt+8<<20, 1)
		th, ok := raw.recv(sf.sport, rawReplyTimeout, func(th header.TCP) bool {
			return th.Flags().Has(header.TCPFlagRST) || th.Ack() == sf.seq.Add(100)
		})
		switch {
		case !ok:
		case th.Flags().Has(header.TCPFlagRST):
			t.Errorf("a mapping just beyond the window reset the subflow (port %d)", sf.sport)
		default:
			res.nearAcked++
		}
		raw.reset(sf, 100)
	}
	phase("dss", t0)
	injected := time.Since(start)
	// The download went on meanwhile (the reader reads 8 KiB a
	// millisecond while held).
	if read := progress.Load() - read0; read < 1<<20 {
		t.Errorf("the download moved only %d bytes during the %v of injection", read, injected)
	} else {
		t.Logf("the download moved %.1f MiB during the injection", float64(read)/(1<<20))
	}

	// The connection is as before: both original subflows established,
	// none of ours left, MPTCP in use on both ends.
	var live conn2Info
	for i := 0; i < 200; i++ {
		if live = sc.Info(); live.SubflowsTotal == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if live.SubflowsTotal != 2 || live.Fallback {
		t.Errorf("our connection after the injection: %+v, want MPTCP with 2 live subflows", live)
		for _, s := range sc.Subflows(nil) {
			t.Logf("  subflow %v state %v backup %v", s.Tuple, s.State, s.Backup)
		}
	}
	for _, s := range sc.Subflows(nil) {
		if orig[s.Tuple] && s.State != tcp.Established {
			t.Errorf("original subflow %v is %v after the injection, want ESTABLISHED", s.Tuple, s.State)
		}
		if !orig[s.Tuple] && s.State != tcp.Closed {
			t.Errorf("subflow %v of the raw peer is still %v", s.Tuple, s.State)
		}
	}
	kin := checkKernelInfo(t, kc, 2)
	mib1, st1 := x.s.MIB(), x.s.Stats()
	hold.Store(false)

	var d downloaded
	select {
	case d = <-dl:
	case <-time.After(40 * time.Second):
		t.Fatal("the download did not finish in 40 s after the injection")
	}
	if d.err != nil {
		t.Fatalf("kernel client: %v after %d bytes", d.err, d.n)
	}
	kc.Close()
	var s served
	select {
	case s = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("our server did not finish")
	}
	if s.err != nil {
		t.Fatalf("our server: %v", s.err)
	}
	if d.n != size || !bytes.Equal(d.sum, s.sum) {
		t.Fatalf("kernel received %d bytes (want %d), SHA-256 equal: %v", d.n, size, bytes.Equal(d.sum, s.sum))
	}

	dm := mib1.Sub(&mib0)
	km1 := x.kernelMIB(t)
	kd := func(k string) uint64 { return km1[k] - km0[k] }
	t.Logf("injected in %v: unknown token %d (RST %d), wrong join HMAC %d (RST %d), third ACK without MP_JOIN %d (RST %d), bad ADD_ADDR %d (control echoed %d), bad ADD_ADDR on the kernel's subflow %d (dropped %d), DSS joins %d (lost %d): RSTs conflict %d, out of window %d, not matching TCP %d; just beyond the window acknowledged %d; MP_TCPRST reasons %v; phases %v",
		injected, nUnknown, res.unknownRST, nBadHMAC, res.hmacRST, nNoJoin, res.noJoinRST, res.addAddrSent, res.controlEchoed, res.kernAddSent, res.kernAddDrops, res.dssJoins, res.dssLost, res.conflictRST, res.oowRST, res.tcpRST, res.nearAcked, res.reasons, phases)
	got := map[string]uint64{}
	for c := mptcp.Counter(0); c < mptcp.NumCounters; c++ {
		if dm[c] != 0 {
			got[c.Name()] = dm[c]
		}
	}
	t.Logf("our MIB during the injection: %v; JoinRefused drops %d; all drops %v", got, st1.Drop(DropJoinRefused)-st0.Drop(DropJoinRefused), st1.Drops)
	t.Logf("kernel MPTCP_INFO: %+v", kin)

	counted := func(c mptcp.Counter, min, max int) {
		t.Helper()
		if v := dm.Get(c); v < uint64(min) || v > uint64(max) {
			t.Errorf("our %s grew by %d, want %d to %d", c.Name(), v, min, max)
		}
	}
	atLeast("MP_JOIN with an unknown token", res.unknownRST, nUnknown)
	counted(mptcp.MibMPJoinNoTokenFound, res.unknownRST, nUnknown)
	if v := st1.Drop(DropJoinRefused) - st0.Drop(DropJoinRefused); v < uint64(res.unknownRST) {
		t.Errorf("stack JoinRefused drops grew by %d, want at least %d", v, res.unknownRST)
	}
	atLeast("MP_JOIN with a wrong HMAC", res.hmacRST, nBadHMAC)
	atLeast("MP_JOIN without MP_JOIN in the third ACK", res.noJoinRST, nNoJoin)
	counted(mptcp.MibMPJoinAckHMacFailure, res.hmacRST+res.noJoinRST, nBadHMAC+nNoJoin)
	if res.addAddrSent > 0 {
		if res.controlEchoed == 0 {
			t.Error("the ADD_ADDR with the right HMAC was never echoed: the injection did not reach the connection")
		}
		counted(mptcp.MibAddAddrDrop, (res.addAddrSent+res.kernAddSent)/2, res.addAddrSent+res.kernAddSent)
		counted(mptcp.MibAddAddr, res.controlEchoed, 3)
		if v := int(live.AddAddrAccepted) - int(in0.AddAddrAccepted); v != int(dm.Get(mptcp.MibAddAddr)) {
			t.Errorf("accepted ADD_ADDRs grew by %d, want %d (only the right HMAC)", v, dm.Get(mptcp.MibAddAddr))
		}
	}
	atLeast("DSS mapping contradicting an earlier one", res.conflictRST, 2*nDSS)
	counted(mptcp.MibDSSNotMatching, res.conflictRST, 2*nDSS)
	atLeast("DSS mapping outside the window", res.oowRST, nDSS)
	atLeast("DSS mapping just beyond the window", res.nearAcked, nDSS)
	counted(mptcp.MibNoDSSInWindow, res.oowRST+res.nearAcked, 2*nDSS)
	atLeast("DSS mapping not matching the segment", res.tcpRST, nDSS)
	counted(mptcp.MibDSSNoMatchTCP, res.tcpRST, nDSS)
	counted(mptcp.MibDSSCorruptionReset, res.conflictRST+res.oowRST+res.tcpRST, 4*nDSS)
	// Good joins are counted as such (the ADD_ADDR one and the DSS ones).
	if v := dm.Get(mptcp.MibMPJoinAckRx); v < uint64(res.dssJoins) {
		t.Errorf("our MPJoinAckRx grew by %d, want at least %d", v, res.dssJoins)
	}
	for _, k := range []string{"MPCapableFallbackACK", "MPCapableFallbackSYNACK", "DSSNotMatching", "DSSNoMatchTCP", "InfiniteMapRx", "MPFailRx", "MPFastcloseRx", "MPRstRx", "RmAddr", "EchoAdd", "AddAddr", "AddAddrDrop"} {
		if kd(k) != 0 {
			t.Errorf("kernel %s +%d during the test, want 0", k, kd(k))
		}
	}
}
