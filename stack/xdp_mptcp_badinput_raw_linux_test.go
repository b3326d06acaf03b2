package stack

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/stack/header"
	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// mpRawPeer is a hand-made MPTCP endpoint in the peer namespace, for
// sending hostile MPTCP segments at our stack. It writes TCP segments with
// MPTCP options over IPv4 or IPv6 through a raw socket, from a source address that the
// peer kernel does not own: the kernel then drops our stack's answers
// (not for it, and it does not forward) instead of resetting them, and a
// packet socket on the peer's interface, filtered to that address, reads
// them. Our stack answers a SYN at the Ethernet source it came from, so no
// ARP for the made-up address is needed.
type mpRawPeer struct {
	t          *testing.T
	tx, rx     int        // raw IP socket (header included); AF_PACKET socket
	src, dst   netip.Addr // made-up source; our stack's address (one family)
	dport      uint16     // our listener's port
	ckey, skey mptcp.Key
	h          mptcp.Hasher
	rng        *rand.Rand
	buf        [1600]byte
	rbuf       [1 << 16]byte
}

// openRawSocket opens the raw socket the raw peer sends with: IPPROTO_RAW,
// so that it writes the IPv4 or IPv6 header itself. Call it inside the
// namespace.
func openRawSocket(v6 bool) (int, error) {
	family := unix.AF_INET
	if v6 {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return -1, fmt.Errorf("raw socket (needs CAP_NET_RAW): %w", err)
	}
	return fd, nil
}

// rawSubflow is a subflow the raw peer opened: its port and its next
// sequence number and acknowledgment number.
type rawSubflow struct {
	sport    uint16
	seq, ack seqnum.Value
}

// openPacketSock opens an AF_PACKET socket on ifindex, in both directions
// (ETH_P_ALL: only those sockets see outgoing frames), that sees only IP
// frames to addr (or, with fromSrc, only frames from it), IPv4 or IPv6 as
// addr is, with a receive timeout of 20 ms. The classic BPF filter is
// attached before the socket is bound, so that nothing else is queued.
// Call it inside the namespace.
func openPacketSock(ifindex int, addr netip.Addr, fromSrc bool) (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("AF_PACKET socket (needs CAP_NET_RAW): %w", err)
	}
	prog := addrFilter(addr, fromSrc)
	fp := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("SO_ATTACH_FILTER: %w", err)
	}
	tv := unix.NsecToTimeval((20 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("SO_RCVTIMEO: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: rawHtons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("binding the packet socket to ifindex %d: %w", ifindex, err)
	}
	return fd, nil
}

// addrFilter returns a classic BPF program that accepts Ethernet frames
// of addr's IP version whose source (fromSrc) or destination is addr.
func addrFilter(addr netip.Addr, fromSrc bool) []unix.SockFilter {
	etherType, off := uint32(header.EtherTypeIPv4), uint32(header.EthernetHeaderLen+16)
	if fromSrc {
		off -= 4
	}
	a := addr.AsSlice()
	if addr.Is6() {
		etherType, off = header.EtherTypeIPv6, uint32(header.EthernetHeaderLen+24)
		if fromSrc {
			off -= 16
		}
	}
	words := len(a) / 4
	// ldh [12]; jeq type; then ld/jeq per address word; ret all; ret 0.
	n := 2 + 2*words + 2
	reject := uint8(n - 1)
	prog := []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS, K: 12}}
	prog = append(prog, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jf: reject - uint8(len(prog)) - 1, K: etherType})
	for w := 0; w < words; w++ {
		prog = append(prog, unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off + uint32(4*w)})
		k := uint32(a[4*w])<<24 | uint32(a[4*w+1])<<16 | uint32(a[4*w+2])<<8 | uint32(a[4*w+3])
		prog = append(prog, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jf: reject - uint8(len(prog)) - 1, K: k})
	}
	prog = append(prog, unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: 1 << 16}, unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: 0})
	return prog
}

