package testbed

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// LinkOpts configures a veth pair.
type LinkOpts struct {
	// MTU of both ends; 0 keeps the kernel default (1500).
	MTU int
	// Queues > 1 makes a multi-queue veth: both ends get that many RX and
	// TX queues (numrxqueues/numtxqueues). 0 or 1 means one queue.
	Queues int
}

// Veth is one end of a veth pair, living in namespace NS.
type Veth struct {
	NS    *NS              // the namespace holding this end
	Name  string           // interface name inside NS
	Index int              // ifindex inside NS
	MAC   net.HardwareAddr // hardware address
}

// String returns "namespace/interface".
func (v Veth) String() string {
	if v.NS == nil {
		return v.Name
	}
	return v.NS.Name + "/" + v.Name
}

// checkIfName validates a Linux interface name (IFNAMSIZ is 16 with the NUL).
func checkIfName(name string) error {
	if name == "" || len(name) > 15 {
		return fmt.Errorf("testbed: interface name %q must be 1-15 characters", name)
	}
	for _, c := range []byte(name) {
		if c == '/' || c == ':' || c <= ' ' || c >= 0x7f {
			return fmt.Errorf("testbed: interface name %q has an invalid character %q: use letters, digits, '-', '_' or '.'", name, c)
		}
	}
	if name == "." || name == ".." {
		return fmt.Errorf("testbed: interface name %q is invalid", name)
	}
	return nil
}

// NewVeth creates a veth pair with end aName in namespace a and end bName in
// namespace b (a and b may be the same namespace if the names differ), sets
// the MTU and queue count from o, and brings both ends up. The pair goes
// away when either namespace is closed.
func NewVeth(a *NS, aName string, b *NS, bName string, o LinkOpts) (Veth, Veth, error) {
	if a == nil || b == nil {
		return Veth{}, Veth{}, fmt.Errorf("testbed: NewVeth needs two namespaces (got nil)")
	}
	if err := checkIfName(aName); err != nil {
		return Veth{}, Veth{}, err
	}
	if err := checkIfName(bName); err != nil {
		return Veth{}, Veth{}, err
	}
	if a == b && aName == bName {
		return Veth{}, Veth{}, fmt.Errorf("testbed: veth ends in the same namespace %s need different names (both %q)", a.Name, aName)
	}
	if o.MTU < 0 || o.MTU > 65535 || (o.MTU > 0 && o.MTU < 68) {
		return Veth{}, Veth{}, fmt.Errorf("testbed: MTU %d is out of range: use 68..65535 or 0 for the default", o.MTU)
	}
	if o.Queues < 0 || o.Queues > 4096 {
		return Veth{}, Veth{}, fmt.Errorf("testbed: queue count %d is out of range: use 0..4096", o.Queues)
	}
	var q []string
	if o.Queues > 1 {
		n := strconv.Itoa(o.Queues)
		q = []string{"numtxqueues", n, "numrxqueues", n}
	}
	args := []string{"link", "add", aName}
	args = append(args, q...)
	args = append(args, "type", "veth", "peer", "name", bName)
	args = append(args, q...)
	args = append(args, "netns", b.Name)
	if _, err := a.ip(args...); err != nil {
		return Veth{}, Veth{}, err
	}
	fail := func(err error) (Veth, Veth, error) {
		_, _ = a.ip("link", "del", "dev", aName)
		return Veth{}, Veth{}, err
	}
	ends := [2]Veth{{NS: a, Name: aName}, {NS: b, Name: bName}}
	for i := range ends {
		v := &ends[i]
		if o.MTU > 0 {
			if _, err := v.NS.ip("link", "set", "dev", v.Name, "mtu", strconv.Itoa(o.MTU)); err != nil {
				return fail(err)
			}
		}
		if err := v.SetUp(true); err != nil {
			return fail(err)
		}
		if err := v.refresh(); err != nil {
			return fail(err)
		}
	}
	return ends[0], ends[1], nil
}

// linkInfo is the part of `ip -j link show` output that we read.
type linkInfo struct {
	IfIndex int    `json:"ifindex"`
	IfName  string `json:"ifname"`
	Address string `json:"address"`
	MTU     int    `json:"mtu"`
}

