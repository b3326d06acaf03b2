package iperf

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestCookie(t *testing.T) {
	a, err := NewCookie()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewCookie()
	if a == b {
		t.Fatal("two cookies are equal")
	}
	if a[CookieSize-1] != 0 || len(a.String()) != CookieSize-1 {
		t.Fatalf("cookie %q: want 36 characters and a NUL", a[:])
	}
	for _, c := range a.String() {
		if !strings.ContainsRune(cookieChars, c) {
			t.Fatalf("cookie character %q outside iperf3's alphabet", c)
		}
	}
}

func TestStateWire(t *testing.T) {
	// Golden bytes: iperf3 sends signed chars.
	for _, tc := range []struct {
		s    State
		b    byte
		name string
	}{{TestStart, 1, "TEST_START"}, {TestRunning, 2, "TEST_RUNNING"}, {TestEnd, 4, "TEST_END"},
		{ParamExchange, 9, "PARAM_EXCHANGE"}, {CreateStreams, 10, "CREATE_STREAMS"},
		{ServerTerminate, 11, "SERVER_TERMINATE"}, {ClientTerminate, 12, "CLIENT_TERMINATE"},
		{ExchangeResults, 13, "EXCHANGE_RESULTS"}, {DisplayResults, 14, "DISPLAY_RESULTS"},
		{IperfStart, 15, "IPERF_START"}, {IperfDone, 16, "IPERF_DONE"},
		{AccessDenied, 0xff, "ACCESS_DENIED"}, {ServerError, 0xfe, "SERVER_ERROR"}} {
		var buf bytes.Buffer
		if err := writeState(&buf, tc.s); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), []byte{tc.b}) {
			t.Errorf("%v encodes as %x, want %x", tc.s, buf.Bytes(), tc.b)
		}
		got, err := readState(&buf)
		if err != nil || got != tc.s || got.String() != tc.name {
			t.Errorf("read back %v (%q), %v; want %v", got, got.String(), err, tc.name)
		}
	}
	if _, err := readState(bytes.NewReader(nil)); !errors.Is(err, io.EOF) {
		t.Errorf("empty input: %v, want EOF", err)
	}
	if s := State(42).String(); s != "State(42)" {
		t.Errorf("unknown state prints %q", s)
	}
}

func TestJSONFraming(t *testing.T) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 0, 0, 7, '{', '"', 'a', '"', ':', '1', '}'}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("framed as % x, want % x", buf.Bytes(), want)
	}
	var m map[string]int
	if err := readJSON(bytes.NewReader(want), &m); err != nil || m["a"] != 1 {
		t.Fatalf("read back %v, %v", m, err)
	}
	// A trailing NUL counted in the length is accepted.
	withNUL := []byte{0, 0, 0, 3, '{', '}', 0}
	if err := readJSON(bytes.NewReader(withNUL), &m); err != nil {
		t.Errorf("trailing NUL: %v", err)
	}
	// Truncations at every length fail cleanly.
	for i := 0; i < len(want); i++ {
		if err := readJSON(bytes.NewReader(want[:i]), &m); err == nil {
			t.Errorf("truncated to %d bytes: no error", i)
		}
	}
	huge := []byte{0x7f, 0, 0, 0}
	if _, err := readJSONBytes(bytes.NewReader(huge)); !errors.Is(err, ErrJSONTooLarge) {
		t.Errorf("2 GB length: %v, want ErrJSONTooLarge", err)
	}
	if err := readJSON(bytes.NewReader([]byte{0, 0, 0, 1, '{'}), &m); err == nil {
		t.Error("bad JSON accepted")
	}
}

// iperf3 3.12's send_parameters output for `-c x -n 8M -R -P 2`.
const stockParams = `{"tcp":true,"omit":0,"time":0,"num":8388608,"parallel":2,"reverse":true,"len":131072,"pacing_timer":1000,"client_version":"3.12"}`

