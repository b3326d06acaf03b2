package stack

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/stack/header"
	"github.com/mpxdp/mpxdp/stack/link"
	"github.com/mpxdp/mpxdp/stack/neigh"
	"github.com/mpxdp/mpxdp/stack/seqnum"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// memQ is a link.Queue for driving workers by hand: transmitted frames are
// copied into sent; received frames are handed to Process by the test.
type memQ struct {
	size int
	sent [][]byte
}

func (q *memQ) Receive([]link.Frame) int { return 0 }
func (q *memQ) Release([]link.Frame)     {}
func (q *memQ) Alloc(fs []link.Frame) int {
	for i := range fs {
		fs[i] = link.Frame{Buf: make([]byte, q.size)}
	}
	return len(fs)
}
func (q *memQ) Transmit(fs []link.Frame) int {
	for _, f := range fs {
		q.sent = append(q.sent, append([]byte(nil), f.Buf[:f.Len]...))
	}
	return len(fs)
}
func (q *memQ) Flush() error             { return nil }
func (q *memQ) Wait(time.Duration) error { return nil }
func (q *memQ) FrameSize() int           { return q.size }

func (q *memQ) take() [][]byte {
	s := q.sent
	q.sent = nil
	return s
}

// host is a stack built without goroutines over memQs.
func newTestHost(t testing.TB, cfg Config, links ...[]netip.Prefix) (*Stack, []*memQ) {
	t.Helper()
	var ls []Link
	var qs []*memQ
	for i, addrs := range links {
		q := &memQ{size: 2048}
		qs = append(qs, q)
		ls = append(ls, Link{Name: "m" + string(rune('0'+i)), MAC: net.HardwareAddr{2, 0, 0, 0, byte(i), 1}, Addrs: addrs, Queues: []link.Queue{q}})
	}
	s, err := newHost(cfg, ls)
	if err != nil {
		t.Fatal(err)
	}
	return s, qs
}

func frames(bufs ...[]byte) []link.Frame {
	fs := make([]link.Frame, len(bufs))
	for i, b := range bufs {
		fs[i] = link.Frame{Buf: b, Len: len(b)}
	}
	return fs
}

var peerMAC = header.MAC{2, 0xee, 0, 0, 0, 1}

func arpRequest(sender, target netip.Addr) []byte {
	b := make([]byte, 42)
	header.EncodeEthernet(b, header.BroadcastMAC, peerMAC, header.EtherTypeARP)
	header.EncodeARP(b[14:], header.ARPRequest, peerMAC, sender.As4(), header.MAC{}, target.As4())
	return b
}

func TestARPAnswersEveryAddressOnEveryInterface(t *testing.T) {
	s, qs := newTestHost(t, Config{},
		[]netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")},
		[]netip.Prefix{netip.MustParsePrefix("10.1.0.1/24"), netip.MustParsePrefix("10.1.0.5/24")})
	w := s.workers[0]
	ours := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.1.0.5")}
	for pi, q := range qs {
		for _, a := range ours {
			w.Process(pi, frames(arpRequest(netip.MustParseAddr("10.9.9.9"), a)), 0)
			out := q.take()
			if len(out) != 1 {
				t.Fatalf("iface %d, ARP for %v: %d replies", pi, a, len(out))
			}
			eth, n, err := header.ParseEthernet(out[0])
			if err != nil || eth.Dst() != peerMAC || eth.Src() != w.ports[pi].ifc.mac || eth.EtherType() != header.EtherTypeARP {
				t.Fatalf("reply Ethernet header wrong: %v %x", err, out[0][:14])
			}
			r, _, err := header.ParseARP(out[0][n:])
			if err != nil || r.Op() != header.ARPReply || r.SenderIP() != a.As4() || r.SenderMAC() != w.ports[pi].ifc.mac ||
				r.TargetMAC() != peerMAC || r.TargetIP() != [4]byte{10, 9, 9, 9} {
				t.Fatalf("iface %d: bad ARP reply for %v: %x", pi, a, out[0])
			}
		}
		w.Process(pi, frames(arpRequest(netip.MustParseAddr("10.9.9.9"), netip.MustParseAddr("10.0.0.77"))), 0)
		if out := q.take(); len(out) != 0 {
			t.Fatalf("answered an ARP request for an address that is not ours")
		}
		if _, ok := s.neigh.Lookup(neigh.Key{Iface: pi, Addr: netip.MustParseAddr("10.9.9.9")}); !ok {
			t.Fatalf("iface %d: the requester was not learnt", pi)
		}
	}
	st := s.Stats()
	if st.ARPReplies != 6 || st.Drop(DropNotForUs) != 2 {
		t.Fatalf("ARPReplies=%d NotForUs=%d, want 6 and 2", st.ARPReplies, st.Drop(DropNotForUs))
	}
	// Truncated ARP.
	w.Process(0, frames(arpRequest(netip.MustParseAddr("10.9.9.9"), ours[0])[:30]), 0)
	if s.Stats().Drop(DropTruncated) != 1 {
		t.Fatal("truncated ARP not counted")
	}
}

