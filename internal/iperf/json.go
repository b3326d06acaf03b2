package iperf

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Doc is iperf3's -J document (keys as iperf3 3.x writes them), plus
// mpxdp's "subflows" arrays. Result.Doc builds one; ParseJSON reads one.
type Doc struct {
	Start     DocStart      `json:"start"`
	Intervals []DocInterval `json:"intervals"`
	End       DocEnd        `json:"end"`
	Error     string        `json:"error,omitempty"`
}

// DocStart is the "start" object.
type DocStart struct {
	Connected    []DocConnected `json:"connected"`
	Version      string         `json:"version,omitempty"`
	SystemInfo   string         `json:"system_info,omitempty"`
	Timestamp    DocTimestamp   `json:"timestamp"`
	ConnectingTo DocHostPort    `json:"connecting_to"`
	Cookie       string         `json:"cookie"`
	TestStart    DocTestStart   `json:"test_start"`
}

// DocConnected is one entry of "connected".
type DocConnected struct {
	Socket     int    `json:"socket"`
	LocalHost  string `json:"local_host"`
	LocalPort  int    `json:"local_port"`
	RemoteHost string `json:"remote_host"`
	RemotePort int    `json:"remote_port"`
}

// DocTimestamp is "timestamp".
type DocTimestamp struct {
	Time     string `json:"time"`
	Timesecs int64  `json:"timesecs"`
}

// DocHostPort is "connecting_to".
type DocHostPort struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

// DocTestStart is "test_start".
type DocTestStart struct {
	Protocol   string `json:"protocol"`
	NumStreams int    `json:"num_streams"`
	Blksize    int    `json:"blksize"`
	Omit       int    `json:"omit"`
	Duration   int    `json:"duration"`
	Bytes      Count  `json:"bytes"`
	Blocks     Count  `json:"blocks"`
	Reverse    int    `json:"reverse"`
	Tos        int    `json:"tos"`
}

// DocStream is a stream or sum entry of an interval or of "end".
type DocStream struct {
	Socket        int     `json:"socket,omitempty"`
	Start         float64 `json:"start"`
	End           float64 `json:"end"`
	Seconds       float64 `json:"seconds"`
	Bytes         Count   `json:"bytes"`
	BitsPerSecond float64 `json:"bits_per_second"`
	Retransmits   *int64  `json:"retransmits,omitempty"`
	SndCwnd       *uint64 `json:"snd_cwnd,omitempty"`
	SndWnd        *uint64 `json:"snd_wnd,omitempty"`
	RTT           *int64  `json:"rtt,omitempty"`    // microseconds
	RTTVar        *int64  `json:"rttvar,omitempty"` // microseconds
	PMTU          *uint32 `json:"pmtu,omitempty"`
	Omitted       *bool   `json:"omitted,omitempty"`
	Sender        bool    `json:"sender"`
}

// DocSubflow is mpxdp's per-subflow entry of an interval (or of "end").
type DocSubflow struct {
	Stream        int     `json:"stream"`
	Iface         string  `json:"iface,omitempty"`
	Local         string  `json:"local"`
	Remote        string  `json:"remote"`
	Start         float64 `json:"start"`
	End           float64 `json:"end"`
	Seconds       float64 `json:"seconds"`
	Bytes         uint64  `json:"bytes"`
	BitsPerSecond float64 `json:"bits_per_second"`
	Share         float64 `json:"share"` // of the interval's total bytes, 0..1
	Retransmits   uint64  `json:"retransmits"`
	SndCwnd       uint64  `json:"snd_cwnd"` // bytes
	RTT           int64   `json:"rtt"`      // microseconds
	RTTVar        int64   `json:"rttvar"`
	PMTU          uint32  `json:"pmtu,omitempty"`
	Backup        bool    `json:"backup,omitempty"`
}

// DocInterval is one entry of "intervals".
type DocInterval struct {
	Streams  []DocStream  `json:"streams"`
	Sum      DocStream    `json:"sum"`
	Subflows []DocSubflow `json:"subflows,omitempty"`
}

// DocEndStream is one entry of end.streams.
type DocEndStream struct {
	Sender   DocStream `json:"sender"`
	Receiver DocStream `json:"receiver"`
}

// DocCPU is "cpu_utilization_percent".
type DocCPU struct {
	HostTotal    float64 `json:"host_total"`
	HostUser     float64 `json:"host_user"`
	HostSystem   float64 `json:"host_system"`
	RemoteTotal  float64 `json:"remote_total"`
	RemoteUser   float64 `json:"remote_user"`
	RemoteSystem float64 `json:"remote_system"`
}