// openCaptureSock opens an AF_PACKET socket for every frame on ifindex,
// both directions (only ETH_P_ALL sockets see outgoing frames), with a
// receive timeout of 20 ms, for reading the MPTCP keys off a handshake.
// Call it inside the namespace.
func openCaptureSock(ifindex int) (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(rawHtons(unix.ETH_P_ALL)))
	if err != nil {
		return -1, fmt.Errorf("AF_PACKET socket (needs CAP_NET_RAW): %w", err)
	}
	tv := unix.NsecToTimeval((20 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: rawHtons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func rawHtons(v uint16) uint16 { return v<<8 | v>>8 }

// rawReadTCP reads the next IPv4/TCP or IPv6/TCP frame from packet socket fd
// into buf and returns its TCP segment; ok is false when nothing came
// before the socket's timeout or the frame is not TCP over IP.
func rawReadTCP(fd int, buf []byte) (header.TCP, bool) {
	return rawReadTCPFlags(fd, buf, 0)
}

// rawReadTCPFlags is rawReadTCP with recvfrom flags (unix.MSG_DONTWAIT: do not
// wait at all).
func rawReadTCPFlags(fd int, buf []byte, flags int) (header.TCP, bool) {
	n, _, err := unix.Recvfrom(fd, buf, flags)
	if err != nil || n < header.EthernetHeaderLen {
		return nil, false
	}
	eth, k, err := header.ParseEthernet(buf[:n])
	if err != nil {
		return nil, false
	}
	var seg []byte
	switch eth.EtherType() {
	case header.EtherTypeIPv4:
		ip, _, err := header.ParseIPv4(buf[k:n])
		if err != nil || ip.Protocol() != unix.IPPROTO_TCP {
			return nil, false
		}
		seg = ip.Payload()
	case header.EtherTypeIPv6:
		ip, _, err := header.ParseIPv6(buf[k:n])
		if err != nil || ip.NextHeader() != unix.IPPROTO_TCP {
			return nil, false
		}
		seg = ip.Payload()
	default:
		return nil, false
	}
	th, _, err := header.ParseTCP(seg)
	if err != nil {
		return nil, false
	}
	return th, true
}

// captureKeys reads the MPTCP keys of the connection to port dport off
// the wire: the client's third ACK (or first data) carries MP_CAPABLE with
// both. It gives up after d.
func captureKeys(fd int, dport uint16, d time.Duration) (client, server mptcp.Key, err error) {
	buf := make([]byte, 1<<16)
	var r mptcp.Received
	for end := time.Now().Add(d); time.Now().Before(end); {
		th, ok := rawReadTCP(fd, buf)
		if !ok || th.DstPort() != dport {
			continue
		}
		_ = mptcp.ParseTCPOptions(th.Options(), &r)
		if r.Present.Has(mptcp.SubtypeCapable) && r.Capable.Keys == 2 {
			return r.Capable.SenderKey, r.Capable.ReceiverKey, nil
		}
	}
	return 0, 0, errors.New("no MP_CAPABLE with both keys seen on the wire")
}

// rawOption is an MPTCP option that can serialise itself.
type rawOption interface {
	Size() int
	Write(b []byte) int
}

// rawOptions writes a TCP option area into b: an MSS option when mss is not
// 0, then the given options, padded with NOPs to a multiple of 4.
func rawOptions(b []byte, mss uint16, opts ...rawOption) []byte {
	n := 0
	if mss != 0 {
		b[0], b[1], b[2], b[3] = 2, 4, byte(mss>>8), byte(mss)
		n = 4
	}
	for _, o := range opts {
		n += o.Write(b[n:])
	}
	for n&3 != 0 {
		b[n] = 1
		n++
	}
	return b[:n]
}

// send writes one segment from sport to our listener.
func (p *mpRawPeer) send(sport uint16, seq, ack seqnum.Value, flags header.TCPFlags, opts, payload []byte) {
	p.sendWindow(sport, seq, ack, flags, 65535, opts, payload)
}

// sendWindow is send with the given window field.
func (p *mpRawPeer) sendWindow(sport uint16, seq, ack seqnum.Value, flags header.TCPFlags, window uint16, opts, payload []byte) {
	tl := header.TCPMinHeaderLen + len(opts) + len(payload)
	var n int
	var pseudo uint32
	var sa unix.Sockaddr
	if p.src.Is4() {
		src, dst := p.src.As4(), p.dst.As4()
		n = header.EncodeIPv4(p.buf[:], &header.IPv4Fields{TotalLen: uint16(header.IPv4MinHeaderLen + tl), TTL: 64, Protocol: unix.IPPROTO_TCP, Src: src, Dst: dst, DF: true})
		pseudo = header.PseudoHeaderSumIPv4(src, dst, unix.IPPROTO_TCP, uint16(tl))
		sa = &unix.SockaddrInet4{Addr: dst}
	} else {
		src, dst := p.src.As16(), p.dst.As16()
		n = header.EncodeIPv6(p.buf[:], &header.IPv6Fields{PayloadLen: uint16(tl), NextHeader: unix.IPPROTO_TCP, HopLimit: 64, Src: src, Dst: dst})
		pseudo = header.PseudoHeaderSumIPv6(src, dst, unix.IPPROTO_TCP, uint32(tl))
		sa = &unix.SockaddrInet6{Addr: dst}
	}
	header.EncodeTCP(p.buf[n:], &header.TCPFields{SrcPort: sport, DstPort: p.dport, Seq: seq, Ack: ack, Flags: flags, Window: window, OptionsLen: len(opts)})
	copy(p.buf[n+header.TCPMinHeaderLen:], opts)
	copy(p.buf[n+header.TCPMinHeaderLen+len(opts):], payload)
	header.TCP(p.buf[n : n+tl]).FinishChecksum(pseudo)
	if err := unix.Sendto(p.tx, p.buf[:n+tl], 0, sa); err != nil {
		p.t.Errorf("raw sendto %v: %v", p.dst, err)
	}
}

// recv returns the next segment our stack sent to sport for which want
// reports true (any segment when want is nil), waiting at most d.
// Segments to other ports are skipped.
func (p *mpRawPeer) recv(sport uint16, d time.Duration, want func(header.TCP) bool) (header.TCP, bool) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		th, ok := rawReadTCP(p.rx, p.rbuf[:])
		if !ok || th.DstPort() != sport || th.SrcPort() != p.dport {
			continue
		}
		if want == nil || want(th) {
			return th, true
		}
	}
	return nil, false
}

