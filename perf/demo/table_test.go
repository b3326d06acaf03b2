package main

import (
	"strings"
	"testing"
)

// Lines as mptcp-bench prints them (trimmed to what the parser reads).
const (
	hdr   = "[ ID] Subflow                                      Interval          Transfer     Bitrate         Share  Retr       Cwnd     SRTT"
	p0    = "[  1] peer0 10.100.0.2:42626->10.100.0.1:5201        %s   sec 243 MBytes   2.04 Gbits/sec    51%%     0 339 KBytes   1.25ms"
	p1    = "[  1] peer1 10.101.0.2:33689->10.101.0.1:5201        %s   sec 235 MBytes   1.97 Gbits/sec    49%%     0 365 KBytes   1.45ms"
	sum   = "[SUM]                                                %s   sec 481 MBytes   4.03 Gbits/sec   100%%     0"
	recvr = "[  1]   0.00-8.01   sec 3.80 GBytes  4.08 Gbits/sec         receiver"
	totl  = "[  1] peer0 10.100.0.2:42626->10.100.0.1:5201      2.88 GBytes  retr 0      cwnd 370 KBytes srtt 798us"
)

func line(format, span string) string {
	return strings.ReplaceAll(strings.ReplaceAll(format, "%s", span), "%%", "%")
}

func feed(lines ...string) *table {
	t := newTable()
	for _, l := range lines {
		t.add(l)
	}
	return t
}

func TestTableCheck(t *testing.T) {
	good := feed(hdr,
		line(p0, "0.00-1.00"), line(p1, "0.00-1.00"), line(sum, "0.00-1.00"),
		line(p0, "1.00-2.00"), line(p1, "1.00-2.00"), line(sum, "1.00-2.00"),
		line(p0, "2.00-3.00"), line(p0, "3.00-4.00"), recvr, totl)
	if err := good.check(); err != nil {
		t.Fatalf("two then one subflow: %v", err)
	}
	if got := good.summary(); !strings.HasPrefix(got, "2 interval(s) on 2 subflows, then 2 on 1; receiver: [ 1] 0.00-8.01 sec 3.80 GBytes") {
		t.Errorf("summary %q", got)
	}
	if n := len(good.intervals); n != 4 {
		t.Errorf("%d intervals, want 4 (the totals line is not an interval)", n)
	}
	if b := good.intervals[0].bytes; b != 478<<20 {
		t.Errorf("first interval carried %v bytes, want 243+235 MBytes", b)
	}
	bad := []struct {
		name  string
		lines []string
		want  string
	}{
		{"nothing", []string{hdr, recvr}, "no per-subflow interval lines"},
		{"never two", []string{line(p0, "0.00-1.00"), line(p0, "1.00-2.00"), recvr}, "never used both paths"},
		{"never removed", []string{line(p0, "0.00-1.00"), line(p1, "0.00-1.00"), line(p0, "1.00-2.00"), line(p1, "1.00-2.00"), recvr}, "was not removed"},
		{"no summary", []string{line(p0, "0.00-1.00"), line(p1, "0.00-1.00"), line(p0, "1.00-2.00")}, "did not complete"},
		{"stalled", []string{line(p0, "0.00-1.00"), line(p1, "0.00-1.00"), line(p0, "1.00-2.00"),
			"[  1] peer0 10.100.0.2:42626->10.100.0.1:5201        2.00-3.00   sec 65.0 KBytes  532 Kbits/sec    100%     - 15.4 KBytes    431us", recvr}, "stalled"},
	}
	for _, c := range bad {
		err := feed(c.lines...).check()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %q", c.name, err, c.want)
		}
	}
}

func TestLineBuf(t *testing.T) {
	var got []string
	l := &lineBuf{fn: func(s string) { got = append(got, s) }}
	for _, part := range []string{"ab", "c\nde", "f\n\ng", "h"} {
		if n, err := l.Write([]byte(part)); n != len(part) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", part, n, err)
		}
	}
	if strings.Join(got, "|") != "abc|def|" {
		t.Errorf("lines %q", got)
	}
	if tail := l.tail(2); tail != "def\n\ngh" {
		t.Errorf("tail %q", tail)
	}
}

// -bin pointing at a directory without the commands says how to build
// them.
func TestBinariesMissing(t *testing.T) {
	_, _, cleanup, err := binaries(t.TempDir(), nil)
	cleanup()
	if err == nil || !strings.Contains(err.Error(), "make build") {
		t.Errorf("binaries(empty dir) = %v, want an error that says `make build`", err)
	}
}
