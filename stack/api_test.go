package stack

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestHTTPOverPipe(t *testing.T) {
	p := newPair(t, Config{}, 1, 1500, 2048)
	ln, err := p.b.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 1<<20)
	newPRNG(3).Read(body)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "path=%s ", r.URL.Path)
		w.Write(body)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	tr := &http.Transport{DialContext: p.a.DialContext}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	for i := range 5 {
		resp, err := cl.Get(fmt.Sprintf("http://%v/x%d", p.addrB, i))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("path=/x%d ", i)
		if string(got[:len(want)]) != want || string(got[len(want):]) != string(body) {
			t.Fatalf("request %d: body of %d bytes does not match", i, len(got))
		}
	}
}

func selfSigned(t testing.TB) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mpxdp test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"mpxdp.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestTLSOverPipe(t *testing.T) {
	p := newPair(t, Config{}, 1, 1500, 2048)
	cert := selfSigned(t)
	ln, err := p.b.Listen("tcp6", "[fd00::2]:443")
	if err != nil {
		t.Fatal(err)
	}
	tln := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
	go func() {
		c, err := tln.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	raw, err := p.a.Dial("tcp", "[fd00::2]:443")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	pool.AddCert(leaf)
	c := tls.Client(raw, &tls.Config{ServerName: "mpxdp.test", RootCAs: pool})
	defer c.Close()
	msg := make([]byte, 256<<10)
	newPRNG(9).Read(msg)
	go c.Write(msg)
	got := make([]byte, len(msg))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != string(msg) {
		t.Fatal("TLS echo mismatch")
	}
}

func TestManyConnections(t *testing.T) {
	p := newPair(t, Config{Backlog: 256}, 1, 1500, 2048)
	const conns = 64
	ln, err := p.b.Listen("tcp", ":5000")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := p.a.Dial("tcp", "10.0.0.2:5000")
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			msg := make([]byte, 64<<10)
			newPRNG(uint64(i)).Read(msg)
			go func() { c.Write(msg); c.(*Conn).CloseWrite() }()
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			got, err := io.ReadAll(c)
			if err != nil {
				errs <- fmt.Errorf("conn %d: %v", i, err)
				return
			}
			if string(got) != string(msg) {
				errs <- fmt.Errorf("conn %d: echo of %d bytes mismatched", i, len(got))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDialRefusedAndDeadline(t *testing.T) {
	p := newPair(t, Config{}, 1, 1500, 2048)
	_, err := p.a.Dial("tcp", "10.0.0.2:1")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial to a closed port: %v, want ECONNREFUSED", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "dial" {
		t.Fatalf("dial error %T %v is not a *net.OpError for dial", err, err)
	}
	ln, _ := p.b.Listen("tcp", ":6000")
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	c, err := p.a.Dial("tcp", "10.0.0.2:6000")
	if err != nil {
		t.Fatal(err)
	}
	sc := <-acc
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	_, err = c.Read(make([]byte, 10))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past deadline: %v", err)
	}
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("deadline error %v is not a net.Error with Timeout", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Fatalf("deadline fired after %v", d)
	}
	// The connection still works after a deadline passes and is cleared.
	c.SetReadDeadline(time.Time{})
	sc.Write([]byte("ok"))
	b := make([]byte, 2)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "ok" {
		t.Fatalf("read after clearing the deadline: %q %v", b, err)
	}
	// Close with unread data on the server side resets: the client sees
	// ECONNRESET.
	c.Write([]byte("unread"))
	time.Sleep(20 * time.Millisecond)
	sc.(*Conn).w.st.cfg.CloseTimeout = time.Second
	sc.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err = c.Read(b)
		if err != nil || time.Now().After(deadline) {
			break
		}
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("after the peer closed: %v", err)
	}
	c.Close()
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close: %v, want net.ErrClosed", err)
	}
}

func TestDialContextCancel(t *testing.T) {
	p := newPair(t, Config{}, 1, 1500, 2048)
	// 10.0.0.9 never answers ARP: the dial waits until the context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := p.a.DialContext(ctx, "tcp", "10.0.0.9:80")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dial to a silent host: %v", err)
	}
	if _, err := p.a.Dial("tcp", "192.0.2.1:80"); err == nil {
		t.Fatal("dial without a route succeeded")
	}
	_ = netip.Addr{}
}
