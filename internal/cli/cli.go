package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mpxdp/mpxdp/stack"
)

// Iface is one --iface IF=CIDR: an interface name and one of our addresses
// on it with its prefix length.
type Iface struct {
	Name   string
	Prefix netip.Prefix
}

// ParseIface parses "IF=CIDR", e.g. "eth0=192.0.2.10/24". IF must be a
// valid Linux interface name (at most 15 characters, no '/', ':' or white
// space).
func ParseIface(s string) (Iface, error) {
	name, cidr, ok := strings.Cut(s, "=")
	if !ok || name == "" || cidr == "" {
		return Iface{}, fmt.Errorf("--iface %q: want IF=CIDR, e.g. --iface eth0=192.0.2.10/24", s)
	}
	if len(name) > 15 || strings.ContainsAny(name, "/ \t\n:") {
		return Iface{}, fmt.Errorf("--iface %q: %q is not a valid interface name (at most 15 characters, no '/', ':' or spaces)", s, name)
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return Iface{}, fmt.Errorf("--iface %q: %q is not an address with a prefix length (e.g. 192.0.2.10/24): %v", s, cidr, err)
	}
	return Iface{name, p}, nil
}

// IfaceList is a repeatable --iface flag (a flag.Value).
type IfaceList []Iface

// String implements flag.Value.
func (l *IfaceList) String() string { return fmt.Sprint(*l) }

// Set parses one IF=CIDR and appends it.
func (l *IfaceList) Set(s string) error {
	a, err := ParseIface(s)
	if err != nil {
		return err
	}
	*l = append(*l, a)
	return nil
}

// BulkBuffer is the per-connection application send and receive buffer
// size the commands give the stack: bulk transfers want more than the
// stack's default.
const BulkBuffer = 4 << 20

// StackConfig returns the stack configuration for ifaces: one interface
// entry per name, in the order the names first appear, holding all of that
// name's addresses, each with IP MTU mtu (0: the device's); gateway, when
// valid, is the next hop for destinations off those subnets. Send and
// receive buffers are BulkBuffer; the attach mode, queues and cores are
// left at the stack's defaults.
func StackConfig(ifaces []Iface, mtu int, gateway netip.Addr) stack.Config {
	sc := stack.Config{SendBuffer: BulkBuffer, RecvBuffer: BulkBuffer}
	idx := map[string]int{}
	for _, i := range ifaces {
		j, ok := idx[i.Name]
		if !ok {
			j = len(sc.Interfaces)
			idx[i.Name] = j
			sc.Interfaces = append(sc.Interfaces, stack.InterfaceConfig{Name: i.Name, MTU: mtu})
		}
		sc.Interfaces[j].Addrs = append(sc.Interfaces[j].Addrs, i.Prefix)
	}
	if gateway.IsValid() {
		sc.Gateways = []netip.Addr{gateway}
	}
	return sc
}

// NewStack starts the AF_XDP stack with sc. When that fails for want of
// privileges, the error says which ones AF_XDP needs.
func NewStack(sc stack.Config) (*stack.Stack, error) {
	s, err := stack.New(sc)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) || os.Geteuid() != 0 {
			return nil, fmt.Errorf("starting the AF_XDP stack: %w: AF_XDP needs root or CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF (and CAP_IPC_LOCK for large UMEMs)", err)
		}
		return nil, fmt.Errorf("starting the AF_XDP stack: %w", err)
	}
	return s, nil
}

// Main runs a command: run gets the arguments after the program name, a
// context cancelled on SIGINT or SIGTERM, and the process's standard
// output and error; the process exits with the code run returns.
func Main(run func(ctx context.Context, args []string, stdout, stderr io.Writer) int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