// joinResult is how our stack answered an MP_JOIN handshake.
type joinResult uint8

const (
	joinNoAnswer    joinResult = iota // nothing came back in time
	joinSYNRST                        // the SYN was answered with a RST
	joinACKRST                        // the third ACK was answered with a RST
	joinEstablished                   // SYN/ACK, then the fourth ACK
	joinNoFourthACK                   // SYN/ACK, then nothing in answer to the third ACK
)

// rawReplyTimeout bounds each wait for an answer from our stack.
const rawReplyTimeout = 500 * time.Millisecond

// thirdACK says what the raw peer's third ACK of an MP_JOIN carries.
type thirdACK uint8

const (
	ackGoodHMAC thirdACK = iota // MP_JOIN with the right HMAC
	ackBadHMAC                  // MP_JOIN with one byte of the HMAC changed
	ackNoJoin                   // no MP_JOIN option at all
)

// join runs the MP_JOIN handshake from sport with token (as a backup
// subflow, so that our scheduler sends nothing on it), with the third ACK
// that mode says. The SYN/ACK's HMAC is checked against the captured keys.
func (p *mpRawPeer) join(sport uint16, token uint32, mode thirdACK) (rawSubflow, joinResult) {
	var ob [40]byte
	iss := seqnum.Value(p.rng.Uint32())
	nonce := p.rng.Uint32()
	syn := mptcp.Join{Form: mptcp.JoinSYN, Backup: true, AddrID: 77, Token: token, Nonce: nonce}
	p.send(sport, iss, 0, header.TCPFlagSYN, rawOptions(ob[:], 1400, &syn), nil)
	th, ok := p.recv(sport, rawReplyTimeout, nil)
	if !ok {
		return rawSubflow{}, joinNoAnswer
	}
	if th.Flags().Has(header.TCPFlagRST) {
		return rawSubflow{}, joinSYNRST
	}
	if !th.Flags().Has(header.TCPFlagSYN | header.TCPFlagACK) {
		p.t.Errorf("join from port %d: answer %v to the SYN, want SYN/ACK or RST", sport, th.Flags())
		return rawSubflow{}, joinNoAnswer
	}
	var r mptcp.Received
	_ = mptcp.ParseTCPOptions(th.Options(), &r)
	if !r.Present.Has(mptcp.SubtypeJoin) || r.Join.Form != mptcp.JoinSYNACK {
		p.t.Fatalf("join from port %d: SYN/ACK without MP_JOIN (present %b)", sport, r.Present)
	}
	mac := p.h.JoinHMAC(p.skey, p.ckey, r.Join.Nonce, nonce)
	if mptcp.TruncatedJoinHMAC(&mac) != r.Join.TruncatedHMAC {
		p.t.Fatalf("join from port %d: the SYN/ACK's HMAC %#x does not match the captured keys (%#x)", sport, r.Join.TruncatedHMAC, mptcp.TruncatedJoinHMAC(&mac))
	}
	sf := rawSubflow{sport: sport, seq: iss + 1, ack: th.Seq() + 1}
	mac = p.h.JoinHMAC(p.ckey, p.skey, nonce, r.Join.Nonce)
	ack := mptcp.Join{Form: mptcp.JoinACK}
	copy(ack.HMAC[:], mac[:mptcp.JoinHMACLen])
	switch mode {
	case ackBadHMAC:
		ack.HMAC[p.rng.IntN(mptcp.JoinHMACLen)] ^= byte(1 + p.rng.IntN(255))
		p.send(sport, sf.seq, sf.ack, header.TCPFlagACK, rawOptions(ob[:], 0, &ack), nil)
	case ackNoJoin:
		p.send(sport, sf.seq, sf.ack, header.TCPFlagACK, nil, nil)
	default:
		p.send(sport, sf.seq, sf.ack, header.TCPFlagACK, rawOptions(ob[:], 0, &ack), nil)
	}
	th, ok = p.recv(sport, rawReplyTimeout, func(th header.TCP) bool { return !th.Flags().Has(header.TCPFlagSYN) })
	switch {
	case !ok:
		return sf, joinNoFourthACK
	case th.Flags().Has(header.TCPFlagRST):
		return sf, joinACKRST
	}
	return sf, joinEstablished
}

