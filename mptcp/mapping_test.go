package mptcp

import "testing"

func TestMappingFromDSS(t *testing.T) {
	d := DSS{HasMap: true, DSN: 0x10, SubflowSeq: 100, DataLen: 11, DataFin: true, HasChecksum: true, Checksum: 7}
	m := MappingFromDSS(&d, 0x3_ffff_fff0)
	if m.DSN != 0x4_0000_0010 || m.Len != 10 || !m.DataFin || m.End() != 110 || m.Checksum != 7 {
		t.Fatalf("mapping %+v", m)
	}
}

func TestMapTrackerSequence(t *testing.T) {
	var tr MapTracker
	const idsn1 = 0x1000
	rcv := uint64(idsn1)
	check := func(d *DSS, ssn uint32, n int, wantSt MapStatus, wantDSN uint64, wantC Counter) {
		t.Helper()
		st, dsn, c := tr.Check(d, ssn, n, rcv)
		if st != wantSt || c != wantC || (wantSt == MapOK || wantSt == MapDuplicate || wantSt == MapDataFin) && dsn != wantDSN {
			t.Fatalf("Check(ssn %d, n %d) = %v dsn %#x counter %v; want %v %#x %v", ssn, n, st, dsn, c, wantSt, wantDSN, wantC)
		}
		if st == MapOK {
			rcv = dsn + uint64(n)
		}
	}
	// No mapping yet, payload: no DSS.
	check(nil, 1, 100, MapNoDSS, 0, NoCounter)
	// Pure ACK: nothing to do.
	check(&DSS{HasAck: true}, 1, 0, MapEmpty, 0, NoCounter)
	// A 32-bit mapping of 3000 bytes across three segments.
	m := &DSS{HasMap: true, DSN: idsn1 & 0xffffffff, SubflowSeq: 1, DataLen: 3000}
	check(m, 1, 1000, MapOK, idsn1, NoCounter)
	check(nil, 1001, 1000, MapOK, idsn1+1000, NoCounter)
	// The same mapping repeated is fine.
	check(m, 2001, 1000, MapOK, idsn1+2000, NoCounter)
	if _, ok := tr.Current(); ok {
		t.Fatal("mapping not used up at its end")
	}
	// Payload after the mapping without a new one.
	check(nil, 3001, 10, MapNoDSS, 0, NoCounter)
	// A new mapping; a conflicting one while it is in use.
	m2 := &DSS{HasMap: true, DSN: idsn1 + 3000, SubflowSeq: 3001, DataLen: 500}
	check(m2, 3001, 100, MapOK, idsn1+3000, NoCounter)
	check(&DSS{HasMap: true, DSN: idsn1 + 9000, SubflowSeq: 3101, DataLen: 100}, 3101, 100, MapInvalid, 0, MibDSSNotMatching)
	// Segment outside the mapping.
	check(nil, 2000, 10, MapInvalid, 0, MibDSSNoMatchTCP)
	check(nil, 3450, 100, MapInvalid, 0, MibDSSNoMatchTCP)
	// A bare DATA_FIN while the mapping is still in use keeps the mapping.
	check(&DSS{HasMap: true, DSN: idsn1 + 3500, SubflowSeq: 0, DataLen: 1, DataFin: true}, 3101, 400, MapOK, idsn1+3100, NoCounter)
	// The DATA_FIN alone.
	check(&DSS{HasMap: true, DSN: idsn1 + 3500, SubflowSeq: 0, DataLen: 1, DataFin: true}, 3501, 0, MapDataFin, idsn1+3500, NoCounter)
	// Infinite mapping.
	check(&DSS{HasMap: true, DSN: 1, SubflowSeq: 1, DataLen: 0}, 3501, 10, MapInvalid, 0, MibInfiniteMapRx)
	// Retransmitted data under an old mapping: duplicate.
	tr.Reset()
	check(&DSS{HasMap: true, DSN: idsn1, SubflowSeq: 1, DataLen: 1000}, 1, 1000, MapDuplicate, idsn1, MibDuplicateData)
}

func TestMapTrackerDataFinWithData(t *testing.T) {
	var tr MapTracker
	// 5 data bytes plus DATA_FIN: data-level length 6.
	d := &DSS{HasMap: true, DSN: 100, SubflowSeq: 1, DataLen: 6, DataFin: true, DSN64: true}
	st, dsn, _ := tr.Check(d, 1, 5, 100)
	cur, _ := tr.Current()
	if st != MapOK || dsn != 100 || cur.Len != 5 || !cur.DataFin {
		t.Fatalf("status %v dsn %d mapping %+v", st, dsn, cur)
	}
}

func TestMapTrackerNoAllocs(t *testing.T) {
	var tr MapTracker
	d := &DSS{HasMap: true, DSN: 1, SubflowSeq: 1, DataLen: 1000}
	if n := testing.AllocsPerRun(100, func() { tr.Reset(); tr.Check(d, 1, 1000, 1) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
