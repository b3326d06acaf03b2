// Package cc owns congestion control for TCP subflows: the Controller
// interface the engine drives, and the uncoupled algorithms NewReno
// (RFC 5681/6582 with RFC 3465 byte counting) and CUBIC (RFC 9438 with
// HyStart++, RFC 9406), selected by name with New. Coupled multipath
// controllers (LIA, OLIA, BALIA) live in package mptcp/coupled and implement
// the same interface. Subpackage ccsim is a virtual-time bottleneck
// simulator for testing controllers without a network.
//
// Contract with the engine: sizes are bytes, time is passed in, one worker
// owns a controller (no locks), and no call allocates. OnAck is for ACKs
// outside loss recovery; OnCongestion opens an episode (once per episode),
// OnRecoveryExit closes it, OnRTO may come at any time and closes it too.
package cc
