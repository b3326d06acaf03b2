package testbed

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// MaxPaths is the largest Config.Paths a Topology accepts.
const MaxPaths = 16

// Config describes an N-path topology between namespace "ours" (where mpxdp
// runs on AF_XDP) and namespace "peer" (the kernel's TCP/MPTCP).
type Config struct {
	Paths  int  // number of paths, 1..MaxPaths
	MTU    int  // MTU of every link; 0 means 1500
	Queues int  // RX/TX queues of each veth pair attached to ours; >1 makes them multi-queue
	Router bool // put a router namespace in the middle: one Linux bridge per path

	// RateMbit limits path i to RateMbit[i] Mbit/s; 0 or a missing entry
	// means unlimited. With Router both directions are limited (on the
	// router's two ports of the path); without, only peer -> ours (the
	// peer's egress).
	RateMbit []int
	// LossPct drops LossPct[i] percent of path i's packets at random, on the
	// same egresses as RateMbit.
	LossPct []float64
	// LossBothWays, without Router, also drops LossPct on the peer's
	// ingress, so what ours sends is lost too (with Router both directions
	// always are).
	LossBothWays bool

	// Delay adds Delay[i] one-way delay to path i in each direction (and
	// Jitter[i] uniform extra delay, order kept) with a user-space
	// Forwarder in the router instead of a bridge. Needs Router.
	Delay  []time.Duration
	Jitter []time.Duration

	IPv6 bool   // also address each path with fd00:<i>::/64 (ours ::1, peer ::2)
	Tag  string // namespace tag prefix; "topo" when empty
}

// Path is one link of a topology: one L2 subnet from ours to peer.
type Path struct {
	Ours Veth // ours' interface (bind AF_XDP here); no kernel addresses in stack mode
	Peer Veth // peer's interface (kernel side, addressed, tx/tso/gso/gro off)

	OurAddr  netip.Addr   // the address mpxdp uses on this path: 10.(100+i).0.1
	PeerAddr netip.Addr   // the peer's kernel address: 10.(100+i).0.2
	Prefix   netip.Prefix // 10.(100+i).0.0/24

	OurAddr6  netip.Addr   // fd00:<i>::1 when Config.IPv6, else invalid
	PeerAddr6 netip.Addr   // fd00:<i>::2 when Config.IPv6, else invalid
	Prefix6   netip.Prefix // fd00:<i>::/64 when Config.IPv6, else invalid

	// With Router: the router's port facing ours and the one facing peer,
	// joined by bridge Bridge in the router namespace, or on a path with
	// Config.Delay by Forwarder (then Bridge is empty).
	RouterOurs, RouterPeer Veth
	Bridge                 string
	Forwarder              *Forwarder
}

// Topology is a built set of namespaces and paths; Close removes it all.
type Topology struct {
	Ours, Peer *NS
	Router     *NS // nil without Config.Router
	Paths      []Path

	cfg        Config
	kernelMode bool
}

// pathAddrs fills the addresses of path i.
func pathAddrs(i int, v6 bool) Path {
	b := byte(100 + i)
	p := Path{
		OurAddr:  netip.AddrFrom4([4]byte{10, b, 0, 1}),
		PeerAddr: netip.AddrFrom4([4]byte{10, b, 0, 2}),
		Prefix:   netip.PrefixFrom(netip.AddrFrom4([4]byte{10, b, 0, 0}), 24),
	}
	if v6 {
		base := [16]byte{0xfd, 0x00, byte(i >> 8), byte(i)}
		p.Prefix6 = netip.PrefixFrom(netip.AddrFrom16(base), 64)
		base[15] = 1
		p.OurAddr6 = netip.AddrFrom16(base)
		base[15] = 2
		p.PeerAddr6 = netip.AddrFrom16(base)
	}
	return p
}

