package pm

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Flags are an endpoint's flags, as `ip mptcp endpoint` spells them.
type Flags uint8

// Endpoint flags.
const (
	Signal   Flags = 1 << iota // announce this address to the peer (server side)
	Subflow                    // open a subflow from this address (client side)
	Backup                     // subflows from this address are backup
	Fullmesh                   // open a subflow from this address to every announced address
)

// String returns the flags like `ip mptcp endpoint show`: "signal subflow backup fullmesh".
func (f Flags) String() string {
	var s []string
	for i, n := range []string{"signal", "subflow", "backup", "fullmesh"} {
		if f&(1<<i) != 0 {
			s = append(s, n)
		}
	}
	return strings.Join(s, " ")
}

// Endpoint is a local address the path manager may use.
type Endpoint struct {
	ID     uint8      // address id (1..255; 0 is the connection's initial address)
	Addr   netip.Addr // local address
	Port   uint16     // port to announce (signal), 0 for the connection's port
	Ifname string     // interface the address belongs to ("dev" in ip mptcp)
	Flags  Flags
}

// Limits are the per-connection limits of `ip mptcp limits`.
type Limits struct {
	// Subflows is the most additional subflows (besides the initial one) [2, as Linux].
	Subflows int
	// AddAddrAccepted is the most peer announcements accepted [0, as Linux].
	AddAddrAccepted int
}

// ActionKind says what an Action asks the stack to do.
type ActionKind uint8

// Action kinds.
const (
	// OpenSubflow: open an MP_JOIN subflow from Local to Remote.
	OpenSubflow ActionKind = iota + 1
	// Announce: send ADD_ADDR for Local.
	Announce
	// Withdraw: send REMOVE_ADDR for Local.ID and close its subflows.
	Withdraw
)

// String returns the action's name.
func (k ActionKind) String() string {
	switch k {
	case OpenSubflow:
		return "open-subflow"
	case Announce:
		return "announce"
	case Withdraw:
		return "withdraw"
	}
	return "unknown"
}

// Action is one thing the path manager wants the stack to do.
type Action struct {
	Kind ActionKind
	// Local is the local endpoint: for OpenSubflow a zero Addr means "the
	// address the stack routes to Remote" (address id 0 unless it matches
	// an endpoint).
	Local Endpoint
	// Remote is the peer address of OpenSubflow; RemoteID its address id.
	Remote   netip.AddrPort
	RemoteID uint8
	// Backup: open the subflow as backup.
	Backup bool
	// Attempt counts the tries of this subflow (1 for the first).
	Attempt int
}

// Role says which end of the connection the manager serves.
type Role uint8

// Roles.
const (
	Client Role = iota // opens subflows
	Server             // announces addresses
)

// Config configures a Manager.
type Config struct {
	Role      Role
	Endpoints []Endpoint
	Limits    Limits
	// RetryBase and RetryMax bound the back-off before reopening a failed
	// subflow [1 s, 60 s]; RetryBase < 0 turns re-establishment off.
	RetryBase, RetryMax time.Duration
}

// state of a subflow the manager wants.
type sfState uint8

const (
	sfWanted  sfState = iota // to be opened at retryAt
	sfOpening                // OpenSubflow returned, not up yet
	sfUp                     // established
)

type want struct {
	local    Endpoint
	remote   netip.AddrPort
	remoteID uint8
	backup   bool
	state    sfState
	attempts int
	retryAt  time.Duration
}

type remote struct {
	id   uint8
	addr netip.AddrPort
}

// Manager is the path manager of one connection.
type Manager struct {
	cfg         Config
	established bool
	initial     netip.AddrPort
	remotes     []remote
	accepted    int
	wants       []want
	pending     []Action
}

// Errors of New.
var (
	ErrDuplicateID = errors.New("pm: two endpoints share an id: give each `ip mptcp endpoint` a unique id")
	ErrBadEndpoint = errors.New("pm: endpoint without a valid address or with id 0 (id 0 is the initial address)")
)

// New returns a Manager for cfg.
func New(cfg Config) (*Manager, error) {
	seen := map[uint8]bool{}
	for _, e := range cfg.Endpoints {
		if !e.Addr.IsValid() || e.ID == 0 {
			return nil, fmt.Errorf("%w: %+v", ErrBadEndpoint, e)
		}
		if seen[e.ID] {
			return nil, fmt.Errorf("%w: id %d", ErrDuplicateID, e.ID)
		}
		seen[e.ID] = true
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits.Subflows = 2
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase = time.Second
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = time.Minute
	}
	return &Manager{cfg: cfg}, nil
}

// Established tells the manager the connection is fully established over
// the initial subflow from local to remote.
func (m *Manager) Established(local, rem netip.AddrPort, now time.Duration) {
	if m.established {
		return
	}
	m.established = true
	m.initial = rem
	m.remotes = append(m.remotes, remote{0, rem})
	switch m.cfg.Role {
	case Server:
		for _, e := range m.cfg.Endpoints {
			if e.Flags&Signal != 0 {
				m.pending = append(m.pending, Action{Kind: Announce, Local: e})
			}
		}
	case Client:
		for _, e := range m.cfg.Endpoints {
			if e.Flags&Subflow != 0 && e.Addr != local.Addr() {
				m.addWant(e, rem, 0, now)
			}
		}
	}
}

