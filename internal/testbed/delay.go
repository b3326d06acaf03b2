package testbed

import (
	"fmt"
	"sync/atomic"
	"time"
)

// DelayOpts configures a Forwarder's delay line, the same in each direction.
type DelayOpts struct {
	Delay  time.Duration // one-way delay added to every frame
	Jitter time.Duration // extra delay drawn uniformly from [0, Jitter); frame order is kept
	// ReorderPct sends this percentage of frames at once, so they overtake
	// the delayed frames queued before them (needs Delay or Jitter).
	ReorderPct float64
	// DupPct sends this percentage of frames twice.
	DupPct float64
	Limit  int // frames queued per direction before new ones are dropped; 0 means 10000
}

// defaultDelayLimit is DelayOpts.Limit when zero.
const defaultDelayLimit = 10000

func (o DelayOpts) validate() error {
	if o.Delay < 0 || o.Jitter < 0 || o.Delay > 10*time.Second || o.Jitter > 10*time.Second {
		return fmt.Errorf("testbed: delay %v jitter %v out of range: use 0..10s", o.Delay, o.Jitter)
	}
	if _, err := lossThreshold(o.ReorderPct); err != nil {
		return fmt.Errorf("testbed: reorder: %w", err)
	}
	if _, err := lossThreshold(o.DupPct); err != nil {
		return fmt.Errorf("testbed: duplicate: %w", err)
	}
	if o.Limit < 0 || o.Limit > 1<<20 {
		return fmt.Errorf("testbed: delay queue limit %d out of range: use 0 (default %d) .. %d", o.Limit, defaultDelayLimit, 1<<20)
	}
	return nil
}

// ForwarderStats counts frames in one direction of a Forwarder.
type ForwarderStats struct {
	Forwarded  uint64 // frames sent on (duplicates included)
	Dropped    uint64 // frames dropped: queue full, or the send failed (e.g. larger than the MTU)
	Reordered  uint64 // frames sent at once, overtaking delayed ones
	Duplicated uint64 // extra copies made
}

// dirStats are the live counters behind ForwarderStats.
type dirStats struct{ forwarded, dropped, reordered, duplicated atomic.Uint64 }

func (d *dirStats) snapshot() ForwarderStats {
	return ForwarderStats{
		Forwarded:  d.forwarded.Load(),
		Dropped:    d.dropped.Load(),
		Reordered:  d.reordered.Load(),
		Duplicated: d.duplicated.Load(),
	}
}