// validate checks a Config.
func (c Config) validate() error {
	if c.Paths < 1 || c.Paths > MaxPaths {
		return fmt.Errorf("testbed: topology needs 1..%d paths, got %d", MaxPaths, c.Paths)
	}
	if len(c.RateMbit) > c.Paths || len(c.LossPct) > c.Paths {
		return fmt.Errorf("testbed: %d rates and %d loss values given for %d paths: give at most one per path", len(c.RateMbit), len(c.LossPct), c.Paths)
	}
	for _, p := range c.LossPct {
		if _, err := lossThreshold(p); err != nil {
			return err
		}
	}
	if len(c.Delay) > c.Paths || len(c.Jitter) > c.Paths {
		return fmt.Errorf("testbed: %d delays and %d jitters given for %d paths: give at most one per path", len(c.Delay), len(c.Jitter), c.Paths)
	}
	if (len(c.Delay) > 0 || len(c.Jitter) > 0) && !c.Router {
		return fmt.Errorf("testbed: Config.Delay and Jitter need Router: true (the delay line runs in the router namespace)")
	}
	for i := range c.Delay {
		if err := (DelayOpts{Delay: c.Delay[i], Jitter: c.jitter(i)}).validate(); err != nil {
			return err
		}
	}
	if c.Tag != "" && !tagRE.MatchString(c.Tag+"-ours") {
		return fmt.Errorf("testbed: topology tag %q is invalid: use up to 27 letters, digits, '_' or '-'", c.Tag)
	}
	return nil
}

// jitter returns Jitter[i] or 0.
func (c Config) jitter(i int) time.Duration {
	if i < len(c.Jitter) {
		return c.Jitter[i]
	}
	return 0
}

// emulated reports whether path i gets a Forwarder.
func (c Config) emulated(i int) bool {
	return (i < len(c.Delay) && c.Delay[i] > 0) || c.jitter(i) > 0
}

// noOffloads turns off what the kernel peer (or a router port) must not do
// towards an AF_XDP endpoint: partial checksums and 64 KB GSO/GRO frames.
var noOffloads = []string{"tx", "off", "tso", "off", "gso", "off", "gro", "off"}

