package mptcp

import (
	"encoding/binary"
	"testing"
)

// mapStep decodes one MapTracker.Check call from 20 bytes of fuzz input:
// flags (bit 0: the segment carries a mapping, 1: 64-bit DSN, 2: DATA_FIN,
// 3: the DSN is relative to rcvNxt, 4: the subflow sequence number is
// relative to the mapping in force), the DSN, the mapping's subflow
// sequence number and data-level length, the segment's subflow sequence
// number and payload length. Relative values keep most steps near the
// mapping in force, where the interesting outcomes are.
func mapStep(b []byte, rcvNxt uint64, cur Mapping) (d *DSS, ssn uint32, n int) {
	fl := b[0]
	dsn := binary.BigEndian.Uint64(b[1:9])
	if fl&8 != 0 {
		dsn = rcvNxt + uint64(int64(int16(dsn)))
	}
	mseq := binary.BigEndian.Uint32(b[9:13])
	dlen := binary.BigEndian.Uint16(b[13:15])
	ssn = binary.BigEndian.Uint32(b[15:19])
	if fl&16 != 0 {
		ssn = cur.SubflowSeq + uint32(int32(int16(ssn)))
		mseq = cur.SubflowSeq + uint32(int32(int8(mseq)))
	}
	n = int(b[19]) * 8
	if fl&1 != 0 {
		d = &DSS{HasMap: true, DSN64: fl&2 != 0, DSN: dsn, SubflowSeq: mseq, DataLen: dlen, DataFin: fl&4 != 0}
		if !d.DSN64 {
			d.DSN &= 0xffffffff
		}
	}
	return d, ssn, n
}

// FuzzMapTracker drives a MapTracker with arbitrary segments and checks
// what every outcome promises: the counter goes with the status; data
// delivered (MapOK, MapDuplicate) lies inside the mapping in force, at
// the DSN the mapping gives, new for MapOK and old for MapDuplicate; a
// mapping that reaches its end is used up; a DATA_FIN alone is reported at
// its mapping's DSN.
func FuzzMapTracker(f *testing.F) {
	step := func(fl byte, dsn uint64, mseq uint32, dlen uint16, ssn uint32, n8 byte) []byte {
		b := make([]byte, 20)
		b[0] = fl
		binary.BigEndian.PutUint64(b[1:], dsn)
		binary.BigEndian.PutUint32(b[9:], mseq)
		binary.BigEndian.PutUint16(b[13:], dlen)
		binary.BigEndian.PutUint32(b[15:], ssn)
		b[19] = n8
		return b
	}
	cat := func(s ...[]byte) []byte {
		var b []byte
		for _, x := range s {
			b = append(b, x...)
		}
		return b
	}
	// A mapping over two segments, then a contradicting one, then data
	// outside the mapping, a DATA_FIN alone, an infinite mapping.
	f.Add(uint64(0x1000), cat(step(1|8|16, 0, 0, 200, 0, 10), step(16, 0, 0, 0, 80, 15), step(1|8|16, 9, 0, 100, 0, 4), step(16, 0, 0, 0, 0xffff, 2)))
	f.Add(uint64(0xffff_fff0), cat(step(1|2|8, 0, 1, 1, 1, 0), step(1|4|8, 0, 1, 9, 1, 1), step(1, 5, 1, 0, 1, 1)))
	f.Add(uint64(1<<40), cat(step(1|8, 0xfff0, 7, 64, 7, 8), step(0, 0, 0, 0, 7, 8)))
	f.Fuzz(func(t *testing.T, rcvNxt uint64, in []byte) {
		var tr MapTracker
		for len(in) >= 20 {
			prev, prevValid := tr.Current()
			d, ssn, n := mapStep(in[:20], rcvNxt, prev)
			in = in[20:]
			st, dsn, c := tr.Check(d, ssn, n, rcvNxt)
			cur, valid := tr.Current()
			switch st {
			case MapOK, MapEmpty, MapNoDSS, MapDataFin:
				if c != NoCounter {
					t.Fatalf("%v with counter %v", st, c)
				}
			case MapDuplicate:
				if c != MibDuplicateData {
					t.Fatalf("duplicate with counter %v", c)
				}
			case MapInvalid:
				if c != MibDSSNotMatching && c != MibDSSNoMatchTCP && c != MibInfiniteMapRx {
					t.Fatalf("invalid with counter %v", c)
				}
			default:
				t.Fatalf("Check returned %v", st)
			}
			if c != NoCounter && c.Name() == "" {
				t.Fatalf("counter %d has no name", c)
			}
			switch st {
			case MapOK, MapDuplicate:
				if n == 0 {
					t.Fatalf("%v for a segment without payload", st)
				}
				// cur holds the mapping used, in force or used up.
				off := ssn - cur.SubflowSeq
				if uint64(off)+uint64(n) > uint64(cur.Len) {
					t.Fatalf("%v: segment [%d, +%d) outside mapping %+v", st, ssn, n, cur)
				}
				if dsn != cur.DSN+uint64(off) {
					t.Fatalf("%v: dsn %#x, mapping %+v gives %#x", st, dsn, cur, cur.DSN+uint64(off))
				}
				end := dsn + uint64(n)
				if isNew := int64(end-rcvNxt) > 0; isNew != (st == MapOK) {
					t.Fatalf("%v: data [%#x, %#x) against rcvNxt %#x", st, dsn, end, rcvNxt)
				}
				if valid != (off+uint32(n) != cur.Len) {
					t.Fatalf("%v: mapping %+v in force %v after bytes up to offset %d", st, cur, valid, off+uint32(n))
				}
				if st == MapOK {
					rcvNxt = end
				}
			case MapDataFin:
				if want := MappingFromDSS(d, rcvNxt).DSN; d == nil || dsn != want {
					t.Fatalf("DATA_FIN at %#x, want %#x", dsn, want)
				}
			case MapNoDSS:
				if valid || n == 0 {
					t.Fatalf("no-DSS with a mapping in force (%v) or no payload (%d)", valid, n)
				}
			case MapInvalid:
				// A refused mapping does not replace the one in force.
				if d != nil && d.HasMap && prevValid && (cur != prev || !valid) {
					t.Fatalf("refused mapping changed the one in force: %+v -> %+v", prev, cur)
				}
			}
		}
	})
}
