package simnet

import (
	"encoding/binary"
	"testing"
	"time"
)

type sink struct {
	times []time.Duration
	ids   []uint32
}

func (s *sink) Receive(now time.Duration, pkt []byte) {
	s.times = append(s.times, now)
	s.ids = append(s.ids, binary.BigEndian.Uint32(pkt))
}

func sendN(l *Link, n, size int) {
	pkt := make([]byte, size)
	for i := 0; i < n; i++ {
		binary.BigEndian.PutUint32(pkt, uint32(i))
		l.Send(pkt)
	}
}

func TestBandwidthAndDelay(t *testing.T) {
	s := New(1)
	var d sink
	// 8 Mbit/s: a 1000-byte packet takes 1 ms to serialise.
	l := s.NewLink(LinkConfig{Bandwidth: 8_000_000, Delay: 10 * time.Millisecond}, &d)
	sendN(l, 5, 1000)
	s.RunUntil(time.Hour, nil)
	if len(d.times) != 5 {
		t.Fatalf("delivered %d packets, want 5", len(d.times))
	}
	for i, at := range d.times {
		want := time.Duration(i+1)*time.Millisecond + 10*time.Millisecond
		if at != want || d.ids[i] != uint32(i) {
			t.Errorf("packet %d (id %d) arrived at %v, want %v", i, d.ids[i], at, want)
		}
	}
}

func TestQueueLimitTailDrops(t *testing.T) {
	s := New(1)
	var d sink
	l := s.NewLink(LinkConfig{Bandwidth: 8_000_000, QueueBytes: 3000}, &d)
	sendN(l, 10, 1000)
	s.RunUntil(time.Hour, nil)
	st := l.Stats()
	if st.QueueDrops == 0 || int(st.QueueDrops)+len(d.ids) != 10 {
		t.Fatalf("queue drops %d, delivered %d: want drops and a total of 10", st.QueueDrops, len(d.ids))
	}
	if len(d.ids) > 4 {
		t.Errorf("a 3000-byte queue let %d 1000-byte packets through at once", len(d.ids))
	}
}

func TestLossRateAndDeterminism(t *testing.T) {
	run := func(seed uint64) ([]uint32, LinkStats) {
		s := New(seed)
		var d sink
		l := s.NewLink(LinkConfig{Delay: time.Millisecond, Loss: 0.1, Duplicate: 0.05,
			Reorder: 0.05, ReorderDelay: 3 * time.Millisecond, Jitter: 100 * time.Microsecond}, &d)
		for i := 0; i < 10000; i++ {
			pkt := binary.BigEndian.AppendUint32(nil, uint32(i))
			l.Send(pkt)
			s.RunUntil(s.Now()+10*time.Microsecond, nil)
		}
		s.RunUntil(time.Hour, nil)
		return d.ids, l.Stats()
	}
	a, st := run(7)
	b, _ := run(7)
	c, _ := run(8)
	if len(a) != len(b) {
		t.Fatalf("same seed gave %d and %d deliveries", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed diverged at delivery %d", i)
		}
	}
	same := len(a) == len(c)
	for i := 0; same && i < len(a); i++ {
		same = a[i] == c[i]
	}
	if same {
		t.Error("different seeds gave identical runs")
	}
	if st.Lost < 800 || st.Lost > 1200 {
		t.Errorf("lost %d of 10000 at 10%% loss", st.Lost)
	}
	if st.Duplicated < 300 || st.Duplicated > 700 || st.Reordered == 0 {
		t.Errorf("duplicated %d, reordered %d", st.Duplicated, st.Reordered)
	}
	if uint64(len(a)) != st.Delivered || st.Delivered != 10000-st.Lost+st.Duplicated {
		t.Errorf("delivered %d (stats %d), want sent-lost+dup = %d", len(a), st.Delivered, 10000-st.Lost+st.Duplicated)
	}
	inversions := 0
	for i := 1; i < len(a); i++ {
		if a[i] < a[i-1] {
			inversions++
		}
	}
	if inversions == 0 {
		t.Error("reordering configured but every packet arrived in order")
	}
}

type counter struct{ n []uint64 }

func (c *counter) HandleEvent(now time.Duration, arg uint64) { c.n = append(c.n, arg) }

func TestScheduleOrder(t *testing.T) {
	s := New(1)
	var c counter
	s.Schedule(3*time.Second, &c, 3)
	s.Schedule(1*time.Second, &c, 1)
	s.Schedule(2*time.Second, &c, 2)
	s.Schedule(2*time.Second, &c, 22)
	if at, ok := s.NextEventTime(); !ok || at != time.Second {
		t.Fatalf("next event at %v %v", at, ok)
	}
	s.RunUntil(2*time.Second, nil)
	if len(c.n) != 3 || c.n[0] != 1 || c.n[1] != 2 || c.n[2] != 22 {
		t.Fatalf("ran %v, want [1 2 22] (time order, FIFO on ties)", c.n)
	}
	if s.Now() != 2*time.Second || s.Pending() != 1 {
		t.Errorf("now %v pending %d", s.Now(), s.Pending())
	}
}

type nop struct{}

func (nop) Receive(time.Duration, []byte) {}

func TestSendDeliverDoesNotAllocate(t *testing.T) {
	s := New(1)
	l, _ := s.NewDuplex(LinkConfig{Bandwidth: 1e9, Delay: time.Millisecond, MaxPacket: 9100}, nop{}, nop{})
	pkt := make([]byte, 1500)
	ack := make([]byte, 60)
	jumbo := make([]byte, 9014)
	send := func() {
		for i := 0; i < 50; i++ {
			l.Send(pkt)
			l.Send(ack)
			l.Send(jumbo)
		}
	}
	send() // warm up the free lists and the heap
	s.RunUntil(time.Hour, nil)
	allocs := testing.AllocsPerRun(100, func() {
		send()
		s.RunUntil(s.Now()+time.Hour, nil)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 150 mixed-size packets, want 0", allocs)
	}
}

func BenchmarkLinkSendDeliver(b *testing.B) {
	s := New(1)
	l := s.NewLink(LinkConfig{Bandwidth: 1e10, Delay: time.Millisecond}, nop{})
	pkt := make([]byte, 1500)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		l.Send(pkt)
		if s.Pending() > 64 {
			s.Step()
		}
	}
}
