package stack

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/mpxdp/mpxdp/stack/seqnum"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// secrets holds the stack's keyed generators: initial sequence numbers
// and SYN cookies (package tcp's, SipHash-keyed) and per-connection
// timestamp offsets. It is immutable after creation and shared by all
// workers.
type secrets struct {
	key     [32]byte
	isnGen  *tcp.ISNGenerator
	cookies *tcp.SYNCookies
}

func newSecrets() *secrets {
	s := &secrets{}
	var k1, k2 [16]byte
	for _, b := range [][]byte{s.key[:], k1[:], k2[:]} {
		if _, err := rand.Read(b); err != nil {
			panic("stack: crypto/rand failed: " + err.Error())
		}
	}
	s.isnGen = tcp.NewISNGenerator(k1)
	s.cookies = tcp.NewSYNCookies(k2)
	return s
}

// hash returns 32 bits of SHA-256(key | tag | tuple | extra). It does not
// allocate (the input is a fixed array on the stack).
func (s *secrets) hash(tag byte, k *flowKey, extra uint32) uint32 {
	var b [32 + 1 + 16 + 16 + 4 + 4]byte
	copy(b[:32], s.key[:])
	b[32] = tag
	l, r := k.laddr.As16(), k.raddr.As16()
	copy(b[33:49], l[:])
	copy(b[49:65], r[:])
	binary.BigEndian.PutUint16(b[65:], k.lport)
	binary.BigEndian.PutUint16(b[67:], k.rport)
	binary.BigEndian.PutUint32(b[69:], extra)
	sum := sha256.Sum256(b[:])
	return binary.BigEndian.Uint32(sum[:4])
}

// isn returns the initial sequence number for k at time now (RFC 6528).
func (s *secrets) isn(k *flowKey, now time.Duration) seqnum.Value {
	return s.isnGen.ISN(k.tuple(), now)
}

// tsOffset returns k's timestamp-clock offset (RFC 7323 §5.4). It depends
// only on the tuple so that a SYN cookie's timestamp and the endpoint's
// later ones come from the same clock.
func (s *secrets) tsOffset(k *flowKey) uint32 { return s.hash('t', k, 0) }

// tuple converts k to the engine's form.
func (k *flowKey) tuple() tcp.FourTuple {
	return tcp.FourTuple{LocalAddr: k.laddr, RemoteAddr: k.raddr, LocalPort: k.lport, RemotePort: k.rport}
}

// ownerOf returns the worker index that owns the flow k among n workers.
func ownerOf(k *flowKey, n int) int {
	if n <= 1 {
		return 0
	}
	return int(k.mix() % uint32(n))
}

// mix is a cheap, unkeyed hash of the tuple used only to spread flows
// over workers.
func (k *flowKey) mix() uint32 {
	l, r := addrWord(k.laddr), addrWord(k.raddr)
	x := l*0x9e3779b97f4a7c15 ^ r*0xc2b2ae3d27d4eb4f ^ uint64(k.lport)<<16 ^ uint64(k.rport)
	x ^= x >> 31
	x *= 0x94d049bb133111eb
	x ^= x >> 29
	return uint32(x)
}

func addrWord(a netip.Addr) uint64 {
	b := a.As16()
	return binary.LittleEndian.Uint64(b[:8]) ^ binary.LittleEndian.Uint64(b[8:])
}
