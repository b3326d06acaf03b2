package afxdp

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Mode selects how packets move between the NIC and the UMEM.
type Mode int

const (
	// ModeAuto tries zero-copy and falls back to copy mode, logging why.
	ModeAuto Mode = iota
	// ModeCopy makes the kernel copy every packet (works on every driver, veth included).
	ModeCopy
	// ModeZeroCopy lets the driver DMA straight into the UMEM; bind fails where the driver cannot.
	ModeZeroCopy
)

// String returns the mode's name as used in logs and errors.
func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeCopy:
		return "copy"
	case ModeZeroCopy:
		return "zero-copy"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// AttachMode selects where the XDP redirect program runs.
type AttachMode int

const (
	// AttachAuto tries native (driver) attach and falls back to generic.
	AttachAuto AttachMode = iota
	// AttachNative runs the program in the driver (XDP_FLAGS_DRV_MODE).
	AttachNative
	// AttachGeneric runs the program on the skb path (XDP_FLAGS_SKB_MODE); slower, works everywhere.
	AttachGeneric
)

// String returns the attach mode's name as used in logs and errors.
func (a AttachMode) String() string {
	switch a {
	case AttachAuto:
		return "auto"
	case AttachNative:
		return "native"
	case AttachGeneric:
		return "generic"
	}
	return "AttachMode(" + strconv.Itoa(int(a)) + ")"
}

// Kernel constants shared by portable code (values from linux/if_xdp.h and
// linux/bpf.h; afxdp's Linux tests compare them with golang.org/x/sys/unix).
const (
	// PacketHeadroom is XDP_PACKET_HEADROOM: the kernel reserves this many
	// bytes at the start of every frame before the packet data.
	PacketHeadroom = 256
	// OptionContd is XDP_PKT_CONTD: set in Desc.Options when the packet
	// continues in the next descriptor (multi-buffer).
	OptionContd = 1
	// ringNeedWakeup is XDP_RING_NEED_WAKEUP in a ring's flags word.
	ringNeedWakeup = 1
	// ethHeaderLen is the Ethernet header added to the MTU on the wire.
	ethHeaderLen = 14
	// NativeLinearMaxMTU is the largest MTU that native XDP accepts on veth
	// (and most drivers) for a program without BPF_F_XDP_HAS_FRAGS: the
	// packet must fit one 4 KiB page after XDP_PACKET_HEADROOM and
	// skb_shared_info (4096-256-320-14).
	NativeLinearMaxMTU = 3506
	// DefaultTxBudget is the XDP_MAX_TX_SKB_BUDGET Open asks for when
	// Config.TxBudget is 0 (the kernel's own default moves 32 frames per kick).
	DefaultTxBudget = 256
)

// Default sizes used by WithDefaults.
const (
	// DefaultFrameSize is the UMEM chunk size: one page, room for MTU 3826.
	DefaultFrameSize = 4096
	// DefaultRingSize is the size of each of the four rings.
	DefaultRingSize = 2048
	// DefaultFramesPerQ is the number of UMEM frames per opened queue.
	DefaultFramesPerQ = 4096
)

// Config describes the AF_XDP sockets to open on one interface. The zero
// value of every field except Interface selects a default that works on veth
// and on real NICs (see WithDefaults).
type Config struct {
	// Interface is the network device name, e.g. "eth0".
	Interface string
	// Queues lists the RX queue ids to open a socket on; nil means every
	// RX queue of the device.
	Queues []int
	// FrameSize is the UMEM chunk size in bytes: a power of two from 2048
	// to the page size. Default 4096.
	FrameSize uint32
	// NumFrames is the number of frames in the UMEM. Default 4096 per queue.
	NumFrames uint32
	// FrameHeadroom is extra headroom (bytes) the kernel leaves in each frame
	// before XDP_PACKET_HEADROOM; default 0.
	FrameHeadroom uint32
	// FillSize, CompletionSize, RxSize and TxSize are ring sizes in entries
	// (powers of two). Default 2048 each.
	FillSize, CompletionSize, RxSize, TxSize uint32
	// Mode is copy, zero-copy or auto (zero-copy, else copy). Default auto.
	Mode Mode
	// Attach is native, generic or auto (native, else generic). Default auto.
	Attach AttachMode
	// DisableNeedWakeup turns XDP_USE_NEED_WAKEUP off. NeedWakeup is on by
	// default: the kernel then tells us (ring flags) when a kick is needed.
	DisableNeedWakeup bool
	// MultiBuffer binds with XDP_USE_SG and loads the frags-aware program
	// (BPF_F_XDP_HAS_FRAGS), so packets larger than one frame arrive as
	// chains of descriptors marked OptionContd. Needed for jumbo MTUs.
	MultiBuffer bool
	// TxBudget is XDP_MAX_TX_SKB_BUDGET, the frames the kernel sends per
	// kick in copy mode. 0 asks for DefaultTxBudget and ignores a kernel that
	// lacks the option; a non-zero value must be accepted by the kernel.
	TxBudget uint32
	// SysfsRoot is where Validate reads device facts; "" means "/sys".
	SysfsRoot string
	// Logger receives fall-back reasons (zero-copy refused, native attach
	// refused). nil discards them; the reasons are also in Port.Reasons.
	Logger *slog.Logger
}