// data sends payload on sf at relative offset off (from the first data
// byte) with the given MPTCP options.
func (p *mpRawPeer) data(sf rawSubflow, off int, payload []byte, opts ...rawOption) {
	var ob [40]byte
	p.send(sf.sport, sf.seq.Add(seqnum.Size(off)), sf.ack, header.TCPFlagACK|header.TCPFlagPSH, rawOptions(ob[:], 0, opts...), payload)
}

// reset closes sf with a RST at its exact next sequence number, or, when
// data may have been accepted, at each of the offsets after it: one of
// them is our stack's rcv_nxt, the others draw challenge ACKs.
func (p *mpRawPeer) reset(sf rawSubflow, offs ...int) {
	p.send(sf.sport, sf.seq, 0, header.TCPFlagRST, nil, nil)
	for _, off := range offs {
		p.send(sf.sport, sf.seq.Add(seqnum.Size(off)), 0, header.TCPFlagRST, nil, nil)
	}
}

// waitRST waits for our stack's RST on sf, skipping other segments.
func (p *mpRawPeer) waitRST(sf rawSubflow) (header.TCP, bool) {
	return p.recv(sf.sport, rawReplyTimeout, func(th header.TCP) bool { return th.Flags().Has(header.TCPFlagRST) })
}

// rstReason returns the MP_TCPRST reason of a RST, or -1 without one.
func rstReason(th header.TCP) int {
	var r mptcp.Received
	_ = mptcp.ParseTCPOptions(th.Options(), &r)
	if !r.Present.Has(mptcp.SubtypeTCPRST) {
		return -1
	}
	return int(r.TCPRST.Reason)
}

// spoofAddr returns the made-up peer-side address on prefix pf that the
// raw peer uses (host part 77 for IPv4, ::77 for IPv6: the testbed gives
// out 1 and 2).
func spoofAddr(pf netip.Prefix) netip.Addr {
	if pf.Addr().Is4() {
		a := pf.Addr().As4()
		a[3] = 77
		return netip.AddrFrom4(a)
	}
	a := pf.Addr().As16()
	a[15] = 0x77
	return netip.AddrFrom16(a)
}