func ipv6Frame(dstMAC header.MAC, src, dst netip.Addr, hop uint8, icmp []byte) []byte {
	b := make([]byte, 14+40+len(icmp))
	header.EncodeEthernet(b, dstMAC, peerMAC, header.EtherTypeIPv6)
	header.EncodeIPv6(b[14:], &header.IPv6Fields{PayloadLen: uint16(len(icmp)), NextHeader: header.ICMPv6ProtocolNumber, HopLimit: hop, Src: src.As16(), Dst: dst.As16()})
	copy(b[54:], icmp)
	return b
}

func TestNeighborDiscoveryAndEcho6(t *testing.T) {
	s, qs := newTestHost(t, Config{}, []netip.Prefix{netip.MustParsePrefix("fd00::1/64")})
	w := s.workers[0]
	me := netip.MustParseAddr("fd00::1")
	peer := netip.MustParseAddr("fd00::99")
	snm := header.SolicitedNodeMulticast(me.As16())
	ns := make([]byte, 32)
	pm := peerMAC
	n := header.EncodeNeighborSolicitation(ns, peer.As16(), snm, me.As16(), &pm)
	ns = ns[:n]
	for _, hop := range []uint8{255, 64} {
		w.Process(0, frames(ipv6Frame(header.IPv6MulticastMAC(snm), peer, netip.AddrFrom16(snm), hop, ns)), 0)
	}
	out := qs[0].take()
	if len(out) != 1 {
		t.Fatalf("%d replies to two NS (one with a bad hop limit)", len(out))
	}
	ip, _, _ := header.ParseIPv6(out[0][14:])
	proto, pl, err := ip.Transport()
	if err != nil || proto != header.ICMPv6ProtocolNumber {
		t.Fatal(err)
	}
	m, _, err := header.ParseICMPv6(pl)
	if err != nil || m.Type() != header.ICMPv6NeighborAdvertisement || !m.ChecksumValid(ip.PseudoHeaderSum(58, len(m))) ||
		m.NDTarget() != me.As16() || m.NDFlags()&header.NDFlagSolicited == 0 || ip.HopLimit() != 255 || ip.DstAddr() != peer {
		t.Fatalf("bad NA: %x", out[0])
	}
	var o header.NDOptions
	if err := header.ParseNDOptions(m.NDOptionsBytes(), &o); err != nil || !o.HasTargetLinkLayer || o.TargetLinkLayer != w.ports[0].ifc.mac {
		t.Fatalf("NA target link-layer option wrong: %v %+v", err, o)
	}
	if e, ok := s.neigh.Lookup(neigh.Key{Iface: 0, Addr: peer}); !ok || e.MAC != peerMAC {
		t.Fatal("NS source link-layer address not learnt")
	}
	if s.Stats().Drop(DropBadND) != 1 {
		t.Fatal("NS with hop limit 64 not counted as BadND")
	}
	// Echo.
	echo := make([]byte, 8+5)
	header.EncodeICMPv6Echo(echo, peer.As16(), me.As16(), header.ICMPv6EchoRequest, 7, 9, []byte("hello"))
	w.Process(0, frames(ipv6Frame(w.ports[0].ifc.mac, peer, me, 64, echo)), 0)
	out = qs[0].take()
	if len(out) != 1 {
		t.Fatalf("%d echo replies", len(out))
	}
	ip, _, _ = header.ParseIPv6(out[0][14:])
	_, pl, _ = ip.Transport()
	m, _, err = header.ParseICMPv6(pl)
	if err != nil || m.Type() != header.ICMPv6EchoReply || m.Ident() != 7 || m.Seq() != 9 || string(m.EchoPayload()) != "hello" ||
		!m.ChecksumValid(ip.PseudoHeaderSum(58, len(m))) {
		t.Fatalf("bad echo reply %x", out[0])
	}
	// Corrupt checksum: dropped.
	echo[2] ^= 0xff
	w.Process(0, frames(ipv6Frame(w.ports[0].ifc.mac, peer, me, 64, echo)), 0)
	if len(qs[0].take()) != 0 || s.Stats().Drop(DropBadChecksum) != 1 {
		t.Fatal("ICMPv6 with a bad checksum was not dropped and counted")
	}
}

