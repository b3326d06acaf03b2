// Package link owns the seam between the stack's per-queue workers and the
// devices they drive: the Queue interface (batch receive, batch transmit,
// frame ownership, wake-ups) and an in-memory implementation, Pipe, that
// joins two stacks in one process without a NIC, a kernel or root.
//
// The AF_XDP implementation of Queue lives in package stack (it adapts an
// afxdp.Socket); Pipe is what the in-memory benchmarks and tests use. Both
// follow the same ownership rules:
//
//   - Frames handed out by Receive or Alloc belong to the caller until it gives
//     them back with Release (received or unused) or Transmit (filled).
//   - A Queue belongs to one goroutine at a time (the worker that polls it); no
//     method takes a lock or allocates.
//   - A packet larger than one frame (multi-buffer jumbo frames on AF_XDP)
//     arrives as consecutive frames, all but the last with More set.
//
// A Pipe end's Wait sleeps until the peer transmits or Wake is called
// (it implements Waker), so a worker driving it needs no polling timer;
// JoinWait lets one worker sleep on several ends (one per interface), and
// an end whose Alloc ran out of frames is woken when the peer gives frames
// back (a sender that ran out of frames sleeps instead of spinning). Frames and returned buffers
// cross in batches, one index store per batch.
package link
