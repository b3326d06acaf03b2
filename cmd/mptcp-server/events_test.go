package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/stack"
	"github.com/mpxdp/mpxdp/stack/link"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// pipeStacks is a client and a server stack over one in-memory link:
// 10.77.0.1 (MPTCP client) and 10.77.0.2.
func pipeStacks(t *testing.T) (cli, srv *stack.Stack) {
	t.Helper()
	pp, err := link.NewPipe(1024, 2048)
	if err != nil {
		t.Fatal(err)
	}
	l := func(name string, last byte, q link.Queue) []stack.Link {
		return []stack.Link{{Name: name, MAC: net.HardwareAddr{2, 0, 0, 0, 0x77, last},
			Addrs: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 77, 0, last}), 24)}, Queues: []link.Queue{q}}}
	}
	if cli, err = stack.NewLinks(stack.Config{MPTCP: true, CloseTimeout: time.Second}, l("c0", 1, pp.A)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	if srv, err = stack.NewLinks(stack.Config{CloseTimeout: time.Second}, l("s0", 2, pp.B)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return cli, srv
}

// --log-level debug: each MPTCP event of our stack is a JSON log record
// "mptcp event" with its type, token, addresses and monitor line, up to
// the CLOSED of a connection that ended.
func TestStackEventsLogged(t *testing.T) {
	cli, srv := pipeStacks(t)
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	wait := stackNet{srv}.logEvents(log)
	ln, err := srv.Listen("tcp", ":7000")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, err = io.Copy(io.Discard, c)
			c.Close()
		}
		got <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cli.DialContext(ctx, "tcp", "10.77.0.2:7000")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the server did not see the end of the stream")
	}
	// The connection's CLOSED comes once its subflow ended.
	for i := 0; i < 500 && !strings.Contains(buf.String(), `"event":"CLOSED"`); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	srv.Close()
	wait()
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if r["msg"] != "mptcp event" || r["level"] != "DEBUG" {
			t.Fatalf("log line %q: want a DEBUG \"mptcp event\"", line)
		}
		types = append(types, r["event"].(string))
		if r["server"] != true || len(r["token"].(string)) != 8 || !strings.HasPrefix(r["monitor"].(string), "[") {
			t.Errorf("log line %q: want server true, an 8-digit token and the monitor line", line)
		}
		if ev := r["event"]; ev == "CREATED" && (r["local"] != "10.77.0.2:7000" || r["ifname"] != "s0") {
			t.Errorf("CREATED %q: want local 10.77.0.2:7000 via s0", line)
		}
	}
	if s := strings.Join(types, " "); s != "CREATED ESTABLISHED SF_CLOSED CLOSED" {
		t.Errorf("logged events %q, want CREATED ESTABLISHED SF_CLOSED CLOSED\n%s", s, buf.String())
	}
}

// syncBuffer is a bytes.Buffer that the log's goroutine and the test may
// use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Below debug level nothing subscribes and nothing is logged.
func TestStackEventsNotLoggedAtInfo(t *testing.T) {
	_, srv := pipeStacks(t)
	var buf bytes.Buffer
	wait := stackNet{srv}.logEvents(slog.New(slog.NewJSONHandler(&buf, nil)))
	wait() // returns at once: no subscription
	if buf.Len() != 0 {
		t.Errorf("logged %q at info level", buf.String())
	}
}

func TestEventAttrs(t *testing.T) {
	e := stack.MPTCPEvent{Type: stack.MPTCPSubflowClosed, Token: 0x1f, Server: true, LocalID: 1, RemoteID: 2,
		Local: netip.MustParseAddrPort("10.1.0.2:5201"), Remote: netip.MustParseAddrPort("10.1.0.1:40000"), Ifname: "eth1",
		Err: tcp.ErrConnectionReset, HasReset: true, ResetReason: mptcp.ResetMiddleboxInterference, ResetFlags: 1}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).LogAttrs(context.Background(), slog.LevelInfo, "x", eventAttrs(e)...)
	var r map[string]any
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"event": "SF_CLOSED", "token": "0000001f", "server": true, "local": "10.1.0.2:5201", "local_id": 1.0,
		"remote": "10.1.0.1:40000", "remote_id": 2.0, "ifname": "eth1", "backup": false, "err": tcp.ErrConnectionReset.Error(),
		"reset_reason": 6.0, "reset": "middlebox interference", "reset_flags": 1.0, "monitor": e.String()}
	for k, v := range want {
		if r[k] != v {
			t.Errorf("%s = %v, want %v", k, r[k], v)
		}
	}
	r2 := eventAttrs(stack.MPTCPEvent{Type: stack.MPTCPClosed, Token: 1})
	if len(r2) != 4 { // event, token, server, monitor
		t.Errorf("CLOSED without error: %d attributes %v, want 4", len(r2), r2)
	}
}
