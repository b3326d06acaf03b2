package afxdp

import "sync/atomic"

// Desc is one RX or TX descriptor; its layout matches the kernel's struct
// xdp_desc. Addr is the byte offset of the packet's first byte in the UMEM,
// Len its length, Options holds OptionContd for all but the last buffer of
// a multi-buffer packet.
type Desc struct {
	Addr    uint64
	Len     uint32
	Options uint32
}

// ringIdx is the index state shared by all four ring kinds: pointers to the
// producer, consumer and flags words in the mapped ring, and our cached copies
// of the indices. The shared words are read only when the cache says the ring
// is empty (consumer side) or too full (producer side).
type ringIdx struct {
	producer *uint32
	consumer *uint32
	flags    *uint32
	mask     uint32
	size     uint32
	// cachedProd and cachedCons: on the producer side cachedProd is our own
	// (authoritative) producer index and cachedCons the last consumer value
	// read; on the consumer side the reverse.
	cachedProd uint32
	cachedCons uint32
}

func newRingIdx(producer, consumer, flags *uint32, size uint32) ringIdx {
	return ringIdx{
		producer:   producer,
		consumer:   consumer,
		flags:      flags,
		size:       size,
		mask:       size - 1,
		cachedProd: atomic.LoadUint32(producer),
		cachedCons: atomic.LoadUint32(consumer),
	}
}

// prodFree returns how many of n entries can be produced now; it reloads the
// consumer index only when the cached value does not leave room for n.
func (r *ringIdx) prodFree(n uint32) uint32 {
	free := r.size - (r.cachedProd - r.cachedCons)
	if free >= n {
		return n
	}
	r.cachedCons = atomic.LoadUint32(r.consumer) // acquire: the kernel is done with those slots
	free = r.size - (r.cachedProd - r.cachedCons)
	return min(free, n)
}

// prodSubmit publishes n produced entries.
func (r *ringIdx) prodSubmit(n uint32) {
	r.cachedProd += n
	atomic.StoreUint32(r.producer, r.cachedProd) // release: entries are written before the index
}

// consAvail returns how many of n entries can be consumed now; it reloads the
// producer index only when the cache says the ring is empty.
func (r *ringIdx) consAvail(n uint32) uint32 {
	avail := r.cachedProd - r.cachedCons
	if avail == 0 {
		r.cachedProd = atomic.LoadUint32(r.producer) // acquire: entries are visible
		avail = r.cachedProd - r.cachedCons
	}
	return min(avail, n)
}

// consRelease hands n consumed entries back to the producer.
func (r *ringIdx) consRelease(n uint32) {
	r.cachedCons += n
	atomic.StoreUint32(r.consumer, r.cachedCons)
}

// needWakeup reports whether the kernel set XDP_RING_NEED_WAKEUP.
func (r *ringIdx) needWakeup() bool {
	return r.flags != nil && atomic.LoadUint32(r.flags)&ringNeedWakeup != 0
}

// FillRing carries free frame addresses from the application to the kernel.
type FillRing struct {
	ringIdx
	addrs []uint64
}

// Produce puts up to len(addrs) frame addresses on the fill ring and returns
// how many it took; ownership of those frames passes to the kernel.
func (f *FillRing) Produce(addrs []uint64) int {
	n := f.prodFree(uint32(len(addrs)))
	idx := f.cachedProd
	for i := uint32(0); i < n; i++ {
		f.addrs[(idx+i)&f.mask] = addrs[i]
	}
	if n > 0 {
		f.prodSubmit(n)
	}
	return int(n)
}

// Free returns how many entries Produce could take now (it may reload the
// kernel's consumer index).
func (f *FillRing) Free() int { return int(f.prodFree(f.size)) }

// NeedsWakeup reports whether the kernel asks for a wakeup (poll or
// recvfrom) before it will take more frames from this ring.
func (f *FillRing) NeedsWakeup() bool { return f.needWakeup() }

// CompletionRing returns addresses of transmitted frames to the application.
type CompletionRing struct {
	ringIdx
	addrs []uint64
}

// Consume copies up to len(addrs) completed frame addresses into addrs and
// returns how many; the application owns those frames again.
func (c *CompletionRing) Consume(addrs []uint64) int {
	n := c.consAvail(uint32(len(addrs)))
	idx := c.cachedCons
	for i := uint32(0); i < n; i++ {
		addrs[i] = c.addrs[(idx+i)&c.mask]
	}
	if n > 0 {
		c.consRelease(n)
	}
	return int(n)
}

// RxRing carries received packet descriptors from the kernel.
type RxRing struct {
	ringIdx
	descs []Desc
}

// Consume copies up to len(descs) received descriptors into descs and returns
// how many; the frames they point into now belong to the application.
func (r *RxRing) Consume(descs []Desc) int {
	n := r.consAvail(uint32(len(descs)))
	idx := r.cachedCons
	for i := uint32(0); i < n; i++ {
		descs[i] = r.descs[(idx+i)&r.mask]
	}
	if n > 0 {
		r.consRelease(n)
	}
	return int(n)
}

// TxRing carries descriptors of packets to send to the kernel.
type TxRing struct {
	ringIdx
	descs []Desc
}

// Produce queues up to len(descs) descriptors and returns how many it took.
// It never splits a multi-buffer packet: if the ring has room for only part
// of a chain (descriptors marked OptionContd and their last one), it stops
// before that chain. Ownership of the queued frames passes to the kernel.
func (t *TxRing) Produce(descs []Desc) int {
	n := t.prodFree(uint32(len(descs)))
	if int(n) < len(descs) {
		for n > 0 && descs[n-1].Options&OptionContd != 0 {
			n--
		}
	}
	idx := t.cachedProd
	for i := uint32(0); i < n; i++ {
		t.descs[(idx+i)&t.mask] = descs[i]
	}
	if n > 0 {
		t.prodSubmit(n)
	}
	return int(n)
}

// NeedsWakeup reports whether the kernel asks for a kick (sendto) before
// it sends what is queued.
func (t *TxRing) NeedsWakeup() bool { return t.needWakeup() }

// Pending returns how many queued descriptors the kernel has not yet taken
// off the ring (from the cached view, reloading the consumer index).
func (t *TxRing) Pending() int {
	t.cachedCons = atomic.LoadUint32(t.consumer)
	return int(t.cachedProd - t.cachedCons)
}
