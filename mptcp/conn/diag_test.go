package conn

import (
	"os"
	"testing"
)

func dumpDiag(t *testing.T, hs ...*host) {
	for _, h := range hs {
		s := h.mib.Snapshot()
		t.Logf("%s MIB:", h.name)
		_ = s.WriteNstat(os.Stderr)
		for _, c := range h.conns {
			for i, sf := range c.subflows {
				t.Logf("%s sf%d %+v cwnd %d", h.name, i, sf.ep.Counters(), sf.ctl.Cwnd())
			}
		}
	}
}
