//go:build !linux

package stack

// procUsage is not available on this system.
func procUsage() (cpu float64, switches int64, ok bool) { return 0, 0, false }
