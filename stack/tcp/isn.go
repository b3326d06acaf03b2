package tcp

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// FourTuple identifies a connection from the local side.
type FourTuple struct {
	LocalAddr, RemoteAddr netip.Addr
	LocalPort, RemotePort uint16
}

// tupleBytes lays the tuple out for hashing, followed by room for extra.
func (t *FourTuple) put(b *[48]byte) []byte {
	l, r := t.LocalAddr.As16(), t.RemoteAddr.As16()
	copy(b[0:16], l[:])
	copy(b[16:32], r[:])
	binary.BigEndian.PutUint16(b[32:], t.LocalPort)
	binary.BigEndian.PutUint16(b[34:], t.RemotePort)
	return b[:36]
}

// ISNGenerator chooses initial sequence numbers as RFC 6528 asks:
// ISN = M + F(4-tuple, secret), with M a 4-microsecond clock and F a keyed
// hash (SipHash-2-4). One generator (one key) per stack.
type ISNGenerator struct {
	k0, k1 uint64
}

// NewISNGenerator returns a generator keyed with key, which must be secret
// and random (crypto/rand).
func NewISNGenerator(key [16]byte) *ISNGenerator {
	return &ISNGenerator{binary.LittleEndian.Uint64(key[:8]), binary.LittleEndian.Uint64(key[8:])}
}

// ISN returns the initial sequence number for a connection on t at time
// now (any monotonic epoch).
func (g *ISNGenerator) ISN(t FourTuple, now time.Duration) seqnum.Value {
	var b [48]byte
	h := sipHash24(g.k0, g.k1, t.put(&b))
	return seqnum.Value(uint32(now/(4*time.Microsecond)) + uint32(h))
}