func TestParamsStock(t *testing.T) {
	var p Params
	if err := json.Unmarshal([]byte(stockParams), &p); err != nil {
		t.Fatal(err)
	}
	if !p.TCP || p.Num != 8<<20 || p.Parallel != 2 || !p.Reverse || p.Len != 131072 || p.Time != 0 || p.ClientVersion != "3.12" {
		t.Fatalf("parsed %+v", p)
	}
	o := Options{Bytes: 8 << 20, Reverse: true, Parallel: 2}
	if err := o.normalize(); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(o.params())
	var q Params
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	q.ClientVersion = p.ClientVersion
	if q != p {
		t.Fatalf("our params %s decode to %+v, iperf3's to %+v", b, q, p)
	}
}

func TestResultsStockNumbers(t *testing.T) {
	// cJSON prints -1 from an unsigned context as 2^64-1, and large byte
	// counts with exponents.
	in := `{"cpu_util_total":1.5,"cpu_util_user":1,"cpu_util_system":0.5,"sender_has_retransmits":18446744073709551615,
	"streams":[{"id":1,"bytes":1.5e+15,"retransmits":-1,"jitter":0,"errors":0,"packets":0,"start_time":0,"end_time":1.0000001}]}`
	var r ResultsReport
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.SenderHasRetransmits != -1 || r.Streams[0].Bytes != 1_500_000_000_000_000 || r.Streams[0].Retransmits != -1 {
		t.Fatalf("parsed %+v", r)
	}
	if err := r.validate(); err != nil {
		t.Fatal(err)
	}
	var bad ResultsReport
	if err := json.Unmarshal([]byte(`{"cpu_util_total":0}`), &bad); err != nil || bad.validate() == nil {
		t.Errorf("results without streams accepted")
	}
	for _, s := range []string{`"x"`, `-1`, `1e400`} {
		var c Count
		if err := json.Unmarshal([]byte(s), &c); err == nil {
			t.Errorf("Count accepted %s", s)
		}
	}
	var i Int
	if err := json.Unmarshal([]byte(`"1"`), &i); err == nil {
		t.Error("Int accepted a string")
	}
}

func TestStreamIDs(t *testing.T) {
	want := []int{1, 3, 4, 5, 6}
	for i, w := range want {
		if g := streamID(i); g != w {
			t.Errorf("streamID(%d) = %d, want %d", i, g, w)
		}
	}
}

func TestBudgetExact(t *testing.T) {
	var b budget
	b.left.Store(10)
	if g := b.take(4); g != 4 {
		t.Fatal(g)
	}
	if g := b.take(8); g != 6 {
		t.Fatalf("took %d, want the remaining 6", g)
	}
	if g := b.take(1); g != 0 {
		t.Fatalf("spent budget gave %d", g)
	}
	b.giveBack(3)
	if g := b.take(5); g != 3 {
		t.Fatalf("after giving back 3, took %d", g)
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{{"0", 0}, {"1000", 1000}, {"10K", 10240}, {"10k", 10240}, {"2M", 2 << 20}, {"1.5G", 3 << 29}, {"1T", 1 << 40}} {
		got, err := ParseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "M", "-1", "1X", "abc", "1e30G"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

func FuzzReadJSON(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, '{', '}'})
	f.Add(append([]byte{0, 0, 0, byte(len(stockParams))}, stockParams...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Params
		if err := readJSON(bytes.NewReader(b), &p); err != nil {
			return
		}
		// Round trip: what we parsed, framed again, parses the same.
		var buf bytes.Buffer
		if err := writeJSON(&buf, p); err != nil {
			t.Fatal(err)
		}
		var q Params
		if err := readJSON(&buf, &q); err != nil {
			t.Fatalf("re-reading our own framing: %v", err)
		}
		if q != p {
			t.Fatalf("round trip changed %+v to %+v", p, q)
		}
	})
}
