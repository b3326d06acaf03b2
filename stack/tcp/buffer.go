package tcp

// sendRing is the built-in SendBuffer: a byte ring the application writes
// into and the endpoint sends from.
type sendRing struct {
	buf  []byte
	head int // position of snd_una's byte
	n    int // bytes held
}

func newSendRing(size int) *sendRing { return &sendRing{buf: make([]byte, size)} }

func (r *sendRing) Buffered() int { return r.n }

func (r *sendRing) space() int { return len(r.buf) - r.n }

// write appends as much of p as fits and returns the count.
func (r *sendRing) write(p []byte) int {
	w := 0
	for len(p) > 0 && r.n < len(r.buf) {
		tail := r.head + r.n
		if tail >= len(r.buf) {
			tail -= len(r.buf)
		}
		end := len(r.buf)
		if tail < r.head {
			end = r.head
		}
		c := copy(r.buf[tail:end], p)
		r.n += c
		w += c
		p = p[c:]
	}
	return w
}

func (r *sendRing) CopyAt(off int, p []byte) int {
	if off >= r.n {
		return 0
	}
	if len(p) > r.n-off {
		p = p[:r.n-off]
	}
	pos := r.head + off
	if pos >= len(r.buf) {
		pos -= len(r.buf)
	}
	c := copy(p, r.buf[pos:])
	if c < len(p) {
		c += copy(p[c:], r.buf)
	}
	return c
}

func (r *sendRing) Consume(n int) {
	if n > r.n {
		n = r.n
	}
	r.head += n
	if r.head >= len(r.buf) {
		r.head -= len(r.buf)
	}
	r.n -= n
}

// recvRing is the built-in RecvBuffer: in-order unread bytes from head,
// then room for rcv_nxt onwards (including out-of-order data).
type recvRing struct {
	buf      []byte
	head     int    // first unread byte
	n        int    // in-order unread bytes
	consumed uint64 // bytes read by the application, ever (autotuning)
}

func newRecvRing(size int) *recvRing { return &recvRing{buf: make([]byte, size)} }

func (r *recvRing) Free() int { return len(r.buf) - r.n }

func (r *recvRing) WriteAt(off int, p []byte) {
	pos := r.head + r.n + off
	for pos >= len(r.buf) {
		pos -= len(r.buf)
	}
	c := copy(r.buf[pos:], p)
	if c < len(p) {
		copy(r.buf, p[c:])
	}
}

func (r *recvRing) Advance(n int) { r.n += n }

func (r *recvRing) read(p []byte) int {
	if len(p) > r.n {
		p = p[:r.n]
	}
	c := copy(p, r.buf[r.head:])
	if c < len(p) {
		c += copy(p[c:], r.buf)
	}
	r.head += c
	if r.head >= len(r.buf) {
		r.head -= len(r.buf)
	}
	r.n -= c
	r.consumed += uint64(c)
	return c
}

// grow enlarges the ring to size, keeping the unread bytes and the
// out-of-order region (the first keep bytes past rcv_nxt). It allocates,
// but only on autotuning steps, never per segment.
func (r *recvRing) grow(size, keep int) {
	if size <= len(r.buf) {
		return
	}
	nb := make([]byte, size)
	total := r.n + keep
	if total > len(r.buf) {
		total = len(r.buf)
	}
	c := copy(nb[:total], r.buf[r.head:])
	if c < total {
		copy(nb[c:total], r.buf)
	}
	r.buf = nb
	r.head = 0
}
