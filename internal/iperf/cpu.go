package iperf

import "time"

// cpuPercent returns total, user and system CPU use between a and b over
// wall time w, in percent.
func cpuPercent(a, b cpuClock, w time.Duration) (total, user, sys float64) {
	if w <= 0 {
		return 0, 0, 0
	}
	user = float64(b.user-a.user) / float64(w) * 100
	sys = float64(b.sys-a.sys) / float64(w) * 100
	return user + sys, user, sys
}
