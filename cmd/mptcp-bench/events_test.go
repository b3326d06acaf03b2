package main

import (
	"strings"
	"testing"
)

// loopback --events over two paths: stderr has the MPTCP events of the
// client stack as `ip mptcp monitor` lines; the data connection's start
// with CREATED, ESTABLISHED, the server's ANNOUNCED and the join's
// SF_ESTABLISHED on the second path; and, once the test is over, how
// every connection ended: its SF_CLOSED lines and CLOSED last.
func TestLoopbackEvents(t *testing.T) {
	code, out, errOut := runArgs(t, "loopback", "-t", "0.3", "-i", "0", "--subflows", "2", "--events")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	byToken := map[string][]string{}
	var joined string
	for _, l := range strings.Split(strings.TrimSpace(errOut), "\n") {
		i := strings.Index(l, "] token=")
		if !strings.HasPrefix(l, "[") || i < 0 || len(l) < i+16 {
			t.Fatalf("stderr line %q is not an event line", l)
		}
		tok := l[i+8 : i+16]
		byToken[tok] = append(byToken[tok], strings.TrimSpace(l[1:i]))
		if strings.Contains(l, "[  SF_ESTABLISHED]") && strings.Contains(l, "saddr4=10.101.0.1 daddr4=10.101.0.2") &&
			strings.Contains(l, "ifname=mem1") {
			joined = tok
		}
	}
	if joined == "" {
		t.Fatalf("no SF_ESTABLISHED from mem1 (10.101.0.1 -> 10.101.0.2) in:\n%s", errOut)
	}
	want := []string{"CREATED", "ESTABLISHED", "ANNOUNCED", "SF_ESTABLISHED"}
	if got := byToken[joined]; len(got) < len(want) || strings.Join(got[:len(want)], " ") != strings.Join(want, " ") {
		t.Errorf("events of token %s: %v, want them to start with %v\n%s", joined, got, want, errOut)
	}
	for tok, evs := range byToken {
		if evs[0] != "CREATED" || evs[len(evs)-1] != "CLOSED" || !strings.Contains(strings.Join(evs, " "), "SF_CLOSED") {
			t.Errorf("events of token %s: %v, want CREATED first, SF_CLOSED and CLOSED last (printed before --events stops)\n%s", tok, evs, errOut)
		}
	}
	if sf := strings.Count(strings.Join(byToken[joined], " "), "SF_CLOSED"); sf != 2 {
		t.Errorf("token %s: %d SF_CLOSED, want 2 (both subflows)\n%s", joined, sf, errOut)
	}
}

func TestEventsNeedOurStack(t *testing.T) {
	code, _, errOut := runArgs(t, "--kernel", "-c", "127.0.0.1", "--events")
	if code != exitUsage || !strings.Contains(errOut, "ip mptcp monitor") {
		t.Errorf("--events with --kernel: exit %d, %q: want a usage error that points at ip mptcp monitor", code, errOut)
	}
}
