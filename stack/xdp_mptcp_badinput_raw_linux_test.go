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
// sending hostile MPTCP segments at our stack. It writes IPv4/TCP segments
// with MPTCP options through a raw socket, from a source address that the
// peer kernel does not own: the kernel then drops our stack's answers
// (not for it, and it does not forward) instead of resetting them, and a
// packet socket on the peer's interface, filtered to that address, reads
// them. Our stack answers a SYN at the Ethernet source it came from, so no
// ARP for the made-up address is needed.
type mpRawPeer struct {
	t          *testing.T
	tx, rx     int     // raw IPv4 socket (IP_HDRINCL); AF_PACKET socket
	src, dst   [4]byte // made-up source; our stack's address
	dport      uint16  // our listener's port
	ckey, skey mptcp.Key
	h          mptcp.Hasher
	rng        *rand.Rand
	buf        [1600]byte
	rbuf       [1 << 16]byte
}

// rawSubflow is a subflow the raw peer opened: its port and its next
// sequence number and acknowledgment number.
type rawSubflow struct {
	sport    uint16
	seq, ack seqnum.Value
}

// openPacketSock opens an AF_PACKET socket for IPv4 frames on ifindex, in
// both directions (ETH_P_ALL: only those sockets see outgoing frames),
// that sees only frames to addr (or, with fromSrc, only frames from it),
// with a receive timeout of 20 ms. The classic BPF filter is attached
// before the socket is bound, so that nothing else is queued. Call it
// inside the namespace.
func openPacketSock(ifindex int, addr [4]byte, fromSrc bool) (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("AF_PACKET socket (needs CAP_NET_RAW): %w", err)
	}
	k := uint32(addr[0])<<24 | uint32(addr[1])<<16 | uint32(addr[2])<<8 | uint32(addr[3])
	off := uint32(header.EthernetHeaderLen + 16) // IPv4 destination
	if fromSrc {
		off -= 4
	}
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS, K: 12},                    // EtherType
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 3, K: 0x0800}, // IPv4?
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: k},
		{Code: unix.BPF_RET | unix.BPF_K, K: 1 << 16},
		{Code: unix.BPF_RET | unix.BPF_K, K: 0},
	}
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
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons16(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("binding the packet socket to ifindex %d: %w", ifindex, err)
	}
	return fd, nil
}

