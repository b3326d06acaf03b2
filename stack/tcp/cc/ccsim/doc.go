// Package ccsim is a small packet-level network simulator with virtual time
// for testing congestion controllers without a network: flows that always
// have data send MSS-sized packets through drop-tail bottleneck links and
// drive their cc.Controller with ACKs, loss episodes (NewReno-style: one per
// window of data) and RTT samples, exactly through the cc.Controller
// interface the TCP engine uses. It models queueing, serialisation and
// propagation delay; losses are signalled about when the sender would learn
// of them (one queueing-plus-propagation delay after the drop), with no
// timeouts. It is deterministic for a given seed.
package ccsim
