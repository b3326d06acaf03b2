package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// MIBSource supplies MPTCP MIB counters by the kernel's MPTcpExt names
// (MPCapableSYNRX, MPJoinSynRx, ...). mpxdp's stack will provide one
// from its own counters; kernelMIB reads the kernel's.
type MIBSource interface {
	MIB() (map[string]uint64, error)
}

// kernelMIB reads the MPTcpExt counters of this network namespace from
// /proc/thread-self/net/netstat.
type kernelMIB struct{ path string }

// MIB implements MIBSource.
func (k kernelMIB) MIB() (map[string]uint64, error) {
	p := k.path
	if p == "" {
		// This thread's namespace: /proc/net follows the main thread,
		// which a namespace switch elsewhere in the process may have moved.
		p = "/proc/thread-self/net/netstat"
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("reading the kernel MIB: %w", err)
	}
	sections, err := parseNetstat(b)
	if err != nil {
		return nil, err
	}
	m, ok := sections["MPTcpExt"]
	if !ok {
		return nil, fmt.Errorf("%s has no MPTcpExt section: is the kernel built with MPTCP?", p)
	}
	return m, nil
}

// parseNetstat reads /proc/net/netstat's pairs of lines ("Sect: names"
// then "Sect: values") into per-section maps.
func parseNetstat(b []byte) (map[string]map[string]uint64, error) {
	out := map[string]map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var lines []string
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("netstat: %w", err)
	}
	if len(lines)%2 != 0 {
		return nil, fmt.Errorf("netstat: %d lines: want header/value pairs", len(lines))
	}
	for i := 0; i < len(lines); i += 2 {
		hs, hrest, ok1 := strings.Cut(lines[i], ":")
		vs, vrest, ok2 := strings.Cut(lines[i+1], ":")
		if !ok1 || !ok2 || hs != vs {
			return nil, fmt.Errorf("netstat: line %d (%q) and %d (%q) are not a header/value pair", i+1, trunc(lines[i]), i+2, trunc(lines[i+1]))
		}
		names, vals := strings.Fields(hrest), strings.Fields(vrest)
		if len(names) != len(vals) {
			return nil, fmt.Errorf("netstat: section %s has %d names and %d values", hs, len(names), len(vals))
		}
		m := make(map[string]uint64, len(names))
		for j, n := range names {
			v, err := strconv.ParseUint(vals[j], 10, 64)
			if err != nil {
				// Some counters are signed (e.g. TcpExt's MaxConn -1).
				iv, ierr := strconv.ParseInt(vals[j], 10, 64)
				if ierr != nil {
					return nil, fmt.Errorf("netstat: %s %s = %q is not a number", hs, n, vals[j])
				}
				v = uint64(iv)
			}
			m[n] = v
		}
		out[hs] = m
	}
	return out, nil
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
