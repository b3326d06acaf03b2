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
