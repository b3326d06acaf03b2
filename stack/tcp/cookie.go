package tcp

import (
	"encoding/binary"
	"time"

	"github.com/mpxdp/mpxdp/stack/seqnum"
)

// SYN cookies (RFC 4987 §3.6) let a listener answer a SYN without keeping
// state when its accept backlog is full. Our ISN is the cookie:
//
//	bits 31..27  a 64-second tick, modulo 32
//	bits 26..24  the index of the peer's MSS in cookieMSS (rounded down)
//	bits 23..0   SipHash-2-4(key, 4-tuple, peer ISN, tick), 24 bits
//
// When the SYN carried timestamps, the low 6 bits of our TSVal carry the
// peer's window scale (4 bits, 15 = none) and SACK-permitted (1 bit), and
// the ACK echoes them back (as Linux does).

// cookieMSS are the MSS values a cookie can carry.
var cookieMSS = [8]uint16{536, 1200, 1360, 1400, 1440, 1460, 4312, 8960}

const (
	cookieTick   = 64 * time.Second
	cookieMaxAge = 2 // ticks: a cookie is valid for 64 to 128 s
	tsOptBits    = 6
	tsOptMask    = 1<<tsOptBits - 1
	tsNoWScale   = 0xf
	tsSACKBit    = 1 << 4
)

// SYNCookies makes and checks SYN cookies with one secret key.
type SYNCookies struct {
	k0, k1 uint64
}

// NewSYNCookies returns a cookie maker keyed with key (secret, random).
func NewSYNCookies(key [16]byte) *SYNCookies {
	return &SYNCookies{binary.LittleEndian.Uint64(key[:8]), binary.LittleEndian.Uint64(key[8:])}
}

// CookieInfo is what a valid cookie ACK restores about the SYN.
type CookieInfo struct {
	MSS           uint16 // the peer's MSS, rounded down to a table value
	HasWScale     bool
	WScale        uint8
	SACKPermitted bool
	HasTS         bool
}

func (c *SYNCookies) hash(t FourTuple, peerISN seqnum.Value, tick uint32) uint32 {
	var b [48]byte
	p := t.put(&b)
	binary.BigEndian.PutUint32(b[36:], uint32(peerISN))
	binary.BigEndian.PutUint32(b[40:], tick)
	return uint32(sipHash24(c.k0, c.k1, b[:len(p)+8]))
}

// cookie computes the ISN for a SYN with sequence peerISN on t.
func (c *SYNCookies) cookie(t FourTuple, peerISN seqnum.Value, mss uint16, tick uint32) seqnum.Value {
	idx := uint32(0)
	for i, m := range cookieMSS {
		if m <= mss {
			idx = uint32(i)
		}
	}
	h := c.hash(t, peerISN, tick)
	return seqnum.Value((tick&31)<<27 | idx<<24 | h&0xffffff)
}

// SYNACK builds the stateless SYN-ACK that answers syn on t, using cfg
// for our MSS, window, window scale and option switches (cfg.TSOffset is
// our timestamp offset). It does not allocate.
func (c *SYNCookies) SYNACK(cfg *Config, t FourTuple, syn *Segment, now time.Duration) Segment {
	cf := *cfg
	cf.setDefaults()
	mss := syn.Options.MSS
	if mss == 0 {
		mss = 536
	}
	tick := uint32(now / cookieTick)
	var s Segment
	s.Seq = c.cookie(t, syn.Seq, mss, tick)
	s.Ack = syn.Seq + 1
	s.Flags = FlagSYN | FlagACK
	s.Window = uint16(min(cf.RecvBufSize, 65535))
	o := &s.Options
	o.MSS = uint16(min(cf.MSS, 65535))
	in := &syn.Options
	useTS := in.HasTS && !cf.NoTimestamps
	if useTS {
		// Options can only be remembered in the timestamp.
		if in.HasWScale && !cf.NoWindowScale {
			o.HasWScale = true
			o.WScale = windowShift(cf.RecvBufMax)
		}
		o.SACKPermitted = in.SACKPermitted && !cf.NoSACK
		bits := uint32(tsNoWScale)
		if o.HasWScale {
			bits = uint32(min(in.WScale, 14))
		}
		if o.SACKPermitted {
			bits |= tsSACKBit
		}
		now32 := uint32(now/time.Millisecond) + cf.TSOffset
		v := now32&^tsOptMask | bits
		if int32(v-now32) > 0 {
			v -= 1 << tsOptBits
		}
		o.HasTS = true
		o.TSVal = v
		o.TSEcr = in.TSVal
	}
	return s
}

// Check validates the ACK that completes a cookie handshake on t and
// returns what the cookie remembers. It fails for a forged cookie or one
// older than two ticks (64-128 s).
func (c *SYNCookies) Check(t FourTuple, ack *Segment, now time.Duration) (CookieInfo, bool) {
	var info CookieInfo
	if ack.Flags&(FlagACK|FlagSYN|FlagRST) != FlagACK {
		return info, false
	}
	cookie := uint32(ack.Ack - 1)
	peerISN := ack.Seq - 1
	tick := uint32(now / cookieTick)
	for age := uint32(0); age < cookieMaxAge; age++ {
		cand := tick - age
		if cand&31 != cookie>>27 {
			continue
		}
		if c.hash(t, peerISN, cand)&0xffffff != cookie&0xffffff {
			return info, false
		}
		info.MSS = cookieMSS[cookie>>24&7]
		if ack.Options.HasTS {
			bits := ack.Options.TSEcr & tsOptMask
			info.HasTS = true
			if ws := bits & 0xf; ws != tsNoWScale {
				info.HasWScale = true
				info.WScale = uint8(ws)
			}
			info.SACKPermitted = bits&tsSACKBit != 0
		}
		return info, true
	}
	return info, false
}

// NewFromCookie creates the ESTABLISHED endpoint for a validated cookie
// ACK (see SYNCookies.Check) and processes the ACK (and any data on it).
// cfg must be the configuration the SYN-ACK was built with; cfg.ISS is
// ignored (the cookie is the ISS).
func NewFromCookie(cfg Config, ack *Segment, info CookieInfo, now time.Duration) (*Endpoint, error) {
	cfg.ISS = ack.Ack - 1
	e, err := newEndpoint(cfg, now)
	if err != nil {
		return nil, err
	}
	e.state = SynRcvd
	syn := Segment{Seq: ack.Seq - 1, Flags: FlagSYN, Window: ack.Window}
	syn.Options.MSS = info.MSS
	syn.Options.HasWScale, syn.Options.WScale = info.HasWScale, info.WScale
	syn.Options.SACKPermitted = info.SACKPermitted
	syn.Options.HasTS = info.HasTS && ack.Options.HasTS
	syn.Options.TSVal = ack.Options.TSVal
	e.synWnd = min(e.rcv.Free(), 65535)
	e.acceptSYN(&syn, now)
	if !info.HasWScale {
		e.rcvShift = 0
	}
	e.sndNxt = e.iss + 1
	e.Input(ack, now)
	if e.state != Established && e.state != CloseWait {
		return nil, ErrBadCookieACK
	}
	return e, nil
}

// windowShift is the window-scale shift that lets max bytes be advertised.
func windowShift(max int) uint8 {
	s := uint8(0)
	for s < 14 && max>>s > 65535 {
		s++
	}
	return s
}
