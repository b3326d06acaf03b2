package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// subflowLine matches one per-subflow line of mptcp-bench's interval
// table: "[  1] peer0 10.100.0.2:40190->10.100.0.1:5201   0.00-1.00   sec ...".
var subflowLine = regexp.MustCompile(`^\[\s*\d+\]\s+(\S+)\s+(\S+->\S+)\s+(\d+\.\d+)-(\d+\.\d+)\s+sec\s+([\d.]+)\s+([KMGT]?Bytes)\b`)

// unitBytes are the multipliers of mptcp-bench's transfer units.
var unitBytes = map[string]float64{"Bytes": 1, "KBytes": 1 << 10, "MBytes": 1 << 20, "GBytes": 1 << 30, "TBytes": 1 << 40}

// minLastInterval is what the last interval must carry for the transfer
// to count as carrying on (a healthy run moves hundreds of MBytes).
const minLastInterval = 1 << 20

// table follows mptcp-bench's output: the subflows of each interval and
// the final summary.
type table struct {
	mu        sync.Mutex
	intervals []interval // in the order printed
	receiver  string     // the receiver summary line, once printed
}

// interval is one reporting interval and the subflows printed for it.
type interval struct {
	span     string
	subflows []string // "iface local->remote"
	bytes    float64  // over all its subflows
}

func newTable() *table { return &table{} }

// add takes one line of mptcp-bench's output.
func (t *table) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m := subflowLine.FindStringSubmatch(line); m != nil {
		span := m[3] + "-" + m[4]
		if n := len(t.intervals); n == 0 || t.intervals[n-1].span != span {
			t.intervals = append(t.intervals, interval{span: span})
		}
		iv := &t.intervals[len(t.intervals)-1]
		iv.subflows = append(iv.subflows, m[1]+" "+m[2])
		if v, err := strconv.ParseFloat(m[5], 64); err == nil {
			iv.bytes += v * unitBytes[m[6]]
		}
		return
	}
	if strings.HasSuffix(strings.TrimSpace(line), "receiver") {
		t.receiver = strings.TrimSpace(line)
	}
}

// check says what the table failed to show: two subflows in some
// interval, then one subflow in every interval after the last one with
// two (at least one such interval), and a completed test.
func (t *table) check() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.intervals) == 0 {
		return errors.New("mptcp-bench printed no per-subflow interval lines")
	}
	lastTwo := -1
	for i, iv := range t.intervals {
		if len(iv.subflows) >= 2 {
			lastTwo = i
		}
	}
	if lastTwo < 0 {
		return fmt.Errorf("no interval shows two subflows (%s): the connection never used both paths", t.countsLocked())
	}
	after := t.intervals[lastTwo+1:]
	if len(after) == 0 {
		return fmt.Errorf("every interval up to the last shows two subflows (%s): path 1 was not removed", t.countsLocked())
	}
	for _, iv := range after {
		if len(iv.subflows) != 1 {
			return fmt.Errorf("interval %s shows %d subflows after the removal, want 1 (%s)", iv.span, len(iv.subflows), t.countsLocked())
		}
	}
	if last := t.intervals[len(t.intervals)-1]; last.bytes < minLastInterval {
		return fmt.Errorf("the last interval (%s) carried %.0f bytes: the connection stalled instead of carrying on over path 0", last.span, last.bytes)
	}
	if t.receiver == "" {
		return errors.New("mptcp-bench printed no receiver summary: the test did not complete")
	}
	return nil
}

// countsLocked lists the subflow count of every interval.
func (t *table) countsLocked() string {
	var b strings.Builder
	for i, iv := range t.intervals {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %d", iv.span, len(iv.subflows))
	}
	return b.String()
}

// summary describes the table after a successful check.
func (t *table) summary() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	two, one := 0, 0
	for _, iv := range t.intervals {
		if len(iv.subflows) >= 2 {
			two++
		} else {
			one++
		}
	}
	rx := strings.Join(strings.Fields(t.receiver), " ")
	return fmt.Sprintf("%d interval(s) on 2 subflows, then %d on 1; receiver: %s", two, one, rx)
}
