package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		err  string
		chk  func(Config) bool
	}{
		{nil, "", func(c Config) bool {
			return c.IperfAddr == ":5201" && c.HTTPAddr == ":80" && c.MetricsAddr == "" && c.MTU == 0 && c.XDPMode == "auto" &&
				c.Queues == 0 && c.DrainTimeout == 30*time.Second && c.LogLevel == slog.LevelInfo && !c.Kernel
		}},
		{[]string{"--kernel", "--iperf", "127.0.0.1:0", "--http", "off", "--metrics", "127.0.0.1:9100", "--log-level", "debug"}, "", func(c Config) bool {
			return c.Kernel && c.IperfAddr == "127.0.0.1:0" && c.HTTPAddr == "" && c.MetricsAddr == "127.0.0.1:9100" && c.LogLevel == slog.LevelDebug
		}},
		{[]string{"--iface", "eth0=192.0.2.10/24", "--iface", "eth1=2001:db8::1/64", "--xdp-mode", "native", "--queues", "4",
			"--cores", "2-5,8", "--mtu", "9000", "--gateway", "192.0.2.1", "--endpoint", "198.51.100.10,signal",
			"--endpoint", "[2001:db8::2]:5201,subflow,fullmesh"}, "", func(c Config) bool {
			return len(c.Ifaces) == 2 && c.Ifaces[1].Prefix.Bits() == 64 && c.XDPMode == "native" && c.Queues == 4 &&
				reflect.DeepEqual(c.Cores, []int{2, 3, 4, 5, 8}) && c.MTU == 9000 && c.Gateway == netip.MustParseAddr("192.0.2.1") &&
				len(c.Endpoints) == 2 && c.Endpoints[1].Port == 5201 && c.Endpoints[1].Flags[1] == "fullmesh"
		}},
		{[]string{"--root", dir, "--http", ":8080"}, "", func(c Config) bool { return c.Root == dir }},
		{[]string{"-h"}, "", func(c Config) bool { return c.Help }},
		// Bad values.
		{[]string{"--iface", "eth0=192.0.2.300/24"}, "not an address with a prefix length", nil},
		{[]string{"--iface", "eth0=192.0.2.1"}, "not an address with a prefix length", nil},
		{[]string{"--iface", "eth0"}, "IF=CIDR", nil},
		{[]string{"--iface", "=10.0.0.1/8"}, "IF=CIDR", nil},
		{[]string{"--iface", "a/b=10.0.0.1/8"}, "interface name", nil},
		{[]string{"--iface", "e=10.0.0.1/8", "--iface", "e=10.0.0.1/8"}, "twice", nil},
		{[]string{"--endpoint", "10.0.0.1"}, "ADDR[:PORT],FLAGS", nil},
		{[]string{"--endpoint", "10.0.0.1,bogus"}, "unknown flag \"bogus\"", nil},
		{[]string{"--endpoint", "10.0.0.1,signal,signal"}, "twice", nil},
		{[]string{"--endpoint", "10.0.0.1,signal,fullmesh"}, "fullmesh cannot be combined with signal", nil},
		{[]string{"--endpoint", "10.0.0.1,fullmesh"}, "fullmesh needs subflow", nil},
		{[]string{"--endpoint", "10.0.0.1:0,signal"}, "port 0", nil},
		{[]string{"--endpoint", "host,signal"}, "not an IP address", nil},
		{[]string{"--cores", "3-1"}, "rising range", nil},
		{[]string{"--cores", "a"}, "not a CPU number", nil},
		{[]string{"--cores", "1,1"}, "listed twice", nil},
		{[]string{"--cores", "1-5000"}, "beyond 4095", nil},
		{[]string{"--cores", "-1"}, "not a CPU number", nil},
		{[]string{"--mtu", "100"}, "--mtu 100 out of range", nil},
		{[]string{"--mtu", "9001"}, "out of range", nil},
		{[]string{"--xdp-mode", "zerocopy"}, "auto, native or generic", nil},
		{[]string{"--queues", "0"}, "--queues", nil},
		{[]string{"--queues", "many"}, "--queues", nil},
		{[]string{"--gateway", "router"}, "not an IP address", nil},
		{[]string{"--iperf", "5201"}, "[HOST]:PORT", nil},
		{[]string{"--http", ":99999"}, "not 0..65535", nil},
		{[]string{"--metrics", "example.com:80"}, "not an IP address", nil},
		{[]string{"--iperf", "off", "--http", "off"}, "nothing to serve", nil},
		{[]string{"--root", filepath.Join(dir, "missing")}, "no such file", nil},
		{[]string{"--root", file}, "not a directory", nil},
		{[]string{"--root", dir, "--http", "off"}, "--root needs the HTTP server", nil},
		{[]string{"--log-level", "loud"}, "debug, info, warn or error", nil},
		{[]string{"--drain-timeout", "-1s"}, "negative", nil},
		{[]string{"stray"}, "unexpected argument", nil},
		{[]string{"--nope"}, "nope", nil},
	} {
		c, err := parseFlags(tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
		} else if tc.chk != nil && !tc.chk(c) {
			t.Errorf("%v: parsed %+v", tc.args, c)
		}
	}
}

