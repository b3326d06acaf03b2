package neigh

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpxdp/mpxdp/stack/header"
)

// Key names a neighbour: an interface index of the stack and an IP address
// on that interface's link.
type Key struct {
	Iface int
	Addr  netip.Addr
}

// Entry is what the cache knows about one neighbour.
type Entry struct {
	MAC header.MAC
	// Updated is when the entry was last confirmed (time since the
	// stack's epoch).
	Updated time.Duration
}

// Cache maps neighbours to link-layer addresses. Lookup is lock-free and
// safe from any goroutine; Update and Delete serialise on a mutex and are
// meant to be rare.
type Cache struct {
	snap atomic.Pointer[map[Key]Entry]
	mu   sync.Mutex
	// refresh is how old an unchanged entry must be before Update
	// rewrites its timestamp (so that a stream of identical ARP
	// messages does not copy the table each time).
	refresh time.Duration
	writes  atomic.Uint64
}

// DefaultRefresh is the confirmation interval New uses.
const DefaultRefresh = 30 * time.Second

// New returns an empty cache.
func New() *Cache {
	c := &Cache{refresh: DefaultRefresh}
	m := map[Key]Entry{}
	c.snap.Store(&m)
	return c
}

// Lookup returns the entry for k; it never blocks or allocates.
func (c *Cache) Lookup(k Key) (Entry, bool) {
	e, ok := (*c.snap.Load())[k]
	return e, ok
}

// Update records that k has link-layer address mac at time now and
// reports whether the table changed. An entry with the same address that
// was confirmed less than the refresh interval ago is left as it is.
func (c *Cache) Update(k Key, mac header.MAC, now time.Duration) bool {
	if e, ok := c.Lookup(k); ok && e.MAC == mac && now-e.Updated < c.refresh {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.snap.Load()
	if e, ok := old[k]; ok && e.MAC == mac && now-e.Updated < c.refresh {
		return false
	}
	m := make(map[Key]Entry, len(old)+1)
	for kk, e := range old {
		m[kk] = e
	}
	m[k] = Entry{MAC: mac, Updated: now}
	c.snap.Store(&m)
	c.writes.Add(1)
	return true
}

// Delete removes k and reports whether it was present.
func (c *Cache) Delete(k Key) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.snap.Load()
	if _, ok := old[k]; !ok {
		return false
	}
	m := make(map[Key]Entry, len(old))
	for kk, e := range old {
		if kk != k {
			m[kk] = e
		}
	}
	c.snap.Store(&m)
	c.writes.Add(1)
	return true
}

// Len returns the number of entries.
func (c *Cache) Len() int { return len(*c.snap.Load()) }

// Writes returns how many times the table was replaced (for tests and
// statistics).
func (c *Cache) Writes() uint64 { return c.writes.Load() }
