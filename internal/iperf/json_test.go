package iperf

import (
	"encoding/json"
	"net/netip"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// testdata/iperf3-3.12-P2.json is `iperf3 -c 127.0.0.1 -t 1 -i 0.5 -J -P 2`
// from the stock iperf3 3.12 on this project's test machine.
func TestParseJSONStock(t *testing.T) {
	b, err := os.ReadFile("testdata/iperf3-3.12-P2.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != "iperf 3.12" || r.Parallel != 2 || r.BlockSize != 131072 || r.Reverse || r.Duration != time.Second {
		t.Errorf("start: %+v", r)
	}
	if r.Cookie != "vgdjvjnf6zi6t26hzqgtfck5h2p4ddzxlqja" || r.Port != 35201 || r.Started.Unix() != 1795336545 {
		t.Errorf("start fields: cookie %q port %d time %v", r.Cookie, r.Port, r.Started)
	}
	if len(r.Streams) != 2 || r.Streams[0].ID != 1 || r.Streams[1].ID != 3 ||
		r.Streams[0].Local != netip.MustParseAddrPort("127.0.0.1:40978") || r.Streams[1].Remote.Port() != 35201 {
		t.Fatalf("streams: %+v", r.Streams)
	}
	if len(r.Intervals) != 2 || r.Intervals[0].Sum.Bytes != 1167851520 || r.Intervals[1].Streams[1].Retransmits != 2 ||
		r.Intervals[0].Streams[0].SRTT != 74*time.Microsecond || r.Intervals[0].Streams[0].CwndBytes != 916762 || !r.Intervals[0].Sender {
		t.Errorf("intervals: %+v", r.Intervals)
	}
	if r.Sent.Bytes != 2258370560 || r.Sent.Retransmits != 5 || r.Received.Bytes != 2245787648 || r.Received.Retransmits != -1 {
		t.Errorf("sums: sent %+v received %+v", r.Sent, r.Received)
	}
	if got := r.Received.BitsPerSecond(); got < 16397053931 || got > 16397053932 {
		t.Errorf("received rate %f, iperf3 says 16397053931.585474", got)
	}
	if r.Streams[0].Sender.Bytes != 1140326400 || r.Streams[1].Receiver.Bytes != 1111752704 || r.Streams[0].Sender.Retransmits != 2 {
		t.Errorf("end streams: %+v", r.Streams)
	}
	if r.SenderCongestion != "bbr" || r.ReceiverCongestion != "bbr" || r.CPU.HostTotal < 35 || r.CPU.RemoteTotal < 32 {
		t.Errorf("cpu/congestion: %+v %q %q", r.CPU, r.SenderCongestion, r.ReceiverCongestion)
	}
}

func TestParseJSONErrors(t *testing.T) {
	for _, in := range []string{``, `{`, `{"start":{"test_start":{"protocol":"UDP"}}}`, `{"error":"unable to connect to server: Connection refused"}`} {
		if _, err := ParseJSON([]byte(in)); err == nil {
			t.Errorf("ParseJSON(%q) accepted", in)
		}
	}
}

// A Result rendered as our -J document parses back to the same figures.
func TestDocRoundTrip(t *testing.T) {
	st := SubflowStat{Local: netip.MustParseAddrPort("10.100.0.1:40000"), Remote: netip.MustParseAddrPort("10.100.0.2:5201"),
		Iface: "veth0", SRTT: 3 * time.Millisecond, RTTVar: time.Millisecond, Cwnd: 10, MSS: 1448, PMTU: 1500}
	r := Result{Cookie: "c", Host: "10.100.0.2", Port: 5201, Parallel: 1, BlockSize: 131072, Duration: 2 * time.Second,
		Started: time.Unix(1795336545, 0),
		Streams: []StreamResult{{ID: 1, Local: st.Local, Remote: st.Remote,
			Sender:   Summary{End: 2 * time.Second, Bytes: 1000, Retransmits: 3},
			Receiver: Summary{End: 2100 * time.Millisecond, Bytes: 990, Retransmits: -1},
			Subflows: []SubflowStat{{Local: st.Local, Remote: st.Remote, Iface: "veth0", BytesAcked: 1000, Retransmits: 3, SRTT: st.SRTT, RTTVar: st.RTTVar, PMTU: 1500}}}},
		Intervals: []Interval{{Start: 0, End: time.Second, Sender: true,
			Streams:  []StreamSample{{ID: 1, Bytes: 600, Retransmits: 2, CwndBytes: 14480, SRTT: 3 * time.Millisecond, RTTVar: time.Millisecond, PMTU: 1500}},
			Sum:      StreamSample{Bytes: 600, Retransmits: 2, CwndBytes: 14480, SRTT: 3 * time.Millisecond, RTTVar: time.Millisecond},
			Subflows: []SubflowSample{{Stream: 1, SubflowStat: st, Bytes: 600, Retransmits: 2}}}},
		Sent:     Summary{End: 2 * time.Second, Bytes: 1000, Retransmits: 3},
		Received: Summary{End: 2100 * time.Millisecond, Bytes: 990, Retransmits: -1},
	}
	b, err := json.Marshal(r.Doc())
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	back.Version = ""
	// The per-subflow counters that the document does not carry.
	back.Intervals[0].Subflows[0].Cwnd, back.Intervals[0].Subflows[0].MSS = st.Cwnd, st.MSS
	back.Intervals[0].Sum.ID, back.Intervals[0].Sum.PMTU, back.Intervals[0].Sum.SndWnd = 0, 0, 0
	back.Intervals[0].Sum.CwndBytes, back.Intervals[0].Sum.SRTT, back.Intervals[0].Sum.RTTVar = r.Intervals[0].Sum.CwndBytes, r.Intervals[0].Sum.SRTT, r.Intervals[0].Sum.RTTVar
	if !reflect.DeepEqual(back, r) {
		t.Fatalf("round trip:\n got %+v\nwant %+v\n%s", back, r, b)
	}
	var raw map[string]any
	_ = json.Unmarshal(b, &raw)
	end := raw["end"].(map[string]any)
	for _, k := range []string{"sum_sent", "sum_received", "streams", "cpu_utilization_percent", "subflows"} {
		if _, ok := end[k]; !ok {
			t.Errorf("end lacks %q", k)
		}
	}
	iv := raw["intervals"].([]any)[0].(map[string]any)
	if sf := iv["subflows"].([]any)[0].(map[string]any); sf["iface"] != "veth0" || sf["share"] != 1.0 {
		t.Errorf("interval subflow %v", sf)
	}
}

func TestParseJSONTruncated(t *testing.T) {
	b, err := os.ReadFile("testdata/iperf3-3.12-P2.json")
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(b)-2; n += 97 {
		if _, err := ParseJSON(b[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: accepted", n)
		}
	}
}

// FuzzParseJSON: whatever parses renders to our document and parses back
// to the same totals and shape.
func FuzzParseJSON(f *testing.F) {
	if b, err := os.ReadFile("testdata/iperf3-3.12-P2.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"start":{"connected":[{"socket":4}]},"intervals":[],"end":{"sum_sent":{"bytes":5,"end":1},"sum_received":{"bytes":4,"end":1}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseJSON(b)
		if err != nil {
			return
		}
		out, err := json.Marshal(r.Doc())
		if err != nil {
			t.Fatalf("rendering %+v: %v", r, err)
		}
		back, err := ParseJSON(out)
		if err != nil {
			t.Fatalf("our own document does not parse: %v\n%s", err, out)
		}
		if back.Sent.Bytes != r.Sent.Bytes || back.Received.Bytes != r.Received.Bytes ||
			len(back.Streams) != len(r.Streams) || len(back.Intervals) != len(r.Intervals) || back.Reverse != r.Reverse {
			t.Fatalf("round trip changed the result:\n%+v\n%+v", r, back)
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "10K", "1.5G", "7m", "123"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		// The plain decimal form parses to the same count.
		m, err := ParseSize(strconv.FormatUint(n, 10))
		if err != nil || m != n {
			t.Fatalf("ParseSize(%q) = %d, but %d parses to %d (%v)", s, n, n, m, err)
		}
	})
}
