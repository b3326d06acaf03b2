package mptcp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/mpxdp/mpxdp/internal/netstat"
	"golang.org/x/sys/unix"
)

const (
	solMPTCP  = 284 // SOL_MPTCP
	mptcpInfo = 1   // MPTCP_INFO
)

// kernelInfo is the part of struct mptcp_info (include/uapi/linux/mptcp.h)
// the test reads: six u8 counters, u32 flags at 8, u32 token at 12, then
// u64 write_seq, snd_una, rcv_nxt at 16, 24, 32.
type kernelInfo struct {
	token    uint32
	writeSeq uint64
	sndUna   uint64
	rcvNxt   uint64
}

func getMPTCPInfo(c net.Conn) (kernelInfo, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return kernelInfo{}, errors.New("connection has no SyscallConn")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return kernelInfo{}, err
	}
	var buf [256]byte
	var serr error
	l := uint32(len(buf))
	err = rc.Control(func(fd uintptr) {
		_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, fd, solMPTCP, mptcpInfo,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
		if e != 0 {
			serr = e
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return kernelInfo{}, fmt.Errorf("getsockopt(SOL_MPTCP, MPTCP_INFO): %w", err)
	}
	if l < 40 {
		return kernelInfo{}, fmt.Errorf("MPTCP_INFO returned %d bytes, want at least 40", l)
	}
	ne := binary.NativeEndian
	return kernelInfo{
		token:    ne.Uint32(buf[12:]),
		writeSeq: ne.Uint64(buf[16:]),
		sndUna:   ne.Uint64(buf[24:]),
		rcvNxt:   ne.Uint64(buf[32:]),
	}, nil
}

// captured is one TCP segment seen on lo.
type captured struct {
	srcPort, dstPort uint16
	flags            uint8
	opts             []byte
	payload          []byte
}

const (
	tcpFlagSYN = 0x02
	tcpFlagACK = 0x10
)

// parseFrame extracts a TCP segment from an Ethernet/IPv4 frame on lo.
func parseFrame(f []byte) (captured, bool) {
	if len(f) < 14+20 || binary.BigEndian.Uint16(f[12:]) != 0x0800 {
		return captured{}, false
	}
	ip := f[14:]
	ihl := int(ip[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	if ip[0]>>4 != 4 || ip[9] != 6 || ihl < 20 || total > len(ip) || total < ihl+20 {
		return captured{}, false
	}
	tcp := ip[ihl:total]
	doff := int(tcp[12]>>4) * 4
	if doff < 20 || doff > len(tcp) {
		return captured{}, false
	}
	return captured{
		srcPort: binary.BigEndian.Uint16(tcp[0:]),
		dstPort: binary.BigEndian.Uint16(tcp[2:]),
		flags:   tcp[13],
		opts:    append([]byte(nil), tcp[20:doff]...),
		payload: append([]byte(nil), tcp[doff:]...),
	}, true
}

type kernelRun struct {
	skip        string
	clientInfo  kernelInfo
	serverInfo  kernelInfo
	segs        []captured
	serverPort  uint16
	request     []byte
	reply       []byte
	counters    map[string]uint64
	checksumsOn bool
	join        bool // extra subflow (MP_JOIN) and ADD_ADDR requested
}

// runKernelExchange runs on a goroutine locked to its thread: it moves the
// thread into a new network namespace (never leaving it; the thread dies
// with the goroutine), brings lo up, captures lo with AF_PACKET, and has a
// kernel MPTCP client and server on 127.0.0.1 exchange a request and a
// reply.
func runKernelExchange(checksums, join bool) (kernelRun, error) {
	runtime.LockOSThread() // no Unlock: the thread is discarded with the namespace
	r := kernelRun{checksumsOn: checksums, join: join, request: []byte("hello, mptcp"), reply: []byte("known answers, from the kernel")}
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		if errors.Is(err, unix.EPERM) {
			r.skip = "unshare(CLONE_NEWNET) refused (EPERM): needs CAP_SYS_ADMIN to create a network namespace"
			return r, nil
		}
		return r, fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
	}
	// Bring lo up with SIOCSIFFLAGS.
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return r, fmt.Errorf("socket for ioctl: %w", err)
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return r, err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return r, fmt.Errorf("SIOCGIFFLAGS lo: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		return r, fmt.Errorf("SIOCSIFFLAGS lo up: %w", err)
	}
	if err := os.WriteFile("/proc/sys/net/mptcp/checksum_enabled", []byte(map[bool]string{false: "0", true: "1"}[checksums]), 0); err != nil {
		if os.IsNotExist(err) {
			r.skip = "kernel without MPTCP (no /proc/sys/net/mptcp)"
			return r, nil
		}
		return r, fmt.Errorf("set net.mptcp.checksum_enabled in the test namespace: %w", err)
	}

	var ipPath string
	if join {
		// In-kernel path manager: the client opens a subflow from
		// 127.0.0.2, and both ends announce 127.0.0.3 (ADD_ADDR).
		ipPath, err = exec.LookPath("ip")
		if err != nil {
			r.skip = "needs iproute2's ip(8) to configure MPTCP endpoints"
			return r, nil
		}
		// Guard: a child started from this thread must see this thread's
		// namespace, never the host's, before any ip(8) command changes it.
		mine, err := os.Readlink("/proc/thread-self/ns/net")
		if err != nil {
			return r, fmt.Errorf("read this thread's netns: %w", err)
		}
		host, _ := os.Readlink("/proc/1/ns/net")
		childNS, err := exec.Command("readlink", "/proc/self/ns/net").Output()
		if err != nil {
			r.skip = "needs readlink(1) to check the namespace child processes run in"
			return r, nil
		}
		if strings.TrimSpace(string(childNS)) != mine || mine == host {
			return r, fmt.Errorf("child processes run in netns %q, not the test's %q (host %q): refusing to run ip(8)", childNS, mine, host)
		}
		for _, args := range [][]string{
			{"mptcp", "limits", "set", "subflow", "4", "add_addr_accepted", "4"},
			{"mptcp", "endpoint", "add", "127.0.0.2", "dev", "lo", "id", "2", "subflow"},
			{"mptcp", "endpoint", "add", "127.0.0.3", "dev", "lo", "id", "3", "signal"},
		} {
			// The child inherits this locked thread's network namespace.
			if out, err := exec.Command(ipPath, args...).CombinedOutput(); err != nil {
				return r, fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
			}
		}
	}

	// Capture everything on lo.
	proto := int(htons(unix.ETH_P_ALL))
	capFD, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
	if errors.Is(err, unix.EPERM) {
		r.skip = "socket(AF_PACKET) refused (EPERM): needs CAP_NET_RAW to capture on lo"
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("AF_PACKET socket: %w", err)
	}
	defer unix.Close(capFD)
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return r, fmt.Errorf("lo in the new namespace: %w", err)
	}
	if err := unix.Bind(capFD, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: lo.Index}); err != nil {
		return r, fmt.Errorf("bind AF_PACKET to lo: %w", err)
	}
	if err := unix.SetsockoptTimeval(capFD, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 200000}); err != nil {
		return r, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var lc net.ListenConfig
	lc.SetMultipathTCP(true)
	// All of 127/8 is local: listen on any address so that subflows to
	// the announced 127.0.0.3 reach the listener too.
	ln, err := lc.Listen(ctx, "tcp4", "0.0.0.0:0")
	if err != nil {
		return r, fmt.Errorf("MPTCP listen on 127.0.0.1: %w", err)
	}
	defer ln.Close()
	r.serverPort = uint16(ln.Addr().(*net.TCPAddr).Port)

	type acc struct {
		c   net.Conn
		err error
	}
	accepted := make(chan acc, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.SetDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, len(r.request))
			if _, err = io.ReadFull(c, buf); err == nil && string(buf) != string(r.request) {
				err = fmt.Errorf("server read %q, want %q", buf, r.request)
			}
			if err == nil {
				_, err = c.Write(r.reply)
			}
		}
		accepted <- acc{c, err}
	}()

	var d net.Dialer
	d.SetMultipathTCP(true)
	c, err := d.DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(r.serverPort))))
	if err != nil {
		return r, fmt.Errorf("MPTCP dial 127.0.0.1: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(r.request); err != nil {
		return r, fmt.Errorf("client write: %w", err)
	}
	got := make([]byte, len(r.reply))
	if _, err := io.ReadFull(c, got); err != nil {
		return r, fmt.Errorf("client read: %w", err)
	}
	a := <-accepted
	if a.err != nil {
		return r, a.err
	}
	defer a.c.Close()
	if tc, ok := c.(*net.TCPConn); ok {
		if mp, err := tc.MultipathTCP(); err != nil || !mp {
			return r, fmt.Errorf("client fell back to plain TCP (MultipathTCP()=%v, %v)", mp, err)
		}
	}
	// Let the final DATA_ACKs go out before reading the state.
	time.Sleep(50 * time.Millisecond)
	if r.clientInfo, err = getMPTCPInfo(c); err != nil {
		return r, fmt.Errorf("client: %w", err)
	}
	if r.serverInfo, err = getMPTCPInfo(a.c); err != nil {
		return r, fmt.Errorf("server: %w", err)
	}

	// Drain the capture. On lo every frame shows up twice (outgoing and
	// host); keep the outgoing copy. drain reads until the capture is idle
	// and done() holds, or limit passes.
	buf := make([]byte, 70000)
	var rx Received
	var seen struct{ joinACK, addAddr, prio, rmAddr, fastClose, finalAck bool }
	var synAckKey Key
	drain := func(done func() bool, limit time.Duration) error {
		deadline := time.Now().Add(limit)
		for i := 0; i < 10000; i++ {
			n, from, err := unix.Recvfrom(capFD, buf, 0)
			if err != nil {
				if errors.Is(err, unix.EINTR) {
					continue
				}
				if !errors.Is(err, unix.EAGAIN) {
					return fmt.Errorf("capture recvfrom: %w", err)
				}
				if done() || time.Now().After(deadline) {
					return nil
				}
				continue
			}
			if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype != unix.PACKET_OUTGOING {
				continue
			}
			if seg, ok := parseFrame(buf[:n]); ok {
				r.segs = append(r.segs, seg)
				if ParseTCPOptions(seg.opts, &rx) == nil {
					seen.joinACK = seen.joinACK || (rx.Present.Has(SubtypeJoin) && rx.Join.Form == JoinACK)
					seen.addAddr = seen.addAddr || (rx.Present.Has(SubtypeAddAddr) && !rx.AddAddr.Echo)
					seen.prio = seen.prio || rx.Present.Has(SubtypePrio)
					seen.rmAddr = seen.rmAddr || rx.Present.Has(SubtypeRemoveAddr)
					seen.fastClose = seen.fastClose || rx.Present.Has(SubtypeFastClose)
					if rx.Present.Has(SubtypeCapable) && rx.Capable.Keys == 1 {
						synAckKey = rx.Capable.SenderKey
					}
					// The client's DATA_ACK for the whole reply (it may come late).
					if seg.dstPort == r.serverPort && rx.Present.Has(SubtypeDSS) && rx.DSS.HasAck &&
						rx.DSS.DataAckFrom(synAckKey.IDSN()) == synAckKey.IDSN()+1+uint64(len(r.reply)) {
						seen.finalAck = true
					}
				}
			}
		}
		return nil
	}
	if err := drain(func() bool { return seen.finalAck && (!join || (seen.joinACK && seen.addAddr)) }, 3*time.Second); err != nil {
		return r, err
	}
	if join {
		// Make the kernel send MP_PRIO (endpoint 2 becomes backup) and
		// REMOVE_ADDR (endpoint 3 goes away), then abort the connection
		// (linger 0) so that it sends MP_FASTCLOSE.
		for _, args := range [][]string{
			{"mptcp", "endpoint", "change", "id", "2", "backup"},
			{"mptcp", "endpoint", "delete", "id", "3"},
		} {
			if out, err := exec.Command(ipPath, args...).CombinedOutput(); err != nil {
				return r, fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
			}
		}
		if err := drain(func() bool { return seen.prio && seen.rmAddr }, 3*time.Second); err != nil {
			return r, err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
		if err := drain(func() bool { return seen.fastClose }, 3*time.Second); err != nil {
			return r, err
		}
	}
	r.counters, err = readMPTcpExt("/proc/thread-self/net/netstat")
	return r, err
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// readMPTcpExt reads the MPTcpExt counters of the calling thread's
// namespace, by their full nstat names ("MPTcpExtMPCapableSYNRX").
func readMPTcpExt(path string) (map[string]uint64, error) {
	sec, err := netstat.ReadSection(path, "MPTcpExt")
	if err != nil {
		return nil, err
	}
	m := make(map[string]uint64, len(sec))
	for n, v := range sec {
		m["MPTcpExt"+n] = v
	}
	return m, nil
}

// TestKernelMPTCPKnownAnswer checks our keys, tokens, IDSNs, option parser
// and DSS checksum against the Linux kernel's MPTCP, in a private network
// namespace on its loopback.
func TestKernelMPTCPKnownAnswer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (CAP_SYS_ADMIN to create a network namespace, CAP_NET_RAW to capture on its lo)")
	}
	for _, tc := range []struct {
		name       string
		csum, join bool
	}{{"no-checksum", false, false}, {"checksum", true, false}, {"join", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			type out struct {
				r   kernelRun
				err error
			}
			ch := make(chan out, 1)
			go func() {
				r, err := runKernelExchange(tc.csum, tc.join)
				ch <- out{r, err}
			}()
			var o out
			select {
			case o = <-ch:
			case <-time.After(30 * time.Second):
				t.Fatal("kernel exchange did not finish in 30s")
			}
			if o.err != nil {
				t.Fatal(o.err)
			}
			if o.r.skip != "" {
				t.Skip(o.r.skip)
			}
			checkKernelRun(t, &o.r)
			if tc.join {
				checkKernelJoin(t, &o.r)
			}
		})
	}
}