func TestEcho4(t *testing.T) {
	s, qs := newTestHost(t, Config{}, []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")})
	w := s.workers[0]
	b := make([]byte, 14+20+8+4)
	header.EncodeEthernet(b, w.ports[0].ifc.mac, peerMAC, header.EtherTypeIPv4)
	header.EncodeIPv4(b[14:], &header.IPv4Fields{TotalLen: 32, TTL: 64, Protocol: 1, Src: [4]byte{10, 0, 0, 2}, Dst: [4]byte{10, 0, 0, 1}})
	header.EncodeICMPv4Echo(b[34:], header.ICMPv4EchoRequest, 1, 2, []byte("ping"))
	w.Process(0, frames(b), 0)
	out := qs[0].take()
	if len(out) != 1 {
		t.Fatalf("%d replies", len(out))
	}
	ip, n, err := header.ParseIPv4(out[0][14:])
	if err != nil || ip.Dst() != [4]byte{10, 0, 0, 2} || ip.Src() != [4]byte{10, 0, 0, 1} {
		t.Fatalf("bad reply IP header: %v", err)
	}
	m, _, err := header.ParseICMPv4(ip[n:])
	if err != nil || m.Type() != header.ICMPv4EchoReply || string(m.Payload()) != "ping" || m.Ident() != 1 || m.Seq() != 2 {
		t.Fatalf("bad echo reply: %v %x", err, out[0])
	}
	// Not for us, bad IP checksum, truncated.
	b2 := bytes.Clone(b)
	b2[14+19] = 9 // dst 10.0.0.9
	binary.BigEndian.PutUint16(b2[14+10:], 0)
	binary.BigEndian.PutUint16(b2[14+10:], header.Checksum(b2[14:34], 0))
	b3 := bytes.Clone(b)
	b3[14+10] ^= 1
	w.Process(0, frames(b2, b3, b[:20]), 0)
	st := s.Stats()
	if len(qs[0].take()) != 0 || st.Drop(DropNotForUs) != 1 || st.Drop(DropBadChecksum) != 1 || st.Drop(DropTruncated) != 1 {
		t.Fatalf("drops: %+v", st.Drops)
	}
}

// vnet joins two hand-driven hosts with virtual time. mangle, when set,
// may rewrite or drop (return nil) each frame from a to b.
type vnet struct {
	t      testing.TB
	a, b   *Stack
	qa, qb *memQ
	now    time.Duration
	mangle func([]byte) []byte
}

func newVnet(t testing.TB, cfgA, cfgB Config) *vnet {
	a, qa := newTestHost(t, cfgA, []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")})
	b, qb := newTestHost(t, cfgB, []netip.Prefix{netip.MustParsePrefix("10.0.0.2/24")})
	b.workers[0].ports[0].ifc.mac = header.MAC{2, 0, 0, 0, 0, 2}
	return &vnet{t: t, a: a, b: b, qa: qa[0], qb: qb[0]}
}

func (v *vnet) step() {
	v.now += 50 * time.Microsecond
	wa, wb := v.a.workers[0], v.b.workers[0]
	fa := v.qa.take()
	if v.mangle != nil {
		kept := fa[:0]
		for _, f := range fa {
			if g := v.mangle(f); g != nil {
				kept = append(kept, g)
			}
		}
		fa = kept
	}
	if len(fa) > 0 {
		wb.Process(0, frames(fa...), v.now)
	}
	if fb := v.qb.take(); len(fb) > 0 {
		wa.Process(0, frames(fb...), v.now)
	}
	wa.Poll(v.now)
	wb.Poll(v.now)
}

func (v *vnet) run(cond func() bool, maxSteps int) {
	for i := 0; i < maxSteps; i++ {
		if cond() {
			return
		}
		v.step()
	}
	v.t.Fatalf("condition not reached after %d steps (%v virtual)", maxSteps, v.now)
}

// connect dials from a to b:port with virtual time and returns both sides.
func (v *vnet) connect(port uint16) (client, server *Conn, l *listener) {
	ln, err := v.b.Listen("tcp", ":"+itoa(int(port)))
	if err != nil {
		v.t.Fatal(err)
	}
	l = ln.(*listener)
	client = v.a.newConn(nil, v.a.workers[0])
	client.raddr = netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), port)
	v.a.workers[0].cmds.Enqueue(command{op: opDial, c: client})
	v.run(func() bool { return client.hasStatus(stEstablished) && l.acceptQ.Len() > 0 }, 2000)
	server, _ = l.acceptQ.Dequeue()
	l.pending.Add(-1)
	return client, server, l
}

