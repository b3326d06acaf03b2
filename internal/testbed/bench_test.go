package testbed

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkNewTopology measures building and removing a two-path router
// topology: the fixed cost a privileged test pays.
func BenchmarkNewTopology(b *testing.B) {
	Require(b)
	b.ReportAllocs()
	for b.Loop() {
		topo, err := NewTopology(Config{Paths: 2, Router: true, Tag: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if err := topo.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNSDo measures one NS.Do call (thread switch into the namespace
// and the thread's disposal), e.g. to open a socket there.
func BenchmarkNSDo(b *testing.B) {
	Require(b)
	n, err := NewNS("benchdo")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = n.Close() })
	b.ReportAllocs()
	for b.Loop() {
		if err := n.Do(func() error {
			_, err := net.InterfaceByIndex(1)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNstat measures reading every kernel counter of a namespace.
func BenchmarkNstat(b *testing.B) {
	Require(b)
	n, err := NewNS("benchnstat")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = n.Close() })
	b.ReportAllocs()
	for b.Loop() {
		if _, err := n.Nstat(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForwarderTCP measures kernel TCP throughput through a
// Forwarder with a 1 µs delay line (the ceiling of delayed paths).
func BenchmarkForwarderTCP(b *testing.B) {
	Require(b)
	topo, err := NewTopology(Config{Paths: 1, Router: true, Delay: []time.Duration{time.Microsecond}, Tag: "benchfwd"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = topo.Close() })
	if err := topo.KernelMode(); err != nil {
		b.Fatal(err)
	}
	p := topo.Paths[0]
	var ln net.Listener
	if err := topo.Ours.Do(func() error {
		ln, err = net.Listen("tcp", netip.AddrPortFrom(p.OurAddr, 0).String())
		return err
	}); err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	var c net.Conn
	if err := topo.Peer.Do(func() error {
		c, err = net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const chunk = 1 << 20
	go func() {
		buf := make([]byte, chunk)
		for i := 0; i < b.N; i++ {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	b.SetBytes(chunk)
	b.ResetTimer()
	if _, err := io.CopyN(io.Discard, s, int64(b.N)*chunk); err != nil {
		b.Fatal(err)
	}
}
