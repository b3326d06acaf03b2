package testbed

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"sort"
	"strings"
	"testing"
)

const netstatGolden = `TcpExt: SyncookiesSent TCPSackRecovery
TcpExt: 3 17
MPTcpExt: MPCapableSYNRX MPJoinSynRx
MPTcpExt: 2 5
Tcp: RtoAlgorithm MaxConn RetransSegs
Tcp: 1 -1 42
`

func TestParseNetstatGolden(t *testing.T) {
	got, err := parseNetstat([]byte(netstatGolden))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]uint64{
		"TcpExt":   {"SyncookiesSent": 3, "TCPSackRecovery": 17},
		"MPTcpExt": {"MPCapableSYNRX": 2, "MPJoinSynRx": 5},
		"Tcp":      {"RtoAlgorithm": 1, "MaxConn": ^uint64(0), "RetransSegs": 42},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseNetstat =\n%v\nwant\n%v", got, want)
	}
}

func TestParseNetstatTruncated(t *testing.T) {
	lines := strings.SplitAfter(netstatGolden, "\n")
	// Dropping the last line of any pair leaves an odd count or a mismatch.
	for cut := 1; cut < len(lines)-1; cut += 2 {
		in := strings.Join(lines[:cut], "")
		if _, err := parseNetstat([]byte(in)); err == nil {
			t.Errorf("parseNetstat accepted %d of %d lines", cut, len(lines)-1)
		}
	}
	for _, bad := range []string{
		"TcpExt: A B\nTcpExt: 1\n",        // fewer values than names
		"TcpExt: A\nTcpExt: 1 2\n",        // more values than names
		"TcpExt: A\nIpExt: 1\n",           // sections differ
		"TcpExt: A\nTcpExt: x\n",          // not a number
		"TcpExt A\nTcpExt 1\n",            // no colon
		": A\n: 1\n",                      // empty section
		"TcpExt: A\nTcpExt: 1\nTcpExt: B", // odd line count
	} {
		if _, err := parseNetstat([]byte(bad)); err == nil {
			t.Errorf("parseNetstat(%q) = nil error", bad)
		}
	}
	if m, err := parseNetstat(nil); err != nil || len(m) != 0 {
		t.Errorf("parseNetstat(nil) = %v, %v; want empty, nil", m, err)
	}
}

// formatNetstat writes counters in the /proc/net/netstat format.
func formatNetstat(m map[string]map[string]uint64) string {
	var secs []string
	for s := range m {
		secs = append(secs, s)
	}
	sort.Strings(secs)
	var b strings.Builder
	for _, s := range secs {
		var names []string
		for n := range m[s] {
			names = append(names, n)
		}
		sort.Strings(names)
		b.WriteString(s + ":")
		for _, n := range names {
			b.WriteString(" " + n)
		}
		b.WriteString("\n" + s + ":")
		for _, n := range names {
			fmt.Fprintf(&b, " %d", m[s][n])
		}
		b.WriteString("\n")
	}
	return b.String()
}

func FuzzParseNetstat(f *testing.F) {
	f.Add([]byte(netstatGolden))
	f.Add([]byte("A: x\nA: 1\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseNetstat(data)
		if err != nil {
			return
		}
		// Whatever parsed must print and parse back to the same counters
		// (repeated sections merge, so compare after one round trip).
		again, err := parseNetstat([]byte(formatNetstat(m)))
		if err != nil {
			t.Fatalf("reparsing %q: %v", formatNetstat(m), err)
		}
		if len(m) == 0 && len(again) == 0 {
			return
		}
		for s, names := range m {
			if len(names) == 0 {
				continue
			}
			if !reflect.DeepEqual(names, again[s]) {
				t.Fatalf("section %q: %v after round trip, was %v", s, again[s], names)
			}
		}
	})
}

func TestParseMPTCPLimits(t *testing.T) {
	s, a, err := parseMPTCPLimits("add_addr_accepted 3 subflows 4 \n")
	if err != nil || s != 4 || a != 3 {
		t.Fatalf("parseMPTCPLimits = %d, %d, %v; want 4, 3, nil", s, a, err)
	}
	for _, bad := range []string{"", "add_addr_accepted 3", "subflows 4", "add_addr_accepted x subflows 4", "add_addr_accepted 3 subflows"} {
		if _, _, err := parseMPTCPLimits(bad); err == nil {
			t.Errorf("parseMPTCPLimits(%q) = nil error", bad)
		}
	}
}