// WithDefaults returns a copy of c with zero fields set to their defaults.
// Queues stays nil (meaning all queues) because the count depends on the device.
func (c Config) WithDefaults() Config {
	if c.FrameSize == 0 {
		c.FrameSize = DefaultFrameSize
	}
	for _, p := range []*uint32{&c.FillSize, &c.CompletionSize, &c.RxSize, &c.TxSize} {
		if *p == 0 {
			*p = DefaultRingSize
		}
	}
	if c.SysfsRoot == "" {
		c.SysfsRoot = "/sys"
	}
	return c
}

// Validate checks c (after WithDefaults) against itself and against the
// device as seen in SysfsRoot: the interface exists, every queue id exists,
// and the MTU fits the frame size and attach mode. It needs no privileges.
// Note that /sys shows the network namespace that mounted it.
func (c Config) Validate() error {
	c = c.WithDefaults()
	if err := c.validateStatic(); err != nil {
		return err
	}
	link, err := sysfsLink(c.SysfsRoot, c.Interface)
	if err != nil {
		return err
	}
	_, err = c.validateLink(link)
	return err
}

func isPow2(v uint32) bool { return v != 0 && v&(v-1) == 0 }

// validateStatic checks what does not depend on the device.
func (c Config) validateStatic() error {
	if c.Interface == "" {
		return errors.New("afxdp: Config.Interface is empty: set it to the device name (see `ip link`)")
	}
	page := uint32(os.Getpagesize())
	if !isPow2(c.FrameSize) || c.FrameSize < 2048 || c.FrameSize > page {
		return fmt.Errorf("afxdp: Config.FrameSize %d is invalid: use a power of two from 2048 to the page size %d (2048 or 4096)", c.FrameSize, page)
	}
	if c.FrameHeadroom+PacketHeadroom+128 > c.FrameSize {
		return fmt.Errorf("afxdp: Config.FrameHeadroom %d leaves no room for packets in %d-byte frames: lower it", c.FrameHeadroom, c.FrameSize)
	}
	rings := []struct {
		name string
		v    uint32
	}{{"FillSize", c.FillSize}, {"CompletionSize", c.CompletionSize}, {"RxSize", c.RxSize}, {"TxSize", c.TxSize}}
	for _, r := range rings {
		if !isPow2(r.v) {
			return fmt.Errorf("afxdp: Config.%s %d is not a power of two: use e.g. 1024, 2048 or 4096", r.name, r.v)
		}
	}
	switch c.Mode {
	case ModeAuto, ModeCopy, ModeZeroCopy:
	default:
		return fmt.Errorf("afxdp: Config.Mode %d is unknown: use ModeAuto, ModeCopy or ModeZeroCopy", int(c.Mode))
	}
	switch c.Attach {
	case AttachAuto, AttachNative, AttachGeneric:
	default:
		return fmt.Errorf("afxdp: Config.Attach %d is unknown: use AttachAuto, AttachNative or AttachGeneric", int(c.Attach))
	}
	if c.TxBudget != 0 && c.TxBudget < 32 {
		return fmt.Errorf("afxdp: Config.TxBudget %d is below 32, which the kernel refuses: use 0 (default %d) or 32 up to Config.TxSize", c.TxBudget, DefaultTxBudget)
	}
	if c.TxBudget > c.TxSize {
		return fmt.Errorf("afxdp: Config.TxBudget %d exceeds Config.TxSize %d: lower the budget or enlarge the TX ring", c.TxBudget, c.TxSize)
	}
	seen := map[int]bool{}
	for _, q := range c.Queues {
		if q < 0 {
			return fmt.Errorf("afxdp: Config.Queues contains %d: queue ids start at 0", q)
		}
		if seen[q] {
			return fmt.Errorf("afxdp: Config.Queues lists queue %d twice: list each queue once", q)
		}
		seen[q] = true
	}
	return nil
}

// linkFacts are the device facts Validate and Open check the config against.
type linkFacts struct {
	Name     string
	Index    int
	MTU      int
	RxQueues int
	TxQueues int
}

