package neigh

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/stack/header"
)

var (
	a1 = netip.MustParseAddr("10.0.0.1")
	a2 = netip.MustParseAddr("10.0.0.2")
	m1 = header.MAC{2, 0, 0, 0, 0, 1}
	m2 = header.MAC{2, 0, 0, 0, 0, 2}
)

func TestCacheUpdateLookupDelete(t *testing.T) {
	c := New()
	k := Key{Iface: 0, Addr: a1}
	if _, ok := c.Lookup(k); ok {
		t.Fatal("empty cache found an entry")
	}
	if !c.Update(k, m1, time.Second) {
		t.Fatal("first Update reported no change")
	}
	if e, ok := c.Lookup(k); !ok || e.MAC != m1 || e.Updated != time.Second {
		t.Fatalf("Lookup = %+v %v", e, ok)
	}
	// Same MAC within the refresh interval: no new snapshot.
	w := c.Writes()
	if c.Update(k, m1, 2*time.Second) || c.Writes() != w {
		t.Fatal("an unchanged entry was rewritten")
	}
	// Same MAC after the refresh interval: timestamp refreshed.
	if !c.Update(k, m1, DefaultRefresh+2*time.Second) {
		t.Fatal("a stale entry was not refreshed")
	}
	// A new MAC replaces the entry at once.
	if !c.Update(k, m2, DefaultRefresh+3*time.Second) {
		t.Fatal("a changed MAC was not recorded")
	}
	if e, _ := c.Lookup(k); e.MAC != m2 {
		t.Fatal("changed MAC not visible")
	}
	// Other interface, same address: a different neighbour.
	if _, ok := c.Lookup(Key{Iface: 1, Addr: a1}); ok {
		t.Fatal("entry leaked across interfaces")
	}
	if !c.Delete(k) || c.Delete(k) || c.Len() != 0 {
		t.Fatal("Delete")
	}
}

func TestCacheConcurrentReaders(t *testing.T) {
	c := New()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if e, ok := c.Lookup(Key{Addr: a1}); ok && e.MAC != m1 && e.MAC != m2 {
					t.Error("torn entry")
					return
				}
			}
		}()
	}
	for i := range 1000 {
		m := m1
		if i%2 == 1 {
			m = m2
		}
		c.Update(Key{Addr: a1}, m, time.Duration(i))
	}
	close(stop)
	wg.Wait()
}

func TestCacheLookupDoesNotAllocate(t *testing.T) {
	c := New()
	c.Update(Key{Addr: a1}, m1, 0)
	if n := testing.AllocsPerRun(100, func() { c.Lookup(Key{Addr: a1}) }); n != 0 {
		t.Fatalf("Lookup allocates %v times", n)
	}
}

// handler records what Pending.Poll asks for.
type handler struct {
	c        *Cache
	sent     [][]byte
	requests []Key
	dropped  int
}

func (h *handler) Resolve(k Key) (Entry, bool) { return h.c.Lookup(k) }
func (h *handler) Send(k Key, e Entry, f []byte) {
	h.sent = append(h.sent, append([]byte(nil), f...))
}
func (h *handler) Request(k Key)          { h.requests = append(h.requests, k) }
func (h *handler) Drop(k Key, frames int) { h.dropped += frames }

func TestPendingBoundsAndResolution(t *testing.T) {
	p := NewPending(2, 3, 64)
	k1, k2, k3 := Key{Addr: a1}, Key{Addr: a2}, Key{Addr: netip.MustParseAddr("10.0.0.3")}
	if r := p.Add(k1, []byte("one"), 0); r != QueuedRequest {
		t.Fatalf("first frame: %v", r)
	}
	for _, f := range []string{"two", "three"} {
		if r := p.Add(k1, []byte(f), 0); r != Queued {
			t.Fatalf("frame %s: %v", f, r)
		}
	}
	if p.Add(k1, []byte("four"), 0) != DroppedFull {
		t.Fatal("per-neighbour bound not enforced")
	}
	if p.Add(k2, []byte("x"), 0) != QueuedRequest || p.Add(k3, []byte("y"), 0) != DroppedFull {
		t.Fatal("neighbour bound not enforced")
	}
	if p.Add(k2, make([]byte, 65), 0) != DroppedFull {
		t.Fatal("oversized frame accepted")
	}
	if p.Len() != 2 || p.Frames() != 4 {
		t.Fatalf("Len %d Frames %d", p.Len(), p.Frames())
	}
	h := &handler{c: New()}
	h.c.Update(k1, m1, 0)
	if left := p.Poll(h, 10*time.Millisecond); left != 1 {
		t.Fatalf("%d frames left after k1 resolved", left)
	}
	if len(h.sent) != 3 || string(h.sent[0]) != "one" || string(h.sent[2]) != "three" {
		t.Fatalf("sent %q", h.sent)
	}
	// k2 never answers: two more requests a second apart, then a drop.
	for i := 1; i <= 3; i++ {
		p.Poll(h, time.Duration(i)*time.Second)
	}
	if len(h.requests) != 2 || h.dropped != 1 || p.Frames() != 0 || p.Len() != 0 {
		t.Fatalf("requests %d dropped %d frames %d", len(h.requests), h.dropped, p.Frames())
	}
	// Buffers came back: the queue is usable again.
	if p.Add(k3, []byte("z"), 0) != QueuedRequest {
		t.Fatal("buffers not recycled")
	}
	if n := testing.AllocsPerRun(100, func() {
		p.Add(k3, []byte("z"), 0)
		p.Poll(&handler{c: h.c}, 0)
	}); n > 1 { // the handler literal itself
		t.Fatalf("Pending allocates %v per Add+Poll", n)
	}
}
