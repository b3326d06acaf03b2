package conn

import (
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/simnet"
)

// TestHostileSeeds runs a bidirectional two-path transfer over links with
// 3% loss, reordering, duplication and jitter for many seeds (checksums on
// every other one): every run must deliver both streams exactly.
func TestHostileSeeds(t *testing.T) {
	seeds := uint64(40)
	if testing.Short() {
		seeds = 10
	}
	for seed := uint64(100); seed < 100+seeds; seed++ {
		csum := seed%2 == 0
		a, b := twoPaths()
		for _, l := range []*simnet.LinkConfig{&a, &b} {
			l.Loss, l.Reorder, l.ReorderDelay, l.Duplicate, l.Jitter = 0.03, 0.05, 3*time.Millisecond, 0.02, time.Millisecond
		}
		sim, cl, sv := pair(t, seed, Config{Checksum: csum}, Config{}, a, b)
		cl.joinTo = 2
		sv.toSend = 1 << 20
		cl.toSend = 3 << 20
		cl.dial(0)
		sim.RunUntil(10*time.Minute, func() bool { return cl.eof && sv.eof })
		if !cl.eof || !sv.eof || cl.recvd != 1<<20 || sv.recvd != 3<<20 || !equalHash(cl, 1<<20) || !equalHash(sv, 3<<20) {
			dumpConn(t, "client", cl.conns[0])
			dumpConn(t, "server", sv.conns[0])
			t.Fatalf("seed %d csum %v: cl eof %v %d, sv eof %v %d", seed, csum, cl.eof, cl.recvd, sv.eof, sv.recvd)
		}
	}
}
