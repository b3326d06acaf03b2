package afxdp

import (
	"encoding/binary"
	"fmt"
	"syscall"
)

// Link attributes not named by package syscall.
const (
	iflaXDP         = 43
	iflaNumTxQueues = 31
	iflaNumRxQueues = 32
	iflaXDPAttached = 2
	iflaXDPProgID   = 4
)

// XDPState is what netlink reports about XDP on a device.
type XDPState struct {
	// Attached is the kernel's XDP_ATTACHED_* value: 0 none, 1 native
	// (driver), 2 generic (skb), 3 offloaded, 4 several.
	Attached uint8
	// ProgID is the attached program's id (0 when none or several).
	ProgID uint32
}

// netlinkLink dumps the links of the calling thread's network namespace and
// returns the facts of the named one and its XDP state.
func netlinkLink(name string) (linkFacts, XDPState, error) {
	rib, err := syscall.NetlinkRIB(syscall.RTM_GETLINK, syscall.AF_UNSPEC)
	if err != nil {
		return linkFacts{}, XDPState{}, fmt.Errorf("afxdp: netlink link dump failed: %v", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return linkFacts{}, XDPState{}, fmt.Errorf("afxdp: parsing the netlink link dump: %v", err)
	}
	for _, m := range msgs {
		if m.Header.Type != syscall.RTM_NEWLINK || len(m.Data) < syscall.SizeofIfInfomsg {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			continue
		}
		var l linkFacts
		var x XDPState
		for _, a := range attrs {
			switch a.Attr.Type {
			case syscall.IFLA_IFNAME:
				b := a.Value
				for len(b) > 0 && b[len(b)-1] == 0 {
					b = b[:len(b)-1]
				}
				l.Name = string(b)
			case syscall.IFLA_MTU:
				l.MTU = int(u32(a.Value))
			case iflaNumRxQueues:
				l.RxQueues = int(u32(a.Value))
			case iflaNumTxQueues:
				l.TxQueues = int(u32(a.Value))
			case iflaXDP:
				x = parseXDPAttr(a.Value)
			}
		}
		if l.Name != name {
			continue
		}
		l.Index = int(int32(binary.NativeEndian.Uint32(m.Data[4:8])))
		// IFLA_NUM_*_QUEUES are the allocated queues; the driver's channel
		// counts are the ones in use (a veth made without numrxqueues has
		// several allocated but one in use).
		if rx, tx, err := channelCounts(name); err == nil && rx > 0 {
			l.RxQueues, l.TxQueues = rx, tx
		}
		return l, x, nil
	}
	return linkFacts{}, XDPState{}, fmt.Errorf("afxdp: interface %q not found in this network namespace: check the name with `ip link`", name)
}

func u32(b []byte) uint32 {
	if len(b) < 4 {
		return 0
	}
	return binary.NativeEndian.Uint32(b)
}

// parseXDPAttr walks the attributes nested in IFLA_XDP.
func parseXDPAttr(b []byte) XDPState {
	var x XDPState
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		t := binary.NativeEndian.Uint16(b[2:4]) & 0x3fff
		if l < 4 || l > len(b) {
			break
		}
		v := b[4:l]
		switch t {
		case iflaXDPAttached:
			if len(v) >= 1 {
				x.Attached = v[0]
			}
		case iflaXDPProgID:
			x.ProgID = u32(v)
		}
		adv := (l + 3) &^ 3
		if adv > len(b) {
			break
		}
		b = b[adv:]
	}
	return x
}

// LinkXDP reports the XDP state of the named device in the calling thread's
// network namespace (what `ip link show` prints as xdp/xdpgeneric).
func LinkXDP(name string) (XDPState, error) {
	_, x, err := netlinkLink(name)
	return x, err
}
