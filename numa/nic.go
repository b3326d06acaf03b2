package numa

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// NIC describes where a network interface sits and how many queues it has.
type NIC struct {
	// Name is the interface name, as given.
	Name string
	// Node is the NUMA node of the interface's device, or -1 if unknown:
	// the device reports -1, has no numa_node file, or the interface has no
	// device at all (veth, bridges, loopback).
	Node int
	// HasDevice reports whether the interface is backed by a device
	// (class/net/<name>/device exists); false for virtual interfaces.
	HasDevice bool
	// RXQueues and TXQueues count the queues in class/net/<name>/queues.
	// An AF_XDP socket binds to one (interface, queue) pair.
	RXQueues, TXQueues int
}

// ReadNIC reads what sysfs below sysfsRoot says about interface name:
// class/net/<name>/device/numa_node and the rx-*/tx-* entries of
// class/net/<name>/queues.
func ReadNIC(sysfsRoot, name string) (*NIC, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return nil, fmt.Errorf("numa: %q is not a valid interface name: check the name with `ip link`", name)
	}
	dir := filepath.Join(sysfsRoot, "class", "net", name)
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("numa: interface %q not found (no %s): check the name with `ip link`, and run in the interface's network namespace", name, dir)
		}
		return nil, fmt.Errorf("numa: interface %q: %w", name, err)
	}
	n := &NIC{Name: name, Node: -1}
	if st, err := os.Stat(filepath.Join(dir, "device")); err == nil && st.IsDir() {
		n.HasDevice = true
		v, ok, err := readIntOpt(filepath.Join(dir, "device", "numa_node"))
		if err != nil {
			return nil, err
		}
		if ok && v >= 0 {
			n.Node = v
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, "queues"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("numa: listing the queues of interface %q: %w", name, err)
	}
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "rx-"):
			n.RXQueues++
		case strings.HasPrefix(e.Name(), "tx-"):
			n.TXQueues++
		}
	}
	return n, nil
}

// NIC reads interface name from the sysfs tree t was read from.
func (t *Topology) NIC(name string) (*NIC, error) { return ReadNIC(t.Root, name) }
