// Package header owns the wire formats below the TCP engine: byte views,
// parsers and encoders for Ethernet II (with 802.1Q recognition), ARP,
// IPv4, IPv6 (extension-header walk), ICMPv4 echo, ICMPv6 echo and Neighbor
// Discovery, TCP and its options, and the Internet checksum (RFC 1071 /
// 1624) with its pseudo-headers. MPTCP options (kind 30) are not decoded
// here: the TCP options parser hands their raw bytes to package mptcp, and
// the options writer reserves room for mptcp to fill.
//
// Conventions, shared by every header in the package:
//
//   - A header is a byte view: type TCP []byte, with offset constants
//     (TCPSeqOffset, ...) and accessor/setter methods. Accessors trust the
//     view and do no length checks of their own; a view must come from the
//     matching Parse function (or an encoder) first.
//   - Parse functions are strict on lengths and return (view, n, err): the
//     view of the packet (trimmed to the length its header states, where it
//     states one), the number of header bytes consumed (the next layer is
//     view[n:]), and nil or a Reason. Every error is a Reason constant
//     (ErrTruncated, ErrChecksum, ErrOptionLength, ...), never an allocated
//     error, so that drops can be counted in a [NumReasons]uint64 array.
//     Parsers check structure only; policy (which options to honour, what
//     to do with a fragment) belongs to the caller.
//   - Checksums that need a pseudo-header (TCP, ICMPv6) are checked by a
//     separate ChecksumValid call; IPv4 header and ICMPv4 checksums are
//     self-contained and checked by their parsers.
//   - Encoders write into the caller's buffer and return the bytes written;
//     a buffer that is too short is a programming error and panics through
//     Go's bounds checks. TCP options are written in two phases:
//     TCPOptionsSize decides (trimming SACK blocks to the 40-byte budget)
//     and sizes, then WriteTCPOptions serialises and reports where the
//     reserved caller area (the MPTCP option) lies.
//   - Nothing on the per-packet path allocates, locks or reads the clock;
//     no encoding/binary.Read, no reflection. The benchmarks report
//     allocations to prove it.
//
// The bulk of the checksum is computed by the fastest implementation the
// CPU supports, chosen once at init (AVX2 or an ADCQ chain on amd64,
// otherwise portable Go); ChecksumImplementation says which. CopySum fuses
// the payload copy into or out of UMEM with its checksum (one pass with
// AVX2). Build with the purego tag to force the portable code.
package header
