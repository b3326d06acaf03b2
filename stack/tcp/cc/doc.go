// Package cc owns congestion control for TCP subflows: the Controller
// interface the engine drives, and the uncoupled algorithms NewReno
// (RFC 5681/6582) and CUBIC (RFC 9438). Coupled multipath controllers
// (LIA, OLIA, BALIA) live in package mptcp and implement the same interface.
package cc
