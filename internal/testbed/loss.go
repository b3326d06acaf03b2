package testbed

import (
	"fmt"
	"math"
)

// LossStats counts the packets a loss program saw on one egress.
type LossStats struct {
	Passed  uint64 // packets let through
	Dropped uint64 // packets dropped at random
}

// lossThreshold turns a loss percentage into the 33-bit threshold that a
// 32-bit random number is compared with (drop when random < threshold).
func lossThreshold(pct float64) (uint64, error) {
	if math.IsNaN(pct) || pct < 0 || pct > 100 {
		return 0, fmt.Errorf("testbed: loss %v%% is out of range: use 0..100", pct)
	}
	return uint64(math.Round(pct / 100 * (1 << 32))), nil
}
