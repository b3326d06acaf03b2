package stack

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/internal/testbed"
	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/stack/header"
)

// TestKernelMPTCPBadInputCounters sends the hostile input of
// TestXDPMPTCPBadInputFromPeer to the Linux kernel's MPTCP instead of to
// our stack: a kernel MPTCP server in the peer namespace with one
// connection (from a kernel client over loopback, whose handshake gives
// the raw peer the keys), and the raw peer from a made-up address whose
// answers leave through the peer's veth (a static neighbour entry) where a
// packet socket reads them. For each kind it records which MPTcpExt
// counters the kernel bumps and how it answers, and checks that they are
// the counters our stack is held to: the kernel is the reference for the
// names and the answers.
//
// Linux 6.18, and where our stack differs:
//   - MP_JOIN with an unknown token: RST; MPJoinSynRx, MPJoinNoTokenFound.
//   - wrong HMAC in the third ACK: RST; MPJoinAckHMacFailure (our RST also
//     carries MP_TCPRST: MPRstTx).
//   - a third ACK without MP_JOIN: RST, no counter (ours counts it as
//     MPJoinAckHMacFailure).
//   - ADD_ADDR with a wrong HMAC: ignored, no counter, no echo (ours counts
//     AddAddrDrop).
//   - a mapping contradicting the one in force, in order: DSSNotMatching,
//     subflow reset (MPRstTx) (ours also counts DSSCorruptionReset).
//   - the same with the second segment first: both mappings taken
//     (OFOQueue, DuplicateData), no reset (ours: DSSNotMatching, reset).
//   - a mapping that does not cover its segment: DSSNoMatchTCP, reset.
//   - a mapping beyond the receive window (8 MiB or 2^40 on): the subflow
//     acknowledges the data, the connection drops it (NoDSSInWindow), the
//     subflow stays (ours resets the subflow for 2^40: no sender can be
//     that far ahead).
func TestKernelMPTCPBadInputCounters(t *testing.T) {
	testbed.Require(t)
	topo, err := testbed.NewTopology(testbed.Config{Paths: 1, Tag: "mpbk"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	p0, peer := topo.Paths[0], topo.Peer
	// Joins accepted; announcements echoed but not followed.
	if err := peer.MPTCPLimits(8, 0); err != nil {
		t.Fatal(err)
	}
	if err := bigKernelBuffers(peer); err != nil {
		t.Fatal(err)
	}
	a := p0.Prefix.Addr().As4()
	a[3] = 78 // not the raw peer's usual .77: this test has its own namespaces, but be plain
	spoof := netip.AddrFrom4(a)
	if out, err := peer.Exec("ip", "neigh", "replace", spoof.String(), "lladdr", "02:00:00:00:00:4e", "dev", p0.Peer.Name, "nud", "permanent"); err != nil {
		t.Fatalf("static neighbour for %v: %v: %s", spoof, err, out)
	}
	const port = 5301
	raw := &mpRawPeer{t: t, tx: -1, rx: -1, src: spoof, dst: p0.PeerAddr, dport: port, rng: rand.New(rand.NewPCG(5, 6))}
	capFD := -1
	var ln net.Listener
	var kc, ks net.Conn
	err = peer.Do(func() error {
		var err error
		if capFD, err = openCaptureSock(1); err != nil { // loopback
			return err
		}
		if raw.rx, err = openPacketSock(p0.Peer.Index, raw.src, false); err != nil {
			return err
		}
		if raw.tx, err = openRawSocket(false); err != nil {
			return err
		}
		var lc net.ListenConfig
		lc.SetMultipathTCP(true)
		if ln, err = lc.Listen(context.Background(), "tcp", netip.AddrPortFrom(p0.PeerAddr, port).String()); err != nil {
			return err
		}
		var d net.Dialer
		d.SetMultipathTCP(true)
		d.Timeout = 5 * time.Second
		kc, err = d.Dial("tcp", netip.AddrPortFrom(p0.PeerAddr, port).String())
		return err
	})
	for _, fd := range []int{raw.rx, raw.tx} {
		if fd >= 0 {
			defer unix.Close(fd)
		}
	}
	if ln != nil {
		defer ln.Close()
	}
	if err != nil {
		if capFD >= 0 {
			unix.Close(capFD)
		}
		t.Fatal(err)
	}
	defer kc.Close()
	if ks, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	// The client's first data (or third ACK) carries both keys.
	if _, err := kc.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	raw.ckey, raw.skey, err = captureKeys(capFD, port, 3*time.Second)
	unix.Close(capFD)
	if err != nil {
		t.Fatalf("reading the MPTCP keys off loopback: %v", err)
	}
	var one [1]byte
	ks.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := ks.Read(one[:]); err != nil {
		t.Fatal(err)
	}
	in, ok, err := iperf.KernelMPTCPInfo(ks)
	if err != nil || !ok {
		t.Fatalf("kernel server MPTCP_INFO: %v, %v", ok, err)
	}
	token := in.Token
	if raw.skey.Token() != token {
		t.Fatalf("the server key read off loopback gives token %#x, the kernel server's is %#x", raw.skey.Token(), token)
	}
	rcvNxt := in.RcvNxt
	if want := raw.ckey.IDSN() + 2; rcvNxt != want {
		t.Errorf("kernel server rcv_nxt %#x, want the client's IDSN+2 %#x (one byte sent)", rcvNxt, want)
	}

	sport := uint16(30000)
	next := func() uint16 { sport++; return sport }
	mib := func() map[string]uint64 {
		m, err := peer.MPTcpExt()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// settle waits until the kernel's subflow limit (8) has room for n
	// joins: the subflows the kernel reset itself stay counted for
	// seconds (the raw peer's RSTs free theirs at once), so the kinds the
	// kernel answers with a reset come last and are fewer.
	settle := func(n int) {
		for i := 0; i < 300; i++ {
			if in, ok, _ := iperf.KernelMPTCPInfo(ks); ok && int(in.Subflows)+n <= 8 {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		in, _, _ := iperf.KernelMPTCPInfo(ks)
		t.Logf("the kernel still counts %d extra subflows after 3 s", in.Subflows)
	}
	// kind runs f (n times) and returns the kernel counters that moved.
	type outcome struct {
		moved   map[string]uint64
		answers map[string]int
	}
	kind := func(n int, f func(o *outcome)) outcome {
		o := outcome{moved: map[string]uint64{}, answers: map[string]int{}}
		settle(n)
		before := mib()
		for i := 0; i < n; i++ {
			f(&o)
		}
		time.Sleep(50 * time.Millisecond)
		for k, v := range mib() {
			if d := v - before[k]; d != 0 {
				o.moved[k] = d
			}
		}
		return o
	}
	joined := func(o *outcome) (rawSubflow, bool) {
		sf, r := raw.join(next(), token, ackGoodHMAC)
		switch r {
		case joinEstablished, joinNoFourthACK:
			o.answers["join:"+rawJoinName(r)]++
			return sf, true
		}
		o.answers["join:"+rawJoinName(r)]++
		return sf, false
	}
	answer := func(o *outcome, sf rawSubflow, wait time.Duration) {
		th, ok := raw.recv(sf.sport, wait, func(th header.TCP) bool {
			return th.Flags().Has(header.TCPFlagRST) || th.Ack().GreaterThan(sf.seq)
		})
		switch {
		case !ok:
			o.answers["none"]++
		case th.Flags().Has(header.TCPFlagRST):
			o.answers["RST"]++
		default:
			o.answers["ACK of the data"]++
		}
		raw.reset(sf, 100, 200)
	}
	const n, nReset = 6, 3
	results := map[string]outcome{}
	results["unknown-token"] = kind(n, func(o *outcome) {
		bad := token ^ uint32(0x80000001+int(sport)*0x10000)
		if raw.unknownToken(next(), bad) {
			o.answers["RST"]++
		}
	})
	results["bad-join-hmac"] = kind(n, func(o *outcome) {
		sf, r := raw.join(next(), token, ackBadHMAC)
		o.answers[rawJoinName(r)]++
		if r != joinACKRST && sf.sport != 0 {
			raw.reset(sf)
		}
	})
	results["join-ack-without-mp-join"] = kind(n, func(o *outcome) {
		sf, r := raw.join(next(), token, ackNoJoin)
		o.answers[rawJoinName(r)]++
		if r != joinACKRST && sf.sport != 0 {
			raw.reset(sf)
		}
	})
	results["add-addr-bad-hmac"] = kind(n, func(o *outcome) {
		sf, ok := joined(o)
		if !ok {
			return
		}
		var ob [40]byte
		ad := mptcp.AddAddr{ID: 9, Addr: netip.AddrFrom4([4]byte{10, 99, 0, 9})}
		ad.HMAC = raw.h.AddAddrHMAC(raw.ckey, raw.skey, ad.ID, ad.Addr, 0) ^ 1
		raw.send(sf.sport, sf.seq, sf.ack, header.TCPFlagACK, rawOptions(ob[:], 0, &ad), nil)
		if _, echoed := raw.recv(sf.sport, 100*time.Millisecond, func(th header.TCP) bool {
			var r mptcp.Received
			_ = mptcp.ParseTCPOptions(th.Options(), &r)
			return r.Present.Has(mptcp.SubtypeAddAddr) && r.AddAddr.Echo
		}); echoed {
			o.answers["echo"]++
		}
		raw.reset(sf)
	})
	results["add-addr-good-hmac"] = kind(1, func(o *outcome) {
		sf, ok := joined(o)
		if !ok {
			return
		}
		var ob [40]byte
		ad := mptcp.AddAddr{ID: 9, Addr: netip.AddrFrom4([4]byte{10, 99, 0, 9})}
		ad.HMAC = raw.h.AddAddrHMAC(raw.ckey, raw.skey, ad.ID, ad.Addr, 0)
		raw.send(sf.sport, sf.seq, sf.ack, header.TCPFlagACK, rawOptions(ob[:], 0, &ad), nil)
		if _, echoed := raw.recv(sf.sport, 500*time.Millisecond, func(th header.TCP) bool {
			var r mptcp.Received
			_ = mptcp.ParseTCPOptions(th.Options(), &r)
			return r.Present.Has(mptcp.SubtypeAddAddr) && r.AddAddr.Echo
		}); echoed {
			o.answers["echo"]++
		}
		raw.reset(sf)
	})
	far := rcvNxt + 64<<10
	results["dss-conflict"] = kind(n, func(o *outcome) {
		if sf, ok := joined(o); ok {
			raw.dssConflict(sf, far)
			answer(o, sf, 200*time.Millisecond)
		}
	})
	results["dss-2^40-beyond"] = kind(n, func(o *outcome) {
		if sf, ok := joined(o); ok {
			raw.dssAt(sf, rcvNxt+1<<40, 1)
			answer(o, sf, 200*time.Millisecond)
		}
	})
	results["dss-8MiB-beyond"] = kind(n, func(o *outcome) {
		if sf, ok := joined(o); ok {
			raw.dssAt(sf, rcvNxt+8<<20, 1)
			answer(o, sf, 200*time.Millisecond)
		}
	})
	// The kinds the kernel answers by resetting the subflow.
	results["dss-conflict-in-order"] = kind(nReset, func(o *outcome) {
		if sf, ok := joined(o); ok {
			raw.dssConflictInOrder(sf, far)
			answer(o, sf, 200*time.Millisecond)
		}
	})
	results["dss-not-matching-tcp"] = kind(nReset, func(o *outcome) {
		if sf, ok := joined(o); ok {
			raw.dssAt(sf, far, 5001)
			answer(o, sf, 200*time.Millisecond)
		}
	})

	names := make([]string, 0, len(results))
	for k := range results {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		r := results[k]
		var moved []string
		for c, v := range r.moved {
			moved = append(moved, c+"+"+strconv.FormatUint(v, 10))
		}
		sort.Strings(moved)
		t.Logf("kernel, %-22s answers %v counters %s", k, r.answers, strings.Join(moved, " "))
	}
	// What our stack is held to in TestXDPMPTCPBadInputFromPeer, as the
	// kernel does it (at least half of each kind, as there).
	half, halfReset := (n+1)/2, (nReset+1)/2
	expect := func(k, answer string, minAnswers int, counters ...string) {
		t.Helper()
		r := results[k]
		if r.answers[answer] < minAnswers {
			t.Errorf("kernel, %s: %d answers %q, want at least %d (%v)", k, r.answers[answer], answer, minAnswers, r.answers)
		}
		for _, c := range counters {
			if r.moved[c] < uint64(minAnswers) {
				t.Errorf("kernel, %s: %s +%d, want at least %d", k, c, r.moved[c], minAnswers)
			}
		}
	}
	expect("unknown-token", "RST", half, "MPJoinNoTokenFound", "MPJoinSynRx")
	expect("bad-join-hmac", "third ACK RST", half, "MPJoinAckHMacFailure")
	expect("join-ack-without-mp-join", "third ACK RST", half)                   // no counter (ours: MPJoinAckHMacFailure)
	expect("add-addr-good-hmac", "join:established", 1, "AddAddr", "EchoAddTx") // our ADD_ADDR HMAC is the kernel's
	expect("dss-conflict-in-order", "join:established", halfReset, "DSSNotMatching", "MPRstTx")
	expect("dss-not-matching-tcp", "RST", halfReset, "DSSNoMatchTCP", "MPRstTx")
	expect("dss-8MiB-beyond", "ACK of the data", half, "NoDSSInWindow")
	expect("dss-2^40-beyond", "ACK of the data", half, "NoDSSInWindow")
	// A wrong ADD_ADDR HMAC: the kernel ignores the option without a
	// counter and without an echo (ours counts it as AddAddrDrop).
	if r := results["add-addr-bad-hmac"]; r.answers["echo"] != 0 || r.moved["AddAddr"] != 0 || r.moved["EchoAddTx"] != 0 {
		t.Errorf("kernel accepted an ADD_ADDR with a wrong HMAC: answers %v, counters %v", r.answers, r.moved)
	}
}

// rawJoinName names a join outcome for the logs.
func rawJoinName(r joinResult) string {
	return [...]string{"no answer", "SYN RST", "third ACK RST", "established", "no fourth ACK"}[r]
}
