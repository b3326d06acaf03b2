// Package pm owns the MPTCP path manager of one connection, in the terms
// of `ip mptcp`: endpoints (address, interface, port, id) with the flags
// signal, subflow, backup and fullmesh, and limits (subflows,
// add_addr_accepted).
//
// The path manager decides and the stack executes. A Manager is told what
// happened (the connection became established, the peer announced or
// withdrew an address, a subflow came up or went down) and returns
// Actions: Announce an address (ADD_ADDR), Withdraw one (REMOVE_ADDR),
// OpenSubflow from a local endpoint to a remote address. Like the kernel's
// in-kernel path manager:
//
//   - a server announces its signal endpoints once the connection is
//     established;
//   - a client opens a subflow from each subflow endpoint to the
//     connection's initial remote address, and one to each address the
//     peer announces (from the address the stack routes there, or from
//     every fullmesh endpoint), within limits.Subflows and
//     limits.AddAddrAccepted.
//
// Unlike the kernel (mptcp_net-next issue 440), a subflow this manager
// opened that fails or is reset is opened again after a back-off that
// doubles from RetryBase to RetryMax, so a path that comes back after a
// failure carries traffic again.
//
// The Manager is sans-IO: time is passed in, Poll returns the actions due
// and NextTimer says when to call it again. It is driven by the goroutine
// that owns the connection.
package pm