// NewTopology builds the namespaces and paths of c and applies its rates
// and loss. Ours gets no kernel addresses (call KernelMode for a
// kernel-to-kernel reference run); IPv6 is disabled there (and in the
// router, and in the peer unless c.IPv6) so no kernel sends IPv6 chatter
// toward ours. On error everything built so far is removed.
func NewTopology(c Config) (t *Topology, err error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	tag := c.Tag
	if tag == "" {
		tag = "topo"
	}
	t = &Topology{cfg: c}
	defer func() {
		if err != nil {
			_ = t.Close()
			t = nil
		}
	}()
	if t.Ours, err = NewNS(tag + "-ours"); err != nil {
		return t, err
	}
	if t.Peer, err = NewNS(tag + "-peer"); err != nil {
		return t, err
	}
	quiet := []*NS{t.Ours}
	if c.Router {
		if t.Router, err = NewNS(tag + "-rtr"); err != nil {
			return t, err
		}
		quiet = append(quiet, t.Router)
	}
	if !c.IPv6 {
		quiet = append(quiet, t.Peer) // no IPv6 chatter (RS, MLD, ND) toward ours
	} else if err = t.Peer.Sysctl("net.ipv6.conf.default.router_solicitations", "0"); err != nil {
		return t, err
	}
	for _, n := range quiet {
		for _, k := range []string{"net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6"} {
			if err = n.Sysctl(k, "1"); err != nil {
				return t, err
			}
		}
	}
	for _, n := range []*NS{t.Ours, t.Peer} {
		for _, k := range []string{"net.ipv4.conf.all.rp_filter", "net.ipv4.conf.default.rp_filter"} {
			if err = n.Sysctl(k, "0"); err != nil {
				return t, err
			}
		}
	}
	ours := LinkOpts{MTU: c.MTU, Queues: c.Queues}
	for i := 0; i < c.Paths; i++ {
		p := pathAddrs(i, c.IPv6)
		s := strconv.Itoa(i)
		if c.Router {
			if p.Ours, p.RouterOurs, err = NewVeth(t.Ours, "xdp"+s, t.Router, "ro"+s, ours); err != nil {
				return t, err
			}
			if p.RouterPeer, p.Peer, err = NewVeth(t.Router, "rp"+s, t.Peer, "peer"+s, LinkOpts{MTU: c.MTU}); err != nil {
				return t, err
			}
			for _, port := range []Veth{p.RouterOurs, p.RouterPeer} {
				if err = port.Ethtool(noOffloads...); err != nil {
					return t, err
				}
			}
			if c.emulated(i) {
				// The forwarder copies frames as they are: the kernel on
				// ours (KernelMode) must not send partial checksums or GSO.
				if err = p.Ours.Ethtool("tx", "off", "tso", "off", "gso", "off"); err != nil {
					return t, err
				}
				var d time.Duration
				if i < len(c.Delay) {
					d = c.Delay[i]
				}
				if p.Forwarder, err = NewForwarder(p.RouterOurs, p.RouterPeer, DelayOpts{Delay: d, Jitter: c.jitter(i)}); err != nil {
					return t, err
				}
			} else {
				p.Bridge = "br" + s
				if _, err = t.Router.ip("link", "add", p.Bridge, "type", "bridge", "mcast_snooping", "0"); err != nil {
					return t, err
				}
				for _, port := range []Veth{p.RouterOurs, p.RouterPeer} {
					if _, err = t.Router.ip("link", "set", "dev", port.Name, "master", p.Bridge); err != nil {
						return t, err
					}
				}
				if _, err = t.Router.ip("link", "set", "dev", p.Bridge, "up"); err != nil {
					return t, err
				}
			}
		} else if p.Ours, p.Peer, err = NewVeth(t.Ours, "xdp"+s, t.Peer, "peer"+s, ours); err != nil {
			return t, err
		}
		if err = p.Peer.Ethtool(noOffloads...); err != nil {
			return t, err
		}
		if err = p.Peer.AddAddr(netip.PrefixFrom(p.PeerAddr, p.Prefix.Bits())); err != nil {
			return t, err
		}
		if c.IPv6 {
			if err = p.Peer.AddAddr(netip.PrefixFrom(p.PeerAddr6, p.Prefix6.Bits())); err != nil {
				return t, err
			}
		}
		t.Paths = append(t.Paths, p)
	}
	for i := range t.Paths {
		if i < len(c.RateMbit) && c.RateMbit[i] > 0 {
			if err = t.SetRate(i, c.RateMbit[i]); err != nil {
				return t, err
			}
		}
		if i < len(c.LossPct) && c.LossPct[i] > 0 {
			if err = t.SetLoss(i, c.LossPct[i]); err != nil {
				return t, err
			}
		}
	}
	return t, nil
}

// Config returns the configuration the topology was built from.
func (t *Topology) Config() Config { return t.cfg }

// Close removes every namespace of the topology (and so all its links,
// qdiscs and loss programs). Safe to call more than once.
func (t *Topology) Close() error {
	var errs []error
	for _, n := range []*NS{t.Ours, t.Peer, t.Router} {
		if n != nil {
			errs = append(errs, n.Close())
		}
	}
	return errors.Join(errs...)
}

// path returns path i or an error naming the valid range.
func (t *Topology) path(i int) (Path, error) {
	if i < 0 || i >= len(t.Paths) {
		return Path{}, fmt.Errorf("testbed: path %d does not exist: the topology has paths 0..%d", i, len(t.Paths)-1)
	}
	return t.Paths[i], nil
}

// egresses returns the kernel egresses that shape path i: toward the peer
// (with Router only) and toward ours.
func (t *Topology) egresses(p Path) (toPeer *Veth, toOurs Veth) {
	if t.Router != nil {
		return &p.RouterPeer, p.RouterOurs
	}
	return nil, p.Peer
}

// SetRate limits path i to mbit Mbit/s (0: unlimited) on its kernel
// egresses: both router ports with Router, else the peer's interface.
func (t *Topology) SetRate(i, mbit int) error {
	p, err := t.path(i)
	if err != nil {
		return err
	}
	toPeer, toOurs := t.egresses(p)
	if toPeer != nil {
		if err := SetRate(*toPeer, mbit); err != nil {
			return err
		}
	}
	return SetRate(toOurs, mbit)
}

