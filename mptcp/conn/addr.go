package conn

import (
	"net/netip"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
)

// Announce sends ADD_ADDR for a local address (id, addr, port 0 for
// none) on a subflow that can carry it, with the HMAC of RFC 8684 §3.4.1.
// It reports false when no subflow is ready (try again after
// SF_ESTABLISHED) or the connection fell back.
func (c *Conn) Announce(id uint8, addr netip.Addr, port uint16) bool {
	sf := c.controlSubflow()
	if sf == nil {
		c.mib.Inc(mptcp.MibAddAddrTxDrop)
		return false
	}
	a := mptcp.AddAddr{ID: id, Addr: addr, HasPort: port != 0, Port: port}
	a.HMAC = c.hasher.AddAddrHMAC(c.localKey, c.remoteKey, id, addr, port)
	sf.addAddr = append(sf.addAddr, a)
	sf.needAck = true
	c.addAddrSignal++
	c.rememberAddr(id, addr)
	an := announcement{a: a, at: c.now + addAddrTimeout}
	for i := range c.announced {
		if c.announced[i].a.ID == id {
			c.announced[i] = an // announced again: wait for this one's echo
			return true
		}
	}
	if len(c.announced) < cap(c.announced) {
		c.announced = append(c.announced, an)
	}
	return true
}

// addAddrTimeout is how long an ADD_ADDR waits for its echo before it is
// sent again (the kernel's net.mptcp.add_addr_timeout is 120 s; a lost
// option is better resent sooner), and addAddrTries how often it is sent.
const (
	addAddrTimeout = 2 * time.Second
	addAddrTries   = 4
)

// announcement is an ADD_ADDR waiting for its echo.
type announcement struct {
	a     mptcp.AddAddr
	at    time.Duration // resend time
	tries int
}

// onEcho marks the announcement that an echo acknowledges.
func (c *Conn) onEcho(e *mptcp.AddAddr) {
	for i := range c.announced {
		if c.announced[i].a.ID == e.ID && c.announced[i].a.Addr == e.Addr {
			c.announced = append(c.announced[:i], c.announced[i+1:]...)
			return
		}
	}
}

// resendAnnouncements sends again the ADD_ADDRs whose echo did not come.
func (c *Conn) resendAnnouncements(now time.Duration) {
	for i := 0; i < len(c.announced); i++ {
		an := &c.announced[i]
		if now < an.at {
			continue
		}
		an.tries++
		if an.tries >= addAddrTries {
			c.announced = append(c.announced[:i], c.announced[i+1:]...)
			i--
			continue
		}
		if sf := c.controlSubflow(); sf != nil {
			sf.addAddr = append(sf.addAddr, an.a)
			sf.needAck = true
		}
		an.at = now + addAddrTimeout<<an.tries
	}
}

// announceTimer returns the earliest ADD_ADDR resend time, 0 for none.
func (c *Conn) announceTimer() time.Duration {
	var t time.Duration
	for _, an := range c.announced {
		if t == 0 || an.at < t {
			t = an.at
		}
	}
	return t
}

// Withdraw sends REMOVE_ADDR for local address id and closes the subflows
// that use it.
func (c *Conn) Withdraw(id uint8) bool {
	addr, known := c.localAddr(id)
	for _, sf := range c.subflows {
		if !sf.closed && sf.ep != nil && (sf.localID == id || known && sf.tuple.LocalAddr == addr) && sf.role != roleMPC {
			sf.rstPending, sf.rstReason = true, mptcp.ResetAdministrativelyDenied
			sf.ep.Abort()
		}
	}
	sf := c.controlSubflow()
	if sf == nil {
		c.mib.Inc(mptcp.MibRmAddrTxDrop)
		return false
	}
	sf.rmAddr = append(sf.rmAddr, id)
	sf.needAck = true
	return true
}

// rememberAddr records the address a local address id stands for.
func (c *Conn) rememberAddr(id uint8, addr netip.Addr) {
	for i := range c.localAddrs {
		if c.localAddrs[i].id == id || !c.localAddrs[i].addr.IsValid() {
			c.localAddrs[i].id, c.localAddrs[i].addr = id, addr
			return
		}
	}
}

// localAddr returns the address of local address id, if known.
func (c *Conn) localAddr(id uint8) (netip.Addr, bool) {
	for _, a := range c.localAddrs {
		if a.id == id && a.addr.IsValid() {
			return a.addr, true
		}
	}
	return netip.Addr{}, false
}

// controlSubflow returns a subflow that can carry control options: a
// non-backup one if possible.
func (c *Conn) controlSubflow() *Subflow {
	if c.fallback || !c.fullyEst {
		return nil
	}
	var best *Subflow
	for _, sf := range c.subflows {
		if !sf.dataReady() {
			continue
		}
		if best == nil || (best.Backup() && !sf.Backup()) || (best.stale && !sf.stale) {
			best = sf
		}
	}
	return best
}
