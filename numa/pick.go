package numa

import (
	"fmt"
	"slices"
)

// PickCPUs chooses n online CPUs for n workers that should run close to NUMA
// node (pass -1 when the node is unknown, e.g. a veth; then every node
// counts as close). CPUs listed in reserved are never chosen.
//
// The order of preference is:
//
//  1. CPUs on node whose physical core is not yet taken;
//  2. the remaining CPUs on node (SMT siblings of taken cores);
//  3. CPUs on other nodes whose physical core is not yet taken;
//  4. the remaining CPUs on other nodes.
//
// A physical core counts as taken once one of its CPUs is chosen or
// reserved, so workers do not share a core with each other or with the
// reserved CPUs' threads while a free core exists. Within a step CPUs are
// taken in ascending order. The result is in the order chosen.
//
// PickCPUs returns an error if fewer than n CPUs are online and not
// reserved.
func (t *Topology) PickCPUs(n, node int, reserved []int) ([]int, error) {
	if n < 0 {
		return nil, fmt.Errorf("numa: cannot pick %d CPUs: the worker count must be >= 0", n)
	}
	taken := make(map[coreKey]bool)
	used := make(map[int]bool, len(reserved)+n)
	for _, r := range reserved {
		used[r] = true
		if c, ok := t.CPU(r); ok {
			taken[coreKey{c.Package, c.Core}] = true
		}
	}
	if free := len(t.CPUs) - countOnline(t, used); free < n {
		return nil, fmt.Errorf("numa: need %d CPUs for workers but only %d of %d online CPUs are not reserved: use fewer workers or reserve fewer CPUs",
			n, free, len(t.Online))
	}
	picked := make([]int, 0, n)
	for step := 0; step < 4 && len(picked) < n; step++ {
		near := step < 2
		needFreeCore := step%2 == 0
		for _, c := range t.CPUs {
			if len(picked) == n {
				break
			}
			if used[c.ID] || (node >= 0 && (c.Node == node) != near) || (node < 0 && !near) {
				continue
			}
			k := coreKey{c.Package, c.Core}
			if needFreeCore && taken[k] {
				continue
			}
			used[c.ID] = true
			taken[k] = true
			picked = append(picked, c.ID)
		}
	}
	return picked, nil
}

// PickCPUsForNIC is PickCPUs near nic's NUMA node.
func (t *Topology) PickCPUsForNIC(nic *NIC, n int, reserved []int) ([]int, error) {
	return t.PickCPUs(n, nic.Node, reserved)
}

// countOnline counts the online CPUs in set.
func countOnline(t *Topology, set map[int]bool) int {
	k := 0
	for id := range set {
		if _, ok := slices.BinarySearch(t.Online, id); ok {
			k++
		}
	}
	return k
}

// OnlineExcept returns the online CPUs that are not in cpus, ascending. With
// the process's allowed CPUs (ThreadAffinity at start-up) it gives the CPUs
// to add to PickCPUs' reserved list so that workers stay inside the
// process's cpuset:
//
//	allowed, _ := numa.ThreadAffinity()
//	cpus, err := top.PickCPUs(n, nic.Node, append(reserved, top.OnlineExcept(allowed)...))
func (t *Topology) OnlineExcept(cpus []int) []int {
	out := make([]int, 0, len(t.Online))
	for _, c := range t.Online {
		if !slices.Contains(cpus, c) {
			out = append(out, c)
		}
	}
	return out
}