func itoa(i int) string { return netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(i)).String()[8:] }

func TestVnetBadSegmentsDroppedConnectionKeepsData(t *testing.T) {
	v := newVnet(t, Config{}, Config{})
	c, s, _ := v.connect(80)
	want := make([]byte, 300<<10)
	newPRNG(5).Read(want)
	var got []byte
	k := 0
	v.mangle = func(f []byte) []byte {
		eth, n, err := header.ParseEthernet(f)
		if err != nil || eth.EtherType() != header.EtherTypeIPv4 {
			return f
		}
		ip, ihl, _ := header.ParseIPv4(f[n:])
		seg := ip[ihl:]
		if len(seg) <= 52 {
			return f
		}
		k++
		switch k % 10 {
		case 1: // bad TCP checksum: a corrupted copy goes first, then the original
			bad := bytes.Clone(f)
			bad[len(bad)-1] ^= 0x5a
			v.b.workers[0].Process(0, frames(bad), v.now)
		case 3: // truncated in the middle of the TCP header
			v.b.workers[0].Process(0, frames(bytes.Clone(f[:n+ihl+10])), v.now)
		case 5: // options area with a bad length (timestamps of length 9)
			bad := bytes.Clone(f)
			o := n + ihl + 20
			if bad[o] == 1 && bad[o+1] == 1 && bad[o+2] == 8 {
				bad[o+3] = 9
				tv := header.TCP(bad[n+ihl:])
				tv.FinishChecksum(ip.PseudoHeaderSum())
				v.b.workers[0].Process(0, frames(bad), v.now)
			}
		case 7: // SYN+FIN on a data segment
			bad := bytes.Clone(f)
			tv := header.TCP(bad[n+ihl:])
			tv.SetFlags(tv.Flags() | header.TCPFlagSYN | header.TCPFlagFIN)
			tv.FinishChecksum(ip.PseudoHeaderSum())
			v.b.workers[0].Process(0, frames(bad), v.now)
		}
		return f
	}
	off := 0
	buf := make([]byte, 64<<10)
	v.run(func() bool {
		if off < len(want) {
			if n := c.snd.Write(want[off:]); n > 0 {
				off += n
				c.request(wantUpdate)
			}
		}
		for {
			n := s.rcv.Read(buf)
			if n == 0 {
				break
			}
			got = append(got, buf[:n]...)
			s.readDone()
		}
		return len(got) == len(want)
	}, 200000)
	if !bytes.Equal(got, want) {
		t.Fatal("data corrupted")
	}
	st := v.b.Stats()
	for _, d := range []Drop{DropBadChecksum, DropTruncated, DropMalformed, DropBadFlags} {
		if st.Drop(d) == 0 {
			t.Errorf("no %v drops counted", d)
		}
	}
	t.Logf("drops at the receiver: checksum %d truncated %d malformed %d badflags %d",
		st.Drop(DropBadChecksum), st.Drop(DropTruncated), st.Drop(DropMalformed), st.Drop(DropBadFlags))
}

