package stack

import (
	"context"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp/conn"
)

// TestSubflowBytesPlainAndFallback: a plain TCP connection (the server
// listens without MPTCP) and an MPTCP connection that fell back to TCP
// (the client) report their one subflow's payload sent, acknowledged and
// received (the plain one reported 0 sent; neither filled acknowledged),
// in Subflows, AppendSubflows and, for the plain one, Info.
func TestSubflowBytesPlainAndFallback(t *testing.T) {
	p := newMPPair(t, 1, 1, nil, func(c *Config, _, _ []netip.Addr) { c.NoMPTCPListen = true })
	const up, down = 1 << 20, 300 << 10
	ln, err := p.b.Listen("tcp", ":5001")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		acc <- c
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := p.a.DialContext(ctx, "tcp", netip.AddrPortFrom(p.addrB[0], 5001).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-acc
	if s == nil {
		t.FailNow()
	}
	defer s.Close()
	// Both directions at once, the connections stay open.
	errc := make(chan error, 2)
	go func() { _, err := c.Write(make([]byte, up)); errc <- err }()
	go func() { _, err := s.Write(make([]byte, down)); errc <- err }()
	if _, err := io.ReadFull(s, make([]byte, up)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, down)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	cli, srv := c.(*Conn), s.(*Conn)
	for _, x := range []struct {
		name       string
		c          *Conn
		sent, recv uint64
	}{{"plain server", srv, down, up}, {"fallback client", cli, up, down}} {
		var subs []conn.SubflowInfo
		for i := 0; i < 200; i++ { // the last ACK may still be on its way
			subs = x.c.Subflows(nil)
			if len(subs) == 1 && subs[0].BytesAcked >= x.sent {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if len(subs) != 1 {
			t.Fatalf("%s: %d subflows, want 1", x.name, len(subs))
		}
		si := subs[0]
		if si.BytesAcked != x.sent || si.BytesSent < x.sent || si.BytesRecv != x.recv {
			t.Errorf("%s: sent %d, acked %d, received %d: want >= %d, %d, %d", x.name, si.BytesSent, si.BytesAcked, si.BytesRecv, x.sent, x.sent, x.recv)
		}
		st, err := x.c.AppendSubflows(nil)
		if err != nil || len(st) != 1 {
			t.Fatalf("%s: AppendSubflows: %d lines, %v", x.name, len(st), err)
		}
		if st[0].BytesAcked != si.BytesAcked || st[0].BytesSent != si.BytesSent || st[0].BytesReceived != si.BytesRecv {
			t.Errorf("%s: AppendSubflows %+v disagrees with Subflows %+v", x.name, st[0], si)
		}
		in := x.c.Info()
		if !in.Fallback || in.BytesAcked != x.sent || in.BytesReceived != x.recv || in.BytesSent < x.sent {
			t.Errorf("%s: info: sent %d, acked %d, received %d (fallback %v)", x.name, in.BytesSent, in.BytesAcked, in.BytesReceived, in.Fallback)
		}
	}
}
