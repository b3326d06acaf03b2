package iperf

import (
	"net/netip"
	"time"
)

// Summary is one direction's total for one stream or for the sum.
type Summary struct {
	Start, End  time.Duration // since the test started running
	Bytes       uint64
	Retransmits int64 // -1 when unknown (receiver side, or no TCP info)
}

// Seconds is the summary's duration.
func (s Summary) Seconds() float64 { return (s.End - s.Start).Seconds() }

// BitsPerSecond is the summary's average rate (0 for an empty span).
func (s Summary) BitsPerSecond() float64 {
	if sec := s.Seconds(); sec > 0 {
		return float64(s.Bytes) * 8 / sec
	}
	return 0
}

// StreamResult is one data stream's final figures.
type StreamResult struct {
	ID            int // iperf3's stream id: 1, 3, 4, ...
	Local, Remote netip.AddrPort
	Sender        Summary
	Receiver      Summary
	Subflows      []SubflowStat // last sample, when a SubflowSource exists
}

// CPUUtil is iperf3's cpu_utilization_percent.
type CPUUtil struct {
	HostTotal, HostUser, HostSystem       float64
	RemoteTotal, RemoteUser, RemoteSystem float64
}

// Result is a finished test as the client sees it.
type Result struct {
	Version   string // iperf3 version string when parsed from iperf3 -J
	Cookie    string
	Host      string // what the client connected to
	Port      int
	Reverse   bool
	Parallel  int
	BlockSize int
	Duration  time.Duration // requested -t (0 with -n)
	Bytes     uint64        // requested -n
	Started   time.Time

	Streams   []StreamResult
	Intervals []Interval
	Sent      Summary // sum_sent: the sending side's total
	Received  Summary // sum_received: the receiving side's total

	CPU                CPUUtil
	SenderCongestion   string
	ReceiverCongestion string
}

// StreamSample is one stream's figures over one interval.
type StreamSample struct {
	ID          int
	Bytes       uint64
	Retransmits int64  // -1 when unknown
	CwndBytes   uint64 // sum over subflows of cwnd*MSS
	SndWnd      uint64
	SRTT        time.Duration // the largest subflow SRTT
	RTTVar      time.Duration
	PMTU        uint32
}

// SubflowSample is one subflow's figures over one interval.
type SubflowSample struct {
	Stream int // the stream (connection) the subflow belongs to
	SubflowStat
	Bytes       uint64 // acked (sender) or received (receiver) in the interval
	Retransmits uint64 // segments retransmitted in the interval
}

// Interval is one -i report.
type Interval struct {
	Start, End time.Duration // since the test started running
	Sender     bool          // the local side sent the data
	Omitted    bool
	Streams    []StreamSample
	Sum        StreamSample
	Subflows   []SubflowSample
}

// Seconds is the interval's length.
func (iv Interval) Seconds() float64 { return (iv.End - iv.Start).Seconds() }

// BitsPerSecond converts bytes over the interval to a rate.
func (iv Interval) BitsPerSecond(bytes uint64) float64 {
	if s := iv.Seconds(); s > 0 {
		return float64(bytes) * 8 / s
	}
	return 0
}
