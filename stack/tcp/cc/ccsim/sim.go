package ccsim

import (
	"math/rand/v2"
	"time"

	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

// Link is a bottleneck: a FIFO served at Rate with a drop-tail queue.
type Link struct {
	Rate   float64 // bytes per second
	Buffer int     // bytes the queue holds besides the packet being sent

	busyUntil time.Duration // when the last queued packet finishes serialisation

	// Delivered and Dropped count bytes that left the link and bytes dropped.
	Delivered, Dropped int64
}

// BDP returns the bandwidth-delay product in bytes for round-trip time rtt.
func (l *Link) BDP(rtt time.Duration) int { return int(l.Rate * rtt.Seconds()) }

// Flow is a bulk sender that always has data.
type Flow struct {
	CC    cc.Controller
	Link  *Link
	RTT   time.Duration // propagation round-trip time, without queueing or serialisation
	MSS   int
	Start time.Duration // when it begins to send

	// Delivered counts acknowledged bytes; Losses dropped packets;
	// Episodes the loss episodes signalled to the controller.
	Delivered    int64
	Losses       int
	Episodes     int
	inflight     int
	nextSeq      uint64
	recovering   bool
	recoverSeq   uint64
	srtt, minRTT time.Duration
	started      bool
	maxCwnd      int
}

// MaxCwnd returns the largest window the flow's controller has reported.
func (f *Flow) MaxCwnd() int { return f.maxCwnd }

// SRTT returns the flow's smoothed RTT estimate.
func (f *Flow) SRTT() time.Duration { return f.srtt }

type kind uint8

const (
	evStart kind = iota
	evAck
	evLoss
)

type event struct {
	at     time.Duration
	order  uint64 // ties break in scheduling order
	flow   *Flow
	seq    uint64
	sentAt time.Duration
	kind   kind
}

// Sim is one simulated network. It is not safe for concurrent use.
type Sim struct {
	// Jitter is the largest random extra delay added to each ACK (or loss
	// signal), to break the phase effects a perfectly regular drop-tail
	// network shows. Zero disables it.
	Jitter time.Duration

	now    time.Duration
	events []event
	order  uint64
	rng    *rand.Rand
	flows  []*Flow
}

// New returns an empty simulation whose random choices come from seed.
func New(seed uint64) *Sim {
	return &Sim{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Now returns the simulation's clock.
func (s *Sim) Now() time.Duration { return s.now }

// Add adds a flow; it initialises the flow's controller with its MSS at its
// start time.
func (s *Sim) Add(f *Flow) {
	if f.MSS <= 0 {
		f.MSS = 1448
	}
	s.flows = append(s.flows, f)
	s.push(event{at: f.Start, flow: f, kind: evStart})
}

// Run advances the simulation until the clock reaches until.
func (s *Sim) Run(until time.Duration) {
	for len(s.events) > 0 && s.events[0].at <= until {
		e := s.pop()
		s.now = e.at
		f := e.flow
		switch e.kind {
		case evStart:
			f.started = true
			f.CC.Init(f.MSS, s.now)
		case evAck:
			s.onAck(f, e)
		case evLoss:
			s.onLoss(f)
		}
		s.send(f)
	}
	s.now = until
}

func (s *Sim) onAck(f *Flow, e event) {
	f.inflight -= f.MSS
	f.Delivered += int64(f.MSS)
	rtt := s.now - e.sentAt
	if f.srtt == 0 {
		f.srtt = rtt
		f.minRTT = rtt
	} else {
		f.srtt += (rtt - f.srtt) / 8
		f.minRTT = min(f.minRTT, rtt)
	}
	if f.recovering && e.seq >= f.recoverSeq {
		f.recovering = false
		f.CC.OnRecoveryExit(s.now)
	}
	if !f.recovering {
		f.CC.OnAck(cc.Ack{Now: s.now, Acked: f.MSS, RTT: rtt, SRTT: f.srtt, MinRTT: f.minRTT, InFlight: f.inflight + f.MSS})
	}
}

func (s *Sim) onLoss(f *Flow) {
	f.inflight -= f.MSS
	f.Losses++
	if !f.recovering {
		f.recovering = true
		f.recoverSeq = f.nextSeq - 1
		f.Episodes++
		f.CC.OnCongestion(s.now, f.inflight+f.MSS)
	}
}

// send transmits while the window allows.
func (s *Sim) send(f *Flow) {
	if !f.started {
		return
	}
	cw := f.CC.Cwnd()
	for f.inflight+f.MSS <= max(cw, f.MSS) {
		s.transmit(f)
	}
	f.maxCwnd = max(f.maxCwnd, cw)
}

func (s *Sim) transmit(f *Flow) {
	l := f.Link
	seq := f.nextSeq
	f.nextSeq++
	f.inflight += f.MSS
	wait := max(l.busyUntil-s.now, 0)
	queued := wait.Seconds()*l.Rate - float64(f.MSS) // bytes waiting besides the one in service
	var j time.Duration
	if s.Jitter > 0 {
		j = time.Duration(s.rng.Int64N(int64(s.Jitter)))
	}
	if queued+float64(f.MSS) > float64(l.Buffer) && wait > 0 {
		l.Dropped += int64(f.MSS)
		s.push(event{at: s.now + wait + f.RTT + j, flow: f, seq: seq, sentAt: s.now, kind: evLoss})
		return
	}
	done := max(l.busyUntil, s.now) + time.Duration(float64(f.MSS)/l.Rate*float64(time.Second))
	l.busyUntil = done
	l.Delivered += int64(f.MSS)
	s.push(event{at: done + f.RTT + j, flow: f, seq: seq, sentAt: s.now, kind: evAck})
}

// Throughput runs s from its current time until until and returns the
// bytes per second each of flows delivered in that interval.
func Throughput(s *Sim, until time.Duration, flows ...*Flow) []float64 {
	from := s.now
	before := make([]int64, len(flows))
	for i, f := range flows {
		before[i] = f.Delivered
	}
	s.Run(until)
	out := make([]float64, len(flows))
	d := (s.now - from).Seconds()
	for i, f := range flows {
		out[i] = float64(f.Delivered-before[i]) / d
	}
	return out
}

// heap of events ordered by (at, order).

func (s *Sim) less(i, j int) bool {
	a, b := &s.events[i], &s.events[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.order < b.order
}

func (s *Sim) push(e event) {
	e.order = s.order
	s.order++
	s.events = append(s.events, e)
	i := len(s.events) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s.events[i], s.events[p] = s.events[p], s.events[i]
		i = p
	}
}

func (s *Sim) pop() event {
	top := s.events[0]
	n := len(s.events) - 1
	s.events[0] = s.events[n]
	s.events = s.events[:n]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && s.less(l, m) {
			m = l
		}
		if r < n && s.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s.events[i], s.events[m] = s.events[m], s.events[i]
		i = m
	}
	return top
}
