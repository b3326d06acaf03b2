package stack

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

// BenchmarkXDPIngress measures a Linux kernel TCP client sending to a
// receiver over one veth pair, in the same run: "stack" is our stack on
// AF_XDP (copy mode, one queue, one worker), "kernel" is the kernel's own
// TCP on the same veth pair (KernelMode). Both receivers discard. Run it
// with -cpuprofile to see which side is the bottleneck: the kernel
// client's sendmsg (in syscall frames) or our worker.
func BenchmarkXDPIngress(b *testing.B) {
	testbed.Require(b)
	topo, err := testbed.NewTopology(testbed.Config{Paths: 1, Tag: "stkb"})
	if err != nil {
		b.Fatal(err)
	}
	defer topo.Close()
	path := topo.Paths[0]
	chunk := make([]byte, 1<<20)
	newPRNG(4).Read(chunk)

	// run has the kernel client in the peer namespace send b.N chunks to
	// dst while recv (already listening) discards them.
	run := func(b *testing.B, dst netip.AddrPort, accept func() (net.Conn, error)) {
		done := make(chan int64, 1)
		go func() {
			c, err := accept()
			if err != nil {
				done <- -1
				return
			}
			n, _ := io.Copy(io.Discard, c)
			c.Close()
			done <- n
		}()
		var kc net.Conn
		if err := topo.Peer.Do(func() error {
			var err error
			kc, err = net.DialTimeout("tcp", dst.String(), 5*time.Second)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(chunk)))
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if _, err := kc.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		kc.(*net.TCPConn).CloseWrite()
		n := <-done
		el := time.Since(start)
		b.StopTimer()
		kc.Close()
		if n != int64(b.N)*int64(len(chunk)) {
			b.Fatalf("received %d of %d bytes", n, int64(b.N)*int64(len(chunk)))
		}
		b.ReportMetric(float64(n)*8/el.Seconds()/1e9, "Gbit/s")
	}

	b.Run("stack", func(b *testing.B) {
		if err := topo.StackMode(); err != nil {
			b.Fatal(err)
		}
		var s *Stack
		if err := topo.Ours.Do(func() error {
			var err error
			s, err = New(Config{
				Interfaces: []InterfaceConfig{{Name: path.Ours.Name, Addrs: []netip.Prefix{netip.PrefixFrom(path.OurAddr, 24)}}},
				SendBuffer: 4 << 20, RecvBuffer: 4 << 20,
			})
			return err
		}); err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		ln, err := s.Listen("tcp", ":5301")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		run(b, netip.AddrPortFrom(path.OurAddr, 5301), ln.Accept)
	})
	b.Run("kernel", func(b *testing.B) {
		if err := topo.KernelMode(); err != nil {
			b.Fatal(err)
		}
		defer topo.StackMode()
		var ln net.Listener
		if err := topo.Ours.Do(func() error {
			var err error
			ln, err = net.Listen("tcp", netip.AddrPortFrom(path.OurAddr, 5302).String())
			return err
		}); err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		run(b, netip.AddrPortFrom(path.OurAddr, 5302), ln.Accept)
	})
}
