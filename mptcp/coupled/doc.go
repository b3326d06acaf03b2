// Package coupled owns the coupled congestion control of MPTCP connections:
// LIA (RFC 6356), OLIA (Khalili et al., CoNEXT 2012) and BALIA (Peng et al.,
// IEEE/ACM ToN 2016), plus "reno" and "cubic" as the uncoupled choice.
//
// One Group belongs to one MPTCP connection; each subflow gets its own
// controller from Group.NewSubflow, which implements cc.Controller and is
// driven by the worker that owns the subflow. Subflows of a connection
// usually run on different cores, so the coupling is lock-free: every
// subflow publishes its window, smoothed RTT and (for OLIA) its inter-loss
// byte count through atomics in its own cache line, and reads the others'
// values at most once per its own smoothed RTT, or sooner when the group's
// version changes (a subflow joined, left or reduced its window). Its own
// terms are always current. Adding and removing subflows (control plane)
// takes a mutex and publishes a new member list copy-on-write; the per-ACK
// path never locks and never allocates.
//
// Usage, per connection and per subflow:
//
//	g, err := coupled.New("lia")    // from configuration; error lists valid names
//	ctl := g.NewSubflow()           // a cc.Controller for the subflow's engine
//	ctl.Init(mss, now)              // then OnAck / OnCongestion / ... from its worker
//	g.Remove(ctl)                   // when the subflow closes
//
// The pure formulas (LIAAlpha, LIAIncrease, OLIAAlphas, OLIAIncrease,
// BALIAIncrease, BALIADecrease) are exported for tests and tools.
package coupled
