package cli

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseIface(t *testing.T) {
	good := []struct {
		in   string
		want Iface
	}{
		{"eth0=192.0.2.10/24", Iface{"eth0", netip.MustParsePrefix("192.0.2.10/24")}},
		{"veth1=fd00:1::1/64", Iface{"veth1", netip.MustParsePrefix("fd00:1::1/64")}},
		{"a23456789012345=10.0.0.1/8", Iface{"a23456789012345", netip.MustParsePrefix("10.0.0.1/8")}},
	}
	for _, c := range good {
		got, err := ParseIface(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseIface(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	bad := []struct{ in, err string }{
		{"", "IF=CIDR"},
		{"eth0", "IF=CIDR"},
		{"eth0=", "IF=CIDR"},
		{"=10.0.0.1/8", "IF=CIDR"},
		{"a/b=10.0.0.1/8", "interface name"},
		{"a:b=10.0.0.1/8", "interface name"},
		{"a b=10.0.0.1/8", "interface name"},
		{"a234567890123456=10.0.0.1/8", "interface name"},
		{"eth0=192.0.2.1", "prefix length"},
		{"eth0=192.0.2.300/24", "prefix length"},
	}
	for _, c := range bad {
		if _, err := ParseIface(c.in); err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "--iface") {
			t.Errorf("ParseIface(%q) error %v, want one naming --iface and containing %q", c.in, err, c.err)
		}
	}
}

func TestIfaceListSet(t *testing.T) {
	var l IfaceList
	for _, s := range []string{"v0=10.0.0.1/24", "v1=10.0.1.1/24"} {
		if err := l.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Set("v2"); err == nil || len(l) != 2 {
		t.Fatalf("bad value: err %v, %d entries", err, len(l))
	}
	if l[1].Name != "v1" || !strings.Contains(l.String(), "v1") {
		t.Fatalf("list %v (%s)", l, l.String())
	}
}

func TestStackConfigGroupsByName(t *testing.T) {
	ifs := []Iface{
		{"v0", netip.MustParsePrefix("10.100.0.1/24")},
		{"v1", netip.MustParsePrefix("10.101.0.1/24")},
		{"v0", netip.MustParsePrefix("fd00::1/64")},
	}
	gw := netip.MustParseAddr("10.100.0.254")
	sc := StackConfig(ifs, 1500, gw)
	if len(sc.Interfaces) != 2 || sc.Interfaces[0].Name != "v0" || sc.Interfaces[1].Name != "v1" {
		t.Fatalf("interfaces %+v", sc.Interfaces)
	}
	if a := sc.Interfaces[0].Addrs; len(a) != 2 || a[0] != ifs[0].Prefix || a[1] != ifs[2].Prefix {
		t.Fatalf("v0 addresses %v", a)
	}
	if sc.Interfaces[1].MTU != 1500 || len(sc.Gateways) != 1 || sc.Gateways[0] != gw {
		t.Fatalf("mtu %d gateways %v", sc.Interfaces[1].MTU, sc.Gateways)
	}
	if sc.SendBuffer != BulkBuffer || sc.RecvBuffer != BulkBuffer {
		t.Fatalf("buffers %d/%d", sc.SendBuffer, sc.RecvBuffer)
	}
	if sc := StackConfig(nil, 0, netip.Addr{}); len(sc.Interfaces) != 0 || sc.Gateways != nil {
		t.Fatalf("empty: %+v", sc)
	}
}

// FuzzParseIface: whatever parses formats back to a string that parses to
// the same value.
func FuzzParseIface(f *testing.F) {
	for _, s := range []string{"eth0=192.0.2.10/24", "v=fd00::1/128", "x", "=", "a/b=1.2.3.4/5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseIface(s)
		if err != nil {
			return
		}
		b, err := ParseIface(a.Name + "=" + a.Prefix.String())
		if err != nil || b != a {
			t.Fatalf("%q -> %+v -> %+v, %v", s, a, b, err)
		}
	})
}
