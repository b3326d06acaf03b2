// Package simnet owns an in-memory network with virtual time for tests: a
// discrete-event scheduler (Sim) and one-way links (Link) with bandwidth,
// propagation delay, jitter, seeded random loss, reordering, duplication and
// a tail-drop queue limit.
//
// Packets are opaque byte slices, so the same network carries TCP segments
// in the engine tests and, later, whole Ethernet frames of the full stack.
// A link copies each packet into a buffer from its own free list when it is
// sent and hands that buffer to the receiver when it arrives; the receiver
// must copy what it wants to keep before returning. After warm-up, sending
// and delivering packets does not allocate.
//
// Everything is deterministic for a given seed: two runs with the same seed,
// the same topology and the same sequence of calls produce the same events
// at the same virtual times. Nothing here reads the wall clock or starts a
// goroutine; a test drives the simulation with Sim.Step or Sim.RunUntil.
package simnet
