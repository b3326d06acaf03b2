package conn

import "net/netip"

// EventType names a connection event as `ip mptcp monitor` prints it.
type EventType uint8

// Event types.
const (
	EventCreated            EventType = iota + 1 // CREATED: a connection was created
	EventEstablished                             // ESTABLISHED: the MPTCP handshake completed
	EventClosed                                  // CLOSED: the connection ended
	EventAnnounced                               // ANNOUNCED: the peer announced an address (ADD_ADDR)
	EventRemoved                                 // REMOVED: the peer withdrew an address (REMOVE_ADDR)
	EventSubflowEstablished                      // SF_ESTABLISHED: a subflow can carry data
	EventSubflowClosed                           // SF_CLOSED: a subflow ended
	EventSubflowPriority                         // SF_PRIORITY: a subflow's backup flag changed
)

var eventNames = [...]string{
	EventCreated:            "CREATED",
	EventEstablished:        "ESTABLISHED",
	EventClosed:             "CLOSED",
	EventAnnounced:          "ANNOUNCED",
	EventRemoved:            "REMOVED",
	EventSubflowEstablished: "SF_ESTABLISHED",
	EventSubflowClosed:      "SF_CLOSED",
	EventSubflowPriority:    "SF_PRIORITY",
}

// String returns the monitor's name of the event ("SF_ESTABLISHED").
func (t EventType) String() string {
	if int(t) < len(eventNames) && eventNames[t] != "" {
		return eventNames[t]
	}
	return "UNKNOWN"
}

// Event is one connection event, delivered synchronously to
// Config.Events by the goroutine driving the connection.
type Event struct {
	Type  EventType
	Token uint32 // the connection's local token
	// Subflow is set for SF_* events.
	Subflow *Subflow
	// RemoteID, Remote and RemotePort describe the address of
	// ANNOUNCED/REMOVED events (REMOVED carries only the id).
	RemoteID   uint8
	Remote     netip.Addr
	RemotePort uint16
}
