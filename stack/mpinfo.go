package stack

import (
	"net"
	"net/netip"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/mptcp"
	"github.com/mpxdp/mpxdp/mptcp/conn"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

// infoReq asks a connection's worker for its MPTCP state.
type infoReq struct {
	c    *Conn
	info conn.Info
	subs []conn.SubflowInfo
	mss  []int // each subflow's MSS, in the order of subs
	done chan struct{}
}

// query asks the connection's worker for its state and waits for the
// answer. It reports false when the stack is closed.
func (c *Conn) query(subs []conn.SubflowInfo) (*infoReq, bool) {
	q := &infoReq{c: c, subs: subs, done: make(chan struct{})}
	w := c.w
	if w.stop.Load() {
		return q, false
	}
	w.post(command{op: opInfo, q: q})
	for {
		select {
		case <-q.done:
			return q, true
		case <-time.After(10 * time.Millisecond):
			if w.stop.Load() {
				// The stack closed: the request may never be served.
				return q, false
			}
		}
	}
}

// Info returns the connection's MPTCP state in the terms of Linux's
// mptcp_info (getsockopt MPTCP_INFO). A plain TCP connection (fallback,
// or MPTCP off) reports Fallback. It asks the connection's worker and
// waits for its answer: call it from time to time, not per write.
func (c *Conn) Info() conn.Info {
	q, ok := c.query(nil)
	if !ok {
		return conn.Info{}
	}
	return q.info
}

// Subflows appends a description of every subflow (addresses, interface,
// backup flag, cwnd, srtt, bytes, retransmissions) to dst and returns it.
// A plain TCP connection reports itself as one subflow.
func (c *Conn) Subflows(dst []conn.SubflowInfo) []conn.SubflowInfo {
	q, ok := c.query(dst)
	if !ok {
		return dst
	}
	return q.subs
}

// MPTCP reports whether the connection runs MPTCP (it did not fall back
// to plain TCP).
func (c *Conn) MPTCP() bool { return !c.Info().Fallback }

// AppendSubflows implements iperf.SubflowSource: one line per live
// subflow for mptcp-bench and mptcp-server.
func (c *Conn) AppendSubflows(dst []iperf.SubflowStat) ([]iperf.SubflowStat, error) {
	q, ok := c.query(nil)
	if !ok {
		return dst, net.ErrClosed
	}
	for i, s := range q.subs {
		if s.State == tcp.Closed {
			continue
		}
		cwnd := s.Cwnd
		mss := 0
		if i < len(q.mss) && q.mss[i] > 0 {
			mss = q.mss[i]
			cwnd /= mss
		}
		dst = append(dst, iperf.SubflowStat{
			Local:         netip.AddrPortFrom(s.Tuple.LocalAddr, s.Tuple.LocalPort),
			Remote:        netip.AddrPortFrom(s.Tuple.RemoteAddr, s.Tuple.RemotePort),
			Iface:         s.Ifname,
			Backup:        s.Backup,
			BytesSent:     s.BytesSent,
			BytesAcked:    s.BytesAcked,
			BytesReceived: s.BytesRecv,
			BytesRetrans:  s.BytesRetrans,
			Retransmits:   s.Retransmits,
			Cwnd:          uint32(cwnd),
			MSS:           uint32(mss),
			SRTT:          s.SRTT,
		})
	}
	return dst, nil
}

var _ iperf.SubflowSource = (*Conn)(nil)

// MIB returns a snapshot of the stack's MPTCP counters (kernel MPTcpExt
// names: mptcp.Counter.Name), summed over the workers.
func (s *Stack) MIB() mptcp.Snapshot { return s.mib.Snapshot() }

// MIBMap returns the non-zero MPTCP counters by their kernel names
// (MPCapableSYNRX, MPJoinSynRx, ...), as `nstat` shows MPTcpExt.
func (s *Stack) MIBMap() map[string]uint64 {
	snap := s.mib.Snapshot()
	m := make(map[string]uint64)
	for i, v := range snap {
		if v != 0 {
			m[mptcp.Counter(i).Name()] = v
		}
	}
	return m
}
