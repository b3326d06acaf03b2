package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/mpxdp/mpxdp/stack"
	"github.com/mpxdp/mpxdp/stack/link"
)

func TestCheckMTU(t *testing.T) {
	dev := func(name string) (int, bool) {
		switch name {
		case "eth0":
			return 1500, true
		case "jumbo0":
			return 9000, true
		}
		return 0, false
	}
	for _, tc := range []struct {
		mtu   int
		names []string
		want  string // "" for no error
	}{
		{0, []string{"eth0"}, ""},
		{1500, []string{"eth0", "jumbo0"}, ""},
		{1400, []string{"eth0"}, ""},
		{9000, []string{"jumbo0"}, ""},
		{9000, []string{"jumbo0", "eth0"}, "--mtu 9000 is larger than the MTU of eth0 (1500)"},
		{1501, []string{"eth0"}, "give --mtu 1500 or less"},
		{9000, []string{"missing0"}, ""}, // the stack reports a missing device
	} {
		err := checkMTU(tc.mtu, tc.names, dev)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("checkMTU(%d, %v) = %v, want %q", tc.mtu, tc.names, err, tc.want)
		}
	}
}

func TestStackListenErr(t *testing.T) {
	// The error our stack returns for a port it already listens on (a
	// *net.OpError wrapping EADDRINUSE) is recognised by errors.Is, not
	// by its text.
	pp, err := link.NewPipe(64, 2048)
	if err != nil {
		t.Fatal(err)
	}
	st, err := stack.NewLinks(stack.Config{}, []stack.Link{{Name: "p0", MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1},
		Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")}, Queues: []link.Queue{pp.A}}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, err := st.Listen("tcp", ":8080")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, inUse := st.Listen("tcp", ":8080")
	if err := stackListenErr("--http", ":8080", inUse); err == nil || !strings.Contains(err.Error(), "already in use on our AF_XDP stack") {
		t.Errorf("stack's port-in-use error %v explained as %v", inUse, err)
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("some text: %w", syscall.EADDRINUSE), "already in use on our AF_XDP stack"},
		{syscall.EADDRINUSE, "give --http another port"},
		{errors.New("stack: 10.9.9.9 is not one of the stack's addresses"), "on none of the --iface interfaces"},
		{errors.New("other"), "other"},
	} {
		err := stackListenErr("--http", ":8080", &net.OpError{Op: "listen", Net: "tcp", Err: tc.err})
		if !strings.HasPrefix(err.Error(), "--http :8080: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.err, err, tc.want)
		}
		if strings.Contains(err.Error(), "ss -ltnp") {
			t.Errorf("%v: %v points at ss, which does not show our stack's ports", tc.err, fmt.Sprint(err))
		}
	}
}
