package testbed

import (
	"net"
	"testing"
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
