package stack

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// TestSlowReaderWindowUpdates sends through a receive ring much smaller
// than the data while the reader takes small pieces and pauses with the
// ring full: the engine writes straight into the application's ring, so
// only the reader's reports (readDone -> RecvBufferFreed) reopen the
// window. The stream must arrive intact, with window updates counted at
// the receiver, and the transfer must not have needed timers to resume
// after the stalls: without the reports, each stall ends only when the
// receiver's delayed-ACK timer (or the sender's persist timer) fires, some
// 50 times in this transfer; with them, none does.
func TestSlowReaderWindowUpdates(t *testing.T) {
	p := newPair(t, Config{RecvBuffer: 16 << 10, SendBuffer: 64 << 10}, 1, 1500, 2048)
	ln, err := p.b.Listen("tcp", ":11")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 1<<20)
	newPRNG(11).Read(want)
	sender := make(chan *Conn, 1)
	go func() {
		c, err := p.a.Dial("tcp", "10.0.0.2:11")
		if err != nil {
			sender <- nil
			return
		}
		c.Write(want)
		c.(*Conn).CloseWrite()
		io.Copy(io.Discard, c)
		c.Close()
		sender <- c.(*Conn)
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	var got []byte
	buf := make([]byte, 1000)
	for i := 0; ; i++ {
		if i%64 == 0 {
			time.Sleep(2 * time.Millisecond) // the ring fills: zero window
		}
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", len(got), err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("received %d bytes, not the %d sent", len(got), len(want))
	}
	c.Close()
	sc := <-sender
	if sc == nil {
		t.Fatal("dial failed")
	}
	counters := func(c *Conn) (k tcpCounters) {
		for range 500 {
			if ctr, ok := c.EngineCounters(); ok {
				return tcpCounters{ctr.WindowUpdates, ctr.WindowProbes + ctr.DelayedACKs}
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("engine counters never published")
		return
	}
	rc, snd := counters(c.(*Conn)), counters(sc)
	if rc.updates == 0 {
		t.Error("the receiver sent no window updates: the reader's freed room never reached the engine")
	}
	// A few timer firings are tolerated for a reader descheduled longer
	// than a timer on a loaded machine.
	if n := rc.timed + snd.timed; n > 8 {
		t.Errorf("%d delayed ACKs and zero-window probes were needed to resume after the reader's stalls", n)
	}
	t.Logf("receiver window updates %d; delayed ACKs plus window probes: receiver %d, sender %d", rc.updates, rc.timed, snd.timed)
}

// tcpCounters are the engine counters TestSlowReaderWindowUpdates reads:
// window updates, and ACKs sent only because a timer fired.
type tcpCounters struct{ updates, timed uint64 }