func checkKernelRun(t *testing.T, r *kernelRun) {
	var (
		clientKey, serverKey Key
		sawSYN, sawSYNACK    bool
		sawACK               bool
		clientData           bool
		serverMap            bool
		lastClientAck        uint64
	)
	var rx Received
	for _, s := range r.segs {
		t.Logf("segment %d->%d flags %#02x options %x payload %q", s.srcPort, s.dstPort, s.flags, s.opts, s.payload)
		if err := ParseTCPOptions(s.opts, &rx); err != nil {
			t.Fatalf("parse options %x: %v", s.opts, err)
		}
		if rx.Present.Has(SubtypeJoin) {
			continue // extra subflows: checkKernelJoin
		}
		fromClient := s.dstPort == r.serverPort
		switch {
		case s.flags&tcpFlagSYN != 0 && s.flags&tcpFlagACK == 0:
			if !rx.Present.Has(SubtypeCapable) || rx.Capable.Size() != CapableLenSYN || rx.Capable.Version != Version1 {
				t.Fatalf("SYN options %x: want MP_CAPABLE v1 of length 4, got %+v", s.opts, rx.Capable)
			}
			if rx.Capable.Flags&CapableHMACSHA256 == 0 || (rx.Capable.Flags&CapableChecksum != 0) != r.checksumsOn {
				t.Fatalf("SYN MP_CAPABLE flags %#x (checksums %v)", rx.Capable.Flags, r.checksumsOn)
			}
			sawSYN = true
		case s.flags&tcpFlagSYN != 0:
			if !rx.Present.Has(SubtypeCapable) || rx.Capable.Keys != 1 {
				t.Fatalf("SYN/ACK options %x: want MP_CAPABLE with one key", s.opts)
			}
			serverKey = rx.Capable.SenderKey
			sawSYNACK = true
		case fromClient && rx.Present.Has(SubtypeCapable):
			if rx.Capable.Keys != 2 || rx.Capable.ReceiverKey != serverKey {
				t.Fatalf("client MP_CAPABLE %+v: want both keys, receiver's = server's %#x", rx.Capable, uint64(serverKey))
			}
			clientKey = rx.Capable.SenderKey
			sawACK = true
			if rx.Capable.HasDataLen && len(s.payload) > 0 {
				// First data: implicit mapping at the client's IDSN+1, subflow seq 1.
				if int(rx.Capable.DataLen) != len(s.payload) || string(s.payload) != string(r.request) {
					t.Fatalf("MP_CAPABLE data length %d, payload %q", rx.Capable.DataLen, s.payload)
				}
				if rx.Capable.HasChecksum != r.checksumsOn {
					t.Fatalf("MP_CAPABLE data checksum present=%v, checksums %v", rx.Capable.HasChecksum, r.checksumsOn)
				}
				if r.checksumsOn {
					want := DSSChecksum(clientKey.IDSN()+1, 1, rx.Capable.DataLen, ChecksumAdd(0, s.payload))
					if rx.Capable.Checksum != want {
						t.Fatalf("kernel's MP_CAPABLE data checksum %#04x, ours %#04x", rx.Capable.Checksum, want)
					}
				}
				clientData = true
			}
		}
		if rx.Present.Has(SubtypeDSS) {
			d := rx.DSS
			if d.HasMap && len(s.payload) > 0 {
				if fromClient {
					dsn := ExpandDSN(clientKey.IDSN(), d.DSN, d.DSN64)
					if dsn != clientKey.IDSN()+1 || string(s.payload) != string(r.request) {
						t.Fatalf("client mapping DSN %#x, want IDSN+1 %#x", dsn, clientKey.IDSN()+1)
					}
					clientData = true
				} else if serverMap {
					// A later mapping (the kernel may re-send data at the
					// MPTCP level on a new subflow sequence): it must lie
					// within what the server sent.
					dsn := ExpandDSN(serverKey.IDSN(), d.DSN, d.DSN64)
					if dsn < serverKey.IDSN()+1 || dsn+uint64(d.DataLen) > serverKey.IDSN()+1+uint64(len(r.reply)) {
						t.Fatalf("later server mapping %+v outside the reply's DSN range", d)
					}
					if r.checksumsOn && d.Checksum != DSSChecksum(dsn, d.SubflowSeq, d.DataLen, ChecksumAdd(0, s.payload)) {
						t.Fatalf("kernel's DSS checksum %#04x on a later mapping %+v does not match ours", d.Checksum, d)
					}
				} else {
					dsn := ExpandDSN(serverKey.IDSN(), d.DSN, d.DSN64)
					if dsn != serverKey.IDSN()+1 {
						t.Fatalf("server's first mapping DSN %#x, want our IDSN+1 %#x (key %#x)", dsn, serverKey.IDSN()+1, uint64(serverKey))
					}
					if d.SubflowSeq != 1 || int(d.DataLen) != len(r.reply) || string(s.payload) != string(r.reply) {
						t.Fatalf("server mapping %+v payload %q", d, s.payload)
					}
					if d.HasChecksum != r.checksumsOn {
						t.Fatalf("server DSS checksum present=%v, checksums %v", d.HasChecksum, r.checksumsOn)
					}
					if r.checksumsOn {
						want := DSSChecksum(dsn, d.SubflowSeq, d.DataLen, ChecksumAdd(0, s.payload))
						if d.Checksum != want {
							t.Fatalf("kernel's DSS checksum %#04x, ours %#04x", d.Checksum, want)
						}
					}
					serverMap = true
					t.Logf("server DSS option bytes: %x", dssBytes(s.opts))
				}
			}
			if fromClient && d.HasAck {
				lastClientAck = ExpandDSN(serverKey.IDSN(), d.DataAck, d.Ack64)
			}
		}
	}
	if !sawSYN || !sawSYNACK || !sawACK || !clientData || !serverMap {
		t.Fatalf("capture incomplete (%d segments): SYN %v SYN/ACK %v ACK %v client data %v server mapping %v",
			len(r.segs), sawSYN, sawSYNACK, sawACK, clientData, serverMap)
	}
	t.Logf("client key %#016x token %#08x idsn %#016x; server key %#016x token %#08x idsn %#016x",
		uint64(clientKey), clientKey.Token(), clientKey.IDSN(), uint64(serverKey), serverKey.Token(), serverKey.IDSN())
	t.Logf("kernel MPTCP_INFO: client %+v server %+v", r.clientInfo, r.serverInfo)

	// Tokens: the kernel's own (MPTCP_INFO) against ours from the wire keys.
	if r.clientInfo.token != clientKey.Token() {
		t.Errorf("client: kernel token %#x, ours %#x", r.clientInfo.token, clientKey.Token())
	}
	if r.serverInfo.token != serverKey.Token() {
		t.Errorf("server: kernel token %#x, ours %#x", r.serverInfo.token, serverKey.Token())
	}
	// Data-level sequence state: IDSN+1 plus the bytes sent.
	if want := clientKey.IDSN() + 1 + uint64(len(r.request)); r.clientInfo.writeSeq != want || r.serverInfo.rcvNxt != want {
		t.Errorf("client->server DSN: client write_seq %#x, server rcv_nxt %#x, want %#x", r.clientInfo.writeSeq, r.serverInfo.rcvNxt, want)
	}
	if want := serverKey.IDSN() + 1 + uint64(len(r.reply)); r.serverInfo.writeSeq != want || r.clientInfo.rcvNxt != want {
		t.Errorf("server->client DSN: server write_seq %#x, client rcv_nxt %#x, want %#x", r.serverInfo.writeSeq, r.clientInfo.rcvNxt, want)
	}
	if want := serverKey.IDSN() + 1 + uint64(len(r.reply)); lastClientAck != want {
		t.Errorf("client's last DATA_ACK %#x, want %#x", lastClientAck, want)
	}
	// The kernel's counters in this namespace, read by our names.
	for _, c := range []Counter{MibMPCapableSYNRX, MibMPCapableSYNTX, MibMPCapableSYNACKRX, MibMPCapableACKRX} {
		if v, ok := r.counters[c.Name()]; !ok || v != 1 {
			t.Errorf("kernel counter %s = %d (present %v), want 1", c.Name(), v, ok)
		}
	}
}

