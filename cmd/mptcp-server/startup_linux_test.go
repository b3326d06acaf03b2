package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

// buildServer builds this command into a directory that the user nobody
// can read (for the setpriv case) and returns the binary's path.
func buildServer(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command on PATH to build mptcp-server")
	}
	dir, err := os.MkdirTemp("", "mpx-srv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "mptcp-server")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// xdpOn reports whether an XDP program is attached to the interface.
func xdpOn(t *testing.T, ns *testbed.NS, ifname string) bool {
	t.Helper()
	out, err := ns.Exec("ip", "link", "show", "dev", ifname)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(out), "prog/xdp")
}

// Start-up errors on our AF_XDP stack: each fails with exit code 1 and a
// message that names the problem and the fix, and leaves no XDP program
// behind.
func TestStartupErrorsOnStack(t *testing.T) {
	testbed.Require(t)
	topo, err := testbed.NewTopology(testbed.Config{Paths: 1, Tag: "sse"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	p := topo.Paths[0]
	iface := []string{"--iface", p.Ours.Name + "=" + netip.PrefixFrom(p.OurAddr, 24).String()}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"queue missing", []string{"--queues", "4", "--iperf", "off", "--http", ":8080"},
			[]string{"queue 1 does not exist", p.Ours.Name, "ethtool -l"}},
		{"mtu above the device's", []string{"--mtu", "9000", "--iperf", "off", "--http", ":8080"},
			[]string{"--mtu 9000 is larger than the MTU of " + p.Ours.Name + " (1500)", "ip link set " + p.Ours.Name + " mtu 9000"}},
		{"port in use", []string{"--iperf", ":8080", "--http", ":8080"},
			[]string{"--http :8080: address already in use on our AF_XDP stack", "give --http another port"}},
		{"address not ours", []string{"--iperf", "10.9.9.9:5201", "--http", "off"},
			[]string{"--iperf 10.9.9.9:5201: the address is on none of the --iface interfaces"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := -1
			if err := topo.Ours.Do(func() error {
				code = run(context.Background(), append(append([]string{}, iface...), tc.args...), io.Discard, &stderr, nil)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if code != exitFail {
				t.Errorf("exit %d, want %d", code, exitFail)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if xdpOn(t, topo.Ours, p.Ours.Name) {
				t.Errorf("an XDP program is left on %s after the failed start", p.Ours.Name)
			}
		})
	}

	// Without privileges: the real binary as the user nobody, no
	// capabilities.
	t.Run("no privileges", func(t *testing.T) {
		testbed.RequireTools(t, "setpriv")
		bin := buildServer(t)
		out, err := topo.Ours.Exec("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", bin},
			append(append([]string{}, iface...), "--iperf", "off", "--http", ":8080")...)...)
		code, msg := 0, string(out)
		var ce *testbed.CmdError
		var xe *exec.ExitError
		if errors.As(err, &xe) {
			code = xe.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if errors.As(err, &ce) {
			msg += ce.Output
		}
		if code != exitFail {
			t.Errorf("as nobody: exit %d, want %d\n%s", code, exitFail, msg)
		}
		for _, w := range []string{"AF_XDP needs root or CAP_NET_ADMIN", "CAP_BPF"} {
			if !strings.Contains(msg, w) {
				t.Errorf("as nobody: output lacks %q:\n%s", w, msg)
			}
		}
	})
}

// Unprivileged run (make test-unprivileged): starting the stack without
// root says which capabilities it needs.
func TestStartupWithoutRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("runs as non-root only (as root, TestStartupErrorsOnStack/no_privileges checks this as the user nobody)")
	}
	var stderr bytes.Buffer
	// lo exists in every namespace; without privileges nothing can attach.
	code := run(context.Background(), []string{"--iface", "lo=127.0.0.2/8", "--iperf", "off", "--http", ":8080"}, io.Discard, &stderr, nil)
	if code != exitFail || !strings.Contains(stderr.String(), "CAP_NET_ADMIN") {
		t.Errorf("exit %d, stderr %q: want %d and the capabilities needed", code, stderr.String(), exitFail)
	}
}

// SIGTERM to the real binary on our stack: a download in progress
// finishes (drain), the process exits 0 and its XDP program is detached.
func TestSIGTERMDrainsAndDetaches(t *testing.T) {
	testbed.Require(t)
	testbed.RequireTools(t, "curl")
	bin := buildServer(t)
	topo, err := testbed.NewTopology(testbed.Config{Paths: 1, Tag: "sst"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	p := topo.Paths[0]
	cmd, err := topo.Ours.Command(bin, "--iface", p.Ours.Name+"="+netip.PrefixFrom(p.OurAddr, 24).String(),
		"--iperf", "off", "--http", ":8080", "--drain-timeout", "20s")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuf
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := topo.Ours.StartCmd(cmd); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(logs.String(), "mptcp-server listening"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("mptcp-server did not start")
		}
	}
	if !xdpOn(t, topo.Ours, p.Ours.Name) {
		t.Fatalf("no XDP program on %s while the server runs", p.Ours.Name)
	}
	// 24 MiB at 12 MiB/s: about two seconds, so SIGTERM comes mid-transfer.
	dl, err := topo.Peer.Command("curl", "-sSf", "--limit-rate", "12M", "-o", "/dev/null", "-w", "%{size_download}",
		fmt.Sprintf("http://%s:8080/bytes/24M", p.OurAddr))
	if err != nil {
		t.Fatal(err)
	}
	var dlOut bytes.Buffer
	dl.Stdout = &dlOut
	if err := topo.Peer.StartCmd(dl); err != nil {
		t.Fatal(err)
	}
	dlDone := make(chan error, 1)
	go func() { dlDone <- dl.Wait() }()
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-dlDone:
		if err != nil || strings.TrimSpace(dlOut.String()) != fmt.Sprint(24<<20) {
			t.Errorf("download across SIGTERM: %v, %s bytes, want %d", err, dlOut.String(), 24<<20)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("download did not finish")
	}
	select {
	case <-done:
		if waitErr != nil {
			t.Errorf("mptcp-server after SIGTERM: %v, want exit 0", waitErr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("mptcp-server did not exit after SIGTERM and the drain")
	}
	if !strings.Contains(logs.String(), `"msg":"draining`) {
		t.Error("no drain log line")
	}
	if xdpOn(t, topo.Ours, p.Ours.Name) {
		t.Errorf("XDP program still on %s after mptcp-server exited", p.Ours.Name)
	}
}
