package testbed

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestStaleOwner(t *testing.T) {
	cases := []struct {
		name string
		pid  int
		ok   bool
	}{
		{"mpx-afxdp-1234-7", 1234, true},
		{"mpx-a-b-c-42-1", 42, true},
		{"mpx-probe-1-0", 1, true},
		{"mpx-x-12a-1", 0, false},
		{"mpx-x-12-", 0, false},
		{"mpx-12-1", 0, false},
		{"mpx--12-1", 0, false},
		{"other-x-12-1", 0, false},
		{"mpx-x-0-1", 0, false},
		{"mpx-x--5-1", 5, true}, // tag "x-"
		{"mpx-x-+5-1", 0, false},
		{"mpx-x-5-+1", 0, false},
	}
	for _, c := range cases {
		pid, ok := staleOwner(c.name)
		if pid != c.pid || ok != c.ok {
			t.Errorf("staleOwner(%q) = %d, %v; want %d, %v", c.name, pid, ok, c.pid, c.ok)
		}
	}
}

func TestNSNameForm(t *testing.T) {
	a, b := nsName("t"), nsName("t")
	if a == b {
		t.Fatalf("two names are equal: %q", a)
	}
	pid, ok := staleOwner(a)
	if !ok || pid != os.Getpid() {
		t.Fatalf("staleOwner(%q) = %d, %v; want our pid %d", a, pid, ok, os.Getpid())
	}
}

func TestCheckIfName(t *testing.T) {
	for _, good := range []string{"a", "veth0", "mpx-p0-ours", "123456789012345"} {
		if err := checkIfName(good); err != nil {
			t.Errorf("checkIfName(%q) = %v, want nil", good, err)
		}
	}
	for _, bad := range []string{"", "1234567890123456", "a/b", "a b", "a:b", ".", "..", "é"} {
		if err := checkIfName(bad); err == nil {
			t.Errorf("checkIfName(%q) = nil, want an error", bad)
		}
	}
}

func TestNewNSRejectsBadTag(t *testing.T) {
	for _, tag := range []string{"", "-x", "a b", "a/b", strings.Repeat("a", 33)} {
		if _, err := NewNS(tag); err == nil || !strings.Contains(err.Error(), "tag") {
			t.Errorf("NewNS(%q) error = %v, want a tag error", tag, err)
		}
	}
}

func TestParseLinkJSON(t *testing.T) {
	golden := `[{"ifindex":7,"link_index":6,"ifname":"p0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":9000,"qdisc":"noqueue","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"6a:5f:1e:00:aa:01","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0}]`
	l, err := parseLinkJSON([]byte(golden))
	if err != nil {
		t.Fatal(err)
	}
	if l.IfIndex != 7 || l.IfName != "p0" || l.MTU != 9000 || l.Address != "6a:5f:1e:00:aa:01" {
		t.Fatalf("parseLinkJSON = %+v", l)
	}
	for _, bad := range []string{``, `[]`, `[{"ifindex":1},{"ifindex":2}]`, `{"ifindex":1}`, `[{"ifindex":1`} {
		if _, err := parseLinkJSON([]byte(bad)); err == nil {
			t.Errorf("parseLinkJSON(%q) = nil error", bad)
		}
	}
}

func TestCmdErrorSaysWhatFailed(t *testing.T) {
	_, err := run("sh", "-c", "echo boom-output >&2; exit 3")
	var ce *CmdError
	if !errors.As(err, &ce) {
		t.Fatalf("run error = %v, want *CmdError", err)
	}
	msg := err.Error()
	for _, want := range []string{"sh -c", "exit status 3", "boom-output"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if _, err := lookTool("no-such-tool-mpx"); err == nil || !strings.Contains(err.Error(), "not found in PATH") {
		t.Errorf("lookTool(missing) = %v", err)
	}
	if _, err := lookTool("ethtool-mpx-missing"); err == nil {
		t.Error("lookTool(missing) = nil")
	}
	toolHint["mpx-missing-tool"] = "apt-get install -y mpx-pkg"
	defer delete(toolHint, "mpx-missing-tool")
	if _, err := lookTool("mpx-missing-tool"); err == nil || !strings.Contains(err.Error(), "apt-get install -y mpx-pkg") {
		t.Errorf("lookTool error %v lacks the install hint", err)
	}
}

// newNS creates a namespace closed at the end of the test.
func newNS(t *testing.T, tag string) *NS {
	t.Helper()
	n, err := NewNS(tag)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
	return n
}

// nsExists reports whether `ip netns list` shows name.
func nsExists(t *testing.T, name string) bool {
	t.Helper()
	out, err := run("ip", "netns", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return true
		}
	}
	return false
}

