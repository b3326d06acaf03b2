package netstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Parse reads counters in the /proc/net/netstat (and /proc/net/snmp)
// format and returns them by section and name ("TcpExt" ->
// "TCPSackRecovery" -> value). Sections that appear more than once are
// merged, so the two files may be parsed concatenated. Negative values
// (Tcp MaxConn -1) are stored as their two's complement. Blank lines are
// ignored; anything else that is not a header/value pair of equal length
// is an error.
func Parse(b []byte) (map[string]map[string]uint64, error) {
	out := map[string]map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var lines []string
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("netstat: reading counters: %w", err)
	}
	if len(lines)%2 != 0 {
		return nil, fmt.Errorf("netstat: %d lines: want pairs of a header line and a value line", len(lines))
	}
	for i := 0; i < len(lines); i += 2 {
		hs, hrest, ok1 := strings.Cut(lines[i], ":")
		vs, vrest, ok2 := strings.Cut(lines[i+1], ":")
		if !ok1 || !ok2 || hs != vs || hs == "" {
			return nil, fmt.Errorf("netstat: lines %d (%q) and %d (%q) are not a header/value pair", i+1, trunc(lines[i]), i+2, trunc(lines[i+1]))
		}
		names, vals := strings.Fields(hrest), strings.Fields(vrest)
		if len(names) != len(vals) {
			return nil, fmt.Errorf("netstat: section %s has %d names and %d values", hs, len(names), len(vals))
		}
		m := out[hs]
		if m == nil {
			m = make(map[string]uint64, len(names))
			out[hs] = m
		}
		for j, n := range names {
			v, err := strconv.ParseUint(vals[j], 10, 64)
			if err != nil {
				sv, serr := strconv.ParseInt(vals[j], 10, 64)
				if serr != nil {
					return nil, fmt.Errorf("netstat: %s %s = %q is not a number", hs, n, trunc(vals[j]))
				}
				v = uint64(sv)
			}
			m[n] = v
		}
	}
	return out, nil
}

// ReadSection reads the counter file at path (e.g.
// "/proc/thread-self/net/netstat") and returns its section (e.g.
// "MPTcpExt"), by counter name without the section prefix.
func ReadSection(path, section string) (map[string]uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading kernel counters: %w", err)
	}
	secs, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, ok := secs[section]
	if !ok {
		return nil, fmt.Errorf("%s has no %s section: is the kernel built with it (for MPTcpExt: CONFIG_MPTCP)?", path, section)
	}
	return m, nil
}

// trunc shortens s for an error message.
func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
