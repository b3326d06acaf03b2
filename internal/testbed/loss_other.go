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

// SetIngressLoss drops packets arriving at v at random; it needs Linux.
func SetIngressLoss(v Veth, pct float64) error {
	return errors.New("testbed: SetIngressLoss needs Linux TCX BPF programs")
}

// IngressLossCounters returns the ingress loss counters; it needs Linux.
func IngressLossCounters(v Veth) (LossStats, error) {
	return LossStats{}, errors.New("testbed: IngressLossCounters needs Linux TCX BPF programs")
}
