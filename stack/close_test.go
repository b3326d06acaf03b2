package stack

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestStackCloseDrains closes the sending stack right after a write: the
// data already written must still arrive, followed by EOF, and the stack
// must refuse new work afterwards.
func TestStackCloseDrains(t *testing.T) {
	p := newPair(t, Config{SendBuffer: 2 << 20}, 1, 1500, 2048)
	ln, err := p.b.Listen("tcp", ":8080")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(c)
		got <- b
	}()
	c, err := p.a.Dial("tcp", "10.0.0.2:8080")
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 1<<20)
	newPRNG(8).Read(msg)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := p.a.Close(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, msg) {
		t.Fatalf("received %d of %d bytes after the sender's stack closed", len(b), len(msg))
	}
	if _, err := p.a.Dial("tcp", "10.0.0.2:8080"); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("dial on a closed stack: %v", err)
	}
	if err := p.a.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

func TestListenerClose(t *testing.T) {
	p := newPair(t, Config{}, 1, 1500, 2048)
	ln, err := p.b.Listen("tcp", "10.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if port == 0 {
		t.Fatal("port 0 not replaced by a free port")
	}
	if _, err := p.b.Listen("tcp", ln.Addr().String()); err == nil {
		t.Fatal("second listener on the same port")
	}
	if _, err := p.b.Listen("tcp", "10.0.0.9:80"); err == nil {
		t.Fatal("listening on an address that is not ours succeeded")
	}
	// Close interrupts a blocked Accept (or, if Accept took the queued
	// connection first, makes the next Accept fail).
	c, err := p.a.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ln.Accept()
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	ln.Close()
	if err := <-done; err == nil {
		// Accept may have won the race; that is fine, the next one must fail.
		if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v", err)
		}
	} else if !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept interrupted by Close: %v", err)
	}
	if _, err := p.a.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("dial to a closed listener succeeded")
	}
	c.Close()
}
