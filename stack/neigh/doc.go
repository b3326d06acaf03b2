// Package neigh owns the stack's neighbour state: the cache that maps a
// next-hop IP address on one of the stack's interfaces to a link-layer
// address (learnt from ARP for IPv4 and Neighbor Discovery for IPv6), and the
// bounded per-worker queue of packets that wait for a neighbour to be
// resolved.
//
// The Cache is read on every transmitted packet by every worker and written
// rarely (when an ARP or ND message teaches something new): reads load an
// atomic pointer to an immutable snapshot and take no lock; writes copy the
// snapshot under a mutex and publish the copy.
//
// Pending belongs to one worker. It holds copies of frames whose next hop is
// unresolved, at most a fixed number per neighbour and in total, with
// preallocated buffers, and tells the worker when to (re)send a request and
// when to give up. Time is passed in as a time.Duration since an arbitrary
// epoch; nothing here reads a clock.
package neigh
