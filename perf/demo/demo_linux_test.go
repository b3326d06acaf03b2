package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

// The demo program as `make demo` runs it (built, with built commands):
// exit 0, and the server's view and the client's table show two subflows,
// then one.
func TestDemo(t *testing.T) {
	testbed.Require(t)
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command on PATH to build the demo and the commands")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	build := exec.Command(goTool, "build", "-o", bin+string(filepath.Separator), "./cmd/mptcp-server", "./cmd/mptcp-bench", "./perf/demo")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, filepath.Join(bin, "demo"), "-bin", bin, "-t", "6s", "-remove-after", "3s").CombinedOutput()
	text := string(out)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, text)
	}
	two := strings.Index(text, "2 open subflow(s)")
	one := strings.Index(text, "1 open subflow(s)")
	if two < 0 || one < two {
		t.Errorf("the server's view does not go from 2 open subflows to 1 (at %d, %d)", two, one)
	}
	// The client's table: a line per subflow on both interfaces, then only
	// path 0's.
	last1 := strings.LastIndex(text, "] peer1 ")
	last0 := strings.LastIndex(text, "] peer0 ")
	if !strings.Contains(text, "] peer1 ") || last0 < last1 {
		t.Errorf("client table: no peer1 subflow line, or none for peer0 after the last peer1 line")
	}
	for _, want := range []string{"ip mptcp endpoint delete", "the connection survived losing a path", "exit 0; no XDP program left", "testbed removed"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", text)
	}
	t.Logf("demo ran in %v", time.Since(start).Round(time.Millisecond))
}
