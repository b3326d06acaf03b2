// Command demo is what `make demo` runs: it builds a two-path namespaced
// testbed, puts mpxdp's AF_XDP layer on our side of both paths, lets the
// kernel in the peer namespace talk to it, prints what each queue saw, and
// tears everything down. It needs root (namespaces, XDP, AF_XDP).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpxdp/mpxdp/afxdp"
	"github.com/mpxdp/mpxdp/internal/testbed"
	"github.com/mpxdp/mpxdp/stack/header"
)

func main() {
	paths := flag.Int("paths", 2, "number of paths (veth pairs) in the testbed")
	pings := flag.Int("pings", 5, "ICMP echo requests the kernel sends on each path")
	flag.Parse()
	if err := run(*paths, *pings); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(paths, pings int) error {
	if err := testbed.Available(); err != nil {
		return fmt.Errorf("%w\n(the demo builds network namespaces and attaches XDP programs: run it as root, e.g. `sudo make demo`)", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Printf("== building a %d-path testbed (namespaces ours <-> peer, veth, MTU 1500)\n", paths)
	topo, err := testbed.NewTopology(testbed.Config{Paths: paths, Tag: "demo"})
	if err != nil {
		return err
	}
	defer func() {
		if err := topo.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "demo: teardown:", err)
		} else {
			fmt.Println("== testbed removed (namespaces, links, XDP programs)")
		}
	}()

	responders := make([]*responder, len(topo.Paths))
	err = topo.Ours.Do(func() error {
		for i, p := range topo.Paths {
			port, err := afxdp.Open(afxdp.Config{Interface: p.Ours.Name, Attach: afxdp.AttachAuto, Mode: afxdp.ModeCopy})
			if err != nil {
				return err
			}
			r, err := newResponder(port, header.MAC(p.Ours.MAC), p.OurAddr)
			if err != nil {
				port.Close()
				return err
			}
			responders[i] = r
			fmt.Printf("   path %d: %s in %s, AF_XDP on %d queue(s), %s attach, answering as %s (%s)\n",
				i, p.Ours.Name, topo.Ours.Name, len(port.Sockets), port.Attach, p.OurAddr, p.Ours.MAC)
			for _, why := range port.Reasons {
				fmt.Println("     fallback:", why)
			}
		}
		return nil
	})
	defer func() {
		for _, r := range responders {
			if r != nil {
				r.close()
			}
		}
	}()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for _, r := range responders {
		wg.Add(1)
		go func() { defer wg.Done(); r.serve(done) }()
	}

	fmt.Printf("== the kernel in %s pings our AF_XDP side on every path (ARP, then ICMP echo)\n", topo.Peer.Name)
	var failed []string
	for i, p := range topo.Paths {
		if ctx.Err() != nil {
			break
		}
		out, err := topo.Peer.Exec("ping", "-c", fmt.Sprint(pings), "-i", "0.2", "-W", "1", p.OurAddr.String())
		fmt.Printf("   path %d: %s\n", i, summary(string(out)))
		if err != nil {
			failed = append(failed, fmt.Sprintf("path %d", i))
		}
	}
	close(done)
	wg.Wait()

	fmt.Println("== per-queue statistics")
	fmt.Printf("   %-6s %-12s %-5s %8s %8s %8s %8s %10s\n", "path", "iface", "queue", "rx", "arp", "echo", "tx", "rx_dropped")
	for i, r := range responders {
		for q, s := range r.port.Sockets {
			st, _ := s.Stats()
			fmt.Printf("   %-6d %-12s %-5d %8d %8d %8d %8d %10d\n", i, topo.Paths[i].Ours.Name, r.port.Queues[q],
				r.rx.Load(), r.arp.Load(), r.echo.Load(), r.tx.Load(), st.RxDropped)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("pings failed on %s", strings.Join(failed, ", "))
	}
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	fmt.Println("== every path answered through AF_XDP")
	return nil
}

func summary(ping string) string {
	for _, l := range strings.Split(ping, "\n") {
		if strings.Contains(l, "packets transmitted") {
			return strings.TrimSpace(l)
		}
	}
	return strings.TrimSpace(ping)
}

// responder is a tiny host on one AF_XDP port: it answers ARP for its
// address and ICMP echo requests, from UMEM frames, on one queue.
type responder struct {
	port           *afxdp.Port
	mac            header.MAC
	ip             [4]byte
	free           *afxdp.FreeList
	rx, arp, echo  atomic.Uint64
	tx             atomic.Uint64
	descs, txDescs []afxdp.Desc
	addrs          []uint64
}

func newResponder(port *afxdp.Port, mac header.MAC, ip netip.Addr) (*responder, error) {
	if len(port.Sockets) != 1 {
		return nil, fmt.Errorf("demo: expected one queue on %d, got %d", port.Ifindex, len(port.Sockets))
	}
	frames := port.UMEM.FrameAddrs(nil)
	r := &responder{port: port, mac: mac, ip: ip.As4(), free: afxdp.NewFreeList(len(frames)),
		descs: make([]afxdp.Desc, 64), txDescs: make([]afxdp.Desc, 0, 64), addrs: make([]uint64, 64)}
	r.free.Put(frames...)
	r.refill()
	return r, nil
}

func (r *responder) close() { r.port.Close() }

func (r *responder) refill() {
	s := r.port.Sockets[0]
	for r.free.Len() > 0 {
		n := r.free.Get(r.addrs)
		k := s.Fill().Produce(r.addrs[:n])
		if k < n {
			r.free.Put(r.addrs[k:n]...)
			return
		}
	}
}

func (r *responder) serve(done <-chan struct{}) {
	s := r.port.Sockets[0]
	u := r.port.UMEM
	for {
		select {
		case <-done:
			return
		default:
		}
		for {
			n := s.Completion().Consume(r.addrs)
			if n == 0 {
				break
			}
			for _, a := range r.addrs[:n] {
				r.free.Put(u.FrameAddr(a))
			}
		}
		n := s.Receive(r.descs)
		r.txDescs = r.txDescs[:0]
		for _, d := range r.descs[:n] {
			r.rx.Add(1)
			if addr, ok := r.free.Get1(); ok {
				if l := r.answer(u.Data(d), u.Frame(addr)); l > 0 {
					r.txDescs = append(r.txDescs, afxdp.Desc{Addr: addr, Len: uint32(l)})
				} else {
					r.free.Put(addr)
				}
			}
			r.free.Put(u.FrameAddr(d.Addr))
		}
		if len(r.txDescs) > 0 {
			k := s.Transmit(r.txDescs)
			for _, d := range r.txDescs[k:] {
				r.free.Put(d.Addr)
			}
			r.tx.Add(uint64(k))
			s.Kick()
		}
		r.refill()
		if n == 0 {
			s.Poll(20 * time.Millisecond)
		}
	}
}

// answer writes into out the reply to frame (ARP reply or ICMP echo reply)
// and returns its length, or 0 when frame needs no answer.
func (r *responder) answer(frame, out []byte) int {
	eth, off, err := header.ParseEthernet(frame)
	if err != nil {
		return 0
	}
	switch eth.EtherType() {
	case 0x0806:
		a, _, err := header.ParseARP(frame[off:])
		if err != nil || a.Op() != 1 || a.TargetIP() != r.ip {
			return 0
		}
		r.arp.Add(1)
		n := header.EncodeEthernet(out, a.SenderMAC(), r.mac, 0x0806)
		return n + header.EncodeARP(out[n:], 2, r.mac, r.ip, a.SenderMAC(), a.SenderIP())
	case 0x0800:
		ip, ipOff, err := header.ParseIPv4(frame[off:])
		if err != nil || ip.Dst() != r.ip || ip.Protocol() != 1 {
			return 0
		}
		icmp, _, err := header.ParseICMPv4(frame[off+ipOff:])
		if err != nil || icmp.Type() != 8 {
			return 0
		}
		r.echo.Add(1)
		n := header.EncodeEthernet(out, eth.Src(), r.mac, 0x0800)
		body := icmp.Payload()
		icmpLen := 8 + len(body)
		n += header.EncodeIPv4(out[n:], &header.IPv4Fields{TotalLen: uint16(20 + icmpLen), TTL: 64, Protocol: 1, Src: r.ip, Dst: ip.Src(), DF: true})
		return n + header.EncodeICMPv4Echo(out[n:], 0, icmp.Ident(), icmp.Seq(), body)
	}
	return 0
}