// validateLink checks c against the device and returns the queue list to use.
func (c Config) validateLink(l linkFacts) ([]int, error) {
	queues := c.Queues
	if queues == nil {
		for q := 0; q < l.RxQueues; q++ {
			queues = append(queues, q)
		}
	}
	if len(queues) == 0 {
		return nil, fmt.Errorf("afxdp: Config.Queues is empty and interface %q reports no RX queues: list the queues to use", c.Interface)
	}
	for _, q := range queues {
		if q >= l.RxQueues {
			return nil, fmt.Errorf("afxdp: Config.Queues: queue %d does not exist on %q (it has %d RX queues in use): use ids below %d (see `ethtool -l %s`)",
				q, c.Interface, l.RxQueues, l.RxQueues, c.Interface)
		}
	}
	room := int(c.FrameSize) - PacketHeadroom - int(c.FrameHeadroom)
	if !c.MultiBuffer && l.MTU+ethHeaderLen > room {
		return nil, fmt.Errorf("afxdp: interface %q has MTU %d (frames up to %d bytes) but a %d-byte frame holds %d packet bytes: set Config.MultiBuffer, raise Config.FrameSize or lower the MTU",
			c.Interface, l.MTU, l.MTU+ethHeaderLen, c.FrameSize, room)
	}
	if !c.MultiBuffer && c.Attach == AttachNative && l.MTU > NativeLinearMaxMTU {
		return nil, fmt.Errorf("afxdp: interface %q has MTU %d but native XDP without multi-buffer accepts at most %d: set Config.MultiBuffer (frags-aware program), use AttachGeneric or lower the MTU",
			c.Interface, l.MTU, NativeLinearMaxMTU)
	}
	frames := c.NumFrames
	if frames == 0 {
		frames = DefaultFramesPerQ * uint32(len(queues))
	}
	if frames < c.FillSize {
		return nil, fmt.Errorf("afxdp: Config.NumFrames %d is smaller than Config.FillSize %d: the fill ring could never be filled; raise NumFrames", frames, c.FillSize)
	}
	return queues, nil
}

// sysfsLink reads device facts from ROOT/class/net/NAME.
func sysfsLink(root, name string) (linkFacts, error) {
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return linkFacts{}, fmt.Errorf("afxdp: interface name %q is invalid: check the name with `ip link`", name)
	}
	dir := filepath.Join(root, "class", "net", name)
	if _, err := os.Stat(dir); err != nil {
		return linkFacts{}, fmt.Errorf("afxdp: interface %q not found under %s: check the name with `ip link` (and the network namespace)", name, filepath.Join(root, "class", "net"))
	}
	l := linkFacts{Name: name}
	var err error
	if l.MTU, err = readSysfsInt(filepath.Join(dir, "mtu")); err != nil {
		return linkFacts{}, err
	}
	if l.Index, err = readSysfsInt(filepath.Join(dir, "ifindex")); err != nil {
		return linkFacts{}, err
	}
	ents, err := os.ReadDir(filepath.Join(dir, "queues"))
	if err != nil {
		return linkFacts{}, fmt.Errorf("afxdp: cannot list queues of %q: %v", name, err)
	}
	for _, e := range ents {
		switch {
		case strings.HasPrefix(e.Name(), "rx-"):
			l.RxQueues++
		case strings.HasPrefix(e.Name(), "tx-"):
			l.TxQueues++
		}
	}
	return l, nil
}

func readSysfsInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("afxdp: cannot read %s: %v", path, err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("afxdp: %s holds %q, not a number", path, strings.TrimSpace(string(b)))
	}
	return v, nil
}

// UMEMConfig sizes a UMEM and the fill/completion pair of its first socket.
type UMEMConfig struct {
	// FrameSize is the chunk size: a power of two from 2048 to the page size.
	FrameSize uint32
	// NumFrames is the number of frames.
	NumFrames uint32
	// FrameHeadroom is extra headroom the kernel leaves before XDP_PACKET_HEADROOM.
	FrameHeadroom uint32
	// FillSize and CompletionSize size the fill/completion rings of every
	// (device, queue) bound on this UMEM (powers of two).
	FillSize, CompletionSize uint32
}

// UMEMConfig returns the UMEM sizes c asks for, for a port with nqueues queues.
func (c Config) UMEMConfig(nqueues int) UMEMConfig {
	c = c.WithDefaults()
	n := c.NumFrames
	if n == 0 {
		n = DefaultFramesPerQ * uint32(max(nqueues, 1))
	}
	return UMEMConfig{FrameSize: c.FrameSize, NumFrames: n, FrameHeadroom: c.FrameHeadroom, FillSize: c.FillSize, CompletionSize: c.CompletionSize}
}
