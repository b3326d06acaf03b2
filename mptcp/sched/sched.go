package sched

import (
	"fmt"
	"time"
)

// Candidate describes one subflow to a Scheduler.
type Candidate struct {
	// Usable: the subflow is established, MPTCP-capable for data, not
	// closing and not stale (its retransmission timer is not backing off).
	Usable bool
	// Backup: either end marked the subflow as backup (MP_JOIN B flag or
	// MP_PRIO).
	Backup bool
	// SRTT is the smoothed round-trip time (0 before the first sample).
	SRTT time.Duration
	// Room is how many bytes the congestion and send windows allow now.
	Room int
	// Queued is the bytes the subflow holds that are not acknowledged:
	// in flight, plus mapped to it and not yet sent.
	Queued int
	// Cwnd is the congestion window in bytes.
	Cwnd int
}

// Scheduler chooses the subflow that sends the next range of data.
type Scheduler interface {
	// Name is the scheduler's name ("default", "roundrobin", "redundant").
	Name() string
	// Pick returns the index in c of the subflow that should send the next
	// range, or -1 when none should (no usable subflow has room).
	Pick(c []Candidate) int
	// Redundant reports whether every subflow sends every range.
	Redundant() bool
}

// New returns the scheduler called name: "default" (or "", Linger),
// "lowrtt", "roundrobin" or "redundant".
func New(name string) (Scheduler, error) {
	switch name {
	case "", "default":
		return &Linger{}, nil
	case "lowrtt":
		return &LowestRTT{}, nil
	case "roundrobin":
		return &RoundRobin{}, nil
	case "redundant":
		return &Redundant{}, nil
	}
	return nil, fmt.Errorf("sched: unknown scheduler %q: use \"default\", \"roundrobin\" or \"redundant\"", name)
}

// anyPrimary reports whether a non-backup subflow is usable; then backup
// subflows are not candidates.
func anyPrimary(c []Candidate) bool {
	for i := range c {
		if c[i].Usable && !c[i].Backup {
			return true
		}
	}
	return false
}

// eligible reports whether candidate i may be picked.
func eligible(c *Candidate, primary bool) bool {
	return c.Usable && c.Room > 0 && (!primary || !c.Backup)
}

// Linger picks the usable subflow with room whose queue would drain
// first: the bytes it holds unacknowledged (Queued) leave at one
// congestion window per smoothed RTT, so
//
//	linger = SRTT × (Queued + 1) / Cwnd
//
// (the 1 ranks idle subflows by their rate). Like the Linux kernel's
// default scheduler (queued bytes over pacing rate), it uses every path
// with room while the others are busy: an idle subflow goes first whatever
// its last samples said. The smoothed RTT alone holds it against a subflow
// that it carried little (the peer's delayed-ACK timer inflates the
// samples of a sparse flow) or that its first sample was coarse (a join
// measured in milliseconds), and it favours the path whose own queue it
// is filling. A subflow without an RTT sample counts as slowest; ties go
// to the lower index. It is the default.
type Linger struct{}

// Name returns "default".
func (*Linger) Name() string { return "default" }

// Redundant returns false.
func (*Linger) Redundant() bool { return false }

// Pick implements Scheduler.
func (*Linger) Pick(c []Candidate) int {
	primary := anyPrimary(c)
	best := -1
	var bestT float64
	for i := range c {
		if !eligible(&c[i], primary) {
			continue
		}
		t := lingerTime(&c[i])
		if best < 0 || t < bestT {
			best, bestT = i, t
		}
	}
	return best
}

// lingerTime returns Linger's estimate for c in nanoseconds.
func lingerTime(c *Candidate) float64 {
	if c.SRTT <= 0 {
		return 1 << 62 // no sample: slowest
	}
	return float64(c.SRTT) * float64(c.Queued+1) / float64(max(c.Cwnd, 1))
}

// LowestRTT picks the usable subflow with room and the smallest smoothed
// RTT; a subflow without an RTT sample counts as slowest, ties go to the
// lower index. Its choice sticks to the path whose samples were fastest,
// even when that path's queue makes it the slower one to deliver.
type LowestRTT struct{}

// Name returns "lowrtt".
func (*LowestRTT) Name() string { return "lowrtt" }

// Redundant returns false.
func (*LowestRTT) Redundant() bool { return false }

// Pick implements Scheduler.
func (*LowestRTT) Pick(c []Candidate) int {
	primary := anyPrimary(c)
	best := -1
	var bestRTT time.Duration
	for i := range c {
		if !eligible(&c[i], primary) {
			continue
		}
		r := c[i].SRTT
		if r == 0 {
			r = time.Duration(1<<62 - 1)
		}
		if best < 0 || r < bestRTT {
			best, bestRTT = i, r
		}
	}
	return best
}

// RoundRobin gives each usable subflow with room the next range in turn.
type RoundRobin struct {
	last int
}

// Name returns "roundrobin".
func (*RoundRobin) Name() string { return "roundrobin" }

// Redundant returns false.
func (*RoundRobin) Redundant() bool { return false }

// Pick implements Scheduler.
func (r *RoundRobin) Pick(c []Candidate) int {
	primary := anyPrimary(c)
	n := len(c)
	for k := 1; k <= n; k++ {
		i := (r.last + k) % n
		if eligible(&c[i], primary) {
			r.last = i
			return i
		}
	}
	return -1
}

// Redundant sends every range on every usable subflow (backup subflows
// only when no other is usable). Pick returns the eligible subflow with the
// lowest RTT, like LowestRTT; the connection then lets every eligible
// subflow send the ranges it has not sent yet.
type Redundant struct{ LowestRTT }

// Name returns "redundant".
func (*Redundant) Name() string { return "redundant" }

// Redundant returns true.
func (*Redundant) Redundant() bool { return true }

// Eligible reports whether candidate i of c may send now under the
// backup rule (usable, room, and not a backup while a non-backup subflow
// is usable). Redundant connections ask it for every subflow.
func Eligible(c []Candidate, i int) bool {
	return eligible(&c[i], anyPrimary(c))
}
