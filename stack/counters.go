package stack

import (
	"fmt"
	"sync/atomic"
)

// Drop is the reason a worker dropped a received frame (or one it was
// about to send). Every drop is counted under exactly one reason.
type Drop uint8

// The drop reasons.
const (
	DropTruncated   Drop = iota // a header is shorter than it must be
	DropBadChecksum             // IPv4 header, TCP or ICMP checksum wrong
	DropMalformed               // another structural error (version, lengths, options)
	DropNotForUs                // Ethernet or IP destination is none of ours
	DropUnsupported             // EtherType, IP protocol or ICMP type we do not handle
	DropFragment                // IP fragment (no reassembly)
	DropBadFlags                // contradictory TCP flags (SYN with RST or FIN)
	DropNoFlow                  // TCP segment for no connection and no listener (answered with RST)
	DropNoFlowRST               // RST for no connection (never answered)
	DropBadCookie               // ACK to a listener whose SYN cookie did not verify
	DropAcceptQueue             // connection established while the accept queue was full
	DropNeighbour               // frame dropped while its neighbour stayed unresolved
	DropTxFull                  // no transmit frame or transmit ring room
	DropHandoffFull             // the owning worker's hand-off ring was full
	DropBadND                   // Neighbor Discovery message with the wrong hop limit or options
	DropJoinRefused             // MP_JOIN SYN for an unknown token or a connection that refused it (answered with RST)
	DropNoRoute                 // a segment of a subflow the stack has no route for
	numDrops
)

var dropNames = [numDrops]string{
	"Truncated", "BadChecksum", "Malformed", "NotForUs", "Unsupported", "Fragment",
	"BadFlags", "NoFlow", "NoFlowRST", "BadCookie", "AcceptQueue", "Neighbour", "TxFull",
	"HandoffFull", "BadND", "JoinRefused", "NoRoute",
}

// String returns the reason's counter name.
func (d Drop) String() string {
	if d < numDrops {
		return dropNames[d]
	}
	return fmt.Sprintf("Drop(%d)", uint8(d))
}

// counters are one worker's statistics. The worker is their only writer;
// atomics make them readable from other goroutines (uncontended, they cost
// no more than a plain increment on the worker's own cache line).
type counters struct {
	drops      [numDrops]atomic.Uint64
	rxFrames   atomic.Uint64
	txFrames   atomic.Uint64
	arpReplies atomic.Uint64
	arpReqs    atomic.Uint64
	ndAdverts  atomic.Uint64
	ndSolicits atomic.Uint64
	echoReps   atomic.Uint64
	synCookies atomic.Uint64
	cookieOK   atomic.Uint64
	handedOff  atomic.Uint64
	handedIn   atomic.Uint64
	rstOut     atomic.Uint64
	flowsOpen  atomic.Uint64
}

// Stats is a snapshot of a stack's (or one worker's) counters.
type Stats struct {
	// Drops counts dropped frames by reason (index with Drop).
	Drops [numDrops]uint64
	// RxFrames and TxFrames count frames received and transmitted.
	RxFrames, TxFrames uint64
	// ARPReplies and ARPRequests count ARP replies and requests we sent.
	ARPReplies, ARPRequests uint64
	// NDAdverts and NDSolicits count neighbour advertisements and
	// solicitations we sent.
	NDAdverts, NDSolicits uint64
	// EchoReplies counts ICMP and ICMPv6 echo replies sent.
	EchoReplies uint64
	// SYNCookies counts SYN-ACKs sent with a cookie (accept backlog
	// full); CookiesAccepted counts connections created from a valid one.
	SYNCookies, CookiesAccepted uint64
	// HandedOff counts frames a worker passed to the flow's owner;
	// HandedIn counts frames a worker took from other workers.
	HandedOff, HandedIn uint64
	// RSTsOut counts RSTs sent for segments without a connection.
	RSTsOut uint64
	// FlowsOpened counts connections created (active and passive).
	FlowsOpened uint64
}

// Drop returns the count for reason d.
func (s Stats) Drop(d Drop) uint64 { return s.Drops[d] }

func (c *counters) addTo(s *Stats) {
	for i := range c.drops {
		s.Drops[i] += c.drops[i].Load()
	}
	s.RxFrames += c.rxFrames.Load()
	s.TxFrames += c.txFrames.Load()
	s.ARPReplies += c.arpReplies.Load()
	s.ARPRequests += c.arpReqs.Load()
	s.NDAdverts += c.ndAdverts.Load()
	s.NDSolicits += c.ndSolicits.Load()
	s.EchoReplies += c.echoReps.Load()
	s.SYNCookies += c.synCookies.Load()
	s.CookiesAccepted += c.cookieOK.Load()
	s.HandedOff += c.handedOff.Load()
	s.HandedIn += c.handedIn.Load()
	s.RSTsOut += c.rstOut.Load()
	s.FlowsOpened += c.flowsOpen.Load()
}
