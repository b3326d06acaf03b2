//go:build !linux

package testbed

import (
	"errors"
	"time"
)

// Forwarder is a user-space link emulator; it needs Linux packet sockets.
type Forwarder struct{ A, B Veth }

// NewForwarder needs Linux packet sockets.
func NewForwarder(a, b Veth, o DelayOpts) (*Forwarder, error) {
	return nil, errors.New("testbed: NewForwarder needs Linux AF_PACKET sockets")
}

// SetDelay changes the delay; unsupported here.
func (f *Forwarder) SetDelay(delay, jitter time.Duration) {}

// Stats returns zero counters; unsupported here.
func (f *Forwarder) Stats() (aToB, bToA ForwarderStats) { return }

// Close does nothing here.
func (f *Forwarder) Close() error { return nil }

// Update changes the emulation; unsupported here.
func (f *Forwarder) Update(o DelayOpts) error {
	return errors.New("testbed: Forwarder needs Linux AF_PACKET sockets")
}