// craft builds a frame from the peer a's address to b with seg.
func (v *vnet) craft(lport, rport uint16, seg *tcp.Segment) []byte {
	wa := v.a.workers[0]
	rt := route{p: wa.ports[0], src: netip.MustParseAddr("10.0.0.1"), dst: netip.MustParseAddr("10.0.0.2"),
		lport: lport, rport: rport, mac: v.b.workers[0].ports[0].ifc.mac, macOK: true}
	buf := make([]byte, 2048)
	n, _ := wa.writeTCP(buf, &rt, seg, -1)
	return buf[:n]
}

func TestVnetRFC5961(t *testing.T) {
	v := newVnet(t, Config{}, Config{})
	c, s, _ := v.connect(81)
	sf := s.fl
	cf := c.fl
	base := sf.ep.Counters()
	v.qb.take()
	// RST far outside the window: silently dropped by the engine.
	rst := tcp.Segment{Seq: sf.ep.RcvNxt() + 1<<30, Flags: tcp.FlagRST}
	v.b.workers[0].Process(0, frames(v.craft(cf.key.lport, 81, &rst)), v.now)
	// RST in window but not exact: challenge ACK.
	rst.Seq = sf.ep.RcvNxt() + 100
	v.b.workers[0].Process(0, frames(v.craft(cf.key.lport, 81, &rst)), v.now)
	// SYN on an established connection: challenge ACK.
	syn := tcp.Segment{Seq: sf.ep.RcvNxt() + 10, Flags: tcp.FlagSYN, Window: 1000}
	v.b.workers[0].Process(0, frames(v.craft(cf.key.lport, 81, &syn)), v.now)
	if acks := v.qb.take(); len(acks) != 2 {
		t.Fatalf("%d challenge ACKs for an in-window RST and a SYN, want 2", len(acks))
	}
	got := sf.ep.Counters()
	if got.OutOfWindowRST != base.OutOfWindowRST+1 || got.InWindowRST != base.InWindowRST+1 || got.SYNInSync != base.SYNInSync+1 {
		t.Fatalf("engine counters: oow RST %d, in-window RST %d, SYN in sync %d", got.OutOfWindowRST, got.InWindowRST, got.SYNInSync)
	}
	if sf.ep.State() != tcp.Established || s.hasStatus(stFailed) {
		t.Fatal("connection did not survive blind RST/SYN")
	}
	// The exact RST resets it.
	rst.Seq = sf.ep.RcvNxt()
	v.b.workers[0].Process(0, frames(v.craft(cf.key.lport, 81, &rst)), v.now)
	if !s.hasStatus(stFailed) || s.err != tcp.ErrConnectionReset {
		t.Fatalf("exact RST did not reset: status %b err %v", s.status.Load(), s.err)
	}
}

