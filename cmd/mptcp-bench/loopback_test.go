package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/internal/testbed"
)

// loopback over two in-memory paths, -J: iperf3's keys, and a
// subflows[] in which both paths carried data (no root needed).
func TestLoopbackJSON(t *testing.T) {
	code, out, errOut := runArgs(t, "loopback", "-t", "1", "--subflows", "2", "-J")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"start", "intervals", "end", "name", "detail", "subflows"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("document lacks %q", k)
		}
	}
	if _, ok := raw["reference"]; ok {
		t.Error("reference present without --kernel")
	}
	var end map[string]json.RawMessage
	if err := json.Unmarshal(raw["end"], &end); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"streams", "sum_sent", "sum_received", "subflows"} {
		if _, ok := end[k]; !ok {
			t.Errorf("end lacks %q", k)
		}
	}
	r, err := iperf.ParseJSON([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.Received.Bytes == 0 || len(r.Intervals) == 0 || len(r.Streams) != 1 {
		t.Fatalf("received %d bytes in %d intervals, %d streams", r.Received.Bytes, len(r.Intervals), len(r.Streams))
	}
	byIface := map[string]uint64{}
	var total uint64
	for _, sf := range r.Streams[0].Subflows {
		byIface[sf.Iface] += sf.BytesAcked
		total += sf.BytesAcked
	}
	if len(byIface) != 2 || byIface["mem0"] == 0 || byIface["mem1"] == 0 {
		t.Errorf("bytes by path %v: want data on mem0 and mem1", byIface)
	}
	// The subflows' bytes add up to the connection's, within what the
	// buffers hold: the last subflow sample is taken a little before the
	// end, and the per-subflow figure (sent less retransmitted) runs ahead
	// by what is in flight.
	if total+16<<20 < r.Sent.Bytes || total > r.Sent.Bytes+16<<20 {
		t.Errorf("subflows moved %d bytes, the connection %d", total, r.Sent.Bytes)
	}
	var n int
	if err := json.Unmarshal(raw["subflows"], &n); err != nil || n != 2 {
		t.Errorf("\"subflows\": %s, want 2", raw["subflows"])
	}
	t.Logf("%.2f Gbit/s, by path %v", r.Received.BitsPerSecond()/1e9, byIface)
}

// loopback --kernel in text: our run, the kernel's, and the comparison
// with a ratio; -R and a plot too.
func TestLoopbackKernelText(t *testing.T) {
	needKernelLoopback(t)
	plot := filepath.Join(t.TempDir(), "lo.svg")
	code, out, errOut := runArgs(t, "loopback", "-t", "0.6", "-i", "0.2", "--kernel", "-R", "--plot", plot)
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	for _, want := range []string{"== mpxdp loopback: 1 path(s), MTU 1500", "mem0 10.100.0.1:", "== kernel MPTCP reference:",
		"lo 127.0.0.1:", "Comparison (receiver goodput", "ratio mpxdp / kernel MPTCP: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "  receiver\n") != 2 {
		t.Errorf("want two final summaries:\n%s", out)
	}
	if svg, err := os.ReadFile(plot); err != nil || !strings.Contains(string(svg), "mptcp-bench loopback") {
		t.Errorf("plot: %v", err)
	}
}

// loopback --kernel --json-stream ends with a comparison event.
func TestLoopbackJSONStream(t *testing.T) {
	needKernelLoopback(t)
	code, out, errOut := runArgs(t, "loopback", "-t", "0.5", "-i", "0.25", "--kernel", "--json-stream")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	var events []string
	var last struct {
		Event string
		Data  struct {
			BitsPerSecond float64 `json:"bits_per_second"`
			Ratio         float64
			Reference     struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			}
		}
	}
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		events = append(events, last.Event)
	}
	if len(events) < 7 || events[0] != "start" || events[len(events)-1] != "comparison" || strings.Count(strings.Join(events, ","), "end") != 2 {
		t.Errorf("events %v", events)
	}
	d := last.Data
	if d.BitsPerSecond <= 0 || d.Reference.BitsPerSecond <= 0 || d.Ratio <= 0 {
		t.Errorf("comparison %+v", d)
	}
	if got := d.BitsPerSecond / d.Reference.BitsPerSecond; got/d.Ratio > 1.0001 || got/d.Ratio < 0.9999 {
		t.Errorf("ratio %v, want %v", d.Ratio, got)
	}
}

// needKernelLoopback skips t when loopback --kernel cannot run: it needs
// either a private namespace (root) or kernel MPTCP enabled here.
func needKernelLoopback(t *testing.T) {
	if testbed.Available() == nil {
		return
	}
	if err := kernelMPTCPOn(); err != nil {
		t.Skipf("loopback --kernel needs kernel MPTCP here or root for a private namespace: %v", err)
	}
}
