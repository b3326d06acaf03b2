package testbed

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
)

// TCX verdicts (include/uapi/linux/bpf.h, enum tcx_action_base).
const (
	tcxNext = -1 // continue with the next program or pass
	tcxDrop = 2
)

// Keys of the loss program's per-CPU counter map.
const (
	lossKeyPassed  = 0
	lossKeyDropped = 1
)

// lossProg is a TCX egress or ingress program that drops packets at random with a
// probability held in a one-entry array map, counting what it does.
type lossProg struct {
	cfg      *ebpf.Map // array[1] of u64: drop when prandom_u32 < value
	counters *ebpf.Map // per-CPU array[2] of u64: passed, dropped
	prog     *ebpf.Program
	link     link.Link
}

// lossInstructions builds the program:
//
//	thr = cfg[0]; if prandom_u32() < thr { counters[1]++; return DROP }
//	counters[0]++; return NEXT
func lossInstructions(cfgFD, cntFD int) asm.Instructions {
	// bump increments counters[key] (per CPU, so no atomics), then jumps to next.
	bump := func(key int64, next string) asm.Instructions {
		return asm.Instructions{
			asm.StoreImm(asm.R10, -4, key, asm.Word),
			asm.Mov.Reg(asm.R2, asm.R10),
			asm.Add.Imm(asm.R2, -4),
			asm.LoadMapPtr(asm.R1, cntFD),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, next),
			asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
			asm.Add.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		}
	}
	insns := asm.Instructions{
		asm.StoreImm(asm.R10, -4, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, cfgFD),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"),
		asm.LoadMem(asm.R7, asm.R0, 0, asm.DWord),
		asm.FnGetPrandomU32.Call(),
		asm.JGE.Reg(asm.R0, asm.R7, "count_pass"),
	}
	insns = append(insns, bump(lossKeyDropped, "drop")...)
	insns = append(insns,
		asm.Mov.Imm(asm.R0, tcxDrop).WithSymbol("drop"),
		asm.Return(),
	)
	pass := bump(lossKeyPassed, "pass")
	pass[0] = pass[0].WithSymbol("count_pass")
	insns = append(insns, pass...)
	insns = append(insns,
		asm.Mov.Imm(asm.R0, tcxNext).WithSymbol("pass"),
		asm.Return(),
	)
	return insns
}

// newLossProg creates the maps and loads the program (not attached).
func newLossProg(attach ebpf.AttachType) (*lossProg, error) {
	l := &lossProg{}
	var err error
	l.cfg, err = ebpf.NewMap(&ebpf.MapSpec{Name: "mpx_loss_cfg", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		return nil, fmt.Errorf("testbed: creating the loss config map failed (needs CAP_BPF): %w", err)
	}
	l.counters, err = ebpf.NewMap(&ebpf.MapSpec{Name: "mpx_loss_cnt", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 2})
	if err != nil {
		l.close()
		return nil, fmt.Errorf("testbed: creating the loss counter map failed (needs CAP_BPF): %w", err)
	}
	l.prog, err = ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "mpx_loss",
		Type:         ebpf.SchedCLS,
		AttachType:   attach,
		Instructions: lossInstructions(l.cfg.FD(), l.counters.FD()),
		License:      "Dual MIT/GPL",
	})
	if err != nil {
		l.close()
		return nil, fmt.Errorf("testbed: loading the loss program failed: %w", err)
	}
	return l, nil
}

func (l *lossProg) setThreshold(thr uint64) error {
	if err := l.cfg.Put(uint32(0), thr); err != nil {
		return fmt.Errorf("testbed: setting the loss threshold failed: %w", err)
	}
	return nil
}

func (l *lossProg) stats() (LossStats, error) {
	var s LossStats
	for key, dst := range map[uint32]*uint64{lossKeyPassed: &s.Passed, lossKeyDropped: &s.Dropped} {
		var per []uint64
		if err := l.counters.Lookup(key, &per); err != nil {
			return LossStats{}, fmt.Errorf("testbed: reading loss counters failed: %w", err)
		}
		for _, v := range per {
			*dst += v
		}
	}
	return s, nil
}

func (l *lossProg) close() error {
	var errs []error
	if l.link != nil {
		errs = append(errs, l.link.Close())
	}
	if l.prog != nil {
		errs = append(errs, l.prog.Close())
	}
	if l.counters != nil {
		errs = append(errs, l.counters.Close())
	}
	if l.cfg != nil {
		errs = append(errs, l.cfg.Close())
	}
	return errors.Join(errs...)
}

// SetLoss drops packets leaving v (its egress, inside its namespace) at
// random with probability pct/100, using a TCX egress BPF program. The first
// call attaches the program; later calls only change the probability (0
// lets everything through but keeps counting). The program is detached when
// v's namespace is closed. Loss on an interface that mpxdp transmits on with
// AF_XDP has no effect: put it on a kernel hop (Topology does).
func SetLoss(v Veth, pct float64) error { return setLoss(v, pct, false) }

// SetIngressLoss is SetLoss for packets arriving at v (TCX ingress): on the
// kernel peer's interface it drops what mpxdp sends before the kernel sees it.
func SetIngressLoss(v Veth, pct float64) error { return setLoss(v, pct, true) }

// lossKey names a loss program in NS.loss.
func lossKey(v Veth, ingress bool) string {
	if ingress {
		return v.Name + "/ingress"
	}
	return v.Name + "/egress"
}

func setLoss(v Veth, pct float64, ingress bool) error {
	thr, err := lossThreshold(pct)
	if err != nil {
		return err
	}
	n := v.NS
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errClosed
	}
	key := lossKey(v, ingress)
	if l := n.loss[key]; l != nil {
		return l.setThreshold(thr)
	}
	attach, where := ebpf.AttachTCXEgress, "egress"
	if ingress {
		attach, where = ebpf.AttachTCXIngress, "ingress"
	}
	l, err := newLossProg(attach)
	if err != nil {
		return err
	}
	if err := l.setThreshold(thr); err != nil {
		l.close()
		return err
	}
	err = n.do(func() error {
		var err error
		l.link, err = link.AttachTCX(link.TCXOptions{Interface: v.Index, Program: l.prog, Attach: attach})
		return err
	})
	if err != nil {
		l.close()
		return fmt.Errorf("testbed: attaching the loss program to %s %s failed (TCX needs Linux >= 6.6): %w", v, where, err)
	}
	if n.loss == nil {
		n.loss = make(map[string]*lossProg)
	}
	n.loss[key] = l
	return nil
}

// LossCounters returns how many packets the loss program on v's egress let
// through and dropped, summed over CPUs.
func LossCounters(v Veth) (LossStats, error) { return lossCounters(v, false) }

// IngressLossCounters is LossCounters for the program SetIngressLoss attached.
func IngressLossCounters(v Veth) (LossStats, error) { return lossCounters(v, true) }

func lossCounters(v Veth, ingress bool) (LossStats, error) {
	n := v.NS
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.loss[lossKey(v, ingress)]
	if l == nil {
		return LossStats{}, fmt.Errorf("testbed: no loss program on %s (%s): call SetLoss or SetIngressLoss first", v, lossKey(v, ingress))
	}
	return l.stats()
}

// closeLoss detaches and frees every loss program of n. n.mu is held.
func (n *NS) closeLoss() error {
	var errs []error
	for name, l := range n.loss {
		errs = append(errs, l.close())
		delete(n.loss, name)
	}
	return errors.Join(errs...)
}
