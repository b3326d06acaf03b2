package conn

import (
	"bytes"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/simnet"
	"github.com/mpxdp/mpxdp/mptcp"
)

var fastPath = simnet.LinkConfig{Bandwidth: 100e6, Delay: 5 * time.Millisecond, QueueBytes: 256 << 10}

func TestMPCapableHandshake(t *testing.T) {
	sim, cl, sv := pair(t, 1, Config{}, Config{}, fastPath)
	c := cl.dial(0)
	sim.RunUntil(time.Second, nil)
	if len(sv.conns) != 1 {
		t.Fatalf("server has %d connections, want 1", len(sv.conns))
	}
	s := sv.conns[0]
	if !s.FullyEstablished() || s.Fallback() {
		t.Fatalf("server: fully established %v, fallback %v", s.FullyEstablished(), s.Fallback())
	}
	if s.remoteKey != c.localKey || c.remoteKey != s.localKey {
		t.Fatalf("keys: server learnt %x (client has %x), client learnt %x (server has %x)", s.remoteKey, c.localKey, c.remoteKey, s.localKey)
	}
	if got, ok := sv.tokens.Lookup(s.Token()); !ok || got != s {
		t.Fatal("server token not registered")
	}
	for _, x := range []mptcp.Counter{mptcp.MibMPCapableSYNRX, mptcp.MibMPCapableACKRX} {
		if sv.count(x) != 1 {
			t.Errorf("server %v = %d, want 1", x, sv.count(x))
		}
	}
	if cl.count(mptcp.MibMPCapableSYNTX) != 1 || cl.count(mptcp.MibMPCapableSYNACKRX) != 1 {
		t.Errorf("client SYNTX %d SYNACKRX %d", cl.count(mptcp.MibMPCapableSYNTX), cl.count(mptcp.MibMPCapableSYNACKRX))
	}
	if !sv.hasEvent(EventEstablished) || !cl.hasEvent(EventCreated) {
		t.Errorf("events: server %v client %v", sv.events, cl.events)
	}
}

func transfer(t *testing.T, sim *simnet.Sim, cl, sv *host, n int64, limit time.Duration) {
	t.Helper()
	cl.toSend = n
	cl.dial(0)
	sim.RunUntil(limit, func() bool { return sv.eof && cl.eof })
	if !sv.eof {
		t.Fatalf("transfer incomplete at %v: server read %d of %d bytes (client sent %d)", sim.Now(), sv.recvd, n, cl.sent)
	}
	if sv.recvd != n {
		t.Fatalf("server read %d bytes, want %d", sv.recvd, n)
	}
	if !bytes.Equal(sv.recvHash.Sum(nil), expectedHash(n)) {
		t.Fatal("SHA-256 of the received stream differs from the sent one")
	}
}

func TestTransferOneSubflow(t *testing.T) {
	sim, cl, sv := pair(t, 2, Config{}, Config{}, fastPath)
	transfer(t, sim, cl, sv, 4<<20, time.Minute)
	t.Logf("4 MiB in %v", sv.doneAt)
}

func TestJoinHandshakeAndTwoSubflows(t *testing.T) {
	p2 := fastPath
	p2.Delay = 8 * time.Millisecond
	sim, cl, sv := pair(t, 3, Config{}, Config{}, fastPath, p2)
	cl.joinTo = 2
	transfer(t, sim, cl, sv, 16<<20, time.Minute)
	c := cl.conns[0]
	if len(c.subflows) != 2 {
		t.Fatalf("client has %d subflows, want 2", len(c.subflows))
	}
	for _, x := range []mptcp.Counter{mptcp.MibMPJoinSynRx, mptcp.MibMPJoinAckRx} {
		if sv.count(x) != 1 {
			t.Errorf("server %v = %d, want 1", x, sv.count(x))
		}
	}
	if cl.count(mptcp.MibMPJoinSynAckRx) != 1 || cl.count(mptcp.MibMPJoinSynTx) != 1 {
		t.Errorf("client JoinSynAckRx %d JoinSynTx %d", cl.count(mptcp.MibMPJoinSynAckRx), cl.count(mptcp.MibMPJoinSynTx))
	}
	for i, sf := range c.subflows {
		if sf.bytesSent < 1<<20 {
			t.Errorf("subflow %d sent only %d bytes", i, sf.bytesSent)
		}
		t.Logf("subflow %d: sent %d bytes, srtt %v", i, sf.bytesSent, sf.ep.SRTT())
	}
	t.Logf("16 MiB over 2 paths in %v", sv.doneAt)
}
