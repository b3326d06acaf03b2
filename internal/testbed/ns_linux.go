package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Do runs fn on a fresh OS thread that has joined the namespace, and
// returns fn's error. The thread stays locked to fn's goroutine and is
// terminated when fn returns, so the namespace never leaks to other
// goroutines. Only the network namespace changes: the mount namespace (and
// so /sys) is still the caller's. A panic in fn is re-raised in the caller.
// Sockets opened inside fn stay in the namespace after Do returns. Do not
// call Start inside fn: the process would be killed with the thread.
func (n *NS) Do(fn func() error) error {
	if n.isClosed() {
		return errClosed
	}
	return n.do(fn)
}

// do is Do without the closed check (callers may hold n.mu).
func (n *NS) do(fn func() error) error {
	path := filepath.Join(netnsDir, n.Name)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("testbed: opening namespace %s failed (does `ip netns list` show it?): %w", n.Name, err)
	}
	defer f.Close()
	fd := int(f.Fd())

	type result struct {
		err      error
		panicked bool
		val      any
	}
	done := make(chan result, 1)
	go func() {
		// Never unlocked: when this goroutine exits the runtime terminates
		// the thread instead of returning it (in the namespace) to the pool.
		runtime.LockOSThread()
		r := result{err: fmt.Errorf("testbed: function run in %s called runtime.Goexit (t.FailNow inside NS.Do?)", n.Name)}
		defer func() {
			if v := recover(); v != nil {
				r = result{panicked: true, val: v}
			}
			done <- r
		}()
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			r.err = fmt.Errorf("testbed: setns into %s failed (needs CAP_SYS_ADMIN): %w", n.Name, err)
			return
		}
		r.err = fn()
	}()
	r := <-done
	if r.panicked {
		panic(r.val)
	}
	return r.err
}

// setProcAttrs puts a started process in its own process group and kills it
// if the thread that started it dies (see startCmd: that thread lives as
// long as the test process, so the child dies with the process).
func setProcAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// spawner is a goroutine locked to its OS thread for the life of the
// process. The kernel's parent-death signal follows the *thread* that forked
// a child, and Do retires the threads it runs on, so a child forked from an
// arbitrary thread could be killed when a later Do happens to lock and retire
// that thread. Forking from the spawner's thread avoids that.
var spawner struct {
	once sync.Once
	reqs chan func()
}

// startCmd starts cmd from the spawner thread.
func startCmd(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: this thread never retires
			for f := range spawner.reqs {
				f()
			}
		}()
	})
	errc := make(chan error, 1)
	spawner.reqs <- func() { errc <- cmd.Start() }
	return <-errc
}

// killGroup kills the process group of a process started with setProcAttrs.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
