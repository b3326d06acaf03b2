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