// openCaptureSock opens an AF_PACKET socket for every frame on ifindex,
// both directions (only ETH_P_ALL sockets see outgoing frames), with a
// receive timeout of 20 ms, for reading the MPTCP keys off a handshake.
// Call it inside the namespace.
func openCaptureSock(ifindex int) (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons16(unix.ETH_P_ALL)))
	if err != nil {
		return -1, fmt.Errorf("AF_PACKET socket (needs CAP_NET_RAW): %w", err)
	}
	tv := unix.NsecToTimeval((20 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons16(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func htons16(v uint16) uint16 { return v<<8 | v>>8 }

// readTCP reads the next IPv4/TCP frame from packet socket fd into buf
// and returns its IPv4 header and TCP segment; ok is false when nothing
// came before the socket's timeout or the frame is not IPv4/TCP.
func readTCP(fd int, buf []byte) (header.IPv4, header.TCP, bool) {
	return readTCPFlags(fd, buf, 0)
}

// readTCPFlags is readTCP with recvfrom flags (unix.MSG_DONTWAIT: do not
// wait at all).
func readTCPFlags(fd int, buf []byte, flags int) (header.IPv4, header.TCP, bool) {
	n, _, err := unix.Recvfrom(fd, buf, flags)
	if err != nil || n < header.EthernetHeaderLen {
		return nil, nil, false
	}
	eth, k, err := header.ParseEthernet(buf[:n])
	if err != nil || eth.EtherType() != header.EtherTypeIPv4 {
		return nil, nil, false
	}
	ip, _, err := header.ParseIPv4(buf[k:n])
	if err != nil || ip.Protocol() != unix.IPPROTO_TCP {
		return nil, nil, false
	}
	th, _, err := header.ParseTCP(ip.Payload())
	if err != nil {
		return nil, nil, false
	}
	return ip, th, true
}

// captureKeys reads the MPTCP keys of the connection to port dport off
// the wire: the client's third ACK (or first data) carries MP_CAPABLE with
// both. It gives up after d.
func captureKeys(fd int, dport uint16, d time.Duration) (client, server mptcp.Key, err error) {
	buf := make([]byte, 1<<16)
	var r mptcp.Received
	for end := time.Now().Add(d); time.Now().Before(end); {
		_, th, ok := readTCP(fd, buf)
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

// wireOption is an MPTCP option that can serialise itself.
type wireOption interface {
	Size() int
	Write(b []byte) int
}

// options writes a TCP option area into b: an MSS option when mss is not
// 0, then the given options, padded with NOPs to a multiple of 4.
func options(b []byte, mss uint16, opts ...wireOption) []byte {
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
	n := header.EncodeIPv4(p.buf[:], &header.IPv4Fields{TotalLen: uint16(header.IPv4MinHeaderLen + tl), TTL: 64, Protocol: unix.IPPROTO_TCP, Src: p.src, Dst: p.dst, DF: true})
	header.EncodeTCP(p.buf[n:], &header.TCPFields{SrcPort: sport, DstPort: p.dport, Seq: seq, Ack: ack, Flags: flags, Window: window, OptionsLen: len(opts)})
	copy(p.buf[n+header.TCPMinHeaderLen:], opts)
	copy(p.buf[n+header.TCPMinHeaderLen+len(opts):], payload)
	seg := header.TCP(p.buf[n : n+tl])
	seg.FinishChecksum(header.PseudoHeaderSumIPv4(p.src, p.dst, unix.IPPROTO_TCP, uint16(tl)))
	if err := unix.Sendto(p.tx, p.buf[:n+tl], 0, &unix.SockaddrInet4{Addr: p.dst}); err != nil {
		p.t.Errorf("raw sendto: %v", err)
	}
}

// recv returns the next segment our stack sent to sport for which want
// reports true (any segment when want is nil), waiting at most d.
// Segments to other ports are skipped.
func (p *mpRawPeer) recv(sport uint16, d time.Duration, want func(header.TCP) bool) (header.TCP, bool) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		_, th, ok := readTCP(p.rx, p.rbuf[:])
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

// replyTimeout bounds each wait for an answer from our stack.
const replyTimeout = 500 * time.Millisecond

// join runs the MP_JOIN handshake from sport with token (as a backup
// subflow, so that our scheduler sends nothing on it), with the right
// HMAC in the third ACK unless badHMAC. The SYN/ACK's HMAC is checked
// against the captured keys.
func (p *mpRawPeer) join(sport uint16, token uint32, badHMAC bool) (rawSubflow, joinResult) {
	var ob [40]byte
	iss := seqnum.Value(p.rng.Uint32())
	nonce := p.rng.Uint32()
	syn := mptcp.Join{Form: mptcp.JoinSYN, Backup: true, AddrID: 77, Token: token, Nonce: nonce}
	p.send(sport, iss, 0, header.TCPFlagSYN, options(ob[:], 1400, &syn), nil)
	th, ok := p.recv(sport, replyTimeout, nil)
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
	if badHMAC {
		ack.HMAC[p.rng.IntN(mptcp.JoinHMACLen)] ^= byte(1 + p.rng.IntN(255))
	}
	p.send(sport, sf.seq, sf.ack, header.TCPFlagACK, options(ob[:], 0, &ack), nil)
	th, ok = p.recv(sport, replyTimeout, func(th header.TCP) bool { return !th.Flags().Has(header.TCPFlagSYN) })
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
func (p *mpRawPeer) data(sf rawSubflow, off int, payload []byte, opts ...wireOption) {
	var ob [40]byte
	p.send(sf.sport, sf.seq.Add(seqnum.Size(off)), sf.ack, header.TCPFlagACK|header.TCPFlagPSH, options(ob[:], 0, opts...), payload)
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
	return p.recv(sf.sport, replyTimeout, func(th header.TCP) bool { return th.Flags().Has(header.TCPFlagRST) })
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
// raw peer uses (.77: the testbed gives out .1 and .2).
func spoofAddr(pf netip.Prefix) netip.Addr {
	a := pf.Addr().As4()
	a[3] = 77
	return netip.AddrFrom4(a)
}

// kernelSegment is what the raw peer knows of the kernel's side of a live
// subflow from the last segment the kernel sent on it.
type kernelSegment struct {
	seq, ack seqnum.Value
	window   uint16
}

// latestKernelSegment drains packet socket fd (opened with fromSrc on the
// kernel's address) and returns the last segment from sport to dport, if
// any came within d. Segments with an ADD_ADDR are the raw peer's own
// and skipped.
func latestKernelSegment(fd int, buf []byte, sport, dport uint16, d time.Duration) (kernelSegment, bool) {
	var k kernelSegment
	var r mptcp.Received
	found := false
	for end := time.Now().Add(d); ; {
		flags := 0
		if found {
			flags = unix.MSG_DONTWAIT
		}
		_, th, ok := readTCPFlags(fd, buf, flags)
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
func (p *mpRawPeer) sendOnKernelSubflow(src, dst [4]byte, sport uint16, k kernelSegment, opt wireOption) {
	var ob [40]byte
	s, d := p.src, p.dst
	p.src, p.dst = src, dst
	p.sendWindow(sport, k.seq, k.ack-1, header.TCPFlagACK, k.window, options(ob[:], 0, opt), nil)
	p.src, p.dst = s, d
}

// payload100 is the payload of the raw peer's data segments.
var payload100 = bytes.Repeat([]byte{0xa5}, 100)

// unknownToken sends an MP_JOIN SYN with token from sport and reports
// whether it was answered with a RST.
func (p *mpRawPeer) unknownToken(sport uint16, token uint32) bool {
	_, r := p.join(sport, token, false)
	return r == joinSYNRST
}

// dssConflict sends, on sf, a mapping that contradicts an earlier one for
// the same subflow bytes: the second half of a 200-byte mapping at dsn
// comes first (out of order), then the first half maps the same range 8
// bytes further on.
func (p *mpRawPeer) dssConflict(sf rawSubflow, dsn uint64) {
	m := mptcp.DSS{HasMap: true, DSN64: true, DSN: dsn, SubflowSeq: 1, DataLen: 200}
	p.data(sf, 100, payload100, &m)
	m.DSN += 8
	p.data(sf, 0, payload100, &m)
}

// dssConflictInOrder sends, on sf, the first half of a 200-byte mapping
// at dsn, then the second half under the same mapping moved 8 bytes on.
func (p *mpRawPeer) dssConflictInOrder(sf rawSubflow, dsn uint64) {
	m := mptcp.DSS{HasMap: true, DSN64: true, DSN: dsn, SubflowSeq: 1, DataLen: 200}
	p.data(sf, 0, payload100, &m)
	m.DSN += 8
	p.data(sf, 100, payload100, &m)
}

// dssAt sends, on sf, 100 bytes mapped at dsn (64-bit) from subflow
// offset ssn (1: the segment's own first byte).
func (p *mpRawPeer) dssAt(sf rawSubflow, dsn uint64, ssn uint32) {
	m := mptcp.DSS{HasMap: true, DSN64: true, DSN: dsn, SubflowSeq: ssn, DataLen: 100}
	p.data(sf, 0, payload100, &m)
}
