package stack

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"os"
	"testing"
	"time"
)

// TestReproPipeMSS1448 reproduces a bug of the host TCP path found while
// wiring MPTCP: two plain TCP stacks over link.Pipe, the receiver with
// TCP.MSS 1448, deliver a stream with a few corrupt bytes now and then
// (segments carry bytes from the wrong offset with a valid checksum). It
// runs only with MPXDP_REPRO_PIPE1448=1 until the bug is fixed.
func TestReproPipeMSS1448(t *testing.T) {
	if os.Getenv("MPXDP_REPRO_PIPE1448") == "" {
		t.Skip("reproducer of an open host TCP bug: set MPXDP_REPRO_PIPE1448=1 to run it")
	}
	p := newMPPair(t, 1, 1, func(c *Config, _, _ []netip.Addr) {
		c.MPTCP = false
		c.RecvBuffer = 16 << 20
		c.TCP.MSS = 1448
	}, nil)
	ln, err := p.b.Listen("tcp", ":5000")
	if err != nil {
		t.Fatal(err)
	}
	const n = 8 << 20
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(c, io.LimitReader(newPRNG(2), n))
		c.(*Conn).CloseWrite()
		io.Copy(io.Discard, c)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := p.a.DialContext(ctx, "tcp", netip.AddrPortFrom(p.addrB[0], 5000).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := io.ReadAll(io.LimitReader(newPRNG(2), n))
	if len(got) != n {
		t.Fatalf("got %d bytes, want %d", len(got), n)
	}
	if !bytes.Equal(got, want) {
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("stream differs from byte %d on", i)
			}
		}
	}
}
