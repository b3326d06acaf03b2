package conn

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp/pm"
)

// TestOutageSeeds: for many seeds, CCs and checksum settings, one of two
// lossy paths (sometimes the initial subflow's) goes dark for 2 to 8
// seconds in the middle of a bidirectional transfer; both streams must
// arrive exact.
func TestOutageSeeds(t *testing.T) {
	seeds := uint64(40)
	if testing.Short() {
		seeds = 10
	}
	for seed := uint64(300); seed < 300+seeds; seed++ {
		a, b := twoPaths()
		a.Loss, b.Loss = 0.005, 0.01
		ccfg := Config{Checksum: seed%2 == 0, CC: []string{"lia", "olia", "balia", "cubic"}[seed%4]}
		ccfg.TCP.MaxRetries = 4
		ccfg.TCP.SYNRetries = 2
		sim, cl, sv := pair(t, seed, ccfg, Config{CC: ccfg.CC}, a, b)
		cl.pmCfg = &pm.Config{Endpoints: []pm.Endpoint{{ID: 1, Addr: addr(0, 1), Flags: pm.Subflow}}, Limits: pm.Limits{Subflows: 1},
			RetryBase: 300 * time.Millisecond, RetryMax: 2 * time.Second}
		n := int64(12 << 20)
		var down int = -1
		bh := func(p int, _ *tcpSegment) bool { return p == down }
		cl.drop, sv.drop = bh, bh
		cl.toSend = n
		sv.toSend = 1 << 20
		cl.dial(0)
		sim.RunUntil(time.Minute, func() bool { return sv.recvd > n/4 })
		down = int(seed % 2)
		sim.RunUntil(sim.Now()+time.Duration(2+seed%7)*time.Second, nil)
		down = -1
		sim.RunUntil(10*time.Minute, func() bool { return sv.eof && cl.eof })
		if !sv.eof || sv.recvd != n || !equalHash(sv, n) || !cl.eof || cl.recvd != 1<<20 || !equalHash(cl, 1<<20) {
			dumpConn(t, "client", cl.conns[0])
			dumpConn(t, "server", sv.conns[0])
			t.Fatalf("seed %d: sv eof %v %d, cl eof %v %d", seed, sv.eof, sv.recvd, cl.eof, cl.recvd)
		}
	}
}