func TestVnetSYNFloodCookies(t *testing.T) {
	v := newVnet(t, Config{}, Config{Backlog: 8})
	c, s, l := v.connect(82)
	wb := v.b.workers[0]
	// Thousands of SYNs from many ports (not answered by the flooder).
	const syns = 4000
	for i := 0; i < syns; i += 50 {
		var fs [][]byte
		for j := i; j < i+50; j++ {
			syn := tcp.Segment{Seq: 1000 + uint32ToSeq(j), Flags: tcp.FlagSYN, Window: 65535}
			syn.Options.MSS = 1460
			syn.Options.HasTS, syn.Options.TSVal = true, uint32(j)
			syn.Options.HasWScale, syn.Options.WScale = true, 7
			syn.Options.SACKPermitted = true
			fs = append(fs, v.craft(uint16(10000+j), 82, &syn))
		}
		wb.Process(0, frames(fs...), v.now)
		v.qb.take() // the SYN-ACKs go nowhere
	}
	st := v.b.Stats()
	if st.SYNCookies < syns-100 {
		t.Fatalf("%d SYN cookies for %d SYNs with backlog 8", st.SYNCookies, syns)
	}
	if half := wb.flowCnt; half > 8+2 {
		t.Fatalf("%d flows after the flood: state was kept beyond the backlog", half)
	}
	// The established connection still moves data.
	msg := []byte("still alive")
	c.snd.Write(msg)
	c.request(wantUpdate)
	v.run(func() bool { return s.rcv.Len() == len(msg) }, 1000)
	// A peer that completes a cookie handshake gets a connection.
	syn := tcp.Segment{Seq: 777, Flags: tcp.FlagSYN, Window: 65535}
	syn.Options.MSS = 1400
	syn.Options.HasTS, syn.Options.TSVal = true, 5
	syn.Options.HasWScale, syn.Options.WScale = true, 7
	syn.Options.SACKPermitted = true
	wb.Process(0, frames(v.craft(40000, 82, &syn)), v.now)
	out := v.qb.take()
	if len(out) != 1 {
		t.Fatalf("%d answers to a SYN", len(out))
	}
	ip, ihl, _ := header.ParseIPv4(out[0][14:])
	sa := header.TCP(ip[ihl:])
	var o header.TCPOptions
	header.ParseTCPOptions(sa.Options(), &o)
	if sa.Flags() != header.TCPFlagSYN|header.TCPFlagACK || sa.Ack() != 778 || !o.HasTimestamps || !o.HasWindowScale || !o.SACKPermitted {
		t.Fatalf("cookie SYN-ACK: flags %v ack %d options %+v", sa.Flags(), sa.Ack(), o)
	}
	ack := tcp.Segment{Seq: 778, Ack: sa.Seq() + 1, Flags: tcp.FlagACK, Window: 1000}
	ack.Options.HasTS, ack.Options.TSVal, ack.Options.TSEcr = true, 6, o.TSVal
	before := l.acceptQ.Len()
	wb.Process(0, frames(v.craft(40000, 82, &ack)), v.now)
	if l.acceptQ.Len() != before+1 || v.b.Stats().CookiesAccepted != 1 {
		t.Fatalf("valid cookie ACK: accept queue %d -> %d, accepted %d", before, l.acceptQ.Len(), v.b.Stats().CookiesAccepted)
	}
	// A forged cookie is refused with a RST.
	ack.Ack += 1 << 20
	wb.Process(0, frames(v.craft(40001, 82, &ack)), v.now)
	if v.b.Stats().Drop(DropBadCookie) != 1 {
		t.Fatal("forged cookie not counted")
	}
}

func uint32ToSeq(i int) (s seqValue) { return seqValue(i * 100000) }

type seqValue = seqnum.Value

