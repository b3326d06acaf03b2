package simnet

import (
	"math/rand/v2"
	"time"
)

// Receiver is the far end of a link. pkt is only valid during the call: the
// link reuses its memory afterwards.
type Receiver interface {
	Receive(now time.Duration, pkt []byte)
}

// LinkConfig describes one direction of a path.
type LinkConfig struct {
	// Bandwidth is the serialisation rate in bits per second; 0 means
	// infinitely fast (no queueing).
	Bandwidth int64
	// Delay is the one-way propagation delay added after serialisation.
	Delay time.Duration
	// Jitter adds a uniformly random extra delay in [0, Jitter) to each
	// packet, which reorders packets closer together than Jitter.
	Jitter time.Duration
	// Loss is the probability in [0, 1] that a packet is dropped.
	Loss float64
	// Reorder is the probability that a packet is held back by ReorderDelay
	// (so packets sent after it overtake it).
	Reorder float64
	// ReorderDelay is the extra delay of a reordered packet.
	ReorderDelay time.Duration
	// Duplicate is the probability that a packet is delivered twice.
	Duplicate float64
	// QueueBytes limits the bytes waiting for serialisation; a packet that
	// would exceed it is tail-dropped. 0 means unlimited. It has no effect
	// when Bandwidth is 0.
	QueueBytes int
	// MaxPacket is the largest packet the link carries (default 65535);
	// larger ones are dropped and counted as Oversize.
	MaxPacket int
}

// LinkStats counts what happened to the packets sent on a link.
type LinkStats struct {
	Sent       uint64 // packets handed to Send
	Delivered  uint64 // packets handed to the receiver (duplicates included)
	Lost       uint64 // dropped by random loss
	QueueDrops uint64 // dropped because the queue was full
	Oversize   uint64 // dropped for exceeding MaxPacket
	Duplicated uint64 // extra copies delivered
	Reordered  uint64 // packets held back by ReorderDelay
	Bytes      uint64 // bytes delivered
}

// Link is one direction of a path from a sender to a Receiver. It is used
// from the goroutine that drives its Sim only.
type Link struct {
	sim       *Sim
	cfg       LinkConfig
	dst       Receiver
	rng       *rand.Rand
	busyUntil time.Duration
	free      [][]byte // buffers of smallPacket bytes
	freeBig   [][]byte // buffers of MaxPacket bytes
	stats     LinkStats
}

// NewLink creates a link on s that delivers to dst. Its random choices come
// from a source derived from the simulator's seed, so they are
// deterministic and independent of the links created after it.
func (s *Sim) NewLink(cfg LinkConfig, dst Receiver) *Link {
	if cfg.MaxPacket <= 0 {
		cfg.MaxPacket = 65535
	}
	return &Link{
		sim: s,
		cfg: cfg,
		dst: dst,
		rng: rand.New(rand.NewPCG(s.rng.Uint64(), s.rng.Uint64())),
	}
}

// Config returns the link's configuration.
func (l *Link) Config() LinkConfig { return l.cfg }

// SetConfig changes the link's configuration for packets sent from now on
// (packets already in flight keep their arrival times).
func (l *Link) SetConfig(cfg LinkConfig) {
	if cfg.MaxPacket <= 0 {
		cfg.MaxPacket = 65535
	}
	l.cfg = cfg
}

// Stats returns the link's counters.
func (l *Link) Stats() LinkStats { return l.stats }

// QueuedBytes returns the bytes waiting for serialisation at the current
// virtual time.
func (l *Link) QueuedBytes() int {
	if l.cfg.Bandwidth <= 0 || l.busyUntil <= l.sim.now {
		return 0
	}
	return int(int64(l.busyUntil-l.sim.now) * l.cfg.Bandwidth / 8 / int64(time.Second))
}

// Send copies pkt and schedules its delivery. It reports whether the packet
// was accepted by the queue; a packet lost at random still counts as
// accepted (the sender cannot tell), like a real wire.
func (l *Link) Send(pkt []byte) bool {
	l.stats.Sent++
	if len(pkt) > l.cfg.MaxPacket {
		l.stats.Oversize++
		return false
	}
	now := l.sim.now
	depart := now
	if bw := l.cfg.Bandwidth; bw > 0 {
		if l.cfg.QueueBytes > 0 && l.QueuedBytes()+len(pkt) > l.cfg.QueueBytes {
			l.stats.QueueDrops++
			return false
		}
		start := l.busyUntil
		if start < now {
			start = now
		}
		tx := time.Duration(int64(len(pkt)) * 8 * int64(time.Second) / bw)
		l.busyUntil = start + tx
		depart = l.busyUntil
	}
	if l.cfg.Loss > 0 && l.rng.Float64() < l.cfg.Loss {
		l.stats.Lost++
		return true
	}
	copies := 1
	if l.cfg.Duplicate > 0 && l.rng.Float64() < l.cfg.Duplicate {
		copies = 2
		l.stats.Duplicated++
	}
	for c := 0; c < copies; c++ {
		at := depart + l.cfg.Delay
		if l.cfg.Jitter > 0 {
			at += time.Duration(l.rng.Int64N(int64(l.cfg.Jitter)))
		}
		if l.cfg.Reorder > 0 && l.rng.Float64() < l.cfg.Reorder {
			at += l.cfg.ReorderDelay
			l.stats.Reordered++
		}
		buf := l.alloc(len(pkt))
		copy(buf, pkt)
		l.sim.push(event{at: at, link: l, buf: buf})
	}
	return true
}

// smallPacket is the buffer size of the small-packet free list (ACKs and
// MTU-1500 frames); larger packets use buffers of MaxPacket bytes.
const smallPacket = 2048

func (l *Link) alloc(n int) []byte {
	list := &l.free
	c := smallPacket
	if n > smallPacket {
		list = &l.freeBig
		c = max(l.cfg.MaxPacket, n)
	}
	if k := len(*list); k > 0 {
		b := (*list)[k-1]
		*list = (*list)[:k-1]
		if cap(b) >= n {
			return b[:n]
		}
	}
	return make([]byte, n, c)
}

func (l *Link) deliver(now time.Duration, buf []byte) {
	l.stats.Delivered++
	l.stats.Bytes += uint64(len(buf))
	l.dst.Receive(now, buf)
	if cap(buf) <= smallPacket {
		l.free = append(l.free, buf)
	} else {
		l.freeBig = append(l.freeBig, buf)
	}
}

// NewDuplex creates the two directions of a path between a and b: ab
// carries what a sends to b, ba the reverse. Both use cfg.
func (s *Sim) NewDuplex(cfg LinkConfig, a, b Receiver) (ab, ba *Link) {
	return s.NewLink(cfg, b), s.NewLink(cfg, a)
}