// DocEnd is the "end" object.
type DocEnd struct {
	Streams               []DocEndStream `json:"streams"`
	SumSent               DocStream      `json:"sum_sent"`
	SumReceived           DocStream      `json:"sum_received"`
	CPU                   DocCPU         `json:"cpu_utilization_percent"`
	SenderTCPCongestion   string         `json:"sender_tcp_congestion,omitempty"`
	ReceiverTCPCongestion string         `json:"receiver_tcp_congestion,omitempty"`
	Subflows              []DocSubflow   `json:"subflows,omitempty"`
}

func ptr[T any](v T) *T { return &v }

// docSummary renders a Summary.
func docSummary(socket int, s Summary, sender bool) DocStream {
	d := DocStream{Socket: socket, Start: s.Start.Seconds(), End: s.End.Seconds(), Seconds: s.Seconds(),
		Bytes: Count(s.Bytes), BitsPerSecond: s.BitsPerSecond(), Sender: sender}
	if sender && s.Retransmits >= 0 {
		d.Retransmits = ptr(s.Retransmits)
	}
	return d
}

// DocSubflows renders an interval's subflow samples.
func DocSubflows(iv Interval) []DocSubflow {
	var out []DocSubflow
	var total uint64
	for _, s := range iv.Subflows {
		total += s.Bytes
	}
	for _, s := range iv.Subflows {
		d := DocSubflow{Stream: s.Stream, Iface: s.Iface, Local: s.Local.String(), Remote: s.Remote.String(),
			Start: iv.Start.Seconds(), End: iv.End.Seconds(), Seconds: iv.Seconds(), Bytes: s.Bytes,
			BitsPerSecond: iv.BitsPerSecond(s.Bytes), Retransmits: s.Retransmits,
			SndCwnd: uint64(s.Cwnd) * uint64(s.MSS), RTT: s.SRTT.Microseconds(), RTTVar: s.RTTVar.Microseconds(),
			PMTU: s.PMTU, Backup: s.Backup}
		if total > 0 {
			d.Share = float64(s.Bytes) / float64(total)
		}
		out = append(out, d)
	}
	return out
}

// DocInterval renders one interval.
func (iv Interval) Doc() DocInterval {
	d := DocInterval{Subflows: DocSubflows(iv)}
	one := func(s StreamSample) DocStream {
		ds := DocStream{Socket: s.ID, Start: iv.Start.Seconds(), End: iv.End.Seconds(), Seconds: iv.Seconds(),
			Bytes: Count(s.Bytes), BitsPerSecond: iv.BitsPerSecond(s.Bytes), Omitted: ptr(iv.Omitted), Sender: iv.Sender}
		if iv.Sender && s.Retransmits >= 0 {
			ds.Retransmits = ptr(s.Retransmits)
			ds.SndCwnd = ptr(s.CwndBytes)
			ds.SndWnd = ptr(s.SndWnd)
			ds.RTT = ptr(s.SRTT.Microseconds())
			ds.RTTVar = ptr(s.RTTVar.Microseconds())
			ds.PMTU = ptr(s.PMTU)
		}
		return ds
	}
	for _, s := range iv.Streams {
		d.Streams = append(d.Streams, one(s))
	}
	d.Sum = one(iv.Sum)
	d.Sum.Socket = 0
	d.Sum.SndCwnd, d.Sum.SndWnd, d.Sum.RTT, d.Sum.RTTVar, d.Sum.PMTU = nil, nil, nil, nil, nil
	return d
}

// DocStart renders the "start" object.
func (r Result) DocStart() DocStart {
	d := DocStart{Version: r.Version, Cookie: r.Cookie, ConnectingTo: DocHostPort{r.Host, r.Port},
		Timestamp: DocTimestamp{Time: r.Started.UTC().Format(time.RFC1123), Timesecs: r.Started.Unix()},
		TestStart: DocTestStart{Protocol: "TCP", NumStreams: r.Parallel, Blksize: r.BlockSize,
			Duration: int(r.Duration / time.Second), Bytes: Count(r.Bytes)}}
	if d.Version == "" {
		d.Version = "mpxdp"
	}
	if r.Reverse {
		d.TestStart.Reverse = 1
	}
	for _, s := range r.Streams {
		d.Connected = append(d.Connected, DocConnected{Socket: s.ID, LocalHost: s.Local.Addr().String(), LocalPort: int(s.Local.Port()),
			RemoteHost: s.Remote.Addr().String(), RemotePort: int(s.Remote.Port())})
	}
	return d
}