func TestNSLifecycle(t *testing.T) {
	t.Parallel()
	Require(t)
	RequireTools(t, "sysctl")
	n, err := NewNS("life")
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if !strings.HasPrefix(n.Name, "mpx-life-"+strconv.Itoa(os.Getpid())+"-") {
		t.Errorf("name %q does not have the form mpx-life-<pid>-<n>", n.Name)
	}
	if !nsExists(t, n.Name) {
		t.Fatalf("namespace %s not listed by ip netns list", n.Name)
	}
	out, err := n.Exec("ip", "-o", "link", "show", "lo")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "UP") {
		t.Errorf("lo is not up: %s", out)
	}
	if err := n.Sysctl("net.ipv4.ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	out, err = n.Exec("sysctl", "-n", "net.ipv4.ip_forward")
	if err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Errorf("ip_forward read back %q, %v; want 1", out, err)
	}
	if err := n.Sysctl("bad key", "1"); err == nil {
		t.Error("Sysctl accepted a key with a space")
	}
	if _, err := n.Exec("false"); err == nil || !strings.Contains(err.Error(), "false") {
		t.Errorf("Exec(false) error = %v, want one naming the command", err)
	}
	// A started process and one it forks must both die on Close.
	cmd, err := n.Start("sh", "-c", "sleep 60 & sleep 60")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if cmd.ProcessState == nil || cmd.ProcessState.Success() {
		t.Errorf("started process not killed: state %v", cmd.ProcessState)
	}
	if nsExists(t, n.Name) {
		t.Errorf("namespace %s still listed after Close", n.Name)
	}
	if err := n.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, err := n.Exec("true"); err == nil {
		t.Error("Exec after Close succeeded")
	}
	if _, err := n.Start("true"); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func TestVethPairAndDo(t *testing.T) {
	t.Parallel()
	Require(t)
	RequireTools(t, "ethtool", "ping")
	a, b := newNS(t, "va"), newNS(t, "vb")
	va, vb, err := NewVeth(a, "mpx-a0", b, "mpx-b0", LinkOpts{MTU: 9000, Queues: 4})
	if err != nil {
		t.Fatal(err)
	}
	if va.NS != a || vb.NS != b || va.Name != "mpx-a0" || vb.Name != "mpx-b0" {
		t.Fatalf("ends = %v, %v", va, vb)
	}
	if va.Index <= 0 || vb.Index <= 0 || len(va.MAC) != 6 || len(vb.MAC) != 6 || va.MAC.String() == vb.MAC.String() {
		t.Fatalf("ends have index/MAC %d %v, %d %v", va.Index, va.MAC, vb.Index, vb.MAC)
	}
	// MTU, state and queues as the kernel sees them (sysfs of the namespace).
	for _, v := range []Veth{va, vb} {
		out, err := v.NS.ip("-j", "link", "show", "dev", v.Name)
		if err != nil {
			t.Fatal(err)
		}
		l, err := parseLinkJSON(out)
		if err != nil {
			t.Fatal(err)
		}
		if l.MTU != 9000 || l.IfIndex != v.Index {
			t.Errorf("%v: mtu %d index %d; want 9000, %d", v, l.MTU, l.IfIndex, v.Index)
		}
		out, err = v.NS.Exec("ls", "/sys/class/net/"+v.Name+"/queues")
		if err != nil {
			t.Fatal(err)
		}
		rx := 0
		for _, q := range strings.Fields(string(out)) {
			if strings.HasPrefix(q, "rx-") {
				rx++
			}
		}
		if rx != 4 {
			t.Errorf("%v has %d rx queues in sysfs (%q), want 4", v, rx, out)
		}
	}
	// Do runs inside the namespace: it sees the veth by name and index.
	var seen *net.Interface
	if err := a.Do(func() error {
		var err error
		seen, err = net.InterfaceByName("mpx-a0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if seen.Index != va.Index || seen.HardwareAddr.String() != va.MAC.String() {
		t.Errorf("inside Do: %+v, want index %d MAC %v", seen, va.Index, va.MAC)
	}
	wantErr := errors.New("from fn")
	if err := b.Do(func() error { return wantErr }); err != wantErr {
		t.Errorf("Do returned %v, want fn's error", err)
	}
	// The caller's namespace is unchanged.
	if _, err := net.InterfaceByName("mpx-a0"); err == nil {
		t.Error("mpx-a0 is visible outside its namespace")
	}
	// Addresses, offloads, ping, link down.
	if err := va.AddAddr(netip.MustParsePrefix("10.199.0.1/24")); err != nil {
		t.Fatal(err)
	}
	if err := vb.AddAddr(netip.MustParsePrefix("10.199.0.2/24")); err != nil {
		t.Fatal(err)
	}
	if err := vb.Ethtool("tx", "off", "tso", "off", "gso", "off", "gro", "off"); err != nil {
		t.Fatal(err)
	}
	out, err := b.Exec("ethtool", "-k", "mpx-b0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "tcp-segmentation-offload: off") || !strings.Contains(string(out), "tx-checksumming: off") {
		t.Errorf("offloads not off:\n%s", out)
	}
	if out, err := a.Exec("ping", "-c", "1", "-W", "2", "10.199.0.2"); err != nil {
		t.Fatalf("ping over the veth failed: %v\n%s", err, out)
	}
	if err := vb.SetUp(false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exec("ping", "-c", "1", "-W", "1", "10.199.0.2"); err == nil {
		t.Error("ping succeeded with the peer end down")
	}
	if _, _, err := NewVeth(a, "x", a, "x", LinkOpts{}); err == nil {
		t.Error("NewVeth with equal names in one namespace succeeded")
	}
	if _, _, err := NewVeth(a, "toolong-interface", b, "x", LinkOpts{}); err == nil {
		t.Error("NewVeth accepted a 17-character name")
	}
}

func TestDoPanicPropagates(t *testing.T) {
	t.Parallel()
	Require(t)
	n := newNS(t, "panic")
	defer func() {
		if v := recover(); v != "boom" {
			t.Errorf("recovered %v, want boom", v)
		}
	}()
	_ = n.Do(func() error { panic("boom") })
	t.Error("Do returned after fn panicked")
}

func TestCleanupRemovesOnlyStale(t *testing.T) {
	t.Parallel()
	Require(t)
	// A pid that no longer exists: a short child that has been reaped.
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	dead := c.Process.Pid
	if pidAlive(dead) {
		t.Skipf("pid %d was reused at once; cannot make a stale name", dead)
	}
	stale := NSPrefix + "clean-" + strconv.Itoa(dead) + "-1"
	if _, err := run("ip", "netns", "add", stale); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = run("ip", "netns", "del", stale) })
	live := newNS(t, "clean")
	removed, err := Cleanup(NSPrefix + "clean-")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range removed {
		if r == live.Name {
			t.Errorf("Cleanup removed the live namespace %s", r)
		}
	}
	if nsExists(t, stale) {
		t.Errorf("stale namespace %s still exists (removed %v)", stale, removed)
	}
	if !nsExists(t, live.Name) {
		t.Errorf("live namespace %s was removed", live.Name)
	}
	if _, err := Cleanup("other-"); err == nil {
		t.Error("Cleanup accepted a prefix outside mpx-")
	}
}
