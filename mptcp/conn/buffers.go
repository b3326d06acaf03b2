package conn

import "github.com/mpxdp/mpxdp/stack/header"

// ranges is a sorted set of disjoint, non-adjacent 64-bit ranges [s, e)
// with a fixed capacity, used for the out-of-order data above rcv_nxt.
type ranges struct {
	r [][2]uint64
}

func newRanges(capacity int) ranges { return ranges{r: make([][2]uint64, 0, capacity)} }

// add inserts [s, e), merging with neighbours. It reports false when the
// set is full and the range could not be merged.
func (x *ranges) add(s, e uint64) bool {
	if s >= e {
		return true
	}
	r := x.r
	i := 0
	for i < len(r) && r[i][1] < s {
		i++
	}
	j := i
	for j < len(r) && r[j][0] <= e {
		if r[j][0] < s {
			s = r[j][0]
		}
		if r[j][1] > e {
			e = r[j][1]
		}
		j++
	}
	if j > i { // merge r[i:j] into one
		r[i] = [2]uint64{s, e}
		x.r = append(r[:i+1], r[j:]...)
		return true
	}
	if len(r) == cap(r) {
		return false
	}
	r = append(r, [2]uint64{})
	copy(r[i+1:], r[i:])
	r[i] = [2]uint64{s, e}
	x.r = r
	return true
}

// popBelow removes a leading range that starts at or below v and returns
// its end, or v when none does.
func (x *ranges) popBelow(v uint64) uint64 {
	for len(x.r) > 0 && x.r[0][0] <= v {
		if x.r[0][1] > v {
			v = x.r[0][1]
		}
		x.r = append(x.r[:0], x.r[1:]...)
	}
	return v
}

// bytes returns the bytes held in the set.
func (x *ranges) bytes() uint64 {
	var n uint64
	for _, q := range x.r {
		n += q[1] - q[0]
	}
	return n
}

// sendBuf holds the outgoing byte stream by DSN: bytes [base, end) are kept,
// base being the oldest byte a subflow may still have to (re)send and end
// the next DSN the application writes.
type sendBuf struct {
	buf  []byte
	mask uint64
	base uint64
	end  uint64
}

func newSendBuf(size int, start uint64) sendBuf {
	size = pow2(size)
	return sendBuf{buf: make([]byte, size), mask: uint64(size - 1), base: start, end: start}
}

func (b *sendBuf) space() int { return len(b.buf) - int(b.end-b.base) }

func (b *sendBuf) write(p []byte) int {
	n := min(len(p), b.space())
	p = p[:n]
	for len(p) > 0 {
		i := b.end & b.mask
		k := copy(b.buf[i:], p)
		p = p[k:]
		b.end += uint64(k)
	}
	return n
}

// copyAt copies the bytes at dsn into p. Bytes already released (below base)
// are not available any more; they are written as zeros (only duplicates of
// data the peer acknowledged at the data level can ask for them).
func (b *sendBuf) copyAt(dsn uint64, p []byte) {
	for len(p) > 0 {
		if dsn < b.base {
			k := min(uint64(len(p)), b.base-dsn)
			clear(p[:k])
			p = p[k:]
			dsn += k
			continue
		}
		i := dsn & b.mask
		k := copy(p, b.buf[i:])
		p = p[k:]
		dsn += uint64(k)
	}
}

// copySumAt is copyAt that also returns the Internet checksum partial sum
// of the bytes copied (header.Sum of p after the copy, from an even
// offset), computed in the same pass over the data.
func (b *sendBuf) copySumAt(dsn uint64, p []byte) uint32 {
	var acc header.Accumulator
	for len(p) > 0 {
		if dsn < b.base {
			k := min(uint64(len(p)), b.base-dsn)
			clear(p[:k])
			acc.AddSum(0, int(k))
			p = p[k:]
			dsn += k
			continue
		}
		i := dsn & b.mask
		k := min(len(p), len(b.buf)-int(i))
		acc.AddSum(header.CopySum(p[:k], b.buf[i:int(i)+k], 0), k)
		p = p[k:]
		dsn += uint64(k)
	}
	return acc.Sum()
}

// release forgets the bytes below v.
func (b *sendBuf) release(v uint64) {
	if v > b.end {
		v = b.end
	}
	if v > b.base {
		b.base = v
	}
}

// recvBuf holds the incoming byte stream by DSN: [read, nxt) is in order
// and waits for the application, and out-of-order ranges above nxt are
// recorded in ooo. Data is accepted up to read+len(buf).
type recvBuf struct {
	buf  []byte
	mask uint64
	read uint64
	nxt  uint64
	ooo  ranges
	// [clipLo, clipHi) may hold bytes that arrived beyond the buffer's
	// end and were not stored (empty when equal): mark does not count
	// them as received until a later put stores them from clipLo on. A
	// subflow acknowledges data when it arrives but the connection marks
	// it only once it is in order on that subflow, when the buffer's end
	// may have moved past it.
	clipLo, clipHi uint64
}