// TestGatewayRoute dials a destination off every prefix: the SYN must wait
// for the gateway's (not the destination's) ARP resolution, then leave
// with the gateway's MAC and the destination's IP.
func TestGatewayRoute(t *testing.T) {
	gw := netip.MustParseAddr("10.0.0.254")
	s, qs := newTestHost(t, Config{Gateways: []netip.Addr{gw}}, []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")})
	w := s.workers[0]
	c := s.newConn(nil, w)
	c.raddr = netip.MustParseAddrPort("192.0.2.5:443")
	w.cmds.Enqueue(command{op: opDial, c: c})
	w.Poll(0)
	out := qs[0].take()
	if len(out) != 1 {
		t.Fatalf("%d frames before resolution, want one ARP request", len(out))
	}
	a, _, err := header.ParseARP(out[0][14:])
	if err != nil || a.Op() != header.ARPRequest || a.TargetIP() != gw.As4() || a.SenderIP() != [4]byte{10, 0, 0, 1} {
		t.Fatalf("ARP request %x: %v", out[0], err)
	}
	gwMAC := header.MAC{2, 0, 0, 0, 0, 0xfe}
	reply := make([]byte, 42)
	header.EncodeEthernet(reply, w.ports[0].ifc.mac, gwMAC, header.EtherTypeARP)
	header.EncodeARP(reply[14:], header.ARPReply, gwMAC, gw.As4(), w.ports[0].ifc.mac, [4]byte{10, 0, 0, 1})
	w.Process(0, frames(reply), time.Millisecond)
	w.Poll(time.Millisecond)
	out = qs[0].take()
	if len(out) != 1 {
		t.Fatalf("%d frames after resolution, want the queued SYN", len(out))
	}
	eth, n, _ := header.ParseEthernet(out[0])
	ip, ihl, err := header.ParseIPv4(out[0][n:])
	if err != nil || eth.Dst() != gwMAC || ip.Dst() != [4]byte{192, 0, 2, 5} {
		t.Fatalf("SYN to %v via %v: %v", ip.DstAddr(), eth.Dst(), err)
	}
	tv, _, _ := header.ParseTCP(ip[ihl:])
	if tv.Flags() != header.TCPFlagSYN || tv.DstPort() != 443 || !tv.ChecksumValid(ip.PseudoHeaderSum()) {
		t.Fatalf("not a valid SYN: %v", tv.Flags())
	}
	if _, err := newHost(Config{Gateways: []netip.Addr{netip.MustParseAddr("172.16.0.1")}},
		[]Link{{Name: "x", MAC: net.HardwareAddr{2, 0, 0, 0, 0, 9}, Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")}, Queues: []link.Queue{&memQ{size: 2048}}}}); err == nil {
		t.Fatal("a gateway outside every prefix was accepted")
	}
}

// TestToSegmentTimestampFastPath checks that the fast path for the
// NOP NOP timestamps layout gives the segment the general option parser
// gives for the same options in another order, and that other layouts
// (timestamps and SACK) still parse.
func TestToSegmentTimestampFastPath(t *testing.T) {
	s, _ := newTestHost(t, Config{}, []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")})
	w := s.workers[0]
	build := func(opts []byte) header.TCP {
		b := make([]byte, header.TCPMinHeaderLen+len(opts)+5)
		header.EncodeTCP(b, &header.TCPFields{SrcPort: 1, DstPort: 2, Seq: 1000, Ack: 2000,
			Flags: header.TCPFlagACK | header.TCPFlagPSH | header.TCPFlagURG, Window: 77, OptionsLen: len(opts)})
		copy(b[header.TCPMinHeaderLen:], opts)
		copy(b[header.TCPMinHeaderLen+len(opts):], "hello")
		return header.TCP(b)
	}
	ts := []byte{8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}
	fast := append([]byte{1, 1}, ts...)
	slow := append(append([]byte(nil), ts...), 1, 1)
	if !w.toSegment(build(fast)) {
		t.Fatal("fast layout refused")
	}
	got := w.seg
	w.seg = tcp.Segment{}
	if !w.toSegment(build(slow)) {
		t.Fatal("slow layout refused")
	}
	want := w.seg
	if got.Seq != want.Seq || got.Ack != want.Ack || got.Flags != want.Flags || got.Window != want.Window ||
		string(got.Payload) != "hello" || string(want.Payload) != "hello" || got.Options.Ext != nil || want.Options.Ext != nil {
		t.Fatalf("fast path %+v, general parser %+v", got, want)
	}
	if fmt.Sprint(got.Options) != fmt.Sprint(want.Options) || !got.Options.HasTS || got.Options.TSVal != 0x11223344 || got.Options.TSEcr != 0x55667788 ||
		got.Flags.Has(tcp.Flags(header.TCPFlagURG)) {
		t.Fatalf("fast path options %+v, general parser %+v", got.Options, want.Options)
	}
	sack := append(append([]byte(nil), fast...), 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 9)
	if !w.toSegment(build(sack)) || w.seg.Options.NumSACK != 1 || !w.seg.Options.HasTS {
		t.Fatalf("timestamps and SACK: %+v", w.seg.Options)
	}
}
