// Package seqnum owns wrap-safe 32-bit TCP sequence-number arithmetic
// (RFC 9293 §3.4): comparisons, windows and sizes that stay correct across
// the 2^32 wrap. Subflow sequence numbers in the TCP engine and the 32-bit
// subflow-relative fields of MPTCP DSS mappings both use these types; 64-bit
// data sequence numbers live in package mptcp.
package seqnum