// dssBytes returns the DSS option inside a TCP option area, for logging.
func dssBytes(opts []byte) []byte {
	for i := 0; i+1 < len(opts); {
		if opts[i] == tcpOptEnd {
			break
		}
		if opts[i] == tcpOptNOP {
			i++
			continue
		}
		n := int(opts[i+1])
		if n < 2 || i+n > len(opts) {
			break
		}
		if opts[i] == OptionKind && n > 2 && Subtype(opts[i+2]>>4) == SubtypeDSS {
			return opts[i : i+n]
		}
		i += n
	}
	return nil
}

// checkKernelJoin verifies the MP_JOIN HMACs (truncated in the SYN/ACK,
// 160 bits in the ACK) and the ADD_ADDR HMACs the kernel sent against ours,
// computed from the keys seen in the MP_CAPABLE handshake.
func checkKernelJoin(t *testing.T, r *kernelRun) {
	var clientKey, serverKey Key
	var rx Received
	type flow struct{ a, b uint16 }
	synNonce := map[flow]uint32{}
	synToken := map[flow]uint32{}
	synAckNonce := map[flow]uint32{}
	var h Hasher
	verifiedSynAck, verifiedAck, verifiedAddAddr := 0, 0, 0
	prios, removes, fastCloses, resets := 0, 0, 0, 0
	keyOf := func(token uint32) (owner, other Key, ok bool) {
		switch token {
		case serverKey.Token():
			return serverKey, clientKey, true
		case clientKey.Token():
			return clientKey, serverKey, true
		}
		return 0, 0, false
	}
	for _, s := range r.segs {
		if err := ParseTCPOptions(s.opts, &rx); err != nil {
			t.Fatalf("parse options %x: %v", s.opts, err)
		}
		if rx.Present.Has(SubtypeCapable) {
			if rx.Capable.Keys == 1 {
				serverKey = rx.Capable.SenderKey
			} else if rx.Capable.Keys == 2 {
				clientKey = rx.Capable.SenderKey
			}
		}
		if rx.Present.Has(SubtypeJoin) {
			j := rx.Join
			switch j.Form {
			case JoinSYN:
				synNonce[flow{s.srcPort, s.dstPort}] = j.Nonce
				synToken[flow{s.srcPort, s.dstPort}] = j.Token
			case JoinSYNACK:
				f := flow{s.dstPort, s.srcPort} // the SYN's direction
				owner, joiner, ok := keyOf(synToken[f])
				if !ok {
					t.Fatalf("MP_JOIN SYN token %#x matches neither key", synToken[f])
				}
				synAckNonce[f] = j.Nonce
				mac := h.JoinHMAC(owner, joiner, j.Nonce, synNonce[f])
				if got, want := j.TruncatedHMAC, TruncatedJoinHMAC(&mac); got != want {
					t.Fatalf("kernel's MP_JOIN SYN/ACK HMAC %#x, ours %#x", got, want)
				}
				verifiedSynAck++
			case JoinACK:
				f := flow{s.srcPort, s.dstPort}
				owner, joiner, ok := keyOf(synToken[f])
				if !ok {
					t.Fatalf("MP_JOIN ACK on a flow without a known SYN")
				}
				mac := h.JoinHMAC(joiner, owner, synNonce[f], synAckNonce[f])
				if string(j.HMAC[:]) != string(mac[:JoinHMACLen]) {
					t.Fatalf("kernel's MP_JOIN ACK HMAC %x, ours %x", j.HMAC, mac[:JoinHMACLen])
				}
				verifiedAck++
			}
		}
		if rx.Present.Has(SubtypePrio) {
			if !rx.Prio.Backup || s.dstPort != r.serverPort {
				t.Fatalf("MP_PRIO %+v from port %d: want backup, from the client", rx.Prio, s.srcPort)
			}
			prios++
		}
		if rx.Present.Has(SubtypeRemoveAddr) {
			if len(rx.RemoveAddr.IDs) != 1 || rx.RemoveAddr.IDs[0] != 3 {
				t.Fatalf("REMOVE_ADDR ids %v, want [3]", rx.RemoveAddr.IDs)
			}
			removes++
		}
		if rx.Present.Has(SubtypeFastClose) {
			want := clientKey
			if s.dstPort == r.serverPort {
				want = serverKey
			}
			if rx.FastClose.ReceiverKey != want {
				t.Fatalf("MP_FASTCLOSE carries key %#x, want the receiver's %#x", uint64(rx.FastClose.ReceiverKey), uint64(want))
			}
			fastCloses++
		}
		if rx.Present.Has(SubtypeTCPRST) {
			t.Logf("MP_TCPRST from port %d: flags %#x reason %q", s.srcPort, rx.TCPRST.Flags, rx.TCPRST.Reason)
			resets++
		}
		if rx.Present.Has(SubtypeAddAddr) && !rx.AddAddr.Echo {
			a := rx.AddAddr
			sender, receiver := clientKey, serverKey
			if s.srcPort == r.serverPort {
				sender, receiver = serverKey, clientKey
			}
			if want := h.AddAddrHMAC(sender, receiver, a.ID, a.Addr, a.Port); a.HMAC != want {
				t.Fatalf("kernel's ADD_ADDR %+v: HMAC %#x, ours %#x", a, a.HMAC, want)
			}
			verifiedAddAddr++
		}
	}
	t.Logf("verified %d MP_JOIN SYN/ACK, %d MP_JOIN ACK and %d ADD_ADDR HMACs", verifiedSynAck, verifiedAck, verifiedAddAddr)
	t.Logf("parsed %d MP_PRIO, %d REMOVE_ADDR, %d MP_FASTCLOSE, %d MP_TCPRST from the kernel", prios, removes, fastCloses, resets)
	if prios == 0 || removes == 0 || fastCloses == 0 {
		t.Fatalf("the kernel's MP_PRIO, REMOVE_ADDR and MP_FASTCLOSE were not all seen (%d, %d, %d)", prios, removes, fastCloses)
	}
	if verifiedSynAck == 0 || verifiedAck == 0 || verifiedAddAddr == 0 {
		t.Fatalf("the kernel did not complete an MP_JOIN and an ADD_ADDR within 3 s (SYN/ACK %d, ACK %d, ADD_ADDR %d)",
			verifiedSynAck, verifiedAck, verifiedAddAddr)
	}
}
