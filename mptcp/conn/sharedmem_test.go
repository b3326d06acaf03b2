package conn

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/stack/header"
	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// sharedApp drives h's first connection as an owner that lends the
// connection its own memory (Config.SendMem, Config.RecvMem): it stores
// up to toSend stream bytes in SendMem itself, never over bytes the
// connection still keeps, and reads received bytes in place from
// RecvMem, giving their room back with RecvConsumed.
func sharedApp(h *host, toSend int64) func() {
	return func() {
		if len(h.conns) == 0 {
			return
		}
		c := h.conns[0]
		if mem := h.cfg.SendMem; mem != nil && h.sent < toSend {
			mask := int64(len(mem) - 1)
			room := int64(c.SendReleased()) + int64(len(mem)) - h.sent
			n := min(room, toSend-h.sent)
			for done := int64(0); done < n; {
				i := (h.sent + done) & mask
				k := min(n-done, int64(len(mem))-i)
				b := streamAt(h.sent+done, int(k))
				copy(mem[i:], b)
				done += int64(len(b))
			}
			if got := c.CommitSend(int(n)); got > 0 {
				h.sent += int64(got)
				if h.sent == toSend {
					c.CloseWrite()
				}
			}
		}
		if mem := h.cfg.RecvMem; mem != nil {
			n := int64(c.RecvCommit())
			mask := int64(len(mem) - 1)
			for n > 0 {
				i := h.recvd & mask
				k := min(n, int64(len(mem))-i)
				h.recvHash.Write(mem[i : i+k])
				h.recvd += k
				n -= k
			}
			c.RecvConsumed(uint64(h.recvd))
		}
	}
}

// A transfer over two subflows where both ends lend the connection their
// memory (send and receive) delivers exactly the stream: bytes are written
// and read in place, the send memory is reused only once released, and
// the receive window follows RecvConsumed (the memory is much smaller
// than the stream).
func TestSharedMemoryTransfer(t *testing.T) {
	a, b := twoPaths()
	a.Loss, b.Loss = 0.01, 0.01
	cc := Config{SendMem: make([]byte, 64<<10), RecvMem: make([]byte, 64<<10)}
	sc := Config{SendMem: make([]byte, 64<<10), RecvMem: make([]byte, 64<<10)}
	sim, cl, sv := pair(t, 21, cc, sc, a, b)
	cl.joinTo = 2
	const n = 8 << 20
	cl.app2 = sharedApp(cl, n)
	sv.app2 = sharedApp(sv, 0)
	cl.dial(0)
	sim.RunUntil(5*time.Minute, func() bool { return sv.eof })
	if sv.recvd != n {
		t.Fatalf("server read %d bytes in place, want %d (client committed %d)", sv.recvd, n, cl.sent)
	}
	if !sv.eof {
		t.Fatal("the server saw no DATA_FIN after the whole stream")
	}
	if !bytes.Equal(sv.recvHash.Sum(nil), expectedHash(n)) {
		t.Fatal("SHA-256 of the stream read in place differs from the sent one")
	}
	c := cl.conns[0]
	if got := c.Write([]byte("x")); got != 0 {
		t.Errorf("Write took %d bytes with Config.SendMem, want 0 (CommitSend only)", got)
	}
	if got := sv.conns[0].Read(make([]byte, 10)); got != 0 {
		t.Errorf("Read returned %d bytes with Config.RecvMem, want 0 (RecvCommit only)", got)
	}
	if cl.out[0].Stats().Lost+cl.out[1].Stats().Lost == 0 {
		t.Error("no packet was lost: the test does not cover retransmission from the shared memory")
	}
	if len(c.subflows) < 2 || c.subflows[1].bytesSent == 0 {
		t.Error("the second subflow carried nothing: the test does not cover the DSN merge")
	}
}