func TestListenErr(t *testing.T) {
	for _, tc := range []struct {
		addr string
		err  error
		want string
	}{
		{":5201", syscall.EADDRINUSE, "address already in use"},
		{":80", syscall.EACCES, "CAP_NET_BIND_SERVICE"},
		{"192.0.2.1:80", syscall.EADDRNOTAVAIL, "no such address"},
		{":8080", errors.New("other"), "other"},
	} {
		err := listenErr("--http", tc.addr, fmt.Errorf("listen tcp %s: %w", tc.addr, tc.err))
		if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "--http "+tc.addr) {
			t.Errorf("%v: %v", tc.err, err)
		}
	}
}

// A golden /proc/net/netstat excerpt (Linux 6.x layout).
const netstatGolden = `TcpExt: SyncookiesSent SyncookiesRecv MaxConn
TcpExt: 0 2 -1
IpExt: InNoRoutes InTruncatedPkts
IpExt: 0 0
MPTcpExt: MPCapableSYNRX MPCapableSYNTX MPJoinSynRx
MPTcpExt: 12 3 4
`

// TestKernelMIBFile: kernelMIB returns the MPTcpExt section of the file
// (the format itself is internal/netstat's to test).
func TestKernelMIBFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "netstat")
	_ = os.WriteFile(p, []byte(netstatGolden), 0o644)
	mib, err := kernelMIB{path: p}.MIB()
	if err != nil || mib["MPJoinSynRx"] != 4 {
		t.Errorf("kernelMIB: %v %v", mib, err)
	}
	_ = os.WriteFile(p, []byte("IpExt: a\nIpExt: 1\n"), 0o644)
	if _, err := (kernelMIB{path: p}).MIB(); err == nil || !strings.Contains(err.Error(), "MPTcpExt") {
		t.Errorf("no MPTcpExt section: %v", err)
	}
}

func TestPatternReader(t *testing.T) {
	p := &patternReader{size: 1000}
	buf := make([]byte, 300)
	var got []byte
	for {
		n, err := p.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if len(got) != 1000 {
		t.Fatalf("read %d bytes, want 1000", len(got))
	}
	for i, b := range got {
		if b != PatternByte(int64(i)) {
			t.Fatalf("byte %d = %d, want %d", i, b, PatternByte(int64(i)))
		}
	}
	if off, err := p.Seek(-10, 2); err != nil || off != 990 {
		t.Fatalf("Seek end-10: %d %v", off, err)
	}
	n, _ := p.Read(buf)
	if n != 10 || buf[0] != PatternByte(990) {
		t.Fatalf("after seek read %d bytes starting %d", n, buf[0])
	}
	if _, err := p.Seek(-1, 0); err == nil {
		t.Error("negative seek accepted")
	}
	if _, err := p.Seek(0, 7); err == nil {
		t.Error("bad whence accepted")
	}
}

// formatCores prints a CPU list back in "a-b,c" form.
func formatCores(cs []int) string {
	var parts []string
	for i := 0; i < len(cs); {
		j := i
		for j+1 < len(cs) && cs[j+1] == cs[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", cs[i], cs[j]))
		} else {
			parts = append(parts, fmt.Sprint(cs[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

func FuzzParseCores(f *testing.F) {
	for _, s := range []string{"0", "2-5,8", "0-3,5,7-9", "1,1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := parseCores(s)
		if err != nil {
			return
		}
		back, err := parseCores(formatCores(cs))
		if err != nil || !reflect.DeepEqual(back, cs) {
			t.Fatalf("%q -> %v -> %q -> %v (%v)", s, cs, formatCores(cs), back, err)
		}
	})
}

func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"10.0.0.1,signal", "[fd00::1]:5201,subflow,fullmesh", "10.0.0.2:80,signal,backup"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseEndpoint(s)
		if err != nil {
			return
		}
		text := e.Addr.String()
		if e.Port != 0 {
			text = netip.AddrPortFrom(e.Addr, e.Port).String()
		}
		text += "," + strings.Join(e.Flags, ",")
		back, err := parseEndpoint(text)
		if err != nil || !reflect.DeepEqual(back, e) {
			t.Fatalf("%q -> %+v -> %q -> %+v (%v)", s, e, text, back, err)
		}
	})
}
