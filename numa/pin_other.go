//go:build !linux

package numa

import (
	"errors"
	"fmt"
	"runtime"
)

var errPinning = fmt.Errorf("numa: CPU pinning needs Linux (sched_setaffinity), this is %s: %w", runtime.GOOS, errors.ErrUnsupported)

// PinThread would pin the calling thread to cpu; this system is not
// supported and it returns an error wrapping errors.ErrUnsupported.
func PinThread(cpu int) error { return errPinning }

// SetThreadAffinity is not supported on this system; it returns an error
// wrapping errors.ErrUnsupported.
func SetThreadAffinity(cpus []int) error { return errPinning }

// ThreadAffinity is not supported on this system; it returns an error
// wrapping errors.ErrUnsupported.
func ThreadAffinity() ([]int, error) { return nil, errPinning }

// CurrentCPU is not supported on this system; it returns an error wrapping
// errors.ErrUnsupported.
func CurrentCPU() (int, error) { return -1, errPinning }

// CurrentNode is not supported on this system; it returns an error wrapping
// errors.ErrUnsupported.
func CurrentNode() (int, error) { return -1, errPinning }
