package conn

import (
	"bytes"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
)

// bothWays runs a transfer client->server of n bytes and server->client
// of m bytes and checks both streams.
func bothWays(t *testing.T, cl, sv *host, n, m int64) {
	t.Helper()
	if !sv.eof || sv.recvd != n || !equalHash(sv, n) {
		t.Fatalf("client->server: eof %v, %d of %d bytes, hash ok %v", sv.eof, sv.recvd, n, equalHash(sv, n))
	}
	if !cl.eof || cl.recvd != m || !equalHash(cl, m) {
		t.Fatalf("server->client: eof %v, %d of %d bytes, hash ok %v", cl.eof, cl.recvd, m, equalHash(cl, m))
	}
}

func runBoth(t *testing.T, seed uint64, ccfg, scfg Config, n, m int64, setup func(cl, sv *host)) (*host, *host) {
	t.Helper()
	a, _ := twoPaths()
	sim, cl, sv := pair(t, seed, ccfg, scfg, a)
	cl.toSend, sv.toSend = n, m
	if setup != nil {
		setup(cl, sv)
	}
	cl.dial(0)
	sim.RunUntil(2*time.Minute, func() bool { return sv.eof && cl.eof })
	bothWays(t, cl, sv, n, m)
	return cl, sv
}

func TestFallbackClientWithoutMPTCP(t *testing.T) {
	cl, sv := runBoth(t, 20, Config{NoMPTCP: true}, Config{}, 3<<20, 1<<20, nil)
	if !sv.conns[0].Fallback() || !cl.conns[0].Fallback() {
		t.Fatal("both ends should run plain TCP")
	}
	if sv.count(mptcp.MibMPCapableSYNRX) != 0 {
		t.Error("server counted an MP_CAPABLE SYN it never got")
	}
	if sv.tokens.Len() != 0 {
		t.Error("a fallback connection keeps a token")
	}
}

func TestFallbackServerWithoutMPTCP(t *testing.T) {
	cl, _ := runBoth(t, 21, Config{}, Config{NoMPTCP: true}, 3<<20, 1<<20, nil)
	if !cl.conns[0].Fallback() {
		t.Fatal("client did not fall back")
	}
	if cl.count(mptcp.MibMPCapableFallbackSYNACK) != 1 {
		t.Errorf("MPCapableFallbackSYNACK = %d, want 1", cl.count(mptcp.MibMPCapableFallbackSYNACK))
	}
	if cl.tokens.Len() != 0 {
		t.Error("client kept its token after fallback")
	}
}

// A middlebox strips MPTCP options from everything after the SYN/ACK.
func TestFallbackOptionsStrippedAfterHandshake(t *testing.T) {
	strip := func(path int, s *tcpSegment) {
		if !s.Flags.Has(0x02) { // not a SYN
			s.Options.Ext = nil
		}
	}
	cl, sv := runBoth(t, 22, Config{}, Config{}, 2<<20, 1<<20, func(cl, sv *host) {
		cl.mangle = func(p int, _ tcpTuple, s *tcpSegment) { strip(p, s) }
		sv.mangle = cl.mangle
	})
	if !cl.conns[0].Fallback() || !sv.conns[0].Fallback() {
		t.Fatalf("fallback: client %v server %v", cl.conns[0].Fallback(), sv.conns[0].Fallback())
	}
	if n := sv.count(mptcp.MibMPCapableFallbackACK) + sv.count(mptcp.MibMPCapableDataFallback); n != 1 {
		t.Errorf("server MPCapableFallbackACK+MPCapableDataFallback = %d, want 1", n)
	}
	if cl.count(mptcp.MibMPCapableDataFallback) != 1 {
		t.Errorf("client MPCapableDataFallback = %d", cl.count(mptcp.MibMPCapableDataFallback))
	}
}

// The third ACK is lost: the client's first data carries MP_CAPABLE with
// the data-level length, and the server becomes fully established on it.
func TestThirdACKLost(t *testing.T) {
	dropped := 0
	cl, sv := runBoth(t, 23, Config{}, Config{}, 1<<20, 0, func(cl, sv *host) {
		sv.drop = func(_ int, s *tcpSegment) bool {
			var r mptcp.Received
			_ = mptcp.ParseTCPOptions(s.Options.Ext, &r)
			if dropped == 0 && r.Present.Has(mptcp.SubtypeCapable) && r.Capable.Keys == 2 {
				dropped++
				return true
			}
			return false
		}
	})
	if dropped != 1 {
		t.Fatal("the third ACK was not seen")
	}
	if sv.conns[0].Fallback() || !sv.conns[0].FullyEstablished() {
		t.Fatal("server did not become fully established from the first data")
	}
	_ = cl
}

func TestBidirectionalMPTCP(t *testing.T) {
	cl, sv := runBoth(t, 24, Config{}, Config{}, 2<<20, 3<<20, nil)
	if cl.conns[0].Fallback() {
		t.Fatal("fell back")
	}
	if !bytes.Equal(cl.recvHash.Sum(nil), expectedHash(3<<20)) {
		t.Fatal("server->client stream differs")
	}
	// Both DATA_FINs were acknowledged and the subflow closed.
	c := cl.conns[0]
	if !c.finAcked || !c.finRcvd {
		t.Fatalf("DATA_FIN: acked %v received %v", c.finAcked, c.finRcvd)
	}
	cl.sim.RunUntil(cl.sim.Now()+time.Minute, func() bool { return c.Closed() && sv.conns[0].Closed() })
	if !c.Closed() || !sv.conns[0].Closed() || c.Err() != nil || sv.conns[0].Err() != nil {
		t.Fatalf("closed: client %v (%v) server %v (%v)", c.Closed(), c.Err(), sv.conns[0].Closed(), sv.conns[0].Err())
	}
	if cl.tokens.Len() != 0 || sv.tokens.Len() != 0 {
		t.Error("tokens not released after close")
	}
	if !cl.hasEvent(EventClosed) || !sv.hasEvent(EventClosed) {
		t.Error("no CLOSED event")
	}
}

// A middlebox starts stripping MPTCP options in both directions in the
// middle of a single-subflow connection: both ends fall back to TCP
// (DssFallback) and the streams stay intact.
func TestFallbackOptionsStrippedMidConnection(t *testing.T) {
	var strip bool
	cl, sv := runBoth(t, 25, Config{}, Config{}, 6<<20, 2<<20, func(cl, sv *host) {
		cl.mangle = func(p int, _ tcpTuple, s *tcpSegment) {
			if strip {
				s.Options.Ext = nil
			}
		}
		sv.mangle = cl.mangle
		sv.app2 = func() {
			if !strip && sv.recvd > 1<<20 {
				strip = true
			}
		}
	})
	if !strip {
		t.Fatal("options were never stripped")
	}
	if !cl.conns[0].Fallback() || !sv.conns[0].Fallback() {
		t.Fatalf("fallback: client %v server %v", cl.conns[0].Fallback(), sv.conns[0].Fallback())
	}
	if cl.count(mptcp.MibDssFallback)+sv.count(mptcp.MibDssFallback) == 0 {
		t.Error("DssFallback not counted")
	}
}