// AddAddr tells the manager the peer announced an address (HMAC already
// checked). It reports whether the announcement was accepted (within
// limits.AddAddrAccepted); subflows to it are opened at the next Poll.
func (m *Manager) AddAddr(id uint8, addr netip.AddrPort, now time.Duration) bool {
	for _, r := range m.remotes {
		if r.id == id && id != 0 {
			return true // a retransmitted announcement
		}
	}
	if m.accepted >= m.cfg.Limits.AddAddrAccepted {
		return false
	}
	m.accepted++
	if addr.Port() == 0 {
		addr = netip.AddrPortFrom(addr.Addr(), m.initial.Port())
	}
	m.remotes = append(m.remotes, remote{id, addr})
	if m.cfg.Role != Client {
		return true
	}
	full := false
	for _, e := range m.cfg.Endpoints {
		if e.Flags&Fullmesh != 0 {
			full = true
			m.addWant(e, addr, id, now)
		}
	}
	if !full {
		m.addWant(Endpoint{}, addr, id, now)
	}
	return true
}

// RemoveAddr tells the manager the peer withdrew address id: subflows to
// it are not reopened.
func (m *Manager) RemoveAddr(id uint8) {
	for i := 0; i < len(m.remotes); i++ {
		if m.remotes[i].id == id && id != 0 {
			m.remotes = append(m.remotes[:i], m.remotes[i+1:]...)
			i--
		}
	}
	for i := 0; i < len(m.wants); i++ {
		if m.wants[i].remoteID == id {
			m.wants = append(m.wants[:i], m.wants[i+1:]...)
			i--
		}
	}
}

// addWant records a subflow to open, within limits.Subflows.
func (m *Manager) addWant(e Endpoint, rem netip.AddrPort, remoteID uint8, now time.Duration) {
	if len(m.wants) >= m.cfg.Limits.Subflows {
		return
	}
	for _, w := range m.wants {
		if w.local.Addr == e.Addr && w.remote == rem {
			return
		}
	}
	m.wants = append(m.wants, want{local: e, remote: rem, remoteID: remoteID, backup: e.Flags&Backup != 0, retryAt: now})
}

func (m *Manager) find(local netip.Addr, rem netip.AddrPort) *want {
	for i := range m.wants {
		w := &m.wants[i]
		if w.remote == rem && (w.local.Addr == local || !w.local.Addr.IsValid()) {
			return w
		}
	}
	return nil
}

// SubflowUp tells the manager a subflow from local to rem is established.
func (m *Manager) SubflowUp(local netip.Addr, rem netip.AddrPort) {
	if w := m.find(local, rem); w != nil {
		w.state = sfUp
		w.attempts = 0
	}
}

// SubflowDown tells the manager a subflow from local to rem failed (or
// could not be opened). A subflow the manager wants is reopened after a
// back-off. It reports whether a retry was scheduled.
func (m *Manager) SubflowDown(local netip.Addr, rem netip.AddrPort, now time.Duration) bool {
	w := m.find(local, rem)
	if w == nil || m.cfg.RetryBase < 0 {
		return false
	}
	d := m.cfg.RetryBase
	for i := 0; i < w.attempts && d < m.cfg.RetryMax; i++ {
		d *= 2
	}
	w.state = sfWanted
	w.retryAt = now + min(d, m.cfg.RetryMax)
	return true
}

// Poll appends the actions due at now to dst and returns it.
func (m *Manager) Poll(now time.Duration, dst []Action) []Action {
	dst = append(dst, m.pending...)
	m.pending = m.pending[:0]
	for i := range m.wants {
		w := &m.wants[i]
		if w.state != sfWanted || w.retryAt > now {
			continue
		}
		w.state = sfOpening
		w.attempts++
		dst = append(dst, Action{Kind: OpenSubflow, Local: w.local, Remote: w.remote, RemoteID: w.remoteID, Backup: w.backup, Attempt: w.attempts})
	}
	return dst
}

// NextTimer returns when Poll has something to do, 0 when nothing is scheduled.
func (m *Manager) NextTimer() time.Duration {
	var t time.Duration
	if len(m.pending) > 0 {
		return 1 // now
	}
	for _, w := range m.wants {
		if w.state == sfWanted && (t == 0 || w.retryAt < t) {
			t = max(w.retryAt, 1)
		}
	}
	return t
}

// Withdraw asks for a REMOVE_ADDR of local endpoint id at the next Poll
// (the endpoint was deleted or its interface went down).
func (m *Manager) Withdraw(id uint8) {
	for _, e := range m.cfg.Endpoints {
		if e.ID == id {
			m.pending = append(m.pending, Action{Kind: Withdraw, Local: e})
		}
	}
}

// Counts returns the subflows wanted and established, and the accepted
// announcements (mptcpi_subflows-style figures for Info).
func (m *Manager) Counts() (wanted, up, accepted int) {
	for _, w := range m.wants {
		if w.state == sfUp {
			up++
		}
	}
	return len(m.wants), up, m.accepted
}
