package testbed

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// MPTCPLimits sets the kernel path manager's limits in the namespace: `ip
// mptcp limits set subflow N add_addr_accepted M`. A kernel MPTCP peer opens
// or accepts extra subflows only within these limits (default 2 and 0).
func (n *NS) MPTCPLimits(subflows, addAddrAccepted int) error {
	if subflows < 0 || subflows > 8 || addAddrAccepted < 0 || addAddrAccepted > 8 {
		return fmt.Errorf("testbed: MPTCP limits subflow %d add_addr_accepted %d out of range: the kernel allows 0..8", subflows, addAddrAccepted)
	}
	_, err := n.ip("mptcp", "limits", "set", "subflow", strconv.Itoa(subflows), "add_addr_accepted", strconv.Itoa(addAddrAccepted))
	return err
}

// MPTCPGetLimits reads the limits back (`ip mptcp limits show`).
func (n *NS) MPTCPGetLimits() (subflows, addAddrAccepted int, err error) {
	out, err := n.ip("mptcp", "limits", "show")
	if err != nil {
		return 0, 0, err
	}
	return parseMPTCPLimits(string(out))
}

// parseMPTCPLimits parses "add_addr_accepted 3 subflows 4".
func parseMPTCPLimits(s string) (subflows, addAddrAccepted int, err error) {
	f := strings.Fields(s)
	seen := 0
	for i := 0; i+1 < len(f); i += 2 {
		v, err := strconv.Atoi(f[i+1])
		if err != nil {
			return 0, 0, fmt.Errorf("testbed: `ip mptcp limits show` printed %q: %s is not a number", s, f[i+1])
		}
		switch f[i] {
		case "subflows", "subflow":
			subflows = v
			seen |= 1
		case "add_addr_accepted":
			addAddrAccepted = v
			seen |= 2
		}
	}
	if seen != 3 {
		return 0, 0, fmt.Errorf("testbed: cannot read MPTCP limits from %q", s)
	}
	return subflows, addAddrAccepted, nil
}

// mptcpFlags are the endpoint flags `ip mptcp endpoint add` accepts.
var mptcpFlags = map[string]bool{"signal": true, "subflow": true, "backup": true, "fullmesh": true}

// MPTCPEndpoint adds a kernel path-manager endpoint in the namespace: `ip
// mptcp endpoint add ADDR [dev DEV] FLAGS...`, flags from signal, subflow,
// backup and fullmesh. dev may be empty.
func (n *NS) MPTCPEndpoint(addr netip.Addr, dev string, flags ...string) error {
	if !addr.IsValid() {
		return fmt.Errorf("testbed: MPTCP endpoint address is not set")
	}
	args := []string{"mptcp", "endpoint", "add", addr.String()}
	if dev != "" {
		if err := checkIfName(dev); err != nil {
			return err
		}
		args = append(args, "dev", dev)
	}
	for _, f := range flags {
		if !mptcpFlags[f] {
			return fmt.Errorf("testbed: MPTCP endpoint flag %q is unknown: use signal, subflow, backup or fullmesh", f)
		}
		args = append(args, f)
	}
	_, err := n.ip(args...)
	return err
}

// MPTCPFlush removes every MPTCP endpoint in the namespace.
func (n *NS) MPTCPFlush() error {
	_, err := n.ip("mptcp", "endpoint", "flush")
	return err
}

// Endpoint is a kernel MPTCP path-manager endpoint as
// `ip -j mptcp endpoint show` lists it.
type Endpoint struct {
	Addr  netip.Addr
	ID    int
	Dev   string
	Flags []string // of signal, subflow, backup, fullmesh, in that order
}

// MPTCPEndpoints lists the namespace's MPTCP endpoints.
func (n *NS) MPTCPEndpoints() ([]Endpoint, error) {
	out, err := n.ip("-j", "mptcp", "endpoint", "show")
	if err != nil {
		return nil, err
	}
	return parseEndpoints(out)
}

// parseEndpoints parses `ip -j mptcp endpoint show` output.
func parseEndpoints(out []byte) ([]Endpoint, error) {
	var raw []map[string]any
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("testbed: cannot parse `ip -j mptcp endpoint show` output %q: %w", out, err)
	}
	eps := make([]Endpoint, 0, len(raw))
	for _, r := range raw {
		var e Endpoint
		a, _ := r["address"].(string)
		addr, err := netip.ParseAddr(a)
		if err != nil {
			return nil, fmt.Errorf("testbed: MPTCP endpoint address %q: %w", a, err)
		}
		e.Addr = addr
		if id, ok := r["id"].(float64); ok {
			e.ID = int(id)
		}
		e.Dev, _ = r["dev"].(string)
		for _, f := range []string{"signal", "subflow", "backup", "fullmesh"} {
			if b, _ := r[f].(bool); b {
				e.Flags = append(e.Flags, f)
			}
		}
		eps = append(eps, e)
	}
	return eps, nil
}
