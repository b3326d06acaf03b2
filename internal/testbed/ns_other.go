//go:build !linux

package testbed

import (
	"errors"
	"os/exec"
)

// Do runs fn inside the namespace; network namespaces exist only on Linux.
func (n *NS) Do(fn func() error) error {
	return errors.New("testbed: NS.Do needs Linux network namespaces")
}

func setProcAttrs(cmd *exec.Cmd) {}

func startCmd(cmd *exec.Cmd) error { return cmd.Start() }

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

func (n *NS) do(fn func() error) error { return n.Do(fn) }
