package numa

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// CPU describes one online logical CPU.
type CPU struct {
	// ID is the kernel's CPU number.
	ID int
	// Core is the physical core id within its package (topology/core_id).
	// Core ids repeat across packages: compare (Package, Core) pairs.
	// When sysfs has no topology for the CPU, Core is the CPU's ID.
	Core int
	// Package is the physical package (socket) id
	// (topology/physical_package_id), 0 when unknown.
	Package int
	// Node is the NUMA node that holds the CPU, 0 on machines without NUMA
	// information, -1 if the machine has nodes but none lists this CPU.
	Node int
	// Siblings are the online CPUs sharing this CPU's physical core (SMT
	// threads), itself included, ascending.
	Siblings []int
}

// Node is one NUMA node.
type Node struct {
	// ID is the node number.
	ID int
	// CPUs are the node's online CPUs, ascending (may be empty for a
	// memory-only node).
	CPUs []int
}

// Topology is a snapshot of the machine's online CPUs and NUMA nodes.
type Topology struct {
	// Root is the sysfs root the snapshot was read from ("/sys" for System).
	Root string
	// Online are the online CPU numbers, ascending.
	Online []int
	// CPUs describes each online CPU, in the order of Online.
	CPUs []CPU
	// Nodes are the online NUMA nodes, ascending; a machine without NUMA
	// information has a single node 0 holding every online CPU.
	Nodes []Node
}

// System reads the topology of the running machine from /sys.
func System() (*Topology, error) { return Read("/sys") }

// Read reads the topology below the sysfs root sysfsRoot (normally "/sys";
// tests pass a fake tree). It needs devices/system/cpu/online; per-CPU
// topology files and the devices/system/node directory are optional and
// default as documented on CPU and Topology.
func Read(sysfsRoot string) (*Topology, error) {
	cpuDir := filepath.Join(sysfsRoot, "devices", "system", "cpu")
	online, err := readCPUList(filepath.Join(cpuDir, "online"))
	if err != nil {
		return nil, fmt.Errorf("numa: reading the online CPUs: %w (is sysfs mounted at %q?)", err, sysfsRoot)
	}
	if len(online) == 0 {
		return nil, fmt.Errorf("numa: %s lists no online CPU: the sysfs tree at %q is incomplete", filepath.Join(cpuDir, "online"), sysfsRoot)
	}
	t := &Topology{Root: sysfsRoot, Online: online, CPUs: make([]CPU, len(online))}
	for i, id := range online {
		c, err := readCPU(cpuDir, id)
		if err != nil {
			return nil, err
		}
		c.Siblings = intersect(c.Siblings, online)
		t.CPUs[i] = c
	}
	if err := t.readNodes(filepath.Join(sysfsRoot, "devices", "system", "node")); err != nil {
		return nil, err
	}
	return t, nil
}

// readCPU reads cpuN/topology, defaulting what is missing.
func readCPU(cpuDir string, id int) (CPU, error) {
	c := CPU{ID: id, Core: id, Siblings: []int{id}}
	top := filepath.Join(cpuDir, "cpu"+strconv.Itoa(id), "topology")
	if v, ok, err := readIntOpt(filepath.Join(top, "core_id")); err != nil {
		return c, err
	} else if ok {
		c.Core = v
	}
	if v, ok, err := readIntOpt(filepath.Join(top, "physical_package_id")); err != nil {
		return c, err
	} else if ok && v >= 0 {
		c.Package = v
	}
	// core_cpus_list is the current name; thread_siblings_list the old one.
	for _, name := range []string{"core_cpus_list", "thread_siblings_list"} {
		sib, err := readCPUList(filepath.Join(top, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return c, fmt.Errorf("numa: reading the SMT siblings of CPU %d: %w", id, err)
		}
		if !slices.Contains(sib, id) {
			return c, fmt.Errorf("numa: %s does not list CPU %d itself: the sysfs tree is inconsistent", filepath.Join(top, name), id)
		}
		c.Siblings = sib
		break
	}
	return c, nil
}

// readNodes fills t.Nodes and each CPU's Node from nodeDir.
func (t *Topology) readNodes(nodeDir string) error {
	ids, err := readCPUList(filepath.Join(nodeDir, "online"))
	if errors.Is(err, fs.ErrNotExist) {
		// No NUMA information (CONFIG_NUMA off, or a minimal container /sys).
		t.Nodes = []Node{{ID: 0, CPUs: slices.Clone(t.Online)}}
		return nil
	}
	if err != nil {
		return fmt.Errorf("numa: reading the online NUMA nodes: %w", err)
	}
	for i := range t.CPUs {
		t.CPUs[i].Node = -1
	}
	for _, id := range ids {
		cpus, err := readCPUList(filepath.Join(nodeDir, "node"+strconv.Itoa(id), "cpulist"))
		if err != nil {
			return fmt.Errorf("numa: reading the CPUs of NUMA node %d: %w", id, err)
		}
		cpus = intersect(cpus, t.Online)
		t.Nodes = append(t.Nodes, Node{ID: id, CPUs: cpus})
		for _, c := range cpus {
			if i, ok := slices.BinarySearch(t.Online, c); ok {
				t.CPUs[i].Node = id
			}
		}
	}
	return nil
}

// CPU returns the description of online CPU id, or false if id is not
// online.
func (t *Topology) CPU(id int) (CPU, bool) {
	i, ok := slices.BinarySearch(t.Online, id)
	if !ok {
		return CPU{}, false
	}
	return t.CPUs[i], true
}

// NodeOf returns the NUMA node of online CPU id, or -1 if id is not online
// or belongs to no node.
func (t *Topology) NodeOf(id int) int {
	c, ok := t.CPU(id)
	if !ok {
		return -1
	}
	return c.Node
}

// PhysicalCores returns the number of distinct physical cores among the
// online CPUs.
func (t *Topology) PhysicalCores() int {
	seen := make(map[coreKey]bool, len(t.CPUs))
	for _, c := range t.CPUs {
		seen[coreKey{c.Package, c.Core}] = true
	}
	return len(seen)
}

// coreKey identifies a physical core machine-wide.
type coreKey struct{ pkg, core int }

// readCPUList reads and parses a sysfs CPU (or node) list file.
func readCPUList(path string) ([]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	l, err := parseCPUList(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s holds %q: %w", path, strings.TrimSpace(string(b)), err)
	}
	return l, nil
}

// readIntOpt reads a file holding one decimal integer. A missing file is
// reported as ok == false, not as an error.
func readIntOpt(path string) (v int, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("numa: %w", err)
	}
	v, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, false, fmt.Errorf("numa: %s should hold one integer, has %q", path, strings.TrimSpace(string(b)))
	}
	return v, true, nil
}

// intersect returns the elements of sorted a that are also in sorted b.
func intersect(a, b []int) []int {
	out := make([]int, 0, len(a))
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); ok {
			out = append(out, x)
		}
	}
	return out
}

// String summarises the topology on one line for logs, e.g.
// "8 CPUs online (4 physical cores), 2 nodes: node0 0-1,4-5; node1 2-3,6-7".
func (t *Topology) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d CPUs online (%d physical cores), %d node", len(t.Online), t.PhysicalCores(), len(t.Nodes))
	if len(t.Nodes) != 1 {
		b.WriteByte('s')
	}
	for i, n := range t.Nodes {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "node%d %s", n.ID, FormatCPUList(n.CPUs))
	}
	return b.String()
}
