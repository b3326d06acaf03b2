package testbed

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// parseNetstat parses the /proc/net/netstat and /proc/net/snmp format: pairs
// of lines "Section: name1 name2 ..." and "Section: v1 v2 ...". It returns
// counters by section and name. Negative values (Tcp MaxConn -1) are stored
// as their two's complement.
func parseNetstat(data []byte) (map[string]map[string]uint64, error) {
	res := make(map[string]map[string]uint64)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var lines []string
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			lines = append(lines, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("testbed: reading netstat counters: %w", err)
	}
	if len(lines)%2 != 0 {
		return nil, fmt.Errorf("testbed: netstat data has %d lines, want pairs of header and values", len(lines))
	}
	for i := 0; i < len(lines); i += 2 {
		hs, hrest, ok1 := strings.Cut(lines[i], ":")
		vs, vrest, ok2 := strings.Cut(lines[i+1], ":")
		if !ok1 || !ok2 || hs != vs || hs == "" {
			return nil, fmt.Errorf("testbed: netstat lines %d-%d are not a header/value pair: %q / %q", i+1, i+2, lines[i], lines[i+1])
		}
		names, vals := strings.Fields(hrest), strings.Fields(vrest)
		if len(names) != len(vals) {
			return nil, fmt.Errorf("testbed: netstat section %s has %d names but %d values", hs, len(names), len(vals))
		}
		sec := res[hs]
		if sec == nil {
			sec = make(map[string]uint64, len(names))
			res[hs] = sec
		}
		for j, name := range names {
			v, err := strconv.ParseUint(vals[j], 10, 64)
			if err != nil {
				sv, serr := strconv.ParseInt(vals[j], 10, 64)
				if serr != nil {
					return nil, fmt.Errorf("testbed: netstat counter %s%s has value %q: not a number", hs, name, vals[j])
				}
				v = uint64(sv)
			}
			sec[name] = v
		}
	}
	return res, nil
}

// netstat reads and parses /proc/net/netstat and /proc/net/snmp of n.
func (n *NS) netstat() (map[string]map[string]uint64, error) {
	var data []byte
	err := n.Do(func() error {
		for _, f := range []string{"netstat", "snmp"} {
			b, err := os.ReadFile("/proc/thread-self/net/" + f)
			if err != nil {
				return fmt.Errorf("testbed: reading /proc/net/%s in %s failed: %w", f, n.Name, err)
			}
			data = append(data, b...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return parseNetstat(data)
}

// Nstat returns every counter of /proc/net/netstat and /proc/net/snmp in the
// namespace, named as `nstat -az` names them: section and counter joined
// ("MPTcpExtMPCapableSYNRX", "TcpExtTCPSackRecovery", "TcpRetransSegs").
func (n *NS) Nstat() (map[string]uint64, error) {
	secs, err := n.netstat()
	if err != nil {
		return nil, err
	}
	all := make(map[string]uint64)
	for sec, m := range secs {
		for name, v := range m {
			all[sec+name] = v
		}
	}
	return all, nil
}

// section returns one section of the namespace's counters, without prefix.
func (n *NS) section(name string) (map[string]uint64, error) {
	secs, err := n.netstat()
	if err != nil {
		return nil, err
	}
	m, ok := secs[name]
	if !ok {
		return nil, fmt.Errorf("testbed: no %s counters in %s (is the kernel built with them?)", name, n.Name)
	}
	return m, nil
}

// MPTcpExt returns the kernel's MPTCP counters in the namespace, by name
// without the section prefix ("MPCapableSYNRX", "MPJoinSynRx", ...).
func (n *NS) MPTcpExt() (map[string]uint64, error) { return n.section("MPTcpExt") }

// TCPExt returns the kernel's TcpExt counters in the namespace, by name
// without the section prefix ("TCPSackRecovery", "TCPTimeouts", ...).
func (n *NS) TCPExt() (map[string]uint64, error) { return n.section("TcpExt") }
