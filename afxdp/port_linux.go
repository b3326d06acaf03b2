package afxdp

import (
	"errors"
	"fmt"
	"slices"
)

// Port is everything for one interface: the attached redirect program and
// one socket per configured queue, on a UMEM of its own (Open) or shared
// with other ports (OpenShared).
type Port struct {
	// UMEM holds the frames of every socket of this port.
	UMEM *UMEM
	// Program is the attached redirect program.
	Program *Program
	// Queues are the queue ids opened; Sockets[i] serves Queues[i].
	Queues  []int
	Sockets []*Socket
	// Ifindex is the device index.
	Ifindex int
	// MTU is the device MTU seen at Open.
	MTU int
	// Attach is the attach mode in effect (native or generic).
	Attach AttachMode
	// Reasons lists the fall-backs Open took (zero-copy or native refused).
	Reasons []string

	ownsUMEM bool
	closed   bool
}

// Open validates c against the device (through netlink, in the calling
// thread's network namespace), makes a UMEM, attaches the redirect program
// and binds one socket per queue. On failure nothing stays attached or open.
// Call it on a thread that is in the device's namespace (runtime.LockOSThread
// plus setns, or the process's own namespace).
func Open(c Config) (*Port, error) { return open(c, nil) }

// OpenShared is Open on an existing UMEM, so that several interfaces (and
// their queues) share one frame area. The UMEM must have been made with the
// same FrameSize, FillSize and CompletionSize as c.
func OpenShared(c Config, u *UMEM) (*Port, error) {
	if u == nil {
		return nil, errors.New("afxdp: OpenShared with a nil UMEM: use Open or NewUMEM")
	}
	return open(c, u)
}

func open(c Config, u *UMEM) (p *Port, err error) {
	c = c.WithDefaults()
	if err := c.validateStatic(); err != nil {
		return nil, err
	}
	facts, xs, err := netlinkLink(c.Interface)
	if err != nil {
		return nil, err
	}
	queues, err := c.validateLink(facts)
	if err != nil {
		return nil, err
	}
	if xs.Attached != 0 {
		return nil, fmt.Errorf("afxdp: interface %q already has an XDP program (id %d): remove it with `ip link set dev %s xdp off` or close the other user", c.Interface, xs.ProgID, c.Interface)
	}
	if u != nil && u.FrameSize() != c.FrameSize {
		return nil, fmt.Errorf("afxdp: OpenShared: UMEM frames are %d bytes but Config.FrameSize is %d: make them equal", u.FrameSize(), c.FrameSize)
	}
	p = &Port{Queues: queues, Ifindex: facts.Index, MTU: facts.MTU}
	defer func() {
		if err != nil {
			p.Close()
			p = nil
		}
	}()
	if u == nil {
		if u, err = NewUMEM(c.UMEMConfig(len(queues))); err != nil {
			return p, err
		}
		p.ownsUMEM = true
	}
	p.UMEM = u
	if p.Program, err = LoadProgram(slices.Max(queues)+1, c.MultiBuffer); err != nil {
		return p, err
	}
	reason, err := p.Program.Attach(facts.Index, c.Attach)
	if err != nil {
		return p, fmt.Errorf("afxdp: interface %q: %w", c.Interface, err)
	}
	p.Attach = p.Program.Mode()
	p.note(c, reason)
	budget, optional := c.TxBudget, false
	if budget == 0 && c.TxSize >= DefaultTxBudget {
		budget, optional = DefaultTxBudget, true
	}
	for _, q := range queues {
		s, reason, err := u.Bind(SocketConfig{
			Ifindex: facts.Index, Queue: q, RxSize: c.RxSize, TxSize: c.TxSize, Mode: c.Mode,
			NeedWakeup: !c.DisableNeedWakeup, MultiBuffer: c.MultiBuffer, TxBudget: budget, TxBudgetOptional: optional,
		})
		if err != nil {
			return p, fmt.Errorf("afxdp: interface %q: %w", c.Interface, err)
		}
		p.Sockets = append(p.Sockets, s)
		p.note(c, reason)
		if err := p.Program.Register(q, s); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (p *Port) note(c Config, reason string) {
	if reason == "" {
		return
	}
	p.Reasons = append(p.Reasons, reason)
	if c.Logger != nil {
		c.Logger.Info("afxdp fall-back", "interface", c.Interface, "reason", reason)
	}
}

// Close detaches the program, closes every socket (the UMEM's first socket
// last) and, for a port made by Open, releases the UMEM.
func (p *Port) Close() error {
	if p == nil || p.closed {
		return nil
	}
	p.closed = true
	var errs []error
	if p.Program != nil {
		errs = append(errs, p.Program.Close())
	}
	for i := len(p.Sockets) - 1; i >= 0; i-- {
		errs = append(errs, p.Sockets[i].Close())
	}
	if p.ownsUMEM && p.UMEM != nil {
		errs = append(errs, p.UMEM.Close())
	}
	return errors.Join(errs...)
}
