package conn

import "testing"

func dumpConn(t *testing.T, name string, c *Conn) {
	t.Logf("%s: fullyEst %v fb %v err %v dataUna %d sndNxt %d sndMax %d end %d rwndEnd %d reinj %v rtoAt %v finQ %v finSent %v finAcked %v | rcv nxt %d read %d ooo %v finRcvd %v",
		name, c.fullyEst, c.fallback, c.err, c.dataUna, c.sndNxt, c.sndMax, c.snd.end, c.rwndEnd, c.reinj, c.rtoAt, c.finQueued, c.finSent, c.finAcked, c.rcv.nxt, c.rcv.read, c.rcv.ooo.r, c.finRcvd)
	for i, sf := range c.subflows {
		t.Logf("  sf%d role %d closed %v stale %v state %v ready %v una %d nxt %d txEnd %d tx %d rx %v", i, sf.role, sf.closed, sf.stale, sf.ep.State(), sf.dataReady(), sf.ep.SndUna(), sf.ep.SndNxt(), sf.txEnd, len(sf.tx), sf.rx)
	}
}
