//go:build !linux

package stack

import (
	"errors"
	"fmt"
)

// New opens AF_XDP sockets on cfg.Interfaces and starts a stack on them.
// AF_XDP exists only on Linux; use NewLinks elsewhere.
func New(cfg Config) (*Stack, error) {
	return nil, fmt.Errorf("stack: AF_XDP needs Linux: %w (use NewLinks with your own link.Queue)", errors.ErrUnsupported)
}