func newRecvBuf(size, maxRanges int, start uint64) recvBuf {
	size = pow2(size)
	return recvBuf{buf: make([]byte, size), mask: uint64(size - 1), read: start, nxt: start, ooo: newRanges(maxRanges)}
}

func (b *recvBuf) limit() uint64 { return b.read + uint64(len(b.buf)) }
func (b *recvBuf) free() int     { return len(b.buf) - int(b.nxt-b.read) }
func (b *recvBuf) readable() int { return int(b.nxt - b.read) }

// put stores p at dsn, clipped to [nxt, limit).
func (b *recvBuf) put(dsn uint64, p []byte) { b.putAt(dsn, p, false) }

// putAt is put; with placed, the bytes are at their place already
// (copySumIn) and only the bookkeeping is done.
func (b *recvBuf) putAt(dsn uint64, p []byte, placed bool) {
	end := dsn + uint64(len(p))
	if dsn < b.nxt {
		if end <= b.nxt {
			return
		}
		p = p[b.nxt-dsn:]
		dsn = b.nxt
	}
	if lim := b.limit(); end > lim {
		if dsn >= lim {
			b.noteClip(dsn, end)
			return
		}
		b.noteClip(lim, end)
		p = p[:lim-dsn]
	}
	b.trimClip()
	if b.clipHi > b.clipLo && dsn <= b.clipLo && dsn+uint64(len(p)) > b.clipLo {
		b.clipLo = dsn + uint64(len(p))
		if b.clipLo >= b.clipHi {
			b.clipLo, b.clipHi = 0, 0
		}
	}
	for len(p) > 0 && !placed {
		i := dsn & b.mask
		k := copy(b.buf[i:], p)
		p = p[k:]
		dsn += uint64(k)
	}
}

// copySumIn copies p to its place at dsn (within [read, limit): the
// caller checked) without marking anything, and returns the bytes'
// partial Internet checksum, computed in the same pass.
func (b *recvBuf) copySumIn(dsn uint64, p []byte) uint32 {
	i := int(dsn & b.mask)
	first := min(len(p), len(b.buf)-i)
	sum := header.CopySum(b.buf[i:i+first], p[:first], 0)
	if first < len(p) {
		sum = header.Combine(sum, first, header.CopySum(b.buf, p[first:], 0))
	}
	return sum
}

// trimClip forgets the part of the clipped range below nxt (in order
// already: stored before it was clipped, or not needed).
func (b *recvBuf) trimClip() {
	if b.clipLo < b.nxt {
		b.clipLo = b.nxt
	}
	if b.clipLo >= b.clipHi {
		b.clipLo, b.clipHi = 0, 0
	}
}

// noteClip records that bytes [s, e) were not stored.
func (b *recvBuf) noteClip(s, e uint64) {
	if b.clipHi <= b.clipLo {
		b.clipLo, b.clipHi = s, e
		return
	}
	b.clipLo, b.clipHi = min(b.clipLo, s), max(b.clipHi, e)
}

// slice returns up to two pieces of the buffer holding [dsn, dsn+n), which
// must lie within [read, limit).
func (b *recvBuf) slice(dsn uint64, n int) ([]byte, []byte) {
	i := int(dsn & b.mask)
	if i+n <= len(b.buf) {
		return b.buf[i : i+n], nil
	}
	return b.buf[i:], b.buf[:i+n-len(b.buf)]
}

// mark records [s, e) as received (clipped to [nxt, limit)) and advances
// nxt over what became contiguous. It returns how many bytes were new and
// whether the range set had room. Bytes that may not have been stored
// (see clipLo) are left out.
func (b *recvBuf) mark(s, e uint64) (fresh uint64, ok bool) {
	b.trimClip()
	if b.clipHi > b.clipLo && s < b.clipHi && e > b.clipLo {
		ok = true
		if s < b.clipLo {
			fresh, ok = b.mark1(s, b.clipLo)
		}
		if e > b.clipHi {
			f, ok2 := b.mark1(b.clipHi, e)
			fresh += f
			ok = ok && ok2
		}
		return fresh, ok
	}
	return b.mark1(s, e)
}

func (b *recvBuf) mark1(s, e uint64) (fresh uint64, ok bool) {
	if s < b.nxt {
		s = b.nxt
	}
	if lim := b.limit(); e > lim {
		e = lim
	}
	if s >= e {
		return 0, true
	}
	before := b.ooo.bytes() + b.nxt
	if s == b.nxt {
		b.nxt = b.ooo.popBelow(e)
	} else if !b.ooo.add(s, e) {
		return 0, false
	}
	return b.ooo.bytes() + b.nxt - before, true
}

func (b *recvBuf) readInto(p []byte) int {
	n := min(len(p), b.readable())
	p = p[:n]
	for len(p) > 0 {
		i := b.read & b.mask
		k := copy(p, b.buf[i:min(uint64(len(b.buf)), i+uint64(len(p)))])
		p = p[k:]
		b.read += uint64(k)
	}
	return n
}

func pow2(n int) int {
	p := 4096
	for p < n {
		p <<= 1
	}
	return p
}
