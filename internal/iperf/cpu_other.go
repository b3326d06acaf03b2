//go:build !linux

package iperf

import "time"

type cpuClock struct{ user, sys time.Duration }

func readCPU() cpuClock { return cpuClock{} }
