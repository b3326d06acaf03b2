package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string // substring; "" means valid
		chk  func(config) bool
	}{
		{[]string{"--kernel", "-c", "h"}, "", func(c config) bool {
			return c.host == "h" && c.port == 5201 && c.duration == 10*time.Second && c.interval == time.Second && c.parallel == 1
		}},
		{[]string{"--kernel", "-c", "h", "-n", "10M", "-R", "-P", "4", "-i", "0.5", "-J", "-p", "6000", "-l", "64K"}, "", func(c config) bool {
			return c.bytes == 10<<20 && c.reverse && c.parallel == 4 && c.interval == 500*time.Millisecond && c.json && c.port == 6000 && c.blockSize == 65536
		}},
		{[]string{"--json", "--json-stream", "-c", "h"}, "exclude", nil},
		{[]string{"-c", "h", "-b", "100M"}, "", func(c config) bool { return c.bitrate == 100e6 }},
		{[]string{"-c", "h", "-b", "2.5G"}, "", func(c config) bool { return c.bitrate == 2.5e9 }},
		{[]string{"-c", "h", "-b", "fast"}, "bit rate", nil},
		{[]string{"--kernel", "-c", "h", "-C", "reno"}, "", func(c config) bool { return c.congestion == "reno" }},
		{[]string{"-c", "h", "-C", "reno"}, "needs --kernel", nil},
		{[]string{"-c", "h", "-b", "-1M"}, "bit rate", nil},
		{[]string{"--iface", "veth0=10.100.0.1/24", "--iface", "veth1=fd00:1::1/64", "-c", "h"}, "", func(c config) bool {
			return len(c.ifaces) == 2 && c.ifaces[1].Name == "veth1" && c.ifaces[1].Prefix.Bits() == 64
		}},
		{[]string{"--iface", "veth0", "-c", "h"}, "IF=CIDR", nil},
		{[]string{"--iface", "veth0=10.100.0.1/24", "--gateway", "10.100.0.254", "-c", "h"}, "", func(c config) bool {
			return c.gateway.String() == "10.100.0.254" && len(stackConfig(c).Interfaces) == 1 && stackConfig(c).Gateways[0] == c.gateway
		}},
		{[]string{"--iface", "v0=10.100.0.1/24", "--iface", "v0=fd00::1/64", "--iface", "v1=10.101.0.1/24", "-c", "h"}, "", func(c config) bool {
			sc := stackConfig(c)
			return len(sc.Interfaces) == 2 && len(sc.Interfaces[0].Addrs) == 2 && sc.Interfaces[1].Name == "v1"
		}},
		{[]string{"--gateway", "gw", "-c", "h"}, "not an IP address", nil},
		{[]string{"--kernel", "--iface", "v0=10.100.0.1/24", "-c", "h"}, "drop one or the other", nil},
		{[]string{"--iface", "veth0=10.1.1.1", "-c", "h"}, "prefix length", nil},
		{[]string{"--iface", "averyveryverylongname=10.1.1.1/24", "-c", "h"}, "interface name", nil},
		{[]string{"-t", "1"}, "-c HOST", nil},
		{[]string{"-c", "h", "-P", "0"}, "parallel", nil},
		{[]string{"-c", "h", "-P", "1000"}, "parallel", nil},
		{[]string{"-c", "h", "-p", "70000"}, "port", nil},
		{[]string{"-c", "h", "-n", "12Q"}, "suffix", nil},
		{[]string{"-c", "h", "-t", "-1"}, "seconds", nil},
		{[]string{"-c", "h", "-t", "0"}, "duration or a byte count", nil},
		{[]string{"-c", "h", "-l", "2M"}, "block size", nil},
		{[]string{"-c", "h", "--tcp"}, "--tcp needs --kernel", nil},
		{[]string{"-c", "h", "--plot", "x.svg", "-i", "0"}, "interval", nil},
		{[]string{"-c", "h", "extra"}, "unexpected argument", nil},
		{[]string{"--bogus"}, "bogus", nil},
		{[]string{"loopback"}, "", func(c config) bool { return c.sub == "loopback" && c.subflows == 1 && c.mtu == 1500 }},
		{[]string{"loopback", "--subflows", "3", "--mtu", "9000", "--kernel", "-R", "-J"}, "", func(c config) bool {
			return c.subflows == 3 && c.mtu == 9000 && c.kernel && c.reverse && c.json
		}},
		{[]string{"loopback", "--subflows", "9"}, "1..8", nil},
		{[]string{"loopback", "--mtu", "9001"}, "576..9000", nil},
		{[]string{"loopback", "-c", "h"}, "does not apply", nil},
		{[]string{"loopback", "--paths", "2"}, "does not apply", nil},
		{[]string{"loopback", "-C", "reno"}, "congestion control", nil},
		{[]string{"record", "-t", "5"}, "", func(c config) bool { return c.sub == "record" && c.paths == 6 && c.mtu == 9000 && c.rates == nil }},
		{[]string{"record", "--paths", "3", "--rate", "100,200,300", "--mtu", "1500"}, "", func(c config) bool {
			return c.paths == 3 && c.mtu == 1500 && len(c.rates) == 3 && c.rates[2] == 300
		}},
		{[]string{"record", "--paths", "3", "--rate", "100,200"}, "2 values for 3 paths", nil},
		{[]string{"record", "--rate", "fast"}, "Mbit/s per path", nil},
		{[]string{"record", "--paths", "9"}, "1..8", nil},
		{[]string{"record", "--subflows", "2"}, "does not apply", nil},
		{[]string{"record", "--kernel"}, "--no-kernel", nil},
		{[]string{"record", "-c", "h"}, "need --iface", nil},
		{[]string{"record", "--iface", "eth1=10.0.0.1/24"}, "give -c HOST", nil},
		{[]string{"record", "--iface", "eth1=10.0.0.1/24", "-c", "10.0.0.2", "--paths", "2"}, "real NICs", nil},
		{[]string{"record", "--iface", "eth1=10.0.0.1/24", "--iface", "eth2=10.0.1.1/24", "-c", "10.0.0.2"}, "", func(c config) bool {
			return len(c.ifaces) == 2 && c.host == "10.0.0.2"
		}},
		{[]string{"record", "-J", "--json-stream"}, "exclude", nil},
		{[]string{"-c", "h", "--subflows", "2"}, "belongs to the loopback and record", nil},
		{[]string{"-c", "h", "--mtu", "9000"}, "belongs to the loopback and record", nil},
	} {
		c, err := parseArgs(tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if tc.chk != nil && !tc.chk(c) {
			t.Errorf("%v: parsed %+v", tc.args, c)
		}
	}
}

func runArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code = run(ctx, args, &o, &e)
	return code, o.String(), e.String()
}

func TestHelpAndUsageErrors(t *testing.T) {
	code, _, errOut := runArgs(t, "-c", "127.0.0.1")
	if code != exitUsage || !strings.Contains(errOut, "give --iface IF=CIDR") || !strings.Contains(errOut, "--kernel") {
		t.Errorf("without --kernel or --iface: exit %d, %q", code, errOut)
	}
	code, out, _ := runArgs(t, "-h")
	if code != exitOK || !strings.Contains(out, "Examples:") || !strings.Contains(out, "loopback") || !strings.Contains(out, "record") || !strings.Contains(out, "--json-stream") {
		t.Errorf("-h: exit %d:\n%s", code, out)
	}
	code, _, errOut = runArgs(t, "-P", "x")
	if code != exitUsage || !strings.Contains(errOut, "mptcp-bench:") {
		t.Errorf("bad flag: exit %d %q", code, errOut)
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	code, _, errOut := runArgs(t, "--kernel", "-c", "127.0.0.1", "-p", strconv.Itoa(port), "-t", "1")
	if code != exitFail || !strings.Contains(errOut, "is the server running? try `mptcp-server --kernel --iperf :"+strconv.Itoa(port)+"`") {
		t.Errorf("exit %d, %q", code, errOut)
	}
	code, out, _ := runArgs(t, "--kernel", "-c", "127.0.0.1", "-p", strconv.Itoa(port), "-t", "1", "-J")
	var doc struct{ Error string }
	if code != exitFail || json.Unmarshal([]byte(out), &doc) != nil || !strings.Contains(doc.Error, "connection refused") {
		t.Errorf("-J error document: exit %d, %q", code, out)
	}
}

// startServer runs our iperf server on a kernel MPTCP loopback listener.
func startServer(t *testing.T) int {
	t.Helper()
	var lc net.ListenConfig
	lc.SetMultipathTCP(true)
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- iperf.Serve(ctx, ln, iperf.ServeOptions{}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

func TestEndToEndKernel(t *testing.T) {
	port := strconv.Itoa(startServer(t))
	t.Run("text", func(t *testing.T) {
		plot := filepath.Join(t.TempDir(), "run.svg")
		code, out, errOut := runArgs(t, "--kernel", "-c", "127.0.0.1", "-p", port, "-t", "0.6", "-i", "0.2", "-P", "2", "--plot", plot, "--title", "T1")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"T1: Connecting to host 127.0.0.1", "T1: [SUM]", "sender", "receiver", "lo 127.0.0.1:", "Done."} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		svg, err := os.ReadFile(plot)
		if err != nil || !bytes.Contains(svg, []byte("<svg")) || bytes.Count(svg, []byte(`class="series"`)) != 3 {
			t.Errorf("plot: %v, %d series", err, bytes.Count(svg, []byte(`class="series"`)))
		}
	})
	t.Run("json-n-exact", func(t *testing.T) {
		code, out, errOut := runArgs(t, "--kernel", "-c", "127.0.0.1", "-p", port, "-n", "3M", "-R", "-J")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		r, err := iperf.ParseJSON([]byte(out))
		if err != nil {
			t.Fatal(err)
		}
		if r.Sent.Bytes != 3<<20 || r.Received.Bytes != 3<<20 || !r.Reverse {
			t.Errorf("-n 3M -R: sent %d received %d", r.Sent.Bytes, r.Received.Bytes)
		}
	})
	t.Run("json-stream", func(t *testing.T) {
		code, out, errOut := runArgs(t, "--kernel", "-c", "127.0.0.1", "-p", port, "-t", "0.5", "-i", "0.1", "--json-stream")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		sc := bufio.NewScanner(strings.NewReader(out))
		var events []string
		for sc.Scan() {
			var e struct {
				Event string
				Data  json.RawMessage
			}
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			events = append(events, e.Event)
		}
		if len(events) < 5 || events[0] != "start" || events[len(events)-1] != "end" || events[1] != "interval" {
			t.Errorf("events %v", events)
		}
	})
}
