package stack

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpxdp/mpxdp/stack/header"
	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// rawSender writes hand-built IPv4/TCP packets from inside a namespace
// through a raw socket (the peer kernel routes them to our stack over the
// veth, resolving our MAC by ARP like any other traffic).
type rawSender struct {
	fd       int
	src, dst [4]byte
	buf      [1500]byte
}

func (r *rawSender) send(t *testing.T, sport, dport uint16, seq, ack uint32, flags header.TCPFlags, payload []byte, badSum bool) {
	n := header.EncodeIPv4(r.buf[:], &header.IPv4Fields{TotalLen: uint16(20 + 20 + len(payload)), TTL: 64, Protocol: unix.IPPROTO_TCP, Src: r.src, Dst: r.dst, DF: true})
	tn := header.EncodeTCP(r.buf[n:], &header.TCPFields{SrcPort: sport, DstPort: dport, Seq: seqnum.Value(seq), Ack: seqnum.Value(ack), Flags: flags, Window: 65535})
	copy(r.buf[n+tn:], payload)
	seg := header.TCP(r.buf[n : n+tn+len(payload)])
	seg.FinishChecksum(header.PseudoHeaderSumIPv4(r.src, r.dst, unix.IPPROTO_TCP, uint16(len(seg))))
	if badSum {
		r.buf[n+16] ^= 0x5a
	}
	sa := &unix.SockaddrInet4{Addr: r.dst}
	if err := unix.Sendto(r.fd, r.buf[:n+tn+len(payload)], 0, sa); err != nil {
		t.Errorf("raw sendto: %v", err)
	}
}

// TestXDPBadInputFromPeer runs a kernel client's download from our listener
// over AF_XDP while the peer namespace sends hostile traffic at us through a
// raw socket: a SYN flood from thousands of ports, segments with bad TCP
// checksums on the live connection's 4-tuple, out-of-window RSTs and SYNs on
// that 4-tuple. Each kind must be dropped (or challenged) and counted, and
// the download must complete byte-exact.
func TestXDPBadInputFromPeer(t *testing.T) {
	x := newXDPTopo(t, 0)
	const size = 64 << 20
	ln, err := x.s.Listen("tcp", ":5201")
	if err != nil {
		t.Fatal(err)
	}
	var sum []byte
	var serr error
	var sc *Conn
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			serr = err
			return
		}
		sc = c.(*Conn)
		defer c.Close()
		sum, serr = sendPRNG(c, 7, size)
		c.(*Conn).CloseWrite()
		io.Copy(io.Discard, c)
	}()

	var kc net.Conn
	var raw *rawSender
	err = x.topo.Peer.Do(func() error {
		var err error
		kc, err = net.DialTimeout("tcp", netip.AddrPortFrom(x.path.OurAddr, 5201).String(), 5*time.Second)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
		if err != nil {
			return err
		}
		raw = &rawSender{fd: fd, src: x.path.PeerAddr.As4(), dst: x.path.OurAddr.As4()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(raw.fd)
	kc.SetDeadline(time.Now().Add(120 * time.Second))
	kport := uint16(kc.LocalAddr().(*net.TCPAddr).Port)

	const (
		flood    = 3000
		badSums  = 300
		oowRSTs  = 200
		syncSYNs = 50
	)
	before := x.s.Stats()
	got, n, err := recvHash(kc, size, func() {
		rng := rand.New(rand.NewPCG(1, 2))
		// Paced (a burst larger than the AF_XDP RX ring would only test
		// the ring): the packets on the live 4-tuple first, then the flood.
		sent := 0
		pace := func() {
			if sent++; sent%64 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		for i := 0; i < badSums; i++ {
			raw.send(t, kport, 5201, rng.Uint32(), rng.Uint32(), header.TCPFlagACK, []byte("corrupted segment payload"), true)
			pace()
		}
		for i := 0; i < oowRSTs; i++ {
			// A random sequence number: outside the window but for a 2^-15 chance.
			raw.send(t, kport, 5201, rng.Uint32(), 0, header.TCPFlagRST, nil, false)
			pace()
		}
		for i := 0; i < syncSYNs; i++ {
			raw.send(t, kport, 5201, rng.Uint32(), 0, header.TCPFlagSYN, nil, false)
			pace()
		}
		for i := 0; i < flood; i++ {
			sport := uint16(10000 + i%50000)
			if sport == kport {
				continue
			}
			raw.send(t, sport, 5201, rng.Uint32(), 0, header.TCPFlagSYN, nil, false)
			pace()
		}
	})
	kc.Close()
	wg.Wait()
	if err != nil || serr != nil {
		t.Fatalf("kernel client: %v after %d bytes; our server: %v", err, n, serr)
	}
	if n != size || !bytes.Equal(got, sum) {
		t.Fatalf("kernel received %d bytes (want %d), SHA-256 equal: %v", n, size, bytes.Equal(got, sum))
	}
	after := x.s.Stats()
	delta := func(d Drop) uint64 { return after.Drop(d) - before.Drop(d) }
	// At least half must be seen and counted: under heavy load the
	// AF_XDP RX ring may overflow and lose some of the paced burst before
	// the stack sees it (those are counted by the kernel, not by us).
	if d := delta(DropBadChecksum); d < badSums/2 {
		t.Errorf("bad-checksum drops grew by %d, want about %d", d, badSums)
	}
	opened := after.FlowsOpened - before.FlowsOpened
	cookies := after.SYNCookies - before.SYNCookies
	if opened+cookies+delta(DropAcceptQueue) == 0 {
		t.Errorf("the SYN flood left no trace in the counters (flows %d, cookies %d)", opened, cookies)
	}
	var ctr struct{ oow, chal, synsync, badseq, rst uint64 }
	for i := 0; i < 500; i++ {
		if c, ok := sc.EngineCounters(); ok {
			ctr.oow, ctr.chal, ctr.synsync, ctr.badseq, ctr.rst = c.OutOfWindowRST+c.InWindowRST, c.ChallengeACK+c.ChallengeACKLimit, c.SYNInSync, c.BadSeq, c.RSTsIn
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ctr.rst != 0 {
		t.Errorf("a forged RST reset the connection (RSTsIn %d)", ctr.rst)
	}
	if ctr.oow < oowRSTs/2 {
		t.Errorf("engine counted %d unacceptable RSTs, want about %d", ctr.oow, oowRSTs)
	}
	// A SYN on the live 4-tuple is answered with an ACK and dropped: as a
	// challenge ACK when its sequence number is in the window (RFC 5961
	// §4), otherwise by the sequence check (RFC 9293 §3.10.7.4 step 1).
	if ctr.synsync+ctr.badseq < syncSYNs/2 {
		t.Errorf("SYNs on the established connection: SYNInSync %d + BadSeq %d, want about %d", ctr.synsync, ctr.badseq, syncSYNs)
	}
	t.Logf("flood: %d flows opened, %d cookies; drops bad-checksum %d, accept-queue %d; engine: unacceptable RSTs %d, SYN-in-sync %d, bad-seq %d, challenge ACKs %d",
		opened, cookies, delta(DropBadChecksum), delta(DropAcceptQueue), ctr.oow, ctr.synsync, ctr.badseq, ctr.chal)
}
