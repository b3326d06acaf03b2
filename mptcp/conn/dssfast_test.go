package conn

import (
	"bytes"
	"testing"

	"github.com/mpxdp/mpxdp/mptcp"
)

// TestWriteDSSOnlyMatchesOut checks the DSS-only fast path of
// writeOptions against the general Out.Fit and Out.Write, for every shape
// of DSS and option space from none to the full 40 bytes.
func TestWriteDSSOnlyMatchesOut(t *testing.T) {
	var shapes []mptcp.DSS
	for bits := 0; bits < 1<<6; bits++ {
		d := mptcp.DSS{
			HasAck:      bits&1 != 0,
			Ack64:       bits&2 != 0,
			HasMap:      bits&4 != 0,
			DSN64:       bits&8 != 0,
			HasChecksum: bits&16 != 0,
			DataFin:     bits&32 != 0,
			DataAck:     0x0102030405060708,
			DSN:         0x1112131415161718,
			SubflowSeq:  0x21222324,
			DataLen:     0x3132,
			Checksum:    0x4142,
		}
		if !d.Ack64 {
			d.DataAck &= 0xffffffff
		}
		if !d.DSN64 {
			d.DSN &= 0xffffffff
		}
		shapes = append(shapes, d)
	}
	written := 0
	for _, d := range shapes {
		for space := 0; space <= 40; space++ {
			var o mptcp.Out
			o.DSS = d
			o.Want = dssOnly
			send, _, size := o.Fit(space)
			want := make([]byte, 40)
			var wn int
			if send.Has(mptcp.SubtypeDSS) {
				wn = o.Write(want, send)
				if wn != size {
					t.Fatalf("Out.Write wrote %d bytes, Fit said %d", wn, size)
				}
			}
			got := make([]byte, 40)
			d2 := d
			n, ok := writeDSSOnly(&d2, got[:space])
			if ok != send.Has(mptcp.SubtypeDSS) {
				t.Fatalf("%+v in %d bytes: fast path ok=%v, Fit sends DSS=%v", d, space, ok, send.Has(mptcp.SubtypeDSS))
			}
			if !ok {
				if n != 0 || !bytes.Equal(got, make([]byte, 40)) {
					t.Fatalf("%+v in %d bytes: fast path wrote %d bytes although it reported no fit", d, space, n)
				}
				continue
			}
			written++
			if n != wn || !bytes.Equal(got, want) {
				t.Fatalf("%+v in %d bytes: fast path %d % x, Out %d % x", d, space, n, got[:n], wn, want[:wn])
			}
		}
	}
	if written == 0 {
		t.Fatal("no shape fitted in any space: the comparison checked nothing")
	}
}
