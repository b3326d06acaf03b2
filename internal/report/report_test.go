package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
)

func TestUnits(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{Bits(0), "0.00 bits/sec"}, {Bits(941e6), "941 Mbits/sec"}, {Bits(9.43e9), "9.43 Gbits/sec"},
		{Bits(51.8e9), "51.8 Gbits/sec"}, {Bits(999.96e3), "1000 Kbits/sec"},
		{Bytes(0), "0.00 Bytes"}, {Bytes(1 << 20), "1.00 MBytes"}, {Bytes(1181116006), "1.10 GBytes"}, {Bytes(787 * 1024), "787 KBytes"},
		{RTT(0), "-"}, {RTT(74 * time.Microsecond), "74us"}, {RTT(1070 * time.Microsecond), "1.07ms"}, {RTT(120 * time.Millisecond), "120ms"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		max  float64
		n    int
		want []float64
	}{
		{10, 5, []float64{0, 2, 4, 6, 8, 10}},
		{9.43, 5, []float64{0, 2, 4, 6, 8, 10}},
		{0.7, 5, []float64{0, 0.2, 0.4, 0.6000000000000001, 0.8}},
		{0, 5, []float64{0, 1}},
		{51.8, 5, []float64{0, 20, 40, 60}},
	} {
		got := NiceTicks(tc.max, tc.n)
		if len(got) != len(tc.want) {
			t.Errorf("NiceTicks(%v,%d) = %v, want %v", tc.max, tc.n, got, tc.want)
			continue
		}
		for i := range got {
			if d := got[i] - tc.want[i]; d > 1e-9 || d < -1e-9 {
				t.Errorf("NiceTicks(%v,%d) = %v, want %v", tc.max, tc.n, got, tc.want)
				break
			}
		}
		if got[len(got)-1] < tc.max {
			t.Errorf("NiceTicks(%v) ends below max: %v", tc.max, got)
		}
	}
}

// twoPathResult is a 2-subflow, 2-interval forward test.
func twoPathResult() iperf.Result {
	a := iperf.SubflowStat{Iface: "veth0", Local: netip.MustParseAddrPort("10.100.0.1:40000"), Remote: netip.MustParseAddrPort("10.100.0.2:5201"),
		Cwnd: 10, MSS: 1448, SRTT: 300 * time.Microsecond, Retransmits: 1, BytesAcked: 3000}
	b := iperf.SubflowStat{Iface: "veth1", Local: netip.MustParseAddrPort("10.101.0.1:40001"), Remote: netip.MustParseAddrPort("10.101.0.2:5201"),
		Cwnd: 20, MSS: 1448, SRTT: 2 * time.Millisecond, BytesAcked: 1000}
	iv := func(s, e time.Duration, ab, bb uint64) iperf.Interval {
		return iperf.Interval{Start: s, End: e, Sender: true,
			Streams:  []iperf.StreamSample{{ID: 1, Bytes: ab + bb, Retransmits: 1}},
			Sum:      iperf.StreamSample{Bytes: ab + bb, Retransmits: 1},
			Subflows: []iperf.SubflowSample{{Stream: 1, SubflowStat: a, Bytes: ab, Retransmits: 1}, {Stream: 1, SubflowStat: b, Bytes: bb}}}
	}
	return iperf.Result{Host: "10.100.0.2", Port: 5201, Parallel: 1, BlockSize: 131072, Duration: 2 * time.Second,
		Streams: []iperf.StreamResult{{ID: 1, Local: a.Local, Remote: a.Remote,
			Sender:   iperf.Summary{End: 2 * time.Second, Bytes: 4000, Retransmits: 2},
			Receiver: iperf.Summary{End: 2 * time.Second, Bytes: 4000, Retransmits: -1},
			Subflows: []iperf.SubflowStat{a, b}}},
		Intervals: []iperf.Interval{iv(0, time.Second, 1500, 500), iv(time.Second, 2*time.Second, 1500, 500)},
		Sent:      iperf.Summary{End: 2 * time.Second, Bytes: 4000, Retransmits: 2},
		Received:  iperf.Summary{End: 2 * time.Second, Bytes: 4000, Retransmits: -1},
	}
}

