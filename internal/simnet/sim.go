package simnet

import (
	"math/rand/v2"
	"time"
)

// Handler receives the events scheduled with Sim.Schedule. arg is the value
// given to Schedule; now is the virtual time of the event.
type Handler interface {
	HandleEvent(now time.Duration, arg uint64)
}

// event is one entry of the scheduler's heap. Deliveries carry the link
// and the buffer; plain events carry a Handler and an argument.
type event struct {
	at   time.Duration
	seq  uint64 // insertion order, breaks ties so equal times stay FIFO
	h    Handler
	arg  uint64
	link *Link
	buf  []byte
}

// Sim is a discrete-event scheduler with a virtual clock. The zero value is
// not usable; create one with New.
type Sim struct {
	now    time.Duration
	seq    uint64
	heap   []event
	rng    *rand.Rand
	events uint64
}

// New returns a simulator whose clock starts at zero and whose random
// choices all derive from seed.
func New(seed uint64) *Sim {
	return &Sim{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Now returns the current virtual time.
func (s *Sim) Now() time.Duration { return s.now }

// Events returns how many events have run so far.
func (s *Sim) Events() uint64 { return s.events }

// Pending returns how many events are scheduled and not yet run.
func (s *Sim) Pending() int { return len(s.heap) }

// Rand returns the simulator's seeded random source, for tests that want
// randomness tied to the same seed.
func (s *Sim) Rand() *rand.Rand { return s.rng }

// Schedule arranges for h.HandleEvent(at, arg) to run at virtual time at.
// A time in the past runs at the current time (after events already due).
func (s *Sim) Schedule(at time.Duration, h Handler, arg uint64) {
	if at < s.now {
		at = s.now
	}
	s.push(event{at: at, h: h, arg: arg})
}

// NextEventTime returns the time of the earliest scheduled event and
// whether there is one.
func (s *Sim) NextEventTime() (time.Duration, bool) {
	if len(s.heap) == 0 {
		return 0, false
	}
	return s.heap[0].at, true
}

// Step runs the earliest event, advancing the clock to its time. It
// reports false when nothing is scheduled.
func (s *Sim) Step() bool {
	if len(s.heap) == 0 {
		return false
	}
	e := s.pop()
	s.now = e.at
	s.events++
	if e.link != nil {
		e.link.deliver(e.at, e.buf)
	} else {
		e.h.HandleEvent(e.at, e.arg)
	}
	return true
}

// RunUntil runs events in time order until none is left, the next one lies
// after deadline, or stop (when not nil) returns true after an event. The
// clock ends at the time of the last event run. It reports whether it
// stopped because stop returned true.
func (s *Sim) RunUntil(deadline time.Duration, stop func() bool) bool {
	for len(s.heap) > 0 && s.heap[0].at <= deadline {
		s.Step()
		if stop != nil && stop() {
			return true
		}
	}
	return false
}

func (s *Sim) less(i, j int) bool {
	a, b := &s.heap[i], &s.heap[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (s *Sim) push(e event) {
	s.seq++
	e.seq = s.seq
	s.heap = append(s.heap, e)
	i := len(s.heap) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s.heap[i], s.heap[p] = s.heap[p], s.heap[i]
		i = p
	}
}

func (s *Sim) pop() event {
	h := s.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = event{}
	s.heap = h[:last]
	i, n := 0, last
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			break
		}
		s.heap[i], s.heap[m] = s.heap[m], s.heap[i]
		i = m
	}
	return top
}
