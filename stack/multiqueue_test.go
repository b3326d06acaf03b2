package stack

import (
	"fmt"
	"io"
	"sync"
	"testing"
	"time"
)

// TestMultiQueueHandoff runs two workers per stack. A flow is owned by the
// worker its tuple hashes to, but its frames arrive on whichever queue the
// peer's owning worker sends on, so about half of them must be handed over
// to the owner; every connection must still deliver its bytes intact.
func TestMultiQueueHandoff(t *testing.T) {
	p := newPair(t, Config{}, 2, 1500, 2048)
	ln, err := p.b.Listen("tcp", ":7000")
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
	const conns = 16
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := p.a.Dial("tcp", "10.0.0.2:7000")
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			msg := make([]byte, 128<<10)
			newPRNG(uint64(100 + i)).Read(msg)
			go func() { c.Write(msg); c.(*Conn).CloseWrite() }()
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			got, err := io.ReadAll(c)
			if err != nil || string(got) != string(msg) {
				errs <- fmt.Errorf("conn %d: %d bytes back, %v", i, len(got), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	sa, sb := p.a.Stats(), p.b.Stats()
	// Frames of the last segments may still sit in an inbox, so HandedIn
	// may trail HandedOff, never exceed it.
	if sa.HandedOff+sb.HandedOff == 0 || sa.HandedIn > sa.HandedOff || sb.HandedIn > sb.HandedOff {
		t.Fatalf("hand-offs: a %d/%d, b %d/%d (off/in): expected some", sa.HandedOff, sa.HandedIn, sb.HandedOff, sb.HandedIn)
	}
	t.Logf("frames handed to the owning worker: a %d, b %d", sa.HandedOff, sb.HandedOff)
}
