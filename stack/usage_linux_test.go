package stack

import "syscall"

// procUsage returns the process's CPU time (user plus system, in seconds)
// and its voluntary context switches (all threads: a thread blocked, which
// is what the stack's sleeping and waking costs; involuntary ones come from
// other load), for benchmarks that report what a transfer cost besides its
// duration.
func procUsage() (cpu float64, switches int64, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, false
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime), ru.Nvcsw, true
}
