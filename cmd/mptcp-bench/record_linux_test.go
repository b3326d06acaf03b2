package main

import (
	"encoding/json"
	"testing"

	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/internal/testbed"
)

// record on a 3-path testbed for 3 s (a path added every second): our
// stack's connection carried data on every path, the kernel reference ran
// on the same topology and its figure is in the document, with the ratio.
func TestRecordThreePaths(t *testing.T) {
	testbed.Require(t)
	code, out, errOut := runArgs(t, "record", "--paths", "3", "-t", "3", "-J")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	r, err := iperf.ParseJSON([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Subflows  int
		Reference struct {
			Name          string
			Subflows      int
			BitsPerSecond float64 `json:"bits_per_second"`
			Ratio         float64
			Result        json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	ours := pathBytes(r)
	for ifname, b := range ours {
		if b <= 1 {
			t.Errorf("our stack: path %s carried nothing: bytes by interface %v", ifname, ours)
		}
	}
	if len(ours) != 3 || doc.Subflows != 3 {
		t.Errorf("our stack: %d interfaces, %d subflows with data, want 3", len(ours), doc.Subflows)
	}
	ref := doc.Reference
	if ref.Name != "kernel MPTCP" || ref.BitsPerSecond <= 0 || ref.Ratio <= 0 {
		t.Errorf("kernel reference missing: %+v", ref)
	}
	kr, err := iperf.ParseJSON(ref.Result)
	if err != nil {
		t.Fatalf("reference result: %v", err)
	}
	if kr.Received.BitsPerSecond() != ref.BitsPerSecond || kr.Received.Bytes == 0 {
		t.Errorf("reference figure %v, its result says %v", ref.BitsPerSecond, kr.Received.BitsPerSecond())
	}
	t.Logf("ours %.2f Gbit/s by path %v; kernel %.2f Gbit/s over %d subflows by path %v; ratio %.2f",
		r.Received.BitsPerSecond()/1e9, ours, ref.BitsPerSecond/1e9, ref.Subflows, pathBytes(kr), ref.Ratio)
}
