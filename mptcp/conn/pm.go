package conn

import (
	"net/netip"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/pm"
)

// UsePathManager makes m (package mptcp/pm) the connection's path manager:
// the connection reports establishment, subflows coming up and going
// down, and the peer's ADD_ADDR/REMOVE_ADDR to it; PathActions carries out
// its announcements and returns the subflows it wants opened.
func (c *Conn) UsePathManager(m *pm.Manager) {
	c.pmgr = m
	c.pmHook = pmAdapter{m}
	if c.fullyEst && !c.fallback {
		c.pmHook.Established(c, c.now)
	}
}

// PathActions runs the path manager at now: it sends the ADD_ADDR and
// REMOVE_ADDR options it asks for, and appends to dst the subflows to open
// (pm.OpenSubflow: the stack picks the 4-tuple and ISS and calls Join;
// when Join fails, tell the manager with SubflowDown). Call it after
// Input and OnTimer, and at PathTimer.
func (c *Conn) PathActions(now time.Duration, dst []pm.Action) []pm.Action {
	if c.pmgr == nil || c.fallback || c.err != nil || c.closing {
		return dst
	}
	c.now = now
	c.pmActs = c.pmgr.Poll(now, c.pmActs[:0])
	for _, a := range c.pmActs {
		switch a.Kind {
		case pm.Announce:
			c.Announce(a.Local.ID, a.Local.Addr, a.Local.Port) // counted as AddAddrTxDrop when it cannot go out
		case pm.Withdraw:
			c.Withdraw(a.Local.ID)
		case pm.OpenSubflow:
			dst = append(dst, a)
		}
	}
	return dst
}

// PathTimer returns when PathActions has work (a retry with back-off), 0
// for none.
func (c *Conn) PathTimer() time.Duration {
	if c.pmgr == nil || c.fallback || c.err != nil || c.closing {
		return 0
	}
	return c.pmgr.NextTimer()
}

// PathManager returns the built-in path manager, or nil.
func (c *Conn) PathManager() *pm.Manager { return c.pmgr }

// pmAdapter reports connection events to a pm.Manager.
type pmAdapter struct{ m *pm.Manager }

func remoteOf(sf *Subflow) netip.AddrPort {
	return netip.AddrPortFrom(sf.tuple.RemoteAddr, sf.tuple.RemotePort)
}

func (p pmAdapter) Established(c *Conn, now time.Duration) {
	if len(c.subflows) == 0 {
		return
	}
	sf := c.subflows[0]
	p.m.Established(netip.AddrPortFrom(sf.tuple.LocalAddr, sf.tuple.LocalPort), remoteOf(sf), now)
}

func (p pmAdapter) SubflowUp(c *Conn, sf *Subflow, now time.Duration) {
	p.m.SubflowUp(sf.tuple.LocalAddr, remoteOf(sf))
	// An ADD_ADDR without a port that came before the manager knew the
	// connection's port is recorded with port 0: the stack used the
	// connection's port for the subflow.
	p.m.SubflowUp(sf.tuple.LocalAddr, netip.AddrPortFrom(sf.tuple.RemoteAddr, 0))
}

func (p pmAdapter) AddAddr(c *Conn, a *mptcp.AddAddr, now time.Duration) {
	if !p.m.AddAddr(a.ID, netip.AddrPortFrom(a.Addr, a.Port), now) {
		c.mib.Inc(mptcp.MibAddAddrDrop) // beyond add_addr_accepted
	}
}

func (p pmAdapter) RemoveAddr(c *Conn, id uint8, now time.Duration) { p.m.RemoveAddr(id) }

func (p pmAdapter) SubflowClosed(c *Conn, sf *Subflow, err error, now time.Duration) {
	if sf.role == roleMPC || c.closing || c.finAcked || c.err != nil {
		return
	}
	if !p.m.SubflowDown(sf.tuple.LocalAddr, remoteOf(sf), now) {
		// See SubflowUp: an announcement recorded with port 0.
		p.m.SubflowDown(sf.tuple.LocalAddr, netip.AddrPortFrom(sf.tuple.RemoteAddr, 0), now)
	}
}
