package mptcp

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestCounterNames(t *testing.T) {
	seen := map[string]bool{}
	for c := Counter(0); c < NumCounters; c++ {
		n := c.Name()
		if !strings.HasPrefix(n, "MPTcpExt") || len(n) <= len("MPTcpExt") {
			t.Fatalf("counter %d has name %q", c, n)
		}
		if seen[n] {
			t.Fatalf("duplicate counter name %q", n)
		}
		seen[n] = true
		if got, ok := CounterByName(n); !ok || got != c {
			t.Fatalf("CounterByName(%q) = %d %v", n, got, ok)
		}
	}
	if MibMPCapableSYNRX.Name() != "MPTcpExtMPCapableSYNRX" || MibDSSNotMatching.String() != "MPTcpExtDSSNotMatching" {
		t.Fatal("well-known names wrong")
	}
	if MibWinProbe != NumCounters-1 || NumCounters.Name() != "" {
		t.Fatal("list end wrong")
	}
	if _, ok := CounterByName("MPTcpExtNoSuchThing"); ok {
		t.Fatal("CounterByName found a name that does not exist")
	}
}

// TestCounterNamesMatchKernel compares our list with the running kernel's,
// when it has MPTCP. A newer kernel may add counters at the end.
func TestCounterNamesMatchKernel(t *testing.T) {
	b, err := os.ReadFile("/proc/net/netstat")
	if err != nil {
		t.Skipf("cannot read /proc/net/netstat (%v): not Linux or /proc not mounted", err)
	}
	var kernel []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "MPTcpExt:") {
			kernel = strings.Fields(line)[1:]
			break
		}
	}
	if len(kernel) == 0 {
		t.Skip("the kernel has no MPTcpExt counters (CONFIG_MPTCP off)")
	}
	for i, name := range kernel {
		if i >= int(NumCounters) {
			t.Logf("kernel counter %q (newer kernel) is not in our list", name)
			continue
		}
		if Counter(i).Name() != "MPTcpExt"+name {
			t.Errorf("counter %d: ours %q, kernel %q", i, Counter(i).Name(), "MPTcpExt"+name)
		}
	}
}

func TestMIBSnapshotSumsWorkers(t *testing.T) {
	m := NewMIB(3)
	m.Worker(0).Inc(MibMPCapableSYNRX)
	m.Worker(1).Inc(MibMPCapableSYNRX)
	m.Worker(2).Add(MibRmAddr, 5)
	m.Worker(1).Inc(MibMPCurrEstab)
	m.Worker(2).Dec(MibMPCurrEstab) // closed on another worker
	m.Worker(0).Inc(MibMPCurrEstab)
	m.IncControl(MibMPJoinNoTokenFound, 2)
	s := m.Snapshot()
	if s.Get(MibMPCapableSYNRX) != 2 || s.Get(MibRmAddr) != 5 || s.Get(MibMPCurrEstab) != 1 || s.Get(MibMPJoinNoTokenFound) != 2 {
		t.Fatalf("snapshot wrong: syn %d rm %d estab %d notoken %d", s[MibMPCapableSYNRX], s[MibRmAddr], s[MibMPCurrEstab], s[MibMPJoinNoTokenFound])
	}
	if m.Workers() != 3 || m.Worker(2).Get(MibRmAddr) != 5 {
		t.Fatal("worker accessors wrong")
	}
	m.Worker(0).Inc(MibMPCapableSYNRX)
	s2 := m.Snapshot()
	d := s2.Sub(&s)
	for c := Counter(0); c < NumCounters; c++ {
		want := uint64(0)
		if c == MibMPCapableSYNRX {
			want = 1
		}
		if d[c] != want {
			t.Fatalf("delta of %s = %d, want %d", c, d[c], want)
		}
	}
}

func TestWriteNstat(t *testing.T) {
	var s Snapshot
	s[MibMPCapableSYNRX] = 3
	s[MibDataCsumErr] = 12345678901
	var buf bytes.Buffer
	if err := s.WriteNstat(&buf); err != nil {
		t.Fatal(err)
	}
	want := "#kernel\n" +
		"MPTcpExtMPCapableSYNRX          3                  0.0\n" +
		"MPTcpExtDataCsumErr             12345678901        0.0\n"
	if buf.String() != want {
		t.Fatalf("WriteNstat:\n%q\nwant\n%q", buf.String(), want)
	}
	buf.Reset()
	if err := s.WriteNstatAll(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != int(NumCounters)+1 {
		t.Fatalf("WriteNstatAll wrote %d lines, want %d", len(lines), NumCounters+1)
	}
	// Same shape as `nstat -az` (name in 32 columns, value in 16, rate).
	re := regexp.MustCompile(`^MPTcpExt[A-Za-z0-9]+ +[0-9]+ +0\.0$`)
	for _, l := range lines[1:] {
		if !re.MatchString(l) || len(l) != 32+16+6 {
			t.Fatalf("line %q does not look like nstat output", l)
		}
	}
}

func TestCountersNoAllocs(t *testing.T) {
	m := NewMIB(1)
	w := m.Worker(0)
	if n := testing.AllocsPerRun(100, func() { w.Inc(MibDuplicateData); w.Add(MibRmAddrTx, 2) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func TestMapStatusString(t *testing.T) {
	want := map[MapStatus]string{MapOK: "ok", MapInvalid: "invalid", MapEmpty: "empty", MapDataFin: "data-fin",
		MapDummy: "dummy", MapBadChecksum: "bad-checksum", MapNoDSS: "no-dss", MapDuplicate: "duplicate", 99: "MapStatus(99)"}
	for s, w := range want {
		if s.String() != w {
			t.Errorf("%d.String() = %q, want %q", s, s.String(), w)
		}
	}
}

func BenchmarkCountersInc(b *testing.B) {
	w := NewMIB(1).Worker(0)
	b.ReportAllocs()
	for b.Loop() {
		w.Inc(MibOFOQueue)
	}
}
