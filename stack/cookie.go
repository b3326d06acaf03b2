package stack

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// secrets generates initial sequence numbers (RFC 6528: a 4 µs clock plus a
// keyed hash of the 4-tuple), per-connection timestamp offsets, and SYN
// cookies. It is immutable after creation and shared by all workers.
type secrets struct {
	key [32]byte
}

func newSecrets() *secrets {
	s := &secrets{}
	if _, err := rand.Read(s.key[:]); err != nil {
		panic("stack: crypto/rand failed: " + err.Error())
	}
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

// isn returns the initial sequence number for k at time now.
func (s *secrets) isn(k *flowKey, now time.Duration) seqnum.Value {
	return seqnum.Value(uint32(now/(4*time.Microsecond)) + s.hash('i', k, 0))
}

// tsOffset returns k's timestamp-clock offset (RFC 7323 §5.4). It depends
// only on the tuple so that a SYN cookie's timestamp and the endpoint's
// later ones come from the same clock.
func (s *secrets) tsOffset(k *flowKey) uint32 { return s.hash('t', k, 0) }

// SYN cookie layout (our ISS when the accept backlog is full):
// bits 31-27: minute counter (64 s periods) mod 32; bits 26-24: MSS index;
// bits 23-0: a keyed hash of the tuple, the peer's ISN, the counter and
// the MSS index. Peer options that do not fit (window scale, SACK) ride in
// the low 5 bits of our timestamp and come back as TSEcr, as in Linux.

var cookieMSS = [8]uint16{216, 536, 1220, 1360, 1440, 1460, 4312, 8960}

const cookiePeriod = 64 * time.Second

func cookieMSSIndex(mss uint16) int {
	i := 0
	for j, m := range cookieMSS {
		if m <= mss {
			i = j
		}
	}
	return i
}

func (s *secrets) cookie(k *flowKey, peerISN seqnum.Value, mss uint16, now time.Duration) seqnum.Value {
	cnt := uint32(now/cookiePeriod) & 31
	idx := uint32(cookieMSSIndex(mss))
	h := s.hash('c', k, uint32(peerISN)^cnt<<24^idx<<29) & 0xffffff
	return seqnum.Value(cnt<<27 | idx<<24 | h)
}

// checkCookie verifies cookie (our ISS, the ACK number minus one) for k and
// the peer's ISN (the ACK's sequence number minus one) and returns the MSS
// it encodes. Cookies from the current and the previous period are valid.
func (s *secrets) checkCookie(k *flowKey, peerISN, cookie seqnum.Value, now time.Duration) (uint16, bool) {
	c := uint32(cookie)
	cnt := c >> 27
	idx := c >> 24 & 7
	cur := uint32(now/cookiePeriod) & 31
	if cnt != cur && cnt != (cur-1)&31 {
		return 0, false
	}
	h := s.hash('c', k, uint32(peerISN)^cnt<<24^idx<<29) & 0xffffff
	if h != c&0xffffff {
		return 0, false
	}
	return cookieMSS[idx], true
}

// cookieTS encodes the peer's SYN options in the low bits of a timestamp
// value no later than ts: bits 0-3 the window scale (15: none), bit 4
// SACK permitted.
func cookieTS(ts uint32, wscale uint8, hasWScale, sack bool) uint32 {
	v := uint32(15)
	if hasWScale {
		v = uint32(min(wscale, 14))
	}
	if sack {
		v |= 16
	}
	out := ts&^31 | v
	if out > ts && ts >= 32 {
		out -= 32
	}
	return out
}

func cookieTSDecode(ecr uint32) (wscale uint8, hasWScale, sack bool) {
	v := ecr & 15
	return uint8(v), v != 15, ecr&16 != 0
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
