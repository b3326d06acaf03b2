package stack

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// TestListenPortInUse: a second Listen on a port the stack already
// listens on fails like the net package's: a *net.OpError for which
// errors.Is(err, syscall.EADDRINUSE) holds; another port still works.
func TestListenPortInUse(t *testing.T) {
	v := newVnet(t, Config{}, Config{})
	l, err := v.b.Listen("tcp", ":90")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, addr := range []string{":90", "10.0.0.2:90"} {
		_, err = v.b.Listen("tcp", addr)
		var oe *net.OpError
		if !errors.As(err, &oe) || oe.Op != "listen" || !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("Listen(%q) again: %v (%T): want a listen *net.OpError wrapping EADDRINUSE", addr, err, err)
		}
	}
	l2, err := v.b.Listen("tcp", ":91")
	if err != nil {
		t.Fatalf("another port: %v", err)
	}
	l2.Close()
}
