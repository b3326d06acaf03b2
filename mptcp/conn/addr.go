package conn

import (
	"net/netip"

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
	return true
}

// Withdraw sends REMOVE_ADDR for local address id and closes the subflows
// that use it.
func (c *Conn) Withdraw(id uint8) bool {
	for _, sf := range c.subflows {
		if !sf.closed && sf.localID == id && sf.ep != nil {
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
