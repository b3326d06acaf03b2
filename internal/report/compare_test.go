package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
)

// kernelResult is a one-subflow result that received 8000 bytes in 2 s.
func kernelResult() iperf.Result {
	r := twoPathResult()
	r.Streams[0].Subflows = r.Streams[0].Subflows[:1]
	r.Received = iperf.Summary{End: 2 * time.Second, Bytes: 8000, Retransmits: -1}
	return r
}

func TestSubflowsWithDataAndRatio(t *testing.T) {
	r := twoPathResult()
	if n := SubflowsWithData(r); n != 2 {
		t.Errorf("SubflowsWithData = %d, want 2", n)
	}
	r.Streams[0].Subflows[1].BytesAcked = 1 // a kernel join that carried nothing: its SYN
	if n := SubflowsWithData(r); n != 1 {
		t.Errorf("with one subflow at 1 byte (its SYN): %d, want 1", n)
	}
	ours, ref := Run{Result: twoPathResult()}, Run{Result: kernelResult()}
	if got := ours.Goodput(); got != 16000 {
		t.Errorf("Goodput = %v, want 16000 bit/s", got)
	}
	if got := Ratio(ours, ref); got != 0.5 {
		t.Errorf("Ratio = %v, want 0.5", got)
	}
	if got := Ratio(ours, Run{}); got != 0 {
		t.Errorf("Ratio against nothing = %v, want 0", got)
	}
}

func TestWriteComparison(t *testing.T) {
	var b bytes.Buffer
	WriteComparison(&b, Run{Name: "mpxdp", Detail: "2 paths", Result: twoPathResult()},
		Run{Name: "kernel MPTCP", Detail: "lo", Result: kernelResult()})
	out := b.String()
	for _, want := range []string{"mpxdp         2 paths  16.0 Kbits/sec", "kernel MPTCP  lo       32.0 Kbits/sec",
		"2 subflow(s) carried data", "1 subflow(s) carried data", "ratio mpxdp / kernel MPTCP: 0.50"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteComparedJSON(t *testing.T) {
	ours := Run{Name: "mpxdp", Detail: "2 paths", Result: twoPathResult()}
	ref := Run{Name: "kernel MPTCP", Detail: "lo", Result: kernelResult()}
	var b bytes.Buffer
	if err := WriteComparedJSON(&b, ours, &ref); err != nil {
		t.Fatal(err)
	}
	// Still iperf3's document for our run...
	back, err := iperf.ParseJSON(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if back.Received.Bytes != 4000 || len(back.Intervals) != 2 || len(back.Streams[0].Subflows) != 2 {
		t.Errorf("parsed back %+v", back)
	}
	// ... with the reference beside it.
	var doc struct {
		Name, Detail string
		Subflows     int
		Reference    struct {
			Name          string
			Subflows      int
			BitsPerSecond float64 `json:"bits_per_second"`
			Ratio         float64
			Result        json.RawMessage
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	rf := doc.Reference
	if doc.Name != "mpxdp" || doc.Detail != "2 paths" || doc.Subflows != 2 || rf.Name != "kernel MPTCP" || rf.Subflows != 1 ||
		rf.BitsPerSecond != 32000 || rf.Ratio != 0.5 {
		t.Errorf("document %+v", doc)
	}
	kr, err := iperf.ParseJSON(rf.Result)
	if err != nil || kr.Received.Bytes != 8000 {
		t.Errorf("reference result: %v, %+v", err, kr.Received)
	}
	// Without a reference there is no "reference" key.
	b.Reset()
	if err := WriteComparedJSON(&b, ours, nil); err != nil || strings.Contains(b.String(), `"reference"`) {
		t.Errorf("no reference: %v\n%s", err, b.String())
	}
}

func TestJSONStreamComparison(t *testing.T) {
	var b bytes.Buffer
	if err := NewJSONStream(&b).Comparison(Run{Name: "mpxdp", Result: twoPathResult()}, Run{Name: "kernel MPTCP", Result: kernelResult()}); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&b)
	if !sc.Scan() {
		t.Fatal("no line")
	}
	var e struct {
		Event string
		Data  struct {
			Ratio     float64
			Reference struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			}
		}
	}
	if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Event != "comparison" || e.Data.Ratio != 0.5 || e.Data.Reference.BitsPerSecond != 32000 {
		t.Errorf("event %s: %v", sc.Text(), err)
	}
	if sc.Scan() {
		t.Errorf("more than one line: %q", sc.Text())
	}
}
