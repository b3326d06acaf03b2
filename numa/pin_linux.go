//go:build linux

package numa

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// minMaskCPUs is the size of the first affinity mask tried; the kernel
// needs a mask at least as large as its nr_cpu_ids.
const minMaskCPUs = 1024

// PinThread locks the calling goroutine to its OS thread
// (runtime.LockOSThread) and restricts that thread to CPU cpu
// (sched_setaffinity). The caller must keep the goroutine locked for as long
// as the pinning should hold: calling runtime.UnlockOSThread lets the
// goroutine move to other, unpinned threads and leaves this thread pinned
// for whatever goroutine runs on it next. A worker goroutine that pins
// itself and never unlocks is the intended use; when such a goroutine
// exits, the runtime discards its thread.
//
// Each successful call adds one runtime.LockOSThread (they nest), so a
// goroutine may re-pin itself to another CPU by calling PinThread again.
// On failure the goroutine's lock count is restored and the thread's
// affinity is unchanged.
func PinThread(cpu int) error {
	if cpu < 0 || cpu > MaxCPU {
		return fmt.Errorf("numa: cannot pin to CPU %d: CPU numbers run from 0 to %d", cpu, MaxCPU)
	}
	runtime.LockOSThread()
	set := unix.NewCPUSet(max(cpu+1, minMaskCPUs))
	set.Set(cpu)
	if err := unix.SchedSetaffinityDynamic(0, set); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("numa: pinning the thread to CPU %d: %w (is the CPU online and in this process's allowed set? check with `taskset -pc $PID`)", cpu, err)
	}
	return nil
}

// SetThreadAffinity restricts the calling OS thread to cpus (sched_setaffinity
// with several CPUs). Unlike PinThread it does not lock the goroutine to the
// thread: call runtime.LockOSThread first, or the setting applies to
// whichever goroutines the thread runs. It is meant for restoring a mask
// obtained from ThreadAffinity.
func SetThreadAffinity(cpus []int) error {
	if len(cpus) == 0 {
		return fmt.Errorf("numa: cannot set an empty CPU affinity: pass at least one CPU")
	}
	hi := 0
	for _, c := range cpus {
		if c < 0 || c > MaxCPU {
			return fmt.Errorf("numa: cannot set affinity to CPU %d: CPU numbers run from 0 to %d", c, MaxCPU)
		}
		hi = max(hi, c)
	}
	set := unix.NewCPUSet(max(hi+1, minMaskCPUs))
	for _, c := range cpus {
		set.Set(c)
	}
	if err := unix.SchedSetaffinityDynamic(0, set); err != nil {
		return fmt.Errorf("numa: setting the thread's CPU affinity to %s: %w (are the CPUs online and allowed?)", FormatCPUList(cpus), err)
	}
	return nil
}

// ThreadAffinity returns the CPUs the calling OS thread may run on
// (sched_getaffinity), ascending. Without runtime.LockOSThread the answer is
// about whichever thread the goroutine happened to run on.
func ThreadAffinity() ([]int, error) {
	for n := minMaskCPUs; n <= MaxCPU+1; n *= 2 {
		set := unix.NewCPUSet(n)
		err := unix.SchedGetaffinityDynamic(0, set)
		if errors.Is(err, unix.EINVAL) {
			continue // the kernel's mask is larger than n CPUs
		}
		if err != nil {
			return nil, fmt.Errorf("numa: reading the thread's CPU affinity: %w", err)
		}
		cpus := make([]int, 0, set.Count())
		for c := 0; c < n; c++ {
			if set.IsSet(c) {
				cpus = append(cpus, c)
			}
		}
		return cpus, nil
	}
	return nil, fmt.Errorf("numa: reading the thread's CPU affinity: the kernel's CPU mask is larger than %d CPUs", MaxCPU+1)
}

// CurrentCPU returns the CPU the calling thread is running on (getcpu). The
// answer can be stale as soon as it returns unless the thread is pinned to
// one CPU.
func CurrentCPU() (int, error) {
	cpu, _, err := currentCPUNode()
	return cpu, err
}

// CurrentNode returns the NUMA node of the CPU the calling thread is
// running on (getcpu), with the same caveat as CurrentCPU.
func CurrentNode() (int, error) {
	_, node, err := currentCPUNode()
	return node, err
}

func currentCPUNode() (cpu, node int, err error) {
	var c, n uint32
	_, _, errno := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&c)), uintptr(unsafe.Pointer(&n)), 0)
	if errno != 0 {
		return -1, -1, fmt.Errorf("numa: getcpu: %w", errno)
	}
	return int(c), int(n), nil
}
