package netstat

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A golden /proc/net/netstat excerpt (Linux 6.x layout).
const golden = `TcpExt: SyncookiesSent SyncookiesRecv MaxConn
TcpExt: 0 2 -1
IpExt: InNoRoutes InTruncatedPkts
IpExt: 0 0
MPTcpExt: MPCapableSYNRX MPCapableSYNTX MPJoinSynRx
MPTcpExt: 12 3 4
`

func TestParseGolden(t *testing.T) {
	m, err := Parse([]byte(golden))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]uint64{
		"TcpExt":   {"SyncookiesSent": 0, "SyncookiesRecv": 2, "MaxConn": ^uint64(0)},
		"IpExt":    {"InNoRoutes": 0, "InTruncatedPkts": 0},
		"MPTcpExt": {"MPCapableSYNRX": 12, "MPCapableSYNTX": 3, "MPJoinSynRx": 4},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %v", m)
	}
}

func TestParseMergesRepeatedSections(t *testing.T) {
	m, err := Parse([]byte("Tcp: A B\nTcp: 1 2\n\nTcp: C\nTcp: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]uint64{"A": 1, "B": 2, "C": 3}; !reflect.DeepEqual(m["Tcp"], want) {
		t.Fatalf("Tcp = %v, want %v", m["Tcp"], want)
	}
}

func TestParseTruncatedAndMalformed(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(golden), "\n")
	for i := 1; i < len(lines); i += 2 {
		// Dropping the last line breaks the header/value pairing.
		if _, err := Parse([]byte(strings.Join(lines[:i], "\n"))); err == nil {
			t.Errorf("first %d lines accepted", i)
		}
	}
	for _, bad := range []string{
		"A: x y\nA: 1\n", // fewer values than names
		"A: x\nB: 1\n",   // sections differ
		"A: x\nA: z\n",   // value not a number
		"A x\nA 1\n",     // no colon
		": x\n: 1\n",     // no section name
	} {
		if _, err := Parse([]byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "netstat: ") {
			t.Errorf("Parse(%q) error %v, want a netstat: error", bad, err)
		}
	}
}

func TestReadSection(t *testing.T) {
	p := filepath.Join(t.TempDir(), "netstat")
	if err := os.WriteFile(p, []byte(golden), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := ReadSection(p, "MPTcpExt")
	if err != nil || m["MPJoinSynRx"] != 4 || len(m) != 3 {
		t.Fatalf("ReadSection: %v %v", m, err)
	}
	if _, err := ReadSection(p, "UdpLite"); err == nil || !strings.Contains(err.Error(), "no UdpLite section") {
		t.Errorf("missing section: %v", err)
	}
	if _, err := ReadSection(filepath.Join(t.TempDir(), "none"), "MPTcpExt"); err == nil {
		t.Error("missing file: no error")
	}
	if err := os.WriteFile(p, []byte("A: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSection(p, "A"); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("malformed file: %v, want an error naming %s", err, p)
	}
}

func TestReadSectionProc(t *testing.T) {
	m, err := ReadSection("/proc/net/snmp", "Tcp")
	if err != nil {
		t.Skipf("cannot read /proc/net/snmp (%v): not Linux or /proc not mounted", err)
	}
	if _, ok := m["RetransSegs"]; !ok {
		t.Fatalf("Tcp section of /proc/net/snmp lacks RetransSegs: %v", m)
	}
}

// FuzzParse: what parses prints back (one header/value pair per section)
// to text that parses to the same counters.
func FuzzParse(f *testing.F) {
	f.Add([]byte(golden))
	f.Add([]byte("A: x\nA: 1\n"))
	f.Add([]byte("A: x\nA: 1\nA: y\nA: -2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		var sb strings.Builder
		for sect, kv := range m {
			var names, vals []string
			for k, v := range kv {
				names = append(names, k)
				vals = append(vals, fmt.Sprint(v))
			}
			fmt.Fprintf(&sb, "%s: %s\n%s: %s\n", sect, strings.Join(names, " "), sect, strings.Join(vals, " "))
		}
		m2, err := Parse([]byte(sb.String()))
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip of %q: %v\n%v\n%v", b, err, m, m2)
		}
	})
}
