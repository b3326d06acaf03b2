package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// options are the demo's flags.
type options struct {
	bin         string        // directory with mptcp-server and mptcp-bench; "" builds them
	duration    time.Duration // length of the client's test
	removeAfter time.Duration // when path 1 goes, from the start of the test
	reverse     bool          // the server sends (mptcp-bench -R)
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "", "directory holding the mptcp-server and mptcp-bench binaries (default: build them with `go build` into a temporary directory)")
	flag.DurationVar(&o.duration, "t", 8*time.Second, "length of the transfer")
	flag.DurationVar(&o.removeAfter, "remove-after", 4*time.Second, "remove path 1 this long after the transfer starts")
	flag.BoolVar(&o.reverse, "R", false, "reverse: mptcp-server sends and the kernel client receives (our stack then reinjects what was in flight on path 1)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "demo: unexpected argument %q (see -h)\n", flag.Arg(0))
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo: FAILED:", err)
		os.Exit(1)
	}
}

// binaries returns the paths of mptcp-server and mptcp-bench: from dir,
// or built into a temporary directory that cleanup removes.
func binaries(dir string, out io.Writer) (server, bench string, cleanup func(), err error) {
	cleanup = func() {}
	if dir != "" {
		server, bench = filepath.Join(dir, "mptcp-server"), filepath.Join(dir, "mptcp-bench")
		for _, p := range []string{server, bench} {
			if _, err := os.Stat(p); err != nil {
				return "", "", cleanup, fmt.Errorf("-bin %s: %v: build the commands first (`make build`) or leave -bin out to build them now", dir, err)
			}
		}
		return server, bench, cleanup, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", "", cleanup, err
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", "", cleanup, errors.New("the go command is not on PATH: build the commands with `make build` and pass -bin bin")
	}
	tmp, err := os.MkdirTemp("", "mpxdp-demo-")
	if err != nil {
		return "", "", cleanup, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	fmt.Fprintln(out, "== building mptcp-server and mptcp-bench")
	cmd := exec.Command(goTool, "build", "-o", tmp+string(filepath.Separator), "./cmd/mptcp-server", "./cmd/mptcp-bench")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", "", func() {}, fmt.Errorf("go build ./cmd/mptcp-server ./cmd/mptcp-bench failed: %v\n%s", err, b)
	}
	return filepath.Join(tmp, "mptcp-server"), filepath.Join(tmp, "mptcp-bench"), cleanup, nil
}

// moduleRoot finds the directory holding go.mod, from the working
// directory up.
func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("no go.mod above the working directory: run the demo from the mpxdp repository (`make demo`), or pass -bin")
		}
		d = parent
	}
}
