package iperf

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// budget is the shared byte budget of a -n test: senders claim blocks from
// it so that all streams together send exactly the requested count.
type budget struct{ left atomic.Int64 }

// take claims up to n bytes and returns how many were granted (0: spent).
func (b *budget) take(n int) int {
	for {
		l := b.left.Load()
		if l <= 0 {
			return 0
		}
		g := int64(n)
		if g > l {
			g = l
		}
		if b.left.CompareAndSwap(l, l-g) {
			return int(g)
		}
	}
}

// giveBack returns claimed bytes that were not sent.
func (b *budget) giveBack(n int) {
	if n > 0 {
		b.left.Add(int64(n))
	}
}

// stream is one data connection of a test.
type stream struct {
	id      int
	conn    net.Conn
	sender  bool
	src     SubflowSource
	bytes   atomic.Uint64
	endNS   atomic.Int64  // when this stream stopped counting, ns since test start
	omitted atomic.Uint64 // bytes counted during the omit period (-O)
	err     error         // set by the worker before it returns

	// sampler state (owned by the goroutine that samples)
	prevBytes uint64
	prevSub   map[SubflowKey]SubflowStat
	last      []SubflowStat
}

// fillPattern fills a send buffer with a fixed, non-zero pattern.
func fillPattern(b []byte) {
	for i := range b {
		b[i] = byte('0' + i%10)
	}
}

// runSender writes blocks until stop is set, the budget (when not nil) is
// spent, or a write fails. With rate > 0 (bits per second) it paces
// itself: it sleeps whenever it is ahead of rate since it started.
func (s *stream) runSender(stop *atomic.Bool, bud *budget, blk []byte, rate float64) {
	write := s.conn.Write
	if pw := newPollWriter(s.conn, stop); pw != nil {
		write = pw.write
	}
	start := time.Now()
	for !stop.Load() {
		n := len(blk)
		if bud != nil {
			if n = bud.take(n); n == 0 {
				return
			}
		}
		for off := 0; off < n; {
			w, err := write(blk[off:n])
			if w > 0 {
				off += w
				s.bytes.Add(uint64(w))
			}
			if err != nil || (off < n && stop.Load()) {
				if bud != nil {
					bud.giveBack(n - off)
				}
				if err != nil && !stop.Load() {
					s.err = err
				}
				return
			}
		}
		if rate > 0 {
			due := start.Add(time.Duration(float64(s.bytes.Load()) * 8 / rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
	}
}

// omitBase records, at the end of the omit period, what a stream had
// counted; results then exclude it (iperf3's -O).
func (s *stream) omitBase() uint64 { return s.omitted.Load() }

// runReceiver reads until the connection ends. Bytes count while stop is
// clear; total (when not nil) adds them up across streams, and reached is
// called once the total reaches target (when target > 0).
func (s *stream) runReceiver(stop *atomic.Bool, buf []byte, total *atomic.Uint64, target uint64, reached func()) {
	for {
		n, err := s.conn.Read(buf)
		if n > 0 && !stop.Load() {
			s.bytes.Add(uint64(n))
			if total != nil && total.Add(uint64(n)) >= target && target > 0 {
				reached()
			}
		}
		if err != nil {
			if !stop.Load() && !errors.Is(err, net.ErrClosed) {
				s.err = err
			}
			return
		}
	}
}

// sample returns the stream's figures since the previous sample and its
// subflows' samples.
func (s *stream) sample(subs []SubflowSample) (StreamSample, []SubflowSample) {
	cur := s.bytes.Load()
	ss := StreamSample{ID: s.id, Bytes: cur - s.prevBytes, Retransmits: -1}
	s.prevBytes = cur
	if s.src == nil {
		return ss, subs
	}
	stats, err := s.src.AppendSubflows(s.last[:0])
	if err != nil {
		return ss, subs
	}
	s.last = stats
	if s.prevSub == nil {
		s.prevSub = make(map[SubflowKey]SubflowStat)
	}
	var retr uint64
	for _, st := range stats {
		prev := s.prevSub[st.Key()]
		sub := SubflowSample{Stream: s.id, SubflowStat: st}
		if s.sender {
			sub.Bytes = delta(st.BytesAcked, prev.BytesAcked)
		} else {
			sub.Bytes = delta(st.BytesReceived, prev.BytesReceived)
		}
		sub.Retransmits = delta(st.Retransmits, prev.Retransmits)
		retr += sub.Retransmits
		s.prevSub[st.Key()] = st
		subs = append(subs, sub)
		ss.CwndBytes += uint64(st.Cwnd) * uint64(st.MSS)
		ss.SndWnd += uint64(st.SndWnd)
		if st.SRTT > ss.SRTT {
			ss.SRTT, ss.RTTVar = st.SRTT, st.RTTVar
		}
		if ss.PMTU == 0 || st.PMTU < ss.PMTU {
			ss.PMTU = st.PMTU
		}
	}
	if s.sender {
		ss.Retransmits = int64(retr)
	}
	return ss, subs
}

// totalRetransmits sums the subflows' retransmissions of the last sample,
// or -1 when unknown.
func (s *stream) totalRetransmits() int64 {
	if s.src == nil || s.last == nil {
		return -1
	}
	var r uint64
	for _, st := range s.last {
		r += st.Retransmits
	}
	return int64(r)
}

func delta(cur, prev uint64) uint64 {
	if cur < prev {
		return 0
	}
	return cur - prev
}

// streamSet is the data streams of one test and their workers.
type streamSet struct {
	streams []*stream
	stop    atomic.Bool
	wg      sync.WaitGroup
	start   time.Time
}

// elapsed returns the time since the test started.
func (ss *streamSet) elapsed() time.Duration { return time.Since(ss.start) }

// closeAll closes every stream connection.
func (ss *streamSet) closeAll() {
	for _, s := range ss.streams {
		s.conn.Close()
	}
}

// unblockWriters makes pending writes return now.
func (ss *streamSet) unblockWriters() {
	for _, s := range ss.streams {
		_ = s.conn.SetWriteDeadline(time.Now())
	}
}

// waitUnsent waits (up to max) until every stream's socket has no
// unacknowledged bytes, so that the receiver holds all that was sent.
func (ss *streamSet) waitUnsent(max time.Duration) {
	deadline := time.Now().Add(max)
	for _, s := range ss.streams {
		for time.Now().Before(deadline) {
			n, ok := unsentBytes(s.conn)
			if !ok || n == 0 {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// sampleAll takes one interval sample of every stream.
func (ss *streamSet) sampleAll(from, to time.Duration, sender bool) Interval {
	iv := Interval{Start: from, End: to, Sender: sender, Streams: make([]StreamSample, 0, len(ss.streams))}
	iv.Sum.Retransmits = -1
	for _, s := range ss.streams {
		var smp StreamSample
		smp, iv.Subflows = s.sample(iv.Subflows)
		iv.Streams = append(iv.Streams, smp)
		iv.Sum.Bytes += smp.Bytes
		if smp.Retransmits >= 0 {
			if iv.Sum.Retransmits < 0 {
				iv.Sum.Retransmits = 0
			}
			iv.Sum.Retransmits += smp.Retransmits
		}
		iv.Sum.CwndBytes += smp.CwndBytes
		if smp.SRTT > iv.Sum.SRTT {
			iv.Sum.SRTT, iv.Sum.RTTVar = smp.SRTT, smp.RTTVar
		}
	}
	return iv
}