// DocEnd renders the "end" object.
func (r Result) DocEnd() DocEnd {
	senderLocal := !r.Reverse
	d := DocEnd{SumSent: docSummary(0, r.Sent, true), SumReceived: docSummary(0, r.Received, true),
		CPU:                 DocCPU(r.CPU),
		SenderTCPCongestion: r.SenderCongestion, ReceiverTCPCongestion: r.ReceiverCongestion}
	d.SumSent.Sender, d.SumReceived.Sender = senderLocal, senderLocal
	d.SumReceived.Retransmits = nil
	for _, s := range r.Streams {
		es := DocEndStream{Sender: docSummary(s.ID, s.Sender, true), Receiver: docSummary(s.ID, s.Receiver, true)}
		es.Sender.Sender, es.Receiver.Sender = senderLocal, senderLocal
		es.Receiver.Retransmits = nil
		d.Streams = append(d.Streams, es)
		for _, st := range s.Subflows {
			bytes := st.BytesReceived
			if senderLocal {
				bytes = st.BytesAcked
			}
			d.Subflows = append(d.Subflows, DocSubflow{Stream: s.ID, Iface: st.Iface, Local: st.Local.String(), Remote: st.Remote.String(),
				Bytes: bytes, Retransmits: st.Retransmits, SndCwnd: uint64(st.Cwnd) * uint64(st.MSS),
				RTT: st.SRTT.Microseconds(), RTTVar: st.RTTVar.Microseconds(), PMTU: st.PMTU, Backup: st.Backup})
		}
	}
	return d
}

// Doc renders the whole result as iperf3's -J document.
func (r Result) Doc() Doc {
	d := Doc{Start: r.DocStart(), End: r.DocEnd(), Intervals: []DocInterval{}}
	for _, iv := range r.Intervals {
		d.Intervals = append(d.Intervals, iv.Doc())
	}
	return d
}

// ParseJSON reads iperf3's -J output (a stock iperf3 client's or ours)
// into a Result. Intervals keep per-stream figures; "subflows" arrays are
// read when present.
func ParseJSON(b []byte) (Result, error) {
	var d Doc
	if err := json.Unmarshal(b, &d); err != nil {
		return Result{}, fmt.Errorf("iperf: parsing iperf3 JSON: %w", err)
	}
	if d.Error != "" && len(d.End.Streams) == 0 {
		return Result{}, fmt.Errorf("iperf: iperf3 reported an error: %s", d.Error)
	}
	ts := d.Start.TestStart
	if ts.Protocol != "" && ts.Protocol != "TCP" {
		return Result{}, fmt.Errorf("iperf: protocol %q: only TCP results are supported", ts.Protocol)
	}
	r := Result{Version: d.Start.Version, Cookie: d.Start.Cookie, Host: d.Start.ConnectingTo.Host, Port: d.Start.ConnectingTo.Port,
		Reverse: ts.Reverse != 0, Parallel: ts.NumStreams, BlockSize: ts.Blksize,
		Duration: time.Duration(ts.Duration) * time.Second, Bytes: uint64(ts.Bytes)}
	if d.Start.Timestamp.Timesecs != 0 {
		r.Started = time.Unix(d.Start.Timestamp.Timesecs, 0)
	}
	// iperf3 names streams by socket; map them to 1, 3, 4, ... in order.
	ids := map[int]int{}
	for i, c := range d.Start.Connected {
		ids[c.Socket] = streamID(i)
		r.Streams = append(r.Streams, StreamResult{ID: streamID(i), Local: hostPort(c.LocalHost, c.LocalPort), Remote: hostPort(c.RemoteHost, c.RemotePort)})
	}
	idOf := func(socket int) int {
		if id, ok := ids[socket]; ok {
			return id
		}
		return socket
	}
	for _, di := range d.Intervals {
		iv := Interval{Start: secs(di.Sum.Start), End: secs(di.Sum.End), Sender: di.Sum.Sender}
		if di.Sum.Omitted != nil {
			iv.Omitted = *di.Sum.Omitted
		}
		for _, s := range di.Streams {
			iv.Streams = append(iv.Streams, sampleOf(idOf(s.Socket), s))
		}
		iv.Sum = sampleOf(0, di.Sum)
		for _, sf := range di.Subflows {
			iv.Subflows = append(iv.Subflows, SubflowSample{Stream: sf.Stream, Bytes: sf.Bytes, Retransmits: sf.Retransmits,
				SubflowStat: SubflowStat{Iface: sf.Iface, Local: parseAP(sf.Local), Remote: parseAP(sf.Remote),
					SRTT: time.Duration(sf.RTT) * time.Microsecond, RTTVar: time.Duration(sf.RTTVar) * time.Microsecond, PMTU: sf.PMTU, Backup: sf.Backup}})
		}
		r.Intervals = append(r.Intervals, iv)
	}
	for _, es := range d.End.Streams {
		id := idOf(es.Sender.Socket)
		var sr *StreamResult
		for j := range r.Streams {
			if r.Streams[j].ID == id {
				sr = &r.Streams[j]
			}
		}
		if sr == nil {
			r.Streams = append(r.Streams, StreamResult{ID: id})
			sr = &r.Streams[len(r.Streams)-1]
		}
		sr.Sender = summaryOf(es.Sender)
		sr.Receiver = summaryOf(es.Receiver)
		sr.Receiver.Retransmits = -1
	}
	for _, sf := range d.End.Subflows {
		for j := range r.Streams {
			if r.Streams[j].ID != sf.Stream {
				continue
			}
			st := SubflowStat{Iface: sf.Iface, Local: parseAP(sf.Local), Remote: parseAP(sf.Remote), Retransmits: sf.Retransmits,
				SRTT: time.Duration(sf.RTT) * time.Microsecond, RTTVar: time.Duration(sf.RTTVar) * time.Microsecond, PMTU: sf.PMTU, Backup: sf.Backup}
			if r.Reverse {
				st.BytesReceived = sf.Bytes
			} else {
				st.BytesAcked = sf.Bytes
			}
			r.Streams[j].Subflows = append(r.Streams[j].Subflows, st)
		}
	}
	r.Sent = summaryOf(d.End.SumSent)
	r.Received = summaryOf(d.End.SumReceived)
	r.Received.Retransmits = -1
	c := d.End.CPU
	r.CPU = CPUUtil(c)
	r.SenderCongestion, r.ReceiverCongestion = d.End.SenderTCPCongestion, d.End.ReceiverTCPCongestion
	return r, nil
}

