package report

import (
	"encoding/json"
	"io"

	"github.com/mpxdp/mpxdp/internal/iperf"
)

// WriteJSON writes r as iperf3's -J document (start, intervals, end),
// with mpxdp's per-subflow arrays, indented.
func WriteJSON(w io.Writer, r iperf.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "\t")
	return enc.Encode(r.Doc())
}

// Event is one line of a JSON stream: {"event": "start"|"interval"|"end",
// "data": ...}, the framing of iperf3's --json-stream.
type Event struct {
	Event string `json:"event"`
	Data  any    `json:"data"`
}

// JSONStream writes one JSON object per line.
type JSONStream struct{ enc *json.Encoder }

// NewJSONStream returns a stream writer on w.
func NewJSONStream(w io.Writer) *JSONStream { return &JSONStream{enc: json.NewEncoder(w)} }

// Start writes the "start" event.
func (s *JSONStream) Start(r iperf.Result) error {
	return s.enc.Encode(Event{"start", r.DocStart()})
}

// Interval writes one "interval" event.
func (s *JSONStream) Interval(iv iperf.Interval) error {
	return s.enc.Encode(Event{"interval", iv.Doc()})
}

// End writes the "end" event.
func (s *JSONStream) End(r iperf.Result) error {
	return s.enc.Encode(Event{"end", r.DocEnd()})
}

// Error writes an "error" event.
func (s *JSONStream) Error(err error) error {
	return s.enc.Encode(Event{"error", err.Error()})
}