// parseLinkJSON parses `ip -j link show dev X` output (a one-element array).
func parseLinkJSON(out []byte) (linkInfo, error) {
	var l []linkInfo
	if err := json.Unmarshal(out, &l); err != nil {
		return linkInfo{}, fmt.Errorf("testbed: cannot parse `ip -j link` output: %w", err)
	}
	if len(l) != 1 {
		return linkInfo{}, fmt.Errorf("testbed: `ip -j link` listed %d links, want 1", len(l))
	}
	return l[0], nil
}

// refresh reads Index and MAC from the kernel.
func (v *Veth) refresh() error {
	out, err := v.NS.ip("-j", "link", "show", "dev", v.Name)
	if err != nil {
		return err
	}
	l, err := parseLinkJSON(out)
	if err != nil {
		return err
	}
	mac, err := net.ParseMAC(l.Address)
	if err != nil {
		return fmt.Errorf("testbed: %s has an unreadable MAC %q: %w", v, l.Address, err)
	}
	v.Index, v.MAC = l.IfIndex, mac
	return nil
}

// AddAddr assigns prefix (address and length, e.g. 10.100.0.2/24) to the
// interface. IPv6 addresses skip duplicate address detection so they are
// usable at once.
func (v Veth) AddAddr(prefix netip.Prefix) error {
	if !prefix.IsValid() {
		return fmt.Errorf("testbed: invalid prefix for %s", v)
	}
	args := []string{"addr", "add", prefix.String(), "dev", v.Name}
	if prefix.Addr().Is6() && !prefix.Addr().Is4In6() {
		args = append(args, "nodad")
	}
	_, err := v.NS.ip(args...)
	return err
}

// DelAddr removes prefix from the interface.
func (v Veth) DelAddr(prefix netip.Prefix) error {
	_, err := v.NS.ip("addr", "del", prefix.String(), "dev", v.Name)
	return err
}

// Ethtool runs `ethtool -K <dev> args...` inside the interface's namespace,
// e.g. v.Ethtool("tx", "off", "tso", "off").
func (v Veth) Ethtool(args ...string) error {
	if _, err := lookTool("ethtool"); err != nil {
		return err
	}
	_, err := v.NS.Exec("ethtool", append([]string{"-K", v.Name}, args...)...)
	return err
}

// SetUp sets the interface administratively up or down.
func (v Veth) SetUp(up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	_, err := v.NS.ip("link", "set", "dev", v.Name, state)
	return err
}

// LinkStats are an interface's kernel counters (`ip -s link`).
type LinkStats struct {
	RxPackets, RxBytes, RxDropped, RxErrors uint64
	TxPackets, TxBytes, TxDropped, TxErrors uint64
}

// parseLinkStats reads the stats64 object of `ip -j -s link show dev X`.
func parseLinkStats(out []byte) (LinkStats, error) {
	type dir struct {
		Bytes   uint64 `json:"bytes"`
		Packets uint64 `json:"packets"`
		Errors  uint64 `json:"errors"`
		Dropped uint64 `json:"dropped"`
	}
	var l []struct {
		Stats *struct {
			Rx dir `json:"rx"`
			Tx dir `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &l); err != nil {
		return LinkStats{}, fmt.Errorf("testbed: cannot parse `ip -j -s link` output: %w", err)
	}
	if len(l) != 1 || l[0].Stats == nil {
		return LinkStats{}, fmt.Errorf("testbed: `ip -j -s link` output has no stats64 for one link: %q", out)
	}
	st := l[0].Stats
	return LinkStats{
		RxPackets: st.Rx.Packets, RxBytes: st.Rx.Bytes, RxDropped: st.Rx.Dropped, RxErrors: st.Rx.Errors,
		TxPackets: st.Tx.Packets, TxBytes: st.Tx.Bytes, TxDropped: st.Tx.Dropped, TxErrors: st.Tx.Errors,
	}, nil
}

// Stats returns the interface's packet and byte counters.
func (v Veth) Stats() (LinkStats, error) {
	out, err := v.NS.ip("-j", "-s", "link", "show", "dev", v.Name)
	if err != nil {
		return LinkStats{}, err
	}
	return parseLinkStats(out)
}
