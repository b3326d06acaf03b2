package stack

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// connPair returns an established client/server pair over a pipe.
func connPair(t *testing.T, cfg Config) (client, server net.Conn) {
	t.Helper()
	p := newPair(t, cfg, 1, 1500, 2048)
	ln, err := p.b.Listen("tcp", ":4000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	c, err := p.a.Dial("tcp", "10.0.0.2:4000")
	if err != nil {
		t.Fatal(err)
	}
	s := <-acc
	if s == nil {
		t.Fatal("accept failed")
	}
	return c, s
}

func TestConnCloseInterruptsRead(t *testing.T) {
	c, _ := connPair(t, Config{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("blocked Read after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not interrupt Read")
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

func TestConnDeadlinesAndReset(t *testing.T) {
	c, s := connPair(t, Config{SendBuffer: 64 << 10, RecvBuffer: 64 << 10})
	if la, ra := c.LocalAddr().(*net.TCPAddr), s.RemoteAddr().(*net.TCPAddr); la.Port != ra.Port || !la.IP.Equal(ra.IP) {
		t.Fatalf("client local %v != server remote %v", la, ra)
	}
	// A deadline in the past fails at once, even on an idle connection.
	s.SetDeadline(time.Now().Add(-time.Second))
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read with a past deadline: %v", err)
	}
	if _, err := s.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write with a past deadline: %v", err)
	}
	s.SetDeadline(time.Time{})

	// A writer whose peer does not read fills the send ring, the peer's
	// rings and windows, then times out at its write deadline.
	s.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 1<<20)
	total := 0
	var err error
	for total < 64<<20 {
		var n int
		n, err = s.Write(buf)
		total += n
		if err != nil {
			break
		}
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write to a peer that never reads: %v after %d bytes", err, total)
	}
	if total == 0 || total > 16<<20 {
		t.Fatalf("%d bytes accepted before the deadline", total)
	}
	s.SetWriteDeadline(time.Time{})

	// The client closes with unread data: the server sees a reset.
	c.Close()
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.Copy(io.Discard, s)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("server after the client closed with unread data: %v", err)
	}
	if _, err := s.Write([]byte("more")); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("write after the reset: %v", err)
	}
}

// TestCloseWriteUnblocksWriter: CloseWrite must not wait for a Write that
// is blocked on a peer that does not read; the Write fails with EPIPE.
func TestCloseWriteUnblocksWriter(t *testing.T) {
	_, s := connPair(t, Config{SendBuffer: 64 << 10, RecvBuffer: 64 << 10})
	errc := make(chan error, 1)
	go func() {
		_, err := s.Write(make([]byte, 32<<20))
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	done := make(chan struct{})
	go func() { s.(*Conn).CloseWrite(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("CloseWrite blocked behind a stalled Write")
	}
	if err := <-errc; !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("stalled Write after CloseWrite: %v", err)
	}
}
