package iperf

import (
	"syscall"
	"time"
)

// cpuClock is the process's user and system CPU time.
type cpuClock struct{ user, sys time.Duration }

func readCPU() cpuClock {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return cpuClock{}
	}
	return cpuClock{time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())}
}
