package stack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/stack/link"
)

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0xa}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0xb}
)

// pair is two stacks joined by in-memory pipes (one per queue).
type pair struct {
	a, b         *Stack
	addrA, addrB netip.Addr
	a6, b6       netip.Addr
}

func newPair(tb testing.TB, cfg Config, queues, mtu, frameSize int) *pair {
	tb.Helper()
	if cfg.CloseTimeout == 0 {
		cfg.CloseTimeout = time.Second
	}
	var qa, qb []link.Queue
	for range queues {
		p, err := link.NewPipe(1024, frameSize)
		if err != nil {
			tb.Fatal(err)
		}
		qa = append(qa, p.A)
		qb = append(qb, p.B)
	}
	pa := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24"), netip.MustParsePrefix("fd00::1/64")}
	pb := []netip.Prefix{netip.MustParsePrefix("10.0.0.2/24"), netip.MustParsePrefix("fd00::2/64")}
	a, err := NewLinks(cfg, []Link{{Name: "a0", MAC: macA, Addrs: pa, Queues: qa, MTU: mtu}})
	if err != nil {
		tb.Fatal(err)
	}
	b, err := NewLinks(cfg, []Link{{Name: "b0", MAC: macB, Addrs: pb, Queues: qb, MTU: mtu}})
	if err != nil {
		a.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		a.Close()
		b.Close()
	})
	return &pair{a: a, b: b, addrA: pa[0].Addr(), addrB: pb[0].Addr(), a6: pa[1].Addr(), b6: pb[1].Addr()}
}

func TestPipeEcho(t *testing.T) {
	p := newPair(t, Config{}, 1, 1500, 2048)
	for _, srv := range []netip.Addr{p.addrB, p.b6} {
		ln, err := p.b.Listen("tcp", netip.AddrPortFrom(srv, 7).String())
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.Copy(c, c)
			c.Close()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := p.a.DialContext(ctx, "tcp", netip.AddrPortFrom(srv, 7).String())
		cancel()
		if err != nil {
			t.Fatalf("dial %v: %v", srv, err)
		}
		msg := []byte("hello over an in-memory pipe")
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("echo got %q want %q", got, msg)
		}
		c.(*Conn).CloseWrite()
		if n, err := c.Read(got); err != io.EOF {
			t.Fatalf("after half-close: read %d, %v; want EOF", n, err)
		}
		c.Close()
		ln.Close()
	}
}

// transfer sends n pseudo-random bytes from a dialer on from to a
// listener on to and checks them with SHA-256.
func transfer(t testing.TB, from, to *Stack, dst netip.Addr, port uint16, n int64) {
	ln, err := to.Listen("tcp", netip.AddrPortFrom(dst, port).String())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	var rsum []byte
	var rn int64
	var rerr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			rerr = err
			return
		}
		defer c.Close()
		h := sha256.New()
		rn, rerr = io.Copy(h, c)
		rsum = h.Sum(nil)
	}()
	c, err := from.Dial("tcp", netip.AddrPortFrom(dst, port).String())
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	src := io.TeeReader(io.LimitReader(newPRNG(uint64(port)), n), h)
	wn, err := io.Copy(c, src)
	if err != nil {
		t.Fatalf("send: %v after %d bytes", err, wn)
	}
	c.(*Conn).CloseWrite()
	wg.Wait()
	c.Close()
	if rerr != nil {
		t.Fatalf("receive: %v after %d bytes", rerr, rn)
	}
	if rn != n || !bytes.Equal(rsum, h.Sum(nil)) {
		t.Fatalf("received %d bytes (want %d), SHA-256 match %v", rn, n, bytes.Equal(rsum, h.Sum(nil)))
	}
}

// prng is a fast deterministic byte source (xorshift64*).
type prng struct{ s uint64 }

func newPRNG(seed uint64) *prng { return &prng{s: seed*0x9e3779b97f4a7c15 + 1} }

func (r *prng) Read(p []byte) (int, error) {
	for i := 0; i+8 <= len(p); i += 8 {
		r.s ^= r.s >> 12
		r.s ^= r.s << 25
		r.s ^= r.s >> 27
		v := r.s * 2685821657736338717
		p[i], p[i+1], p[i+2], p[i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		p[i+4], p[i+5], p[i+6], p[i+7] = byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
	}
	for i := len(p) &^ 7; i < len(p); i++ {
		p[i] = byte(i)
	}
	return len(p), nil
}

func TestPipeTransfer(t *testing.T) {
	p := newPair(t, Config{}, 1, 1500, 2048)
	n := int64(8 << 20)
	if !testing.Short() {
		n = 100 << 20
	}
	start := time.Now()
	transfer(t, p.a, p.b, p.addrB, 9000, n)
	t.Logf("%d MiB in %v", n>>20, time.Since(start))
}