// Memory that is not a power of two of at least 4 KiB is not used: the
// connection keeps buffers of its own and Write/Read work.
func TestSharedMemoryIgnoredWhenUnfit(t *testing.T) {
	cfg := Config{SendMem: make([]byte, 5000), RecvMem: make([]byte, 2048)}
	sim, cl, sv := pair(t, 22, cfg, cfg, fastPath)
	transfer(t, sim, cl, sv, 1<<20, time.Minute)
	if cl.conns[0].sndShared || sv.conns[0].rcvShared {
		t.Fatal("unfit memory was taken as the connection's buffer")
	}
}

// The receive fast path: the server places each data segment's payload
// with PlaceSum before Input (the sum must be the payload's), and one
// segment in 20 arrives corrupt: its corrupt payload is placed, then the
// segment is dropped (Unplace), as the stack does on a checksum failure.
// The stream must arrive intact over two lossy subflows, and both kinds
// of placement must have happened.
func TestPlaceSumCorruptSegmentsDropped(t *testing.T) {
	a, b := twoPaths()
	a.Loss, b.Loss = 0.01, 0.01
	sim, cl, sv := pair(t, 23, Config{}, Config{}, a, b)
	cl.joinTo = 2
	rng := rand.New(rand.NewPCG(9, 10))
	var good, bad int
	bufBad := make([]byte, 65536)
	sv.drop = func(path int, s *tcpSegment) bool {
		if len(sv.conns) == 0 || len(s.Payload) == 0 {
			return false
		}
		var sf *Subflow
		for _, x := range sv.conns[0].subflows {
			if pathOf(x.tuple.LocalAddr) == path {
				sf = x
			}
		}
		if sf == nil {
			return false
		}
		if rng.IntN(20) == 0 {
			p := bufBad[:len(s.Payload)]
			copy(p, s.Payload)
			p[rng.IntN(len(p))] ^= 0x5a
			if _, ok := sf.PlaceSum(s.Seq, p, s.Options.Ext); ok {
				bad++
			}
			sf.Unplace()
			return true
		}
		sum, ok := sf.PlaceSum(s.Seq, s.Payload, s.Options.Ext)
		if ok {
			good++
			if want := header.Sum(s.Payload, 0); sum != want {
				t.Fatalf("PlaceSum sum %#x, header.Sum %#x", sum, want)
			}
		}
		return false
	}
	transfer(t, sim, cl, sv, 16<<20, 5*time.Minute)
	if good == 0 || bad == 0 {
		t.Fatalf("placed %d good and %d corrupt payloads: the fast path was not exercised", good, bad)
	}
	t.Logf("placed %d payloads, %d corrupt ones dropped after placement", good, bad)
}

// The receive fast path places the first segment of every mapping too:
// the segment's own DSS gives its place when no mapping received earlier
// covers it. Every in-order data segment that arrives while no
// out-of-order data is held (the one case PlaceSum declines) is placed,
// among them the segments whose options carry the mapping that starts at
// their own sequence number.
func TestPlaceSumUsesTheSegmentsOwnMapping(t *testing.T) {
	sim, cl, sv := pair(t, 24, Config{}, Config{}, fastPath)
	var placed, missed, first int
	sv.drop = func(path int, s *tcpSegment) bool {
		if len(sv.conns) == 0 || len(s.Payload) == 0 {
			return false
		}
		sf := sv.conns[0].subflows[0]
		if s.Seq != sf.ep.RcvNxt() || !sv.conns[0].FullyEstablished() || sf.ep.OOOBytes() != 0 {
			return false
		}
		_, ok := sf.PlaceSum(s.Seq, s.Payload, s.Options.Ext)
		if !ok {
			missed++
			return false
		}
		placed++
		if d, has := mptcp.FindDSS(s.Options.Ext); has && d.HasMap && sf.irs+seqnum.Value(d.SubflowSeq) == s.Seq {
			first++
		}
		return false
	}
	transfer(t, sim, cl, sv, 8<<20, time.Minute)
	if missed != 0 || first == 0 {
		t.Fatalf("placed %d in-order payloads (%d carrying their own mapping), %d not placed", placed, first, missed)
	}
	t.Logf("placed %d in-order payloads, %d of them by the mapping they carry", placed, first)
}
