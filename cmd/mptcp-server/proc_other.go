//go:build !linux

package main

import "time"

// processCPU is unknown off Linux.
func processCPU() (user, sys time.Duration) { return 0, 0 }
