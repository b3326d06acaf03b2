package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// cmdTimeout bounds every command the package runs, so a hung tool cannot
// hang a test run.
const cmdTimeout = 30 * time.Second

// toolHint tells the user how to get a missing tool.
var toolHint = map[string]string{
	"ip":      "apt-get install -y iproute2",
	"tc":      "apt-get install -y iproute2",
	"ethtool": "apt-get install -y ethtool",
	"sysctl":  "apt-get install -y procps",
	"ping":    "apt-get install -y iputils-ping",
}

// lookTool finds a tool in PATH and says how to install it when missing.
func lookTool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		hint := toolHint[name]
		if hint == "" {
			return "", fmt.Errorf("testbed: %q not found in PATH: install it", name)
		}
		return "", fmt.Errorf("testbed: %q not found in PATH: %s", name, hint)
	}
	return p, nil
}

// run executes name with args (bounded by cmdTimeout) and returns its
// combined output. The error names the command and quotes its output.
func run(name string, args ...string) ([]byte, error) {
	if _, err := lookTool(name); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %v", cmdTimeout)
		}
		return out.Bytes(), &CmdError{Args: append([]string{name}, args...), Output: out.String(), Err: err}
	}
	return out.Bytes(), nil
}

// CmdError is returned when a command run by the testbed fails. It carries
// the full command line and its combined output.
type CmdError struct {
	Args   []string // the command line, program first
	Output string   // combined stdout and stderr
	Err    error    // the exit status or start error
}

// Error implements error: the command, how it failed, and what it printed.
func (e *CmdError) Error() string {
	out := strings.TrimSpace(e.Output)
	if len(out) > 2000 {
		out = out[:2000] + "..."
	}
	if out == "" {
		out = "(no output)"
	}
	return fmt.Sprintf("testbed: `%s` failed: %v: %s", strings.Join(e.Args, " "), e.Err, out)
}

// Unwrap returns the underlying exit or start error.
func (e *CmdError) Unwrap() error { return e.Err }

var (
	availOnce sync.Once
	availErr  error
)

// Available reports whether this process can build testbeds: it must be
// root on Linux, find `ip` in PATH, and be able to create (and delete) a
// network namespace. It returns nil when usable, otherwise an error that
// says which requirement failed. The result is computed once per process.
func Available() error {
	availOnce.Do(func() { availErr = probe() })
	return availErr
}

func probe() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("testbed: needs Linux network namespaces (running on %s)", runtime.GOOS)
	}
	if uid := os.Geteuid(); uid != 0 {
		return fmt.Errorf("testbed: needs root (CAP_NET_ADMIN) to create network namespaces: running as uid %d", uid)
	}
	if _, err := lookTool("ip"); err != nil {
		return err
	}
	name := nsName("probe")
	if _, err := run("ip", "netns", "add", name); err != nil {
		return fmt.Errorf("testbed: cannot create network namespaces (is this a container without CAP_SYS_ADMIN?): %w", err)
	}
	if _, err := run("ip", "netns", "del", name); err != nil {
		return fmt.Errorf("testbed: cannot delete probe namespace %s (remove it with `ip netns del %s`): %w", name, name, err)
	}
	return nil
}

// Require skips tb unless the process is root, `ip` exists and network
// namespaces can be made; the skip message says which requirement failed.
func Require(tb testing.TB) {
	tb.Helper()
	if err := Available(); err != nil {
		tb.Skip(err.Error())
	}
}

// RequireTools skips tb unless every named tool is in PATH; the skip says
// which is missing and how to install it.
func RequireTools(tb testing.TB, names ...string) {
	tb.Helper()
	for _, name := range names {
		if _, err := lookTool(name); err != nil {
			tb.Skip(err.Error())
		}
	}
}

// errClosed is returned by methods of a namespace that was already closed.
var errClosed = errors.New("testbed: namespace already closed")