// SetLoss drops pct percent of path i's packets at random on its kernel
// egresses: both router ports with Router, else the peer's interface (and
// its ingress too with Config.LossBothWays).
func (t *Topology) SetLoss(i int, pct float64) error {
	p, err := t.path(i)
	if err != nil {
		return err
	}
	toPeer, toOurs := t.egresses(p)
	if toPeer != nil {
		if err := SetLoss(*toPeer, pct); err != nil {
			return err
		}
	} else if t.cfg.LossBothWays {
		if err := SetIngressLoss(p.Peer, pct); err != nil {
			return err
		}
	}
	return SetLoss(toOurs, pct)
}

// LossCounters returns the loss counters of path i in each direction.
// toPeer is zero without Router unless Config.LossBothWays.
func (t *Topology) LossCounters(i int) (toPeer, toOurs LossStats, err error) {
	p, err := t.path(i)
	if err != nil {
		return LossStats{}, LossStats{}, err
	}
	tp, to := t.egresses(p)
	if tp != nil {
		toPeer, err = LossCounters(*tp)
	} else if t.cfg.LossBothWays {
		toPeer, err = IngressLossCounters(p.Peer)
	}
	if err != nil {
		return LossStats{}, LossStats{}, err
	}
	toOurs, err = LossCounters(to)
	return toPeer, toOurs, err
}

// SetDelay changes the delay and jitter of path i, which must have been
// built with a delay (Config.Delay or Jitter).
func (t *Topology) SetDelay(i int, delay, jitter time.Duration) error {
	p, err := t.path(i)
	if err != nil {
		return err
	}
	if p.Forwarder == nil {
		return fmt.Errorf("testbed: path %d has no delay line: build it with Config.Delay (and Router)", i)
	}
	if err := (DelayOpts{Delay: delay, Jitter: jitter}).validate(); err != nil {
		return err
	}
	p.Forwarder.SetDelay(delay, jitter)
	return nil
}

// SetEmulation changes delay, jitter, reordering and duplication of path
// i, which must have been built with a delay line (Config.Delay or Jitter).
func (t *Topology) SetEmulation(i int, o DelayOpts) error {
	p, err := t.path(i)
	if err != nil {
		return err
	}
	if p.Forwarder == nil {
		return fmt.Errorf("testbed: path %d has no delay line: build it with Config.Delay (and Router)", i)
	}
	return p.Forwarder.Update(o)
}

// cable returns the interface that LinkDown/LinkUp switch for path p: the
// router's port facing ours (ours loses carrier, the peer only sees
// silence), or without Router the peer's interface.
func (t *Topology) cable(p Path) Veth {
	if t.Router != nil {
		return p.RouterOurs
	}
	return p.Peer
}

// LinkDown cuts path i like a cable pull: with Router, the router's port
// facing ours goes down (ours loses carrier; the peer's link stays up and
// only sees silence); without Router, the peer's interface goes down. For
// a silent black hole that neither end notices, use SetLoss(i, 100) on a
// router topology.
func (t *Topology) LinkDown(i int) error {
	p, err := t.path(i)
	if err != nil {
		return err
	}
	return t.cable(p).SetUp(false)
}

// LinkUp restores path i after LinkDown.
func (t *Topology) LinkUp(i int) error {
	p, err := t.path(i)
	if err != nil {
		return err
	}
	return t.cable(p).SetUp(true)
}

// KernelMode gives ours' interfaces their kernel addresses (OurAddr, and
// OurAddr6 with IPv6) so a kernel-to-kernel reference run can use the same
// topology. Do not run mpxdp on ours meanwhile: the kernel would answer its
// flows with RSTs. StackMode undoes it.
func (t *Topology) KernelMode() error {
	if t.kernelMode {
		return nil
	}
	for _, p := range t.Paths {
		if err := p.Ours.AddAddr(netip.PrefixFrom(p.OurAddr, p.Prefix.Bits())); err != nil {
			return err
		}
		if t.cfg.IPv6 {
			if err := t.Ours.Sysctl("net.ipv6.conf."+p.Ours.Name+".disable_ipv6", "0"); err != nil {
				return err
			}
			if err := p.Ours.AddAddr(netip.PrefixFrom(p.OurAddr6, p.Prefix6.Bits())); err != nil {
				return err
			}
		}
	}
	t.kernelMode = true
	return nil
}

