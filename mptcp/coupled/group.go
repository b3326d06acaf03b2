package coupled

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

// Names of the algorithms New accepts.
const (
	LIA   = "lia"   // Linked Increases, RFC 6356
	OLIA  = "olia"  // Opportunistic Linked Increases (Khalili et al.)
	BALIA = "balia" // Balanced Linked Adaptation (Peng et al.)
)

type algorithm uint8

const (
	uncoupled algorithm = iota
	algoLIA
	algoOLIA
	algoBALIA
)

// names lists every name New accepts, sorted.
var names = []string{BALIA, "cubic", LIA, OLIA, "reno"}

// Names returns the names New accepts, sorted: the coupled "balia", "lia"
// and "olia", and the uncoupled "cubic" and "reno".
func Names() []string { return append([]string(nil), names...) }

// Group couples the congestion windows of the subflows of one MPTCP
// connection. Create it with New; NewSubflow and Remove are control-plane
// calls (they take a mutex); the controllers they hand out run lock-free.
type Group struct {
	algo algorithm
	name string

	// version changes whenever the member list changes or a member reduces
	// its window; subflows refresh their view of the others when it does.
	version atomic.Uint64
	_       [56]byte
	members atomic.Pointer[[]*published]

	mu sync.Mutex // serialises NewSubflow and Remove
}

// published is what one subflow shares with the others, alone in its cache
// line so that a subflow's stores do not disturb the others' lines.
type published struct {
	cwnd      atomic.Int64 // bytes
	srtt      atomic.Int64 // nanoseconds; 0 until the first RTT sample
	interLoss atomic.Int64 // OLIA: max(l1, l2) in bytes
	_         [40]byte
}

// New returns a Group for the algorithm called name: "lia", "olia" or
// "balia" couple the subflows; "reno" and "cubic" give every subflow an
// independent controller of that kind. Unknown names get an error listing
// the valid ones.
func New(name string) (*Group, error) {
	var a algorithm
	switch name {
	case LIA:
		a = algoLIA
	case OLIA:
		a = algoOLIA
	case BALIA:
		a = algoBALIA
	case "reno", "cubic":
		a = uncoupled
	default:
		return nil, fmt.Errorf("coupled: unknown congestion control %q: use one of %s", name, strings.Join(names, ", "))
	}
	g := &Group{algo: a, name: name}
	empty := []*published{}
	g.members.Store(&empty)
	return g, nil
}

// Name returns the algorithm's name as given to New.
func (g *Group) Name() string { return g.name }

// Coupled reports whether the group couples its subflows (LIA, OLIA,
// BALIA) rather than running them independently.
func (g *Group) Coupled() bool { return g.algo != uncoupled }

// NewSubflow returns the controller for a new subflow of the connection,
// initialised for cc.DefaultMSS; the engine calls Init with the real MSS.
// For "reno" and "cubic" it is an independent cc controller.
func (g *Group) NewSubflow() cc.Controller {
	if g.algo == uncoupled {
		c, err := cc.New(g.name)
		if err != nil { // cannot happen: New checked the name
			panic(err)
		}
		return c
	}
	s := &Subflow{g: g, me: &published{}}
	s.Init(cc.DefaultMSS, 0)
	g.mu.Lock()
	old := *g.members.Load()
	next := make([]*published, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s.me)
	g.members.Store(&next)
	g.mu.Unlock()
	g.version.Add(1)
	return s
}

// Remove takes a closed subflow's controller out of the coupling, so the
// others stop counting its window. Removing a controller twice, or one
// that is not the group's, does nothing.
func (g *Group) Remove(c cc.Controller) {
	s, ok := c.(*Subflow)
	if !ok || s.g != g {
		return
	}
	g.mu.Lock()
	old := *g.members.Load()
	next := make([]*published, 0, len(old))
	for _, m := range old {
		if m != s.me {
			next = append(next, m)
		}
	}
	changed := len(next) != len(old)
	if changed {
		g.members.Store(&next)
	}
	g.mu.Unlock()
	if changed {
		g.version.Add(1)
	}
}

// Len returns how many coupled subflows the group has (0 for "reno" and
// "cubic", which keep no shared state).
func (g *Group) Len() int { return len(*g.members.Load()) }

// TotalCwnd returns the sum of the coupled subflows' published windows in
// bytes (a snapshot; the windows keep changing).
func (g *Group) TotalCwnd() int {
	var t int64
	for _, m := range *g.members.Load() {
		t += m.cwnd.Load()
	}
	return int(t)
}
