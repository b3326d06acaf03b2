package mptcp

// MapStatus is the outcome of checking the DSS mapping that covers the
// data at the head of a subflow's receive queue, modelled on the Linux
// kernel's mapping_status (net/mptcp/subflow.c). Outcomes are values, not
// booleans, so every drop can be counted with a reason.
type MapStatus uint8

// Mapping outcomes.
const (
	// MapOK: a valid mapping covers the data; deliver it at its DSN.
	MapOK MapStatus = iota
	// MapInvalid: the mapping is inconsistent (it does not cover the data,
	// changes a mapping still in use, or is an infinite mapping where none is
	// allowed); the subflow must be reset or the connection fall back
	// (counted as DSSNotMatching, or InfiniteMapRx for data-level length 0).
	MapInvalid
	// MapEmpty: no data is waiting; nothing to do.
	MapEmpty
	// MapDataFin: the mapping carries only a DATA_FIN (data-level length 1,
	// no payload): the peer closed its sending direction.
	MapDataFin
	// MapDummy: the connection fell back to plain TCP; data maps 1:1 and
	// needs no DSS.
	MapDummy
	// MapBadChecksum: the DSS checksum over the mapping's data failed
	// (DataCsumErr); send MP_FAIL or reset the subflow.
	MapBadChecksum
	// MapNoDSS: data arrived without any mapping, most likely because a
	// middlebox stripped the DSS option.
	MapNoDSS
	// MapDuplicate: the mapping covers only data already received at the
	// connection level (DuplicateData); drop the payload, keep the subflow.
	MapDuplicate
)

var mapStatusNames = [...]string{
	MapOK:          "ok",
	MapInvalid:     "invalid",
	MapEmpty:       "empty",
	MapDataFin:     "data-fin",
	MapDummy:       "dummy",
	MapBadChecksum: "bad-checksum",
	MapNoDSS:       "no-dss",
	MapDuplicate:   "duplicate",
}

// String returns a short lower-case name of the status.
func (s MapStatus) String() string {
	if int(s) < len(mapStatusNames) {
		return mapStatusNames[s]
	}
	return "MapStatus(" + itoa(uint64(s)) + ")"
}

// NoCounter is the Counter value MapTracker.Check returns when the outcome
// needs no counter bump.
const NoCounter = NumCounters

// Mapping is a DSS mapping in 64-bit form: the data-level bytes
// [DSN, DSN+Len) travel as subflow bytes [SubflowSeq, SubflowSeq+Len)
// (relative to the subflow's initial sequence number). When DataFin is set
// the DATA_FIN follows the last byte, at DSN+Len; Len does not count it.
type Mapping struct {
	DSN         uint64
	SubflowSeq  uint32
	Len         uint32
	DataFin     bool
	HasChecksum bool
	Checksum    uint16
}

// End returns the relative subflow sequence number just past the mapping.
func (m *Mapping) End() uint32 { return m.SubflowSeq + m.Len }

// MappingFromDSS converts the mapping of a received DSS to 64-bit form,
// expanding a 32-bit DSN against rcvNxt (the next data-level byte
// expected). A DATA_FIN's sequence slot is taken out of Len.
func MappingFromDSS(d *DSS, rcvNxt uint64) Mapping {
	m := Mapping{
		DSN:         d.DSNFrom(rcvNxt),
		SubflowSeq:  d.SubflowSeq,
		Len:         uint32(d.DataLen),
		DataFin:     d.DataFin,
		HasChecksum: d.HasChecksum,
		Checksum:    d.Checksum,
	}
	if m.DataFin && m.Len > 0 {
		m.Len--
	}
	return m
}

// MapTracker follows the DSS mapping in force on one subflow's receive
// side and says, segment by segment, where the payload belongs at the
// data level (the logic of the kernel's get_mapping_status, reduced to
// what a sans-IO engine needs). It belongs to the worker that owns the
// subflow. Checksums are not checked here: when the mapping has one, the
// caller sums the mapping's payload and calls DSSChecksumOK when the
// mapping is complete.
type MapTracker struct {
	cur   Mapping
	valid bool
}

// Current returns the mapping in force and whether there is one.
func (t *MapTracker) Current() (Mapping, bool) { return t.cur, t.valid }

// Reset forgets the mapping in force (for example after a fallback).
func (t *MapTracker) Reset() { t.valid = false }

// Check handles one in-order segment: d is the DSS it carried (nil when
// none, or when it had no mapping), ssn the relative subflow sequence
// number of its first payload byte, n its payload length, rcvNxt the
// connection's next expected DSN. It returns the outcome, the DSN of the
// first payload byte (meaningful for MapOK and MapDuplicate; for
// MapDataFin, the DATA_FIN's DSN), and the MIB counter to bump (NoCounter
// when none).
//
// A segment must lie inside one mapping; one that starts before the
// mapping or runs past its end is MapInvalid (DSSNoMatchTCP). A new
// mapping that differs from one still in use is MapInvalid
// (DSSNotMatching). Once a segment reaches the mapping's end, the mapping
// is used up, and payload after it without a new DSS is MapNoDSS.
func (t *MapTracker) Check(d *DSS, ssn uint32, n int, rcvNxt uint64) (MapStatus, uint64, Counter) {
	if d != nil && d.HasMap {
		if d.DataLen == 0 {
			return MapInvalid, 0, MibInfiniteMapRx
		}
		m := MappingFromDSS(d, rcvNxt)
		if m.DataFin && m.Len == 0 && n == 0 {
			// A DATA_FIN alone (data-level length 1, no payload).
			return MapDataFin, m.DSN, NoCounter
		}
		if t.valid && m != t.cur {
			if !(m.DataFin && m.Len == 0) {
				return MapInvalid, 0, MibDSSNotMatching
			}
			// A bare DATA_FIN signal while the old mapping is still being
			// received: keep using the old one for this payload.
		} else {
			t.cur, t.valid = m, true
		}
	}
	if n == 0 {
		return MapEmpty, 0, NoCounter
	}
	if !t.valid {
		return MapNoDSS, 0, NoCounter
	}
	off := ssn - t.cur.SubflowSeq
	if int32(off) < 0 || uint64(off)+uint64(n) > uint64(t.cur.Len) {
		return MapInvalid, 0, MibDSSNoMatchTCP
	}
	dsn := t.cur.DSN + uint64(off)
	if off+uint32(n) == t.cur.Len {
		t.valid = false // used up
	}
	if int64(dsn+uint64(n)-rcvNxt) <= 0 {
		return MapDuplicate, dsn, MibDuplicateData
	}
	return MapOK, dsn, NoCounter
}
