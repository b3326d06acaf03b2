package stack

import "syscall"

// procUsage returns the process's CPU time (user plus system, in seconds)
// and its context switches (voluntary plus involuntary, all threads), for
// benchmarks that report what a transfer cost besides its duration.
func procUsage() (cpu float64, switches int64, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, false
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime), ru.Nvcsw + ru.Nivcsw, true
}