func sampleOf(id int, s DocStream) StreamSample {
	ss := StreamSample{ID: id, Bytes: uint64(s.Bytes), Retransmits: -1}
	if s.Retransmits != nil {
		ss.Retransmits = *s.Retransmits
	}
	if s.SndCwnd != nil {
		ss.CwndBytes = *s.SndCwnd
	}
	if s.SndWnd != nil {
		ss.SndWnd = *s.SndWnd
	}
	if s.RTT != nil {
		ss.SRTT = time.Duration(*s.RTT) * time.Microsecond
	}
	if s.RTTVar != nil {
		ss.RTTVar = time.Duration(*s.RTTVar) * time.Microsecond
	}
	if s.PMTU != nil {
		ss.PMTU = *s.PMTU
	}
	return ss
}

func summaryOf(s DocStream) Summary {
	// iperf3's bits_per_second is bytes over (end - start); keep that span.
	sm := Summary{Start: secs(s.Start), End: secs(s.End), Bytes: uint64(s.Bytes), Retransmits: -1}
	if s.Retransmits != nil {
		sm.Retransmits = *s.Retransmits
	}
	return sm
}

func hostPort(h string, p int) netip.AddrPort {
	a, err := netip.ParseAddr(h)
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(p))
}

func parseAP(s string) netip.AddrPort {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}
	}
	return ap
}

// ParseSize reads a byte count with iperf3's suffixes: K, M, G, T (powers
// of 1024; lower case too), e.g. "10M".
func ParseSize(s string) (uint64, error) {
	if s == "" {
		return 0, fmt.Errorf("iperf: empty size: give a number of bytes such as 10M")
	}
	mult := uint64(1)
	switch s[len(s)-1] {
	case 'k', 'K':
		mult = 1 << 10
	case 'm', 'M':
		mult = 1 << 20
	case 'g', 'G':
		mult = 1 << 30
	case 't', 'T':
		mult = 1 << 40
	}
	num := s
	if mult != 1 {
		num = s[:len(s)-1]
	}
	if f, err := strconv.ParseFloat(num, 64); err == nil && f >= 0 {
		v := f * float64(mult)
		if v > 1<<63 {
			return 0, fmt.Errorf("iperf: size %q is too large", s)
		}
		return uint64(v), nil
	}
	return 0, fmt.Errorf("iperf: size %q is not a number with an optional K/M/G/T suffix (e.g. 10M)", s)
}
