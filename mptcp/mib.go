package mptcp

import (
	"io"
	"strconv"
	"sync"
	"sync/atomic"
)

// Counter names one MIB counter (the Mib* constants).
type Counter uint8

// Name returns the counter's name as the kernel prints it, e.g.
// "MPTcpExtMPCapableSYNRX", or "" for a value out of range.
func (c Counter) Name() string {
	if c < NumCounters {
		return counterNames[c]
	}
	return ""
}

// String returns Name.
func (c Counter) String() string { return c.Name() }

// CounterByName returns the counter with the given kernel name (with the
// "MPTcpExt" prefix).
func CounterByName(name string) (Counter, bool) {
	for i, n := range counterNames {
		if n == name {
			return Counter(i), true
		}
	}
	return 0, false
}

// Counters is one worker's set of MIB counters. Only its owner goroutine
// changes it, with an atomic load and an atomic store (no read-modify-write
// instruction and no lock: on amd64 and arm64 both are plain moves), so
// counting costs next to nothing on the packet path and stays correct under
// the Go memory model; readers use MIB.Snapshot, which loads each value
// atomically. The struct is padded to whole cache lines so two workers'
// counters never share one.
type Counters struct {
	v [NumCounters]uint64
	_ [(64 - (int(NumCounters)*8)%64) % 64]byte
}

// Inc adds one to counter c. Only the owner may call it.
func (w *Counters) Inc(c Counter) { w.Add(c, 1) }

// Add adds n to counter c (for example the number of ids in a REMOVE_ADDR).
// Only the owner may call it: the load and the store are separate, which is
// right for a single writer and cheaper than an atomic add.
func (w *Counters) Add(c Counter, n uint64) {
	atomic.StoreUint64(&w.v[c], atomic.LoadUint64(&w.v[c])+n)
}

// Dec subtracts one from a gauge such as MibMPCurrEstab. Sums across
// workers stay right modulo 2^64 even when one worker's share goes below 0.
func (w *Counters) Dec(c Counter) { w.Add(c, ^uint64(0)) }

// Get returns counter c.
func (w *Counters) Get(c Counter) uint64 { return atomic.LoadUint64(&w.v[c]) }

// MIB holds the counters of every worker and of the control plane. Create
// it once with the number of workers; each worker takes its Counters with
// Worker and keeps the pointer.
type MIB struct {
	control Counters   // counted by the control plane, under mu; first, so 64-bit aligned on 32-bit platforms
	mu      sync.Mutex // serialises Snapshot callers and IncControl
	workers []*Counters
}

// NewMIB returns a MIB with counters for n workers.
func NewMIB(n int) *MIB {
	m := &MIB{workers: make([]*Counters, n)}
	for i := range m.workers {
		m.workers[i] = new(Counters)
	}
	return m
}

// Worker returns worker i's counters; only that worker may increment them.
func (m *MIB) Worker(i int) *Counters { return m.workers[i] }

// Workers returns the number of workers.
func (m *MIB) Workers() int { return len(m.workers) }

// IncControl adds n to counter c from the control plane (any goroutine; it
// takes a lock, so keep it off the packet path).
func (m *MIB) IncControl(c Counter, n uint64) {
	m.mu.Lock()
	atomic.AddUint64(&m.control.v[c], n)
	m.mu.Unlock()
}

// Snapshot is a point-in-time sum of all MIB counters, indexed by Counter.
type Snapshot [NumCounters]uint64

// Snapshot sums every worker's counters and the control plane's, loading
// each value atomically. Counters keep moving while it runs, so the result
// is a consistent value per counter, not across counters.
func (m *MIB) Snapshot() Snapshot {
	var s Snapshot
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range m.workers {
		for i := range s {
			s[i] += atomic.LoadUint64(&w.v[i])
		}
	}
	for i := range s {
		s[i] += atomic.LoadUint64(&m.control.v[i])
	}
	return s
}

// Get returns counter c of the snapshot.
func (s *Snapshot) Get(c Counter) uint64 { return s[c] }

// Sub returns s minus an earlier snapshot, counter by counter (what
// `nstat` without -a shows).
func (s *Snapshot) Sub(earlier *Snapshot) Snapshot {
	var d Snapshot
	for i := range d {
		d[i] = s[i] - earlier[i]
	}
	return d
}

// WriteNstat writes the non-zero counters in the format of `nstat -a`: a
// "#kernel" line, then one line per counter with the name left-aligned in
// 32 columns, the value left-aligned in 16 columns and a rate column (always
// 0.0 here; a snapshot has no interval).
func (s *Snapshot) WriteNstat(w io.Writer) error { return s.writeNstat(w, false) }

// WriteNstatAll is WriteNstat including zero counters, as `nstat -az`.
func (s *Snapshot) WriteNstatAll(w io.Writer) error { return s.writeNstat(w, true) }

func (s *Snapshot) writeNstat(w io.Writer, zeros bool) error {
	buf := make([]byte, 0, 64*int(NumCounters))
	buf = append(buf, "#kernel\n"...)
	for i, v := range s {
		if v == 0 && !zeros {
			continue
		}
		buf = appendPadded(buf, counterNames[i], 32)
		buf = appendPadded(buf, strconv.FormatUint(v, 10), 16)
		buf = append(buf, "   0.0\n"...)
	}
	_, err := w.Write(buf)
	return err
}

func appendPadded(b []byte, s string, width int) []byte {
	b = append(b, s...)
	for i := len(s); i < width; i++ {
		b = append(b, ' ')
	}
	return b
}