func FuzzParseMPTCPLimits(f *testing.F) {
	f.Add("add_addr_accepted 3 subflows 4")
	f.Add("subflows 0 add_addr_accepted 8")
	f.Fuzz(func(t *testing.T, s string) {
		sub, add, err := parseMPTCPLimits(s)
		if err != nil {
			return
		}
		sub2, add2, err := parseMPTCPLimits(fmt.Sprintf("add_addr_accepted %d subflows %d", add, sub))
		if err != nil || sub2 != sub || add2 != add {
			t.Fatalf("round trip of %q: %d %d %v, want %d %d", s, sub2, add2, err, sub, add)
		}
	})
}

func TestParseEndpoints(t *testing.T) {
	golden := `[{"address":"10.1.1.1","id":1,"subflow":true,"backup":true,"dev":"d0"},{"address":"fd00:1::1","id":7,"signal":true}]`
	got, err := parseEndpoints([]byte(golden))
	if err != nil {
		t.Fatal(err)
	}
	want := []Endpoint{
		{Addr: netip.MustParseAddr("10.1.1.1"), ID: 1, Dev: "d0", Flags: []string{"subflow", "backup"}},
		{Addr: netip.MustParseAddr("fd00:1::1"), ID: 7, Flags: []string{"signal"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseEndpoints = %+v, want %+v", got, want)
	}
	if eps, err := parseEndpoints([]byte("[]")); err != nil || len(eps) != 0 {
		t.Errorf("parseEndpoints([]) = %v, %v", eps, err)
	}
	for _, bad := range []string{"", "[", `[{"address":"nope"}]`, `[{"id":1}]`, golden[:40]} {
		if _, err := parseEndpoints([]byte(bad)); err == nil {
			t.Errorf("parseEndpoints(%q) = nil error", bad)
		}
	}
}

func TestLossThreshold(t *testing.T) {
	for _, c := range []struct {
		pct  float64
		want uint64
	}{{0, 0}, {50, 1 << 31}, {100, 1 << 32}, {25, 1 << 30}} {
		got, err := lossThreshold(c.pct)
		if err != nil || got != c.want {
			t.Errorf("lossThreshold(%v) = %d, %v; want %d", c.pct, got, err, c.want)
		}
	}
	for _, bad := range []float64{-1, 100.5} {
		if _, err := lossThreshold(bad); err == nil {
			t.Errorf("lossThreshold(%v) = nil error", bad)
		}
	}
}

func TestTbfBurst(t *testing.T) {
	for _, c := range []struct{ mbit, mtu, want int }{
		{50, 1500, 32 << 10},     // floor
		{50, 9000, 4 * 9014},     // four jumbo frames
		{10000, 9000, 2_500_000}, // 2 ms at 10 Gbit/s
	} {
		if got := tbfBurst(c.mbit, c.mtu); got != c.want {
			t.Errorf("tbfBurst(%d, %d) = %d, want %d", c.mbit, c.mtu, got, c.want)
		}
	}
}

func TestPathAddrs(t *testing.T) {
	p := pathAddrs(3, true)
	for _, c := range []struct{ got, want string }{
		{p.OurAddr.String(), "10.103.0.1"},
		{p.PeerAddr.String(), "10.103.0.2"},
		{p.Prefix.String(), "10.103.0.0/24"},
		{p.OurAddr6.String(), "fd00:3::1"},
		{p.PeerAddr6.String(), "fd00:3::2"},
		{p.Prefix6.String(), "fd00:3::/64"},
	} {
		if c.got != c.want {
			t.Errorf("path 3 address %s, want %s", c.got, c.want)
		}
	}
	if p := pathAddrs(0, false); p.OurAddr6.IsValid() || p.Prefix6.IsValid() || p.OurAddr.String() != "10.100.0.1" {
		t.Errorf("path 0 without IPv6: %+v", p)
	}
}

func TestConfigValidate(t *testing.T) {
	good := []Config{{Paths: 1}, {Paths: MaxPaths, RateMbit: []int{1}, LossPct: []float64{0, 100}}}
	for _, c := range good {
		if err := c.validate(); err != nil {
			t.Errorf("validate(%+v) = %v", c, err)
		}
	}
	bad := []Config{{}, {Paths: MaxPaths + 1}, {Paths: 1, RateMbit: []int{1, 2}}, {Paths: 1, LossPct: []float64{101}}, {Paths: 1, Tag: "a b"}}
	for _, c := range bad {
		if err := c.validate(); err == nil {
			t.Errorf("validate(%+v) = nil error", c)
		}
	}
	if _, err := NewTopology(Config{}); err == nil {
		t.Error("NewTopology with 0 paths succeeded")
	}
}

func TestParseLinkStats(t *testing.T) {
	golden := `[{"ifindex":3,"ifname":"d0","mtu":1500,"stats64":{"rx":{"bytes":1000,"packets":10,"errors":1,"dropped":2,"over_errors":0,"multicast":0},"tx":{"bytes":2000,"packets":20,"errors":3,"dropped":4,"carrier_errors":0,"collisions":0}}}]`
	got, err := parseLinkStats([]byte(golden))
	if err != nil {
		t.Fatal(err)
	}
	want := LinkStats{RxPackets: 10, RxBytes: 1000, RxErrors: 1, RxDropped: 2, TxPackets: 20, TxBytes: 2000, TxErrors: 3, TxDropped: 4}
	if got != want {
		t.Fatalf("parseLinkStats = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "[]", `[{"ifindex":3}]`, golden[:60]} {
		if _, err := parseLinkStats([]byte(bad)); err == nil {
			t.Errorf("parseLinkStats(%q) = nil error", bad)
		}
	}
}

// endpointsJSON writes endpoints as `ip -j mptcp endpoint show` does.
func endpointsJSON(eps []Endpoint) []byte {
	raw := make([]map[string]any, 0, len(eps))
	for _, e := range eps {
		m := map[string]any{"address": e.Addr.String(), "id": e.ID}
		if e.Dev != "" {
			m["dev"] = e.Dev
		}
		for _, f := range e.Flags {
			m[f] = true
		}
		raw = append(raw, m)
	}
	b, err := json.Marshal(raw)
	if err != nil {
		panic(err)
	}
	return b
}

func FuzzParseEndpoints(f *testing.F) {
	f.Add([]byte(`[{"address":"10.1.1.1","id":1,"subflow":true,"backup":true,"dev":"d0"},{"address":"fd00:1::1","id":7,"signal":true,"fullmesh":true}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		eps, err := parseEndpoints(data)
		if err != nil {
			return
		}
		again, err := parseEndpoints(endpointsJSON(eps))
		if err != nil {
			t.Fatalf("reparse of %s: %v", endpointsJSON(eps), err)
		}
		if len(eps) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(eps, again) {
			t.Fatalf("round trip: %+v became %+v", eps, again)
		}
	})
}

func FuzzParseLinkJSON(f *testing.F) {
	f.Add([]byte(`[{"ifindex":7,"ifname":"p0","mtu":9000,"address":"6a:5f:1e:00:aa:01","stats64":{"rx":{"bytes":1,"packets":2,"errors":3,"dropped":4},"tx":{"bytes":5,"packets":6,"errors":7,"dropped":8}}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if l, err := parseLinkJSON(data); err == nil {
			b, _ := json.Marshal([]linkInfo{l})
			again, err := parseLinkJSON(b)
			if err != nil || again != l {
				t.Fatalf("link round trip: %+v became %+v, %v", l, again, err)
			}
		}
		if s, err := parseLinkStats(data); err == nil {
			b := fmt.Sprintf(`[{"stats64":{"rx":{"bytes":%d,"packets":%d,"errors":%d,"dropped":%d},"tx":{"bytes":%d,"packets":%d,"errors":%d,"dropped":%d}}}]`,
				s.RxBytes, s.RxPackets, s.RxErrors, s.RxDropped, s.TxBytes, s.TxPackets, s.TxErrors, s.TxDropped)
			again, err := parseLinkStats([]byte(b))
			if err != nil || again != s {
				t.Fatalf("stats round trip: %+v became %+v, %v", s, again, err)
			}
		}
	})
}
