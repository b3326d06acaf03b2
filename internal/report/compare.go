package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mpxdp/mpxdp/internal/iperf"
)

// Run is one measured run of a side-by-side comparison: mpxdp's stack and
// the kernel reference measured in the same invocation.
type Run struct {
	Name   string // what ran: "mpxdp", "kernel MPTCP"
	Detail string // how: "2 paths, MTU 9000, in-memory links"
	Result iperf.Result
}

// Goodput is the run's receiver goodput in bits per second (what reached
// the application on the receiving side).
func (r Run) Goodput() float64 { return r.Result.Received.BitsPerSecond() }

// SubflowsWithData counts the subflows of the run's connections that moved
// payload (acknowledged as sender, received as receiver), from the last
// sample of each stream. A subflow must have moved more than one byte: the
// kernel's tcpi_bytes_acked and tcpi_bytes_received count the SYN (or
// SYN-ACK) as one, so a join that never carried data reports 1.
func SubflowsWithData(r iperf.Result) int {
	n := 0
	for _, s := range r.Streams {
		for _, sf := range s.Subflows {
			if sf.BytesAcked > 1 || sf.BytesReceived > 1 {
				n++
			}
		}
	}
	return n
}

// Ratio is ours' goodput over the reference's, 0 when the reference moved
// nothing.
func Ratio(ours, ref Run) float64 {
	if g := ref.Goodput(); g > 0 {
		return ours.Goodput() / g
	}
	return 0
}

// WriteComparison prints the runs' receiver goodput side by side, one line
// each, then the ratio of the first to the second.
func WriteComparison(w io.Writer, ours, ref Run) {
	fmt.Fprintln(w, strings.Repeat("= ", 40))
	fmt.Fprintln(w, "Comparison (receiver goodput, both measured in this run):")
	width := max(len(ours.Name), len(ref.Name))
	dwidth := max(len(ours.Detail), len(ref.Detail))
	for _, r := range []Run{ours, ref} {
		fmt.Fprintf(w, "  %-*s  %-*s  %-15s %d subflow(s) carried data\n", width, r.Name, dwidth, r.Detail,
			Bits(r.Goodput()), SubflowsWithData(r.Result))
	}
	fmt.Fprintf(w, "  ratio %s / %s: %.2f\n", ours.Name, ref.Name, Ratio(ours, ref))
}

// ReferenceDoc is the "reference" object that WriteComparedJSON adds to
// iperf3's -J document: the kernel run measured next to ours.
type ReferenceDoc struct {
	Name          string    `json:"name"`
	Detail        string    `json:"detail"`
	Subflows      int       `json:"subflows"`        // subflows that carried data
	BitsPerSecond float64   `json:"bits_per_second"` // receiver goodput
	Ratio         float64   `json:"ratio"`           // ours / reference
	Result        iperf.Doc `json:"result"`          // the reference run's own -J document
}

// comparedDoc is iperf3's document of our run with the reference beside it.
type comparedDoc struct {
	iperf.Doc
	Name      string        `json:"name"`
	Detail    string        `json:"detail"`
	Subflows  int           `json:"subflows"`
	Reference *ReferenceDoc `json:"reference,omitempty"`
}

// WriteComparedJSON writes ours as iperf3's -J document (start,
// intervals, end with "subflows") plus "name", "detail", "subflows" and a
// "reference" object holding the kernel run (ref may be nil).
func WriteComparedJSON(w io.Writer, ours Run, ref *Run) error {
	d := comparedDoc{Doc: ours.Result.Doc(), Name: ours.Name, Detail: ours.Detail, Subflows: SubflowsWithData(ours.Result)}
	if ref != nil {
		d.Reference = &ReferenceDoc{Name: ref.Name, Detail: ref.Detail, Subflows: SubflowsWithData(ref.Result),
			BitsPerSecond: ref.Goodput(), Ratio: Ratio(ours, *ref), Result: ref.Result.Doc()}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "\t")
	return enc.Encode(d)
}

// Comparison writes the "comparison" event of a JSON stream.
func (s *JSONStream) Comparison(ours, ref Run) error {
	return s.enc.Encode(Event{"comparison", map[string]any{
		"name": ours.Name, "detail": ours.Detail, "bits_per_second": ours.Goodput(), "subflows": SubflowsWithData(ours.Result),
		"reference": map[string]any{"name": ref.Name, "detail": ref.Detail, "bits_per_second": ref.Goodput(),
			"subflows": SubflowsWithData(ref.Result)},
		"ratio": Ratio(ours, ref),
	}})
}