// kernelSegment is what the raw peer knows of the kernel's side of a live
// subflow from the last segment the kernel sent on it.
type kernelSegment struct {
	seq, ack seqnum.Value
	window   uint16
}

// latestKernelSegment drains packet socket fd (opened with fromSrc on the
// kernel's address) and returns the last segment from sport to dport, if
// any came within d (0: only what is queued already). Segments with an
// ADD_ADDR are the raw peer's own and skipped.
func latestKernelSegment(fd int, buf []byte, sport, dport uint16, d time.Duration) (kernelSegment, bool) {
	var k kernelSegment
	var r mptcp.Received
	found := false
	for end := time.Now().Add(d); ; {
		flags := 0
		if found || d == 0 {
			flags = unix.MSG_DONTWAIT
		}
		th, ok := rawReadTCPFlags(fd, buf, flags)
		if !ok {
			if found || time.Now().After(end) {
				return k, found
			}
			continue
		}
		if th.SrcPort() != sport || th.DstPort() != dport || th.Flags().Has(header.TCPFlagRST) {
			continue
		}
		if _ = mptcp.ParseTCPOptions(th.Options(), &r); r.Present.Has(mptcp.SubtypeAddAddr) {
			continue
		}
		k = kernelSegment{seq: th.Seq().Add(seqnum.Size(len(th.Payload()))), ack: th.Ack(), window: th.Window()}
		found = true
	}
}

// sendOnKernelSubflow sends a pure ACK with opt on the kernel's subflow
// from the kernel's address src and port sport to our address dst: at the kernel's next sequence
// number (in our window), acknowledging one byte less than the kernel did
// (an old ACK: neither a duplicate ACK nor a window update). It carries no
// timestamp: one older than the kernel's latest would be dropped by PAWS,
// a newer one would make our stack drop the kernel's own segments.
func (p *mpRawPeer) sendOnKernelSubflow(src, dst netip.Addr, sport uint16, k kernelSegment, opt rawOption) {
	var ob [40]byte
	s, d := p.src, p.dst
	p.src, p.dst = src, dst
	p.sendWindow(sport, k.seq, k.ack-1, header.TCPFlagACK, k.window, rawOptions(ob[:], 0, opt), nil)
	p.src, p.dst = s, d
}

// rawPayload100 is the payload of the raw peer's data segments.
var rawPayload100 = bytes.Repeat([]byte{0xa5}, 100)

// unknownToken sends an MP_JOIN SYN with token from sport and reports
// whether it was answered with a RST.
func (p *mpRawPeer) unknownToken(sport uint16, token uint32) bool {
	_, r := p.join(sport, token, ackGoodHMAC)
	return r == joinSYNRST
}

// dssConflict sends, on sf, a mapping that contradicts an earlier one for
// the same subflow bytes: the second half of a 200-byte mapping at dsn
// comes first (out of order), then the first half maps the same range 8
// bytes further on.
func (p *mpRawPeer) dssConflict(sf rawSubflow, dsn uint64) {
	m := mptcp.DSS{HasMap: true, DSN64: true, DSN: dsn, SubflowSeq: 1, DataLen: 200}
	p.data(sf, 100, rawPayload100, &m)
	m.DSN += 8
	p.data(sf, 0, rawPayload100, &m)
}

// dssConflictInOrder sends, on sf, the first half of a 200-byte mapping
// at dsn, then the second half under the same mapping moved 8 bytes on.
func (p *mpRawPeer) dssConflictInOrder(sf rawSubflow, dsn uint64) {
	m := mptcp.DSS{HasMap: true, DSN64: true, DSN: dsn, SubflowSeq: 1, DataLen: 200}
	p.data(sf, 0, rawPayload100, &m)
	m.DSN += 8
	p.data(sf, 100, rawPayload100, &m)
}

// dssAt sends, on sf, 100 bytes mapped at dsn (64-bit) from subflow
// offset ssn (1: the segment's own first byte).
func (p *mpRawPeer) dssAt(sf rawSubflow, dsn uint64, ssn uint32) {
	m := mptcp.DSS{HasMap: true, DSN64: true, DSN: dsn, SubflowSeq: ssn, DataLen: 100}
	p.data(sf, 0, rawPayload100, &m)
}
