package stack

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

// lossyLink drops, duplicates and delays (reorders) frames with the given
// probabilities, deterministically from its seed.
type lossyLink struct {
	rng                  *rand.Rand
	drop, dup, hold      float64
	held                 [][]byte
	dropped, duped, late int
}

func (l *lossyLink) pass(in [][]byte) [][]byte {
	out := l.held
	l.held = nil
	for _, f := range in {
		switch r := l.rng.Float64(); {
		case r < l.drop:
			l.dropped++
		case r < l.drop+l.dup:
			l.duped++
			out = append(out, f, append([]byte(nil), f...))
		case r < l.drop+l.dup+l.hold:
			l.late++
			l.held = append(l.held, f) // goes out after the next step's frames
		default:
			out = append(out, f)
		}
	}
	return out
}

// TestVnetLossyBidirectional moves data both ways at once through the whole
// host path (headers, checksums, flow lookup, engines, rings) over a link
// that loses, duplicates and reorders frames in both directions, in
// virtual time, and checks every byte.
func TestVnetLossyBidirectional(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		v := newVnet(t, Config{SendBuffer: 128 << 10, RecvBuffer: 128 << 10}, Config{SendBuffer: 128 << 10, RecvBuffer: 128 << 10})
		c, s, _ := v.connect(90)
		ab := &lossyLink{rng: rand.New(rand.NewPCG(seed, 1)), drop: 0.03, dup: 0.01, hold: 0.03}
		ba := &lossyLink{rng: rand.New(rand.NewPCG(seed, 2)), drop: 0.03, dup: 0.01, hold: 0.03}
		wa, wb := v.a.workers[0], v.b.workers[0]
		const size = 2 << 20
		up, down := make([]byte, size), make([]byte, size)
		newPRNG(seed).Read(up)
		newPRNG(seed + 100).Read(down)
		var gotUp, gotDown []byte
		offUp, offDown := 0, 0
		buf := make([]byte, 32<<10)
		for step := 0; len(gotUp) < size || len(gotDown) < size; step++ {
			if step > 2_000_000 {
				t.Fatalf("seed %d: stalled at %d/%d bytes up, %d/%d down (virtual %v)", seed, len(gotUp), size, len(gotDown), size, v.now)
			}
			if offUp < size {
				if n := c.snd.Write(up[offUp:]); n > 0 {
					offUp += n
					c.request(wantUpdate)
				}
			}
			if offDown < size {
				if n := s.snd.Write(down[offDown:]); n > 0 {
					offDown += n
					s.request(wantUpdate)
				}
			}
			v.now += 50 * time.Microsecond
			if fs := ab.pass(v.qa.take()); len(fs) > 0 {
				wb.Process(0, frames(fs...), v.now)
			}
			if fs := ba.pass(v.qb.take()); len(fs) > 0 {
				wa.Process(0, frames(fs...), v.now)
			}
			wa.Poll(v.now)
			wb.Poll(v.now)
			for {
				n := s.rcv.Read(buf)
				if n == 0 {
					break
				}
				gotUp = append(gotUp, buf[:n]...)
				s.readDone()
			}
			for {
				n := c.rcv.Read(buf)
				if n == 0 {
					break
				}
				gotDown = append(gotDown, buf[:n]...)
				c.readDone()
			}
		}
		if !bytes.Equal(gotUp, up) || !bytes.Equal(gotDown, down) {
			t.Fatalf("seed %d: data corrupted", seed)
		}
		if ab.dropped == 0 || ab.duped == 0 || ab.late == 0 || ba.dropped == 0 {
			t.Fatalf("seed %d: the link did not misbehave: %+v %+v", seed, ab, ba)
		}
		t.Logf("seed %d: 2 MiB each way in %v virtual; a->b dropped %d, duplicated %d, reordered %d", seed, v.now, ab.dropped, ab.duped, ab.late)
	}
}