func TestTextInterval(t *testing.T) {
	var b bytes.Buffer
	tx := NewText(&b)
	r := twoPathResult()
	tx.Interval(r.Intervals[0])
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want header, 2 subflow lines and [SUM]; got:\n%s", b.String())
	}
	for _, want := range []string{"veth0 10.100.0.1:40000->10.100.0.2:5201", "0.00-1.00", "1.46 KBytes", "12.0 Kbits/sec", "75%", "14.1 KBytes", "300us"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("subflow line lacks %q:\n%s", want, lines[1])
		}
	}
	if !strings.Contains(lines[2], "25%") || !strings.Contains(lines[2], "2.00ms") {
		t.Errorf("second subflow line: %s", lines[2])
	}
	if !strings.HasPrefix(lines[3], "[SUM]") || !strings.Contains(lines[3], "16.0 Kbits/sec") {
		t.Errorf("sum line: %s", lines[3])
	}
	b.Reset()
	tx.Interval(r.Intervals[1])
	if n := strings.Count(b.String(), "\n"); n != 3 {
		t.Errorf("second interval printed %d lines (header repeated?):\n%s", n, b.String())
	}
	b.Reset()
	tx.Final(r)
	out := b.String()
	for _, want := range []string{"sender", "receiver", "3.91 KBytes", "Subflows (local side, totals):", "veth1 10.101.0.1:40001->10.101.0.2:5201", "Done."} {
		if !strings.Contains(out, want) {
			t.Errorf("final summary lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, twoPathResult()); err != nil {
		t.Fatal(err)
	}
	back, err := iperf.ParseJSON(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if back.Sent.Bytes != 4000 || len(back.Intervals) != 2 || len(back.Intervals[1].Subflows) != 2 || back.Intervals[1].Subflows[1].Iface != "veth1" {
		t.Fatalf("parsed back %+v", back)
	}
	var raw struct{ End map[string]any }
	if err := json.Unmarshal(b.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sum_sent", "sum_received", "subflows"} {
		if _, ok := raw.End[k]; !ok {
			t.Errorf("end lacks %q", k)
		}
	}
}

func TestJSONStream(t *testing.T) {
	var b bytes.Buffer
	s := NewJSONStream(&b)
	r := twoPathResult()
	_ = s.Start(r)
	for _, iv := range r.Intervals {
		_ = s.Interval(iv)
	}
	_ = s.End(r)
	sc := bufio.NewScanner(&b)
	var events []string
	for sc.Scan() {
		var e struct {
			Event string          `json:"event"`
			Data  json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		events = append(events, e.Event)
		if e.Event == "interval" {
			var iv iperf.DocInterval
			if err := json.Unmarshal(e.Data, &iv); err != nil || len(iv.Subflows) != 2 || iv.Sum.Bytes != 2000 {
				t.Errorf("interval event %s: %v", e.Data, err)
			}
		}
	}
	if strings.Join(events, ",") != "start,interval,interval,end" {
		t.Errorf("events %v", events)
	}
}

func TestWriteSVG(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSVG(&b, twoPathResult(), PlotOptions{Title: "2 paths <test>"}); err != nil {
		t.Fatal(err)
	}
	// Well-formed XML with one polyline per subflow plus the total, and a
	// legend entry for each.
	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	polylines, legends := 0, 0
	var texts []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, b.String())
		}
		switch el := tok.(type) {
		case xml.StartElement:
			for _, a := range el.Attr {
				if a.Name.Local == "class" && a.Value == "series" {
					polylines++
				}
				if a.Name.Local == "class" && a.Value == "legend" {
					legends++
				}
			}
		case xml.CharData:
			texts = append(texts, string(el))
		}
	}
	all := strings.Join(texts, "|")
	if polylines != 3 || legends != 3 {
		t.Errorf("%d polylines, %d legend entries; want 3 each", polylines, legends)
	}
	for _, want := range []string{"2 paths <test>", "time (s)", "throughput (Kbit/s)", "total", "[1] veth0 10.100.0.1:40000->10.100.0.2:5201"} {
		if !strings.Contains(all, want) {
			t.Errorf("SVG text lacks %q", want)
		}
	}
	// Empty results still make a valid picture that says why it is empty.
	b.Reset()
	if err := WriteSVG(&b, iperf.Result{}, PlotOptions{}); err != nil || !strings.Contains(b.String(), "no interval data") {
		t.Errorf("empty plot: %v", err)
	}
	if err := WriteSVG(&b, iperf.Result{}, PlotOptions{Width: 100, Height: 100}); err == nil {
		t.Error("tiny plot accepted")
	}
}

func TestTextStreamsWithoutSubflows(t *testing.T) {
	var b bytes.Buffer
	tx := NewText(&b)
	tx.Connected([]iperf.StreamResult{{ID: 1, Local: netip.MustParseAddrPort("10.100.0.1:3000"), Remote: netip.MustParseAddrPort("10.100.0.2:5201")},
		{ID: 3, Local: netip.MustParseAddrPort("10.100.0.1:3001"), Remote: netip.MustParseAddrPort("10.100.0.2:5201")}})
	tx.Interval(iperf.Interval{End: time.Second, Streams: []iperf.StreamSample{{ID: 1, Bytes: 1000, Retransmits: -1}, {ID: 3, Bytes: 3000, Retransmits: -1}},
		Sum: iperf.StreamSample{Bytes: 4000, Retransmits: -1}})
	out := b.String()
	for _, want := range []string{"[  1] local 10.100.0.1 port 3000 connected to 10.100.0.2 port 5201", "[  3] 10.100.0.1:3001->10.100.0.2:5201", "24.0 Kbits/sec", "[SUM]", "32.0 Kbits/sec"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
}
