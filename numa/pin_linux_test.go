//go:build linux

package numa

import (
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// onLockedThread runs f on a fresh goroutine locked to its OS thread. The
// goroutine exits still locked, so the runtime discards the thread and any
// affinity f set does not leak to other tests.
func onLockedThread(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		f()
	}()
	<-done
}

func TestPinThreadEachAllowedCPU(t *testing.T) {
	var errs []string
	onLockedThread(func() {
		allowed, err := ThreadAffinity()
		if err != nil {
			errs = append(errs, err.Error())
			return
		}
		if len(allowed) == 0 {
			errs = append(errs, "ThreadAffinity returned no CPUs")
			return
		}
		for _, cpu := range allowed {
			if err := PinThread(cpu); err != nil {
				errs = append(errs, err.Error())
				continue
			}
			got, err := ThreadAffinity()
			if err != nil || !slices.Equal(got, []int{cpu}) {
				errs = append(errs, "after PinThread("+itoa(cpu)+") the affinity is "+FormatCPUList(got))
			}
			// The kernel migrates the thread off a CPU outside its mask
			// before sched_setaffinity returns, so getcpu must agree.
			if cur, err := CurrentCPU(); err != nil || cur != cpu {
				errs = append(errs, "after PinThread("+itoa(cpu)+") getcpu says CPU "+itoa(cur))
			}
		}
		// Restore the full mask and check it took.
		if err := SetThreadAffinity(allowed); err != nil {
			errs = append(errs, err.Error())
		}
		if got, _ := ThreadAffinity(); !slices.Equal(got, allowed) {
			errs = append(errs, "SetThreadAffinity did not restore "+FormatCPUList(allowed)+", got "+FormatCPUList(got))
		}
	})
	for _, e := range errs {
		t.Error(e)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestPinThreadErrors(t *testing.T) {
	onLockedThread(func() {
		before, err := ThreadAffinity()
		if err != nil {
			t.Error(err)
			return
		}
		if err := PinThread(-1); err == nil {
			t.Error("PinThread(-1) succeeded")
		}
		// A CPU number no machine here has: the kernel refuses a mask with
		// no usable CPU (EINVAL) and the affinity must stay as it was.
		err = PinThread(MaxCPU)
		if err == nil || !strings.Contains(err.Error(), "CPU 65535") {
			t.Errorf("PinThread(MaxCPU): error %v, want a refusal naming the CPU", err)
		}
		if after, _ := ThreadAffinity(); !slices.Equal(after, before) {
			t.Errorf("a failed PinThread changed the affinity from %v to %v", before, after)
		}
		if err := SetThreadAffinity(nil); err == nil {
			t.Error("SetThreadAffinity(nil) succeeded")
		}
		if err := SetThreadAffinity([]int{0, MaxCPU + 1}); err == nil {
			t.Error("SetThreadAffinity with an out-of-range CPU succeeded")
		}
	})
}

func TestCurrentCPUAndNode(t *testing.T) {
	top, err := System()
	if err != nil {
		t.Skipf("cannot read /sys: %v", err)
	}
	cpu, err := CurrentCPU()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := top.CPU(cpu); !ok {
		t.Errorf("CurrentCPU = %d, not among the online CPUs %v", cpu, top.Online)
	}
	node, err := CurrentNode()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(top.Nodes, func(n Node) bool { return n.ID == node }) {
		t.Errorf("CurrentNode = %d, not among the nodes %+v", node, top.Nodes)
	}
}
