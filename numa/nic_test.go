package numa

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestReadNIC(t *testing.T) {
	two := filepath.Join("testdata", "two-node-8cpu-smt")
	one := filepath.Join("testdata", "one-node-2cpu")
	for _, c := range []struct {
		root string
		want NIC
	}{
		{two, NIC{Name: "eth1", Node: 1, HasDevice: true, RXQueues: 4, TXQueues: 4}},
		{two, NIC{Name: "eth0", Node: -1, HasDevice: true, RXQueues: 1, TXQueues: 1}}, // numa_node -1
		{two, NIC{Name: "eth2", Node: -1, HasDevice: true, RXQueues: 2, TXQueues: 1}}, // no numa_node file
		{one, NIC{Name: "veth0", Node: -1, HasDevice: false, RXQueues: 1, TXQueues: 1}},
		{one, NIC{Name: "lo", Node: -1, HasDevice: false, RXQueues: 1, TXQueues: 1}},
	} {
		got, err := ReadNIC(c.root, c.want.Name)
		if err != nil {
			t.Errorf("ReadNIC(%s): %v", c.want.Name, err)
			continue
		}
		if *got != c.want {
			t.Errorf("ReadNIC(%s) = %+v, want %+v", c.want.Name, *got, c.want)
		}
	}
	top := readTree(t, "two-node-8cpu-smt")
	if n, err := top.NIC("eth1"); err != nil || n.Node != 1 {
		t.Errorf("Topology.NIC(eth1) = %+v, %v", n, err)
	}
}

func TestReadNICErrors(t *testing.T) {
	two := filepath.Join("testdata", "two-node-8cpu-smt")
	for _, c := range []struct{ name, want string }{
		{"eth9", "not found"},
		{"", "not a valid interface name"},
		{"..", "not a valid interface name"},
		{"../../devices", "not a valid interface name"},
	} {
		_, err := ReadNIC(two, c.name)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "ip link") {
			t.Errorf("ReadNIC(%q): error %v, want one containing %q and a hint to `ip link`", c.name, err, c.want)
		}
	}
	bad := writeTree(t, map[string]string{"class/net/eth0/device/numa_node": "one\n"})
	if _, err := ReadNIC(bad, "eth0"); err == nil || !strings.Contains(err.Error(), "numa_node") {
		t.Errorf("ReadNIC with a corrupt numa_node: error %v", err)
	}
}

func TestReadNICLoopback(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sysfs exists only on Linux")
	}
	n, err := ReadNIC("/sys", "lo")
	if err != nil {
		t.Skipf("no /sys/class/net/lo in this environment: %v", err)
	}
	if n.HasDevice || n.Node != -1 || n.RXQueues < 1 {
		t.Errorf("lo = %+v, want no device, node -1 and at least one RX queue", *n)
	}
}
