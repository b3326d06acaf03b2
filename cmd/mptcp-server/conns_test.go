package main

import (
	"net"
	"testing"
)

// The closed list keeps the last closedKept connections, oldest first,
// and each connection once however often it is closed.
func TestRegistryClosedList(t *testing.T) {
	reg := newRegistry()
	ln := &trackingListener{reg: reg, name: "http", stats: reg.service("http")}
	var ends []net.Conn
	for i := 0; i < closedKept+5; i++ {
		a, b := net.Pipe()
		ends = append(ends, b)
		tc := &trackedConn{Conn: a, service: "http", reg: reg, stats: ln.stats}
		reg.mu.Lock()
		reg.conns[tc] = struct{}{}
		reg.mu.Unlock()
		ln.stats.Open.Add(1)
		tc.Close()
		tc.Close()
	}
	for _, b := range ends {
		b.Close()
	}
	closed := reg.closedSnapshot()
	if len(closed) != closedKept {
		t.Fatalf("%d closed connections kept, want %d", len(closed), closedKept)
	}
	if n := len(reg.snapshot()); n != 0 {
		t.Errorf("%d connections still open", n)
	}
	if o := ln.stats.Open.Load(); o != 0 {
		t.Errorf("open gauge %d after closing everything (twice each), want 0", o)
	}
	for _, c := range closed {
		if c.Service != "http" || c.closedAt.IsZero() || c.Local != "pipe" {
			t.Errorf("closed entry %+v", c)
		}
	}
	for i := 1; i < len(closed); i++ {
		if closed[i].closedAt.Before(closed[i-1].closedAt) {
			t.Errorf("closed list not oldest first at %d", i)
		}
	}
}
