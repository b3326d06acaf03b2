package neigh

import "time"

// Pending queues copies of frames that wait for a neighbour, for one
// worker (not safe for concurrent use). Its memory is allocated once by
// NewPending: Add copies into a preallocated buffer and never allocates.
type Pending struct {
	groups   []group
	perGroup int
	bufs     [][]byte // free frame buffers
	frameCap int
	queued   int // frames held

	// RetryInterval is how long to wait for an answer before asking again
	// [1 s]; MaxRequests is how many requests are sent before the queued
	// frames are dropped [3].
	RetryInterval time.Duration
	MaxRequests   int
}

type group struct {
	used     bool
	key      Key
	lastReq  time.Duration
	requests int
	frames   [][]byte // frames[i][:lens[i]]
	lens     []int
}

// NewPending returns a queue for up to neighbours unresolved neighbours,
// holding at most perNeighbour frames of at most frameCap bytes each.
func NewPending(neighbours, perNeighbour, frameCap int) *Pending {
	p := &Pending{
		groups:        make([]group, neighbours),
		perGroup:      perNeighbour,
		frameCap:      frameCap,
		RetryInterval: time.Second,
		MaxRequests:   3,
	}
	mem := make([]byte, neighbours*perNeighbour*frameCap)
	p.bufs = make([][]byte, 0, neighbours*perNeighbour)
	for i := 0; i < neighbours*perNeighbour; i++ {
		p.bufs = append(p.bufs, mem[i*frameCap:(i+1)*frameCap:(i+1)*frameCap])
	}
	for i := range p.groups {
		p.groups[i].frames = make([][]byte, 0, perNeighbour)
		p.groups[i].lens = make([]int, 0, perNeighbour)
	}
	return p
}

// AddResult says what Add did with a frame.
type AddResult uint8

const (
	// Queued: the frame waits; the neighbour already has a request out.
	Queued AddResult = iota
	// QueuedRequest: the frame waits and the neighbour is new: send a
	// request now.
	QueuedRequest
	// DroppedFull: no room (too many frames for this neighbour, too many
	// unresolved neighbours, or the frame is larger than a buffer).
	DroppedFull
)

// Add copies frame into the queue of k.
func (p *Pending) Add(k Key, frame []byte, now time.Duration) AddResult {
	if len(frame) > p.frameCap {
		return DroppedFull
	}
	free := -1
	for i := range p.groups {
		g := &p.groups[i]
		if g.used && g.key == k {
			if len(g.frames) >= p.perGroup || len(p.bufs) == 0 {
				return DroppedFull
			}
			g.push(p.take(frame))
			return Queued
		}
		if !g.used && free < 0 {
			free = i
		}
	}
	if free < 0 || len(p.bufs) == 0 {
		return DroppedFull
	}
	g := &p.groups[free]
	g.used, g.key, g.lastReq, g.requests = true, k, now, 1
	g.push(p.take(frame))
	return QueuedRequest
}

func (p *Pending) take(frame []byte) ([]byte, int) {
	p.queued++
	b := p.bufs[len(p.bufs)-1]
	p.bufs = p.bufs[:len(p.bufs)-1]
	return b, copy(b, frame)
}

func (g *group) push(b []byte, n int) {
	g.frames = append(g.frames, b)
	g.lens = append(g.lens, n)
}

// Len returns the number of neighbours with queued frames.
func (p *Pending) Len() int {
	n := 0
	for i := range p.groups {
		if p.groups[i].used {
			n++
		}
	}
	return n
}

// Frames returns the number of queued frames.
func (p *Pending) Frames() int { return p.queued }

// Handler receives the outcome of Poll for each unresolved neighbour.
// It is an interface (not a func) so that a worker can pass itself
// without allocating a closure per call.
type Handler interface {
	// Resolve is asked for k's entry; ok false means still unresolved.
	Resolve(k Key) (Entry, bool)
	// Send is given each queued frame of a resolved neighbour, in
	// order; the buffer is reused after Send returns.
	Send(k Key, e Entry, frame []byte)
	// Request is told to send another ARP request or NS for k.
	Request(k Key)
	// Drop is told how many frames of k were dropped after MaxRequests
	// unanswered requests.
	Drop(k Key, frames int)
}

// Poll walks the unresolved neighbours: frames of the resolved ones go to
// h.Send, those that waited RetryInterval get another h.Request, and those
// past MaxRequests are dropped. It returns the frames still waiting.
func (p *Pending) Poll(h Handler, now time.Duration) int {
	left := 0
	for i := range p.groups {
		g := &p.groups[i]
		if !g.used {
			continue
		}
		if e, ok := h.Resolve(g.key); ok {
			for j, b := range g.frames {
				h.Send(g.key, e, b[:g.lens[j]])
			}
			p.release(g)
			continue
		}
		if now-g.lastReq >= p.RetryInterval {
			if g.requests >= p.MaxRequests {
				h.Drop(g.key, len(g.frames))
				p.release(g)
				continue
			}
			g.requests++
			g.lastReq = now
			h.Request(g.key)
		}
		left += len(g.frames)
	}
	return left
}

func (p *Pending) release(g *group) {
	p.queued -= len(g.frames)
	p.bufs = append(p.bufs, g.frames...)
	for j := range g.frames {
		g.frames[j] = nil
	}
	g.frames = g.frames[:0]
	g.lens = g.lens[:0]
	g.used = false
	g.key = Key{}
}
