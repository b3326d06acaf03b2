package testbed

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// NSPrefix starts the name of every namespace this package creates.
const NSPrefix = "mpx-"

// netnsDir is where `ip netns` keeps its named namespaces.
const netnsDir = "/var/run/netns"

var nsCounter atomic.Uint64

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]{0,31})$`)

// nsName returns a fresh name "mpx-<tag>-<pid>-<n>".
func nsName(tag string) string {
	return fmt.Sprintf("%s%s-%d-%d", NSPrefix, tag, os.Getpid(), nsCounter.Add(1))
}

// NS is a network namespace this run created, named "mpx-<tag>-<pid>-<n>".
// Its loopback interface is up. Close deletes it.
type NS struct {
	// Name is the namespace name as `ip netns list` shows it.
	Name string

	mu      sync.Mutex
	procs   []*exec.Cmd
	loss    map[string]*lossProg // loss programs by interface name and direction
	closers []io.Closer          // closed first by Close (forwarders)
	closed  bool
}

// NewNS creates a network namespace named "mpx-<tag>-<pid>-<n>" and brings
// its loopback interface up. tag is 1 to 32 characters of letters, digits,
// '_' and '-'. Callers register Close with t.Cleanup.
func NewNS(tag string) (*NS, error) {
	if !tagRE.MatchString(tag) {
		return nil, fmt.Errorf("testbed: namespace tag %q is invalid: use 1-32 letters, digits, '_' or '-'", tag)
	}
	if err := Available(); err != nil {
		return nil, err
	}
	n := &NS{Name: nsName(tag)}
	if _, err := run("ip", "netns", "add", n.Name); err != nil {
		return nil, err
	}
	if _, err := run("ip", "-n", n.Name, "link", "set", "dev", "lo", "up"); err != nil {
		_, _ = run("ip", "netns", "del", n.Name)
		return nil, err
	}
	return n, nil
}

// String returns the namespace name.
func (n *NS) String() string { return n.Name }

// Exec runs `ip netns exec NAME name args...` and returns its combined
// output. The error includes the command line and its output.
func (n *NS) Exec(name string, args ...string) ([]byte, error) {
	if n.isClosed() {
		return nil, errClosed
	}
	if !strings.Contains(name, "/") {
		if _, err := lookTool(name); err != nil {
			return nil, err
		}
	}
	return run("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// ip runs `ip -n NAME args...`.
func (n *NS) ip(args ...string) ([]byte, error) {
	if n.isClosed() {
		return nil, errClosed
	}
	return run("ip", append([]string{"-n", n.Name}, args...)...)
}

// Command returns an unstarted `ip netns exec NAME name args...` command
// for the caller to configure (Stdout, Stderr, Env) and start with StartCmd. It runs in
// its own process group; Close kills the group and reaps the process unless
// the caller already waited for it. Do not call Wait concurrently with Close.
func (n *NS) Command(name string, args ...string) (*exec.Cmd, error) {
	if _, err := lookTool("ip"); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, errClosed
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
	setProcAttrs(cmd)
	n.procs = append(n.procs, cmd)
	return cmd, nil
}

// Start starts `name args...` in the background inside the namespace (via
// `ip netns exec`), with output discarded, and returns the running command.
// Close kills it (and whatever it forked) as described for Command.
func (n *NS) Start(name string, args ...string) (*exec.Cmd, error) {
	cmd, err := n.Command(name, args...)
	if err != nil {
		return nil, err
	}
	if err := n.StartCmd(cmd); err != nil {
		return nil, err
	}
	return cmd, nil
}

// StartCmd starts a command made by Command. Start it this way rather than
// with cmd.Start: the process gets a parent-death signal tied to the thread
// that forks it, and StartCmd forks from a thread that lives as long as the
// test process (cmd.Start from an arbitrary goroutine may fork from a thread
// that a later Do retires, killing the child).
func (n *NS) StartCmd(cmd *exec.Cmd) error {
	if err := startCmd(cmd); err != nil {
		return fmt.Errorf("testbed: starting `%s` in %s failed: %w", strings.Join(cmd.Args, " "), n.Name, err)
	}
	return nil
}

// Sysctl sets the sysctl key (e.g. "net.ipv4.ip_forward") to value inside
// the namespace.
func (n *NS) Sysctl(key, value string) error {
	if key == "" || strings.ContainsAny(key, "= \t\n") {
		return fmt.Errorf("testbed: sysctl key %q is invalid: use a dotted name such as net.ipv4.ip_forward", key)
	}
	_, err := n.Exec("sysctl", "-q", "-w", key+"="+value)
	return err
}

func (n *NS) isClosed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

// Close kills the processes started with Start (and any other process still
// inside the namespace), then deletes the namespace, which also destroys its
// interfaces and their veth peers. Sockets opened inside Do keep the
// namespace (and its interfaces) alive until they are closed, so close them
// first. Closing twice is a no-op.
func (n *NS) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	procs := n.procs
	n.procs = nil
	closers := n.closers
	n.closers = nil
	lossErr := n.closeLoss()
	n.mu.Unlock()

	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		errs = append(errs, closers[i].Close())
	}

	for _, c := range procs {
		killGroup(c)
	}
	for _, c := range procs {
		if c.Process != nil && c.ProcessState == nil {
			_ = c.Wait()
		}
	}
	killNSPids(n.Name)
	errs = append(errs, deleteNS(n.Name), lossErr)
	return errors.Join(errs...)
}

// addCloser registers c to be closed by Close (before the namespace goes).
func (n *NS) addCloser(c io.Closer) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errClosed
	}
	n.closers = append(n.closers, c)
	return nil
}

// killNSPids kills every process still inside the named namespace.
func killNSPids(name string) {
	out, err := run("ip", "netns", "pids", name)
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 1 || pid == os.Getpid() {
			continue
		}
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
	}
}

// deleteNS deletes the named namespace, retrying briefly while it is busy.
func deleteNS(name string) error {
	var err error
	for i := 0; i < 20; i++ {
		if _, err = run("ip", "netns", "del", name); err == nil {
			return nil
		}
		if _, statErr := os.Stat(netnsDir + "/" + name); os.IsNotExist(statErr) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("testbed: deleting namespace %s failed (remove it with `ip netns del %s`): %w", name, name, err)
}
