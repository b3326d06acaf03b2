package tcp

import "testing"

// TestRecvBufferFreedOpensWindow drives a receiver whose data goes to an
// external RecvBuffer (Config.Recv): the application drains that buffer
// itself, and only RecvBufferFreed tells the endpoint the window opened.
func TestRecvBufferFreedOpensWindow(t *testing.T) {
	const size = 64 << 10
	rb := &ringRecv{recvRing: newRecvRing(size)}
	ca, cb := baseConfig(issA), baseConfig(issB)
	cb.Recv, cb.RecvBufSize, cb.RecvBufMax = rb, size, size
	a, b := connect(t, ca, cb)
	data := make([]byte, 3*size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	a.Write(data)
	now := 10 * ms
	var last Segment
	for range 200 {
		segs := outs(a, now)
		if len(segs) == 0 {
			break
		}
		deliver(segs, b, now)
		acks := outs(b, now)
		if len(acks) > 0 {
			last = acks[len(acks)-1]
		}
		deliver(acks, a, now)
		now += ms
	}
	now += 50 * ms // the delayed ACK of the last segments
	if acks := outs(b, now); len(acks) > 0 {
		last = acks[len(acks)-1]
	}
	if rb.n != size || b.rcv.Free() != 0 {
		t.Fatalf("external buffer holds %d bytes (free %d), want it full at %d", rb.n, b.rcv.Free(), size)
	}
	if last.Window != 0 {
		t.Fatalf("last ACK advertised window field %d with a full buffer, want 0", last.Window)
	}
	wnd := func(s Segment) int { return int(s.Window) << b.rcvShift }

	// The application consumes half the buffer behind the endpoint's back:
	// nothing is sent until it says so.
	got := make([]byte, size/2)
	rb.read(got)
	if segs := outs(b, now); len(segs) != 0 {
		t.Fatalf("receiver sent %d segments before RecvBufferFreed", len(segs))
	}
	b.RecvBufferFreed()
	upd := outs(b, now)
	if len(upd) != 1 || upd[0].Flags != FlagACK || len(upd[0].Payload) != 0 || wnd(upd[0]) < size/2 {
		t.Fatalf("after RecvBufferFreed: %+v, want one pure ACK opening the window to >= %d", upd, size/2)
	}
	if b.Counters().WindowUpdates != 1 {
		t.Errorf("WindowUpdates %d, want 1", b.Counters().WindowUpdates)
	}
	// Nothing more changed: a second call sends nothing.
	b.RecvBufferFreed()
	if segs := outs(b, now); len(segs) != 0 {
		t.Errorf("a repeated RecvBufferFreed sent %d segments", len(segs))
	}
	// The sender resumes into the opened window.
	deliver(upd, a, now)
	resumed := outs(a, now)
	n := 0
	for _, s := range resumed {
		n += len(s.Payload)
	}
	if n == 0 || n > size/2 {
		t.Fatalf("sender sent %d bytes after the window update, want 1..%d", n, size/2)
	}
	deliver(resumed, b, now)
	deliver(outs(b, now), a, now)

	// Receiver SWS avoidance: freeing less than an MSS on an open window
	// asks for no update.
	free := b.rcv.Free()
	if free == 0 {
		rb.read(make([]byte, 100))
		b.RecvBufferFreed()
		outs(b, now) // the zero-window case always updates
	}
	rb.read(make([]byte, 100))
	b.RecvBufferFreed()
	if segs := outs(b, now); len(segs) != 0 {
		t.Errorf("freeing 100 bytes sent %d segments (receiver SWS avoidance)", len(segs))
	}
	// The stream is intact through the external buffer.
	for i, c := range got {
		if c != data[i] {
			t.Fatalf("byte %d differs", i)
		}
	}
}