// StackMode removes the kernel addresses KernelMode added (and disables
// IPv6 on ours again), so mpxdp can own the addresses.
func (t *Topology) StackMode() error {
	if !t.kernelMode {
		return nil
	}
	for _, p := range t.Paths {
		if _, err := t.Ours.ip("addr", "flush", "dev", p.Ours.Name); err != nil {
			return err
		}
		if t.cfg.IPv6 {
			if err := t.Ours.Sysctl("net.ipv6.conf."+p.Ours.Name+".disable_ipv6", "1"); err != nil {
				return err
			}
		}
	}
	t.kernelMode = false
	return nil
}

// Env describes the topology as environment variables for scripts:
// MPX_OURS, MPX_PEER, MPX_ROUTER (namespace names), MPX_PATHS (count) and
// per path i MPX_PATH<i>_OURS_IF, _PEER_IF, _OURS_IFINDEX, _OURS_MAC,
// _OURS_ADDR, _PEER_ADDR, _PREFIX (and _OURS_ADDR6, _PEER_ADDR6 with IPv6).
func (t *Topology) Env() []string {
	env := []string{"MPX_OURS=" + t.Ours.Name, "MPX_PEER=" + t.Peer.Name, "MPX_PATHS=" + strconv.Itoa(len(t.Paths))}
	if t.Router != nil {
		env = append(env, "MPX_ROUTER="+t.Router.Name)
	}
	for i, p := range t.Paths {
		k := "MPX_PATH" + strconv.Itoa(i) + "_"
		env = append(env,
			k+"OURS_IF="+p.Ours.Name,
			k+"PEER_IF="+p.Peer.Name,
			k+"OURS_IFINDEX="+strconv.Itoa(p.Ours.Index),
			k+"OURS_MAC="+p.Ours.MAC.String(),
			k+"OURS_ADDR="+p.OurAddr.String(),
			k+"PEER_ADDR="+p.PeerAddr.String(),
			k+"PREFIX="+p.Prefix.String(),
		)
		if p.OurAddr6.IsValid() {
			env = append(env, k+"OURS_ADDR6="+p.OurAddr6.String(), k+"PEER_ADDR6="+p.PeerAddr6.String())
		}
	}
	return env
}

// KernelMPTCP configures the kernel MPTCP path manager in n (t.Peer, or
// t.Ours in KernelMode) for this topology: limits of 8 subflows and 8
// accepted ADD_ADDRs, and, when flags are given, an endpoint with those
// flags for the address of every path but path 0 (IPv4, and IPv6 with
// Config.IPv6). Typical: KernelMPTCP(t.Peer, "signal") so the peer
// announces its other paths to a client that connected on path 0.
func (t *Topology) KernelMPTCP(n *NS, flags ...string) error {
	if n != t.Peer && n != t.Ours {
		return fmt.Errorf("testbed: KernelMPTCP configures the topology's ours or peer namespace, not %v", n)
	}
	if err := n.MPTCPLimits(8, 8); err != nil {
		return err
	}
	if len(flags) == 0 {
		return nil
	}
	for _, p := range t.Paths[1:] {
		v, a4, a6 := p.Peer, p.PeerAddr, p.PeerAddr6
		if n == t.Ours {
			v, a4, a6 = p.Ours, p.OurAddr, p.OurAddr6
		}
		if err := n.MPTCPEndpoint(a4, v.Name, flags...); err != nil {
			return err
		}
		if a6.IsValid() {
			if err := n.MPTCPEndpoint(a6, v.Name, flags...); err != nil {
				return err
			}
		}
	}
	return nil
}
