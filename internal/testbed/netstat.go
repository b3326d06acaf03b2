package testbed

import (
	"fmt"
	"os"

	"github.com/mpxdp/mpxdp/internal/netstat"
)

// parseNetstat parses the /proc/net/netstat and /proc/net/snmp format
// (package internal/netstat owns the parser).
func parseNetstat(data []byte) (map[string]map[string]uint64, error) {
	return netstat.Parse(data)
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
