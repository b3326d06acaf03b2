package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
)

// Text writes iperf3-style human-readable output.
type Text struct {
	w          io.Writer
	headerDone bool
	names      map[int]string // stream id -> "local->remote", from Connected
}

// NewText returns a Text writing to w.
func NewText(w io.Writer) *Text { return &Text{w: w} }

// Connecting prints iperf3's "Connecting to host" line.
func (t *Text) Connecting(host string, port int) {
	fmt.Fprintf(t.w, "Connecting to host %s, port %d\n", host, port)
}

// Connected prints one line per data stream.
func (t *Text) Connected(streams []iperf.StreamResult) {
	t.names = make(map[int]string, len(streams))
	for _, s := range streams {
		t.names[s.ID] = s.Local.String() + "->" + s.Remote.String()
		fmt.Fprintf(t.w, "[%3d] local %s port %d connected to %s port %d\n", s.ID,
			s.Local.Addr(), s.Local.Port(), s.Remote.Addr(), s.Remote.Port())
	}
}

// interval formats "0.00-1.00".
func span(a, b time.Duration) string {
	return fmt.Sprintf("%6.2f-%-6.2f", a.Seconds(), b.Seconds())
}

// subflowName is "iface local->remote".
func subflowName(s iperf.SubflowStat) string {
	name := s.Local.String() + "->" + s.Remote.String()
	if s.Iface != "" {
		name = s.Iface + " " + name
	}
	if s.Backup {
		name += " (backup)"
	}
	return name
}

// Interval prints one line per subflow (or per stream when no subflow
// figures exist), then [SUM] when there is more than one line.
func (t *Text) Interval(iv iperf.Interval) {
	if !t.headerDone {
		t.headerDone = true
		fmt.Fprintf(t.w, "[ ID] %-44s %-17s %-12s %-15s %5s %5s %10s %8s\n", "Subflow", "Interval", "Transfer", "Bitrate", "Share", "Retr", "Cwnd", "SRTT")
	}
	var total uint64
	for _, s := range iv.Subflows {
		total += s.Bytes
	}
	lines := 0
	if len(iv.Subflows) > 0 {
		for _, s := range iv.Subflows {
			share := "-"
			if total > 0 {
				share = fmt.Sprintf("%.0f%%", 100*float64(s.Bytes)/float64(total))
			}
			retr := "-"
			if iv.Sender {
				retr = fmt.Sprint(s.Retransmits)
			}
			fmt.Fprintf(t.w, "[%3d] %-44s %s sec %-12s %-15s %5s %5s %10s %8s\n", s.Stream, subflowName(s.SubflowStat),
				span(iv.Start, iv.End), Bytes(s.Bytes), Bits(iv.BitsPerSecond(s.Bytes)), share, retr,
				Bytes(uint64(s.Cwnd)*uint64(s.MSS)), RTT(s.SRTT))
			lines++
		}
	} else {
		for _, s := range iv.Streams {
			retr := "-"
			if s.Retransmits >= 0 {
				retr = fmt.Sprint(s.Retransmits)
			}
			name := t.names[s.ID]
			if name == "" {
				name = "stream"
			}
			fmt.Fprintf(t.w, "[%3d] %-44s %s sec %-12s %-15s %5s %5s %10s %8s\n", s.ID, name, span(iv.Start, iv.End),
				Bytes(s.Bytes), Bits(iv.BitsPerSecond(s.Bytes)), "-", retr, "-", "-")
			lines++
		}
	}
	if lines > 1 || len(iv.Streams) > 1 {
		retr := "-"
		if iv.Sum.Retransmits >= 0 {
			retr = fmt.Sprint(iv.Sum.Retransmits)
		}
		fmt.Fprintf(t.w, "[SUM] %-44s %s sec %-12s %-15s %5s %5s\n", "", span(iv.Start, iv.End),
			Bytes(iv.Sum.Bytes), Bits(iv.BitsPerSecond(iv.Sum.Bytes)), "100%", retr)
	}
}

// Final prints the sender/receiver summary as iperf3 does, plus one line
// per subflow with its totals.
func (t *Text) Final(r iperf.Result) {
	fmt.Fprintln(t.w, strings.Repeat("- ", 40))
	fmt.Fprintf(t.w, "[ ID] %-17s %-12s %-15s %5s\n", "Interval", "Transfer", "Bitrate", "Retr")
	line := func(id string, s iperf.Summary, role string, retr bool) {
		rt := ""
		if retr && s.Retransmits >= 0 {
			rt = fmt.Sprint(s.Retransmits)
		}
		fmt.Fprintf(t.w, "[%s] %s sec %-12s %-15s %5s  %s\n", id, span(s.Start, s.End), Bytes(s.Bytes), Bits(s.BitsPerSecond()), rt, role)
	}
	for _, s := range r.Streams {
		id := fmt.Sprintf("%3d", s.ID)
		line(id, s.Sender, "sender", true)
		line(id, s.Receiver, "receiver", false)
	}
	if len(r.Streams) > 1 {
		line("SUM", r.Sent, "sender", true)
		line("SUM", r.Received, "receiver", false)
	}
	var subs int
	for _, s := range r.Streams {
		subs += len(s.Subflows)
	}
	if subs > 0 {
		fmt.Fprintf(t.w, "Subflows (local side, totals):\n")
		for _, s := range r.Streams {
			for _, sf := range s.Subflows {
				moved := sf.BytesAcked
				if r.Reverse {
					moved = sf.BytesReceived
				}
				fmt.Fprintf(t.w, "[%3d] %-44s %-12s retr %-6d cwnd %-10s srtt %s\n", s.ID, subflowName(sf), Bytes(moved),
					sf.Retransmits, Bytes(uint64(sf.Cwnd)*uint64(sf.MSS)), RTT(sf.SRTT))
			}
		}
	}
	fmt.Fprintln(t.w)
	fmt.Fprintln(t.w, "mptcp-bench Done.")
}
