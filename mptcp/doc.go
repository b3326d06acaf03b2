// Package mptcp owns the Multipath TCP v1 (RFC 8684) protocol pieces that do
// not depend on a particular connection's state:
//
//   - the wire format of every MPTCP option (kind 30): allocation-free
//     parsers with strict lengths and typed errors (ParseOption,
//     ParseTCPOptions), and two-phase writers (Size, then Write) plus a
//     planner (Out.Fit) that decides which options fit in the TCP option
//     space left after timestamps and SACK, and which must wait;
//   - keys, tokens and initial data sequence numbers (Key, GenerateKey,
//     Key.Token, Key.IDSN), the HMAC-SHA256 values of MP_JOIN and ADD_ADDR
//     (JoinHMAC, AddAddrHMAC, Hasher), and the DSS checksum (DSSChecksum);
//   - 64-bit data-sequence arithmetic: expanding the 32-bit DSN and DATA_ACK
//     values seen on the wire against a 64-bit reference (ExpandSeq);
//   - the token table shared by all workers (TokenTable), which hands out
//     local keys whose tokens are unique;
//   - DSS mappings in 64-bit form and a per-subflow tracker that says where
//     each received segment belongs at the data level (Mapping, MapTracker,
//     with outcomes as MapStatus), and the MIB counters,
//     named like the Linux kernel's MPTcpExt* counters (Counter, Counters,
//     MIB, Snapshot.WriteNstat).
//
// Coupled congestion control lives in mptcp/coupled. Connection state,
// reassembly, scheduling and path management build on this package.
//
// Conventions: data sequence numbers are always uint64 in memory; the time,
// where needed, is passed in by the caller; nothing here reads the clock or
// starts goroutines.
package mptcp
