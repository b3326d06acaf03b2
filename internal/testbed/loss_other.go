//go:build !linux

package testbed

import "errors"

type lossProg struct{}

// SetLoss drops packets leaving v at random; it needs Linux (TCX BPF).
func SetLoss(v Veth, pct float64) error {
	return errors.New("testbed: SetLoss needs Linux TCX BPF programs")
}

// LossCounters returns the loss program's counters; it needs Linux.
func LossCounters(v Veth) (LossStats, error) {
	return LossStats{}, errors.New("testbed: LossCounters needs Linux TCX BPF programs")
}

func (n *NS) closeLoss() error { return nil }
