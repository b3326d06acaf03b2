package mptcp

import "net/netip"

// ADD_ADDR lengths (RFC 8684 §3.4.1). The IP version and the presence of
// the port follow from the length; the HMAC is present unless E is set.
const (
	AddAddrLenV4Echo     = 8
	AddAddrLenV4PortEcho = 10
	AddAddrLenV4         = 16
	AddAddrLenV4Port     = 18
	AddAddrLenV6Echo     = 20
	AddAddrLenV6PortEcho = 22
	AddAddrLenV6         = 28
	AddAddrLenV6Port     = 30
)

// AddAddr is the ADD_ADDR option: announce (or, with Echo, acknowledge the
// announcement of) an address the sender can be reached at.
type AddAddr struct {
	Echo    bool       // E: this echoes a received ADD_ADDR; no HMAC
	ID      uint8      // address id
	Addr    netip.Addr // IPv4 (4 bytes on the wire) or IPv6 (16 bytes)
	HasPort bool       // a port is present
	Port    uint16     // port, when HasPort
	HMAC    uint64     // rightmost 64 bits of the HMAC, when !Echo (see AddAddrHMAC)
}

// Size returns the option's length on the wire.
func (a *AddAddr) Size() int { return addAddrLen(!a.Addr.Is4(), a.HasPort, a.Echo) }

// addAddrLen is the length of an ADD_ADDR with an IPv6 (else IPv4) address,
// with or without a port, and with (echo false) or without an HMAC.
func addAddrLen(v6, port, echo bool) int {
	n := 4 + 4
	if v6 {
		n = 4 + 16
	}
	if port {
		n += 2
	}
	if !echo {
		n += 8
	}
	return n
}

// Write serialises the option into b (at least Size bytes) and returns the
// number of bytes written. An IPv4-mapped IPv6 address is written as IPv6;
// an invalid Addr is written as the IPv6 unspecified address.
func (a *AddAddr) Write(b []byte) int {
	n := a.Size()
	_ = b[n-1]
	var low uint8
	if a.Echo {
		low = 1
	}
	putHeader(b, n, SubtypeAddAddr, low)
	b[3] = a.ID
	i := 4
	if a.Addr.Is4() {
		v := a.Addr.As4()
		copy(b[i:], v[:])
		i += 4
	} else {
		v := a.Addr.As16()
		copy(b[i:], v[:])
		i += 16
	}
	if a.HasPort {
		be.PutUint16(b[i:], a.Port)
		i += 2
	}
	if !a.Echo {
		be.PutUint64(b[i:], a.HMAC)
		i += 8
	}
	return i
}

func (a *AddAddr) parse(b []byte) error {
	*a = AddAddr{}
	echo := b[2]&1 != 0
	var v6 bool
	switch len(b) {
	case AddAddrLenV4Echo, AddAddrLenV4PortEcho, AddAddrLenV4, AddAddrLenV4Port:
	case AddAddrLenV6Echo, AddAddrLenV6PortEcho, AddAddrLenV6, AddAddrLenV6Port:
		v6 = true
	default:
		return ErrLength
	}
	// The E flag decides whether the HMAC is there; the length must agree.
	port := len(b) == addAddrLen(v6, true, echo)
	if !port && len(b) != addAddrLen(v6, false, echo) {
		return ErrLength
	}
	a.Echo, a.HasPort = echo, port
	a.ID = b[3]
	i := 4
	if v6 {
		a.Addr = netip.AddrFrom16([16]byte(b[i : i+16]))
		i += 16
	} else {
		a.Addr = netip.AddrFrom4([4]byte(b[i : i+4]))
		i += 4
	}
	if a.HasPort {
		a.Port = be.Uint16(b[i:])
		i += 2
	}
	if !a.Echo {
		a.HMAC = be.Uint64(b[i:])
	}
	return nil
}

// ParseAddAddr parses an ADD_ADDR option at the start of b.
func ParseAddAddr(b []byte) (AddAddr, error) {
	var a AddAddr
	err := parseAs(b, SubtypeAddAddr, a.parse)
	return a, err
}

// MaxRemoveAddrIDs is the most address ids one REMOVE_ADDR can carry in a
// 40-byte TCP option area.
const MaxRemoveAddrIDs = MaxTCPOptionSpace - 3

// RemoveAddr is the REMOVE_ADDR option: the sender withdraws the listed
// address ids. IDs aliases the parsed buffer; copy it to keep it.
type RemoveAddr struct {
	IDs []uint8 // at least one id
}

// Size returns the option's length on the wire.
func (r *RemoveAddr) Size() int { return 3 + len(r.IDs) }

// Write serialises the option into b (at least Size bytes) and returns the
// number of bytes written.
func (r *RemoveAddr) Write(b []byte) int {
	n := r.Size()
	_ = b[n-1]
	putHeader(b, n, SubtypeRemoveAddr, 0)
	copy(b[3:], r.IDs)
	return n
}

func (r *RemoveAddr) parse(b []byte) error {
	r.IDs = nil
	if len(b) < 4 {
		return ErrLength
	}
	r.IDs = b[3:len(b):len(b)]
	return nil
}

// ParseRemoveAddr parses a REMOVE_ADDR option at the start of b.
func ParseRemoveAddr(b []byte) (RemoveAddr, error) {
	var r RemoveAddr
	err := parseAs(b, SubtypeRemoveAddr, r.parse)
	return r, err
}
