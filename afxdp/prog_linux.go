package afxdp

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// xdpMdRxQueueIndex is offsetof(struct xdp_md, rx_queue_index).
const xdpMdRxQueueIndex = 16

// xdpPass is the XDP_PASS action, returned by bpf_redirect_map (through
// its flags argument) when the XSKMAP has no socket for the queue.
const xdpPass = 2

// redirectInstructions is the whole redirect program:
//
//	r2 = ctx->rx_queue_index
//	return bpf_redirect_map(&xsks, r2, XDP_PASS)
func redirectInstructions() asm.Instructions {
	return asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, xdpMdRxQueueIndex, asm.Word),
		asm.LoadMapPtr(asm.R1, 0).WithReference("xsks"),
		asm.Mov.Imm(asm.R3, xdpPass),
		asm.FnRedirectMap.Call(),
		asm.Return(),
	}
}

// Program is the loaded XDP redirect program with its XSKMAP, optionally
// attached to one device.
type Program struct {
	prog    *ebpf.Program
	xsks    *ebpf.Map
	lnk     link.Link
	frags   bool
	ifindex int
	mode    AttachMode
}

// LoadProgram loads the redirect program and an XSKMAP with room for
// maxQueues queue ids. frags selects the multi-buffer-aware variant
// (BPF_F_XDP_HAS_FRAGS), required for jumbo frames in native mode. A load
// failure includes the kernel's reason and the verifier log.
func LoadProgram(maxQueues int, frags bool) (*Program, error) {
	if maxQueues < 1 {
		return nil, fmt.Errorf("afxdp: LoadProgram with maxQueues %d: need at least 1", maxQueues)
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{
		Name: "mpxdp_xsks", Type: ebpf.XSKMap, KeySize: 4, ValueSize: 4, MaxEntries: uint32(maxQueues),
	})
	if err != nil {
		return nil, fmt.Errorf("afxdp: creating the XSKMAP (%d entries) failed: %v: needs root (CAP_BPF, CAP_NET_ADMIN)", maxQueues, err)
	}
	p, err := loadXDP(redirectInstructions(), m, frags)
	if err != nil {
		m.Close()
		return nil, err
	}
	return &Program{prog: p, xsks: m, frags: frags}, nil
}

// loadXDP associates insns with the XSKMAP and loads them as an XDP program.
func loadXDP(insns asm.Instructions, m *ebpf.Map, frags bool) (*ebpf.Program, error) {
	if err := insns.AssociateMap("xsks", m); err != nil {
		return nil, fmt.Errorf("afxdp: associating the XSKMAP: %v", err)
	}
	spec := &ebpf.ProgramSpec{
		Name: "mpxdp_redirect", Type: ebpf.XDP, License: "Dual MIT/GPL", Instructions: insns,
	}
	if frags {
		spec.Flags = unix.BPF_F_XDP_HAS_FRAGS
	}
	p, err := ebpf.NewProgram(spec)
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("afxdp: loading the XDP redirect program failed: %+v", ve)
		}
		return nil, fmt.Errorf("afxdp: loading the XDP redirect program (frags=%v) failed: %v", frags, err)
	}
	return p, nil
}

// Frags reports whether the program was loaded with BPF_F_XDP_HAS_FRAGS.
func (p *Program) Frags() bool { return p.frags }

// Mode returns the attach mode in effect (AttachNative or AttachGeneric), or
// AttachAuto when not attached.
func (p *Program) Mode() AttachMode { return p.mode }

// Attach attaches the program to the device with index ifindex (a bpf_link:
// it detaches when closed or when the process exits). AttachAuto tries
// native and falls back to generic; the native refusal is returned as reason.
// It must run in the network namespace that holds the device.
func (p *Program) Attach(ifindex int, mode AttachMode) (reason string, err error) {
	if p.lnk != nil {
		return "", fmt.Errorf("afxdp: program already attached to ifindex %d: close it first", p.ifindex)
	}
	try := func(m AttachMode) error {
		flags := link.XDPDriverMode
		if m == AttachGeneric {
			flags = link.XDPGenericMode
		}
		l, err := link.AttachXDP(link.XDPOptions{Program: p.prog, Interface: ifindex, Flags: flags})
		if err != nil {
			return err
		}
		p.lnk, p.ifindex, p.mode = l, ifindex, m
		return nil
	}
	switch mode {
	case AttachNative, AttachGeneric:
		if err := try(mode); err != nil {
			return "", fmt.Errorf("afxdp: %s XDP attach to ifindex %d failed: %v%s", mode, ifindex, err, attachHint(err))
		}
		return "", nil
	default:
		nerr := try(AttachNative)
		if nerr == nil {
			return "", nil
		}
		if gerr := try(AttachGeneric); gerr != nil {
			return "", fmt.Errorf("afxdp: XDP attach to ifindex %d failed in native mode (%v) and in generic mode (%v)%s", ifindex, nerr, gerr, attachHint(gerr))
		}
		return fmt.Sprintf("native XDP attach to ifindex %d refused (%v); using generic mode", ifindex, nerr), nil
	}
}

func attachHint(err error) string {
	switch {
	case errors.Is(err, unix.EBUSY) || errors.Is(err, unix.EEXIST):
		return ": another XDP program is attached; remove it (`ip link set dev DEV xdp off`)"
	case errors.Is(err, unix.ERANGE) || errors.Is(err, unix.EINVAL):
		return ": the MTU may be too large for XDP without multi-buffer (set MultiBuffer or lower the MTU)"
	case errors.Is(err, unix.ENODEV):
		return ": no such device in this network namespace"
	case errors.Is(err, unix.EPERM):
		return ": needs root (CAP_NET_ADMIN, CAP_BPF)"
	}
	return ""
}

// Register makes the program redirect packets of queue to socket s.
func (p *Program) Register(queue int, s *Socket) error {
	if err := p.xsks.Put(uint32(queue), uint32(s.FD())); err != nil {
		return fmt.Errorf("afxdp: registering queue %d in the XSKMAP failed: %v: is the queue id below the map size?", queue, err)
	}
	return nil
}

// Unregister removes queue's socket; its packets go to the kernel stack again.
func (p *Program) Unregister(queue int) error {
	if err := p.xsks.Delete(uint32(queue)); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("afxdp: removing queue %d from the XSKMAP failed: %v", queue, err)
	}
	return nil
}

// Detach removes the program from its device (no-op when not attached).
func (p *Program) Detach() error {
	if p.lnk == nil {
		return nil
	}
	err := p.lnk.Close()
	p.lnk, p.mode = nil, AttachAuto
	if err != nil {
		return fmt.Errorf("afxdp: detaching the XDP program from ifindex %d failed: %v", p.ifindex, err)
	}
	return nil
}

// Close detaches the program and releases the program and map.
func (p *Program) Close() error {
	return errors.Join(p.Detach(), p.prog.Close(), p.xsks.Close())
}
