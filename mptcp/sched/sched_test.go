package sched

import (
	"testing"
	"time"
)

func cand(usable, backup bool, rtt time.Duration, room int) Candidate {
	return Candidate{Usable: usable, Backup: backup, SRTT: rtt, Room: room}
}

func TestLowestRTT(t *testing.T) {
	s := &LowestRTT{}
	cases := []struct {
		name string
		c    []Candidate
		want int
	}{
		{"empty", nil, -1},
		{"lowest rtt wins", []Candidate{cand(true, false, 30*time.Millisecond, 1000), cand(true, false, 10*time.Millisecond, 1000)}, 1},
		{"full subflow skipped", []Candidate{cand(true, false, 30*time.Millisecond, 1000), cand(true, false, 10*time.Millisecond, 0)}, 0},
		{"unusable skipped", []Candidate{cand(false, false, time.Millisecond, 1000), cand(true, false, 50*time.Millisecond, 1000)}, 1},
		{"no rtt sample counts as slowest", []Candidate{cand(true, false, 0, 1000), cand(true, false, time.Second, 1000)}, 1},
		{"tie goes to lower index", []Candidate{cand(true, false, 5, 1), cand(true, false, 5, 1)}, 0},
		{"backup not used while a primary is usable", []Candidate{cand(true, true, time.Millisecond, 1000), cand(true, false, time.Second, 1000)}, 1},
		{"backup not used while the usable primary is full", []Candidate{cand(true, true, time.Millisecond, 1000), cand(true, false, time.Second, 0)}, -1},
		{"backup used when no primary is usable", []Candidate{cand(true, true, time.Millisecond, 1000), cand(false, false, time.Second, 1000)}, 0},
		{"nothing has room", []Candidate{cand(true, false, 1, 0)}, -1},
	}
	for _, tc := range cases {
		if got := s.Pick(tc.c); got != tc.want {
			t.Errorf("%s: Pick = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestRoundRobin(t *testing.T) {
	s := &RoundRobin{}
	c := []Candidate{cand(true, false, 1, 1), cand(true, false, 1, 1), cand(false, false, 1, 1), cand(true, false, 1, 1)}
	var got []int
	for range 6 {
		got = append(got, s.Pick(c))
	}
	want := []int{1, 3, 0, 1, 3, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("picks %v, want %v", got, want)
		}
	}
	c[0].Room, c[1].Room, c[3].Room = 0, 0, 0
	if p := s.Pick(c); p != -1 {
		t.Fatalf("Pick with no room = %d", p)
	}
}

func TestRedundantEligible(t *testing.T) {
	s, err := New("redundant")
	if err != nil || !s.Redundant() || s.Name() != "redundant" {
		t.Fatalf("New(redundant) = %v, %v", s, err)
	}
	c := []Candidate{cand(true, false, 1, 1), cand(true, true, 1, 1), cand(true, false, 1, 0)}
	if !Eligible(c, 0) || Eligible(c, 1) || Eligible(c, 2) {
		t.Fatalf("Eligible = %v %v %v, want true false false", Eligible(c, 0), Eligible(c, 1), Eligible(c, 2))
	}
	c[0].Usable, c[2].Usable = false, false
	if !Eligible(c, 1) {
		t.Fatal("the backup is eligible when no primary is usable")
	}
}

func TestNew(t *testing.T) {
	for _, n := range []string{"", "default", "lowrtt", "roundrobin", "redundant"} {
		if _, err := New(n); err != nil {
			t.Errorf("New(%q): %v", n, err)
		}
	}
	if _, err := New("bogus"); err == nil {
		t.Error("New(bogus) succeeded")
	}
}

func BenchmarkLowestRTTPick(b *testing.B) {
	c := []Candidate{cand(true, false, 30, 1000), cand(true, false, 10, 1000), cand(true, true, 1, 1000), cand(false, false, 1, 0)}
	s := &LowestRTT{}
	b.ReportAllocs()
	for b.Loop() {
		if s.Pick(c) != 1 {
			b.Fatal("wrong pick")
		}
	}
}

// qcand is a usable primary candidate with room, the given smoothed RTT,
// queued bytes and congestion window.
func qcand(srtt time.Duration, queued, cwnd int) Candidate {
	return Candidate{Usable: true, SRTT: srtt, Room: 1 << 20, Queued: queued, Cwnd: cwnd}
}

func TestLinger(t *testing.T) {
	s := &Linger{}
	ms := time.Millisecond
	cases := []struct {
		name string
		c    []Candidate
		want int
	}{
		{"empty", nil, -1},
		// The pipes' failure: subflow 1 carried little, so the peer's
		// delayed ACKs made its smoothed RTT 40 ms; subflow 0 has 4 MB
		// queued at 1.5 ms. LowestRTT would pick 0 forever.
		{"idle subflow with delayed-ACK srtt beats a busy one", []Candidate{qcand(1500*time.Microsecond, 4<<20, 8<<20), qcand(40*ms, 0, 3<<20)}, 1},
		// The record test's failure: a join measured its RTT in
		// milliseconds while the busy path has a large window.
		{"new join with a coarse sample beats a busy large window", []Candidate{qcand(2500*time.Microsecond, 1<<20, 8<<20), qcand(ms, 0, 14600)}, 1},
		{"both idle: the faster rate", []Candidate{qcand(30*ms, 0, 1<<20), qcand(12*ms, 0, 1<<20)}, 1},
		{"both idle: the larger window", []Candidate{qcand(10*ms, 0, 1<<20), qcand(10*ms, 0, 2<<20)}, 1},
		{"equal paths: the emptier queue", []Candidate{qcand(10*ms, 600<<10, 1<<20), qcand(10*ms, 300<<10, 1<<20)}, 1},
		{"a queue drains faster with a larger window", []Candidate{qcand(10*ms, 500<<10, 1<<20), qcand(10*ms, 500<<10, 4<<20)}, 1},
		{"a queue drains faster with a shorter RTT", []Candidate{qcand(20*ms, 500<<10, 1<<20), qcand(10*ms, 500<<10, 1<<20)}, 1},
		{"no rtt sample counts as slowest", []Candidate{qcand(0, 0, 1<<20), qcand(time.Second, 1<<20, 1<<20)}, 1},
		{"tie goes to lower index", []Candidate{qcand(5*ms, 0, 1), qcand(5*ms, 0, 1)}, 0},
		{"full subflow skipped", []Candidate{{Usable: true, SRTT: ms, Cwnd: 1 << 20}, qcand(time.Second, 1<<20, 1<<20)}, 1},
		{"zero window does not divide by zero", []Candidate{qcand(ms, 100, 0), qcand(ms, 0, 1000)}, 1},
		{"backup not used while a primary is usable", []Candidate{{Usable: true, Backup: true, SRTT: ms, Room: 1000, Cwnd: 1000}, qcand(time.Second, 1<<20, 1000)}, 1},
		{"backup used when no primary is usable", []Candidate{{Usable: true, Backup: true, SRTT: ms, Room: 1000, Cwnd: 1000}, {SRTT: ms}}, 0},
	}
	for _, tc := range cases {
		if got := s.Pick(tc.c); got != tc.want {
			t.Errorf("%s: Pick = %d, want %d", tc.name, got, tc.want)
		}
	}
	if s.Name() != "default" || s.Redundant() {
		t.Errorf("Name %q Redundant %v, want default and false", s.Name(), s.Redundant())
	}
	if d, _ := New(""); d.Name() != "default" {
		t.Errorf("New(\"\") is %q, want the default", d.Name())
	}
	if l, _ := New("lowrtt"); l.Name() != "lowrtt" {
		t.Errorf("New(\"lowrtt\") is %q", l.Name())
	}
}

func BenchmarkLingerPick(b *testing.B) {
	ms := time.Millisecond
	c := []Candidate{qcand(30*ms, 1<<20, 1<<20), qcand(10*ms, 0, 1<<20), {Usable: true, Backup: true, SRTT: ms, Room: 1000}, {}}
	s := &Linger{}
	b.ReportAllocs()
	for b.Loop() {
		if s.Pick(c) != 1 {
			b.Fatal("wrong pick")
		}
	}
}
