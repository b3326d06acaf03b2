package numa

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestPickCPUsGolden(t *testing.T) {
	two := readTree(t, "two-node-8cpu-smt")
	one := readTree(t, "one-node-2cpu")
	for _, c := range []struct {
		name     string
		top      *Topology
		n, node  int
		reserved []int
		want     []int
	}{
		{"none", two, 0, 1, nil, []int{}},
		{"free cores on node first", two, 2, 1, nil, []int{2, 3}},
		{"then siblings on node", two, 4, 1, nil, []int{2, 3, 6, 7}},
		{"then free cores elsewhere", two, 6, 1, nil, []int{2, 3, 6, 7, 0, 1}},
		{"all", two, 8, 1, nil, []int{2, 3, 6, 7, 0, 1, 4, 5}},
		{"node 0", two, 3, 0, nil, []int{0, 1, 4}},
		{"unknown node: distinct cores anywhere", two, 4, -1, nil, []int{0, 1, 2, 3}},
		{"unknown node: then siblings", two, 5, -1, nil, []int{0, 1, 2, 3, 4}},
		{"reserved CPU's core counts as taken", two, 2, 1, []int{2}, []int{3, 6}},
		{"reserved core elsewhere pushes to other cores", two, 3, 0, []int{0}, []int{1, 4, 5}},
		{"reserved offline or unknown CPUs are ignored", two, 2, 1, []int{42, -1}, []int{2, 3}},
		{"duplicate reservations", two, 6, 1, []int{0, 0, 0}, []int{2, 3, 6, 7, 1, 4}},
		{"one node", one, 2, 0, nil, []int{0, 1}},
		{"one node, reserve 0", one, 1, 0, []int{0}, []int{1}},
	} {
		got, err := c.top.PickCPUs(c.n, c.node, c.reserved)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: PickCPUs(%d, %d, %v) = %v, want %v", c.name, c.n, c.node, c.reserved, got, c.want)
		}
	}
	nic, err := two.NIC("eth1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := two.PickCPUsForNIC(nic, 2, nil); err != nil || !slices.Equal(got, []int{2, 3}) {
		t.Errorf("PickCPUsForNIC(eth1 on node 1, 2) = %v, %v; want [2 3]", got, err)
	}
}

func TestPickCPUsErrors(t *testing.T) {
	two := readTree(t, "two-node-8cpu-smt")
	if _, err := two.PickCPUs(9, 0, nil); err == nil || !strings.Contains(err.Error(), "need 9 CPUs") {
		t.Errorf("9 workers on 8 CPUs: error %v", err)
	}
	if _, err := two.PickCPUs(7, 0, []int{1, 2}); err == nil || !strings.Contains(err.Error(), "only 6 of 8") {
		t.Errorf("7 workers with 2 of 8 reserved: error %v", err)
	}
	if _, err := two.PickCPUs(-1, 0, nil); err == nil {
		t.Error("a negative worker count was accepted")
	}
}

// TestPickCPUsProperties checks the rules on random requests: the right
// count, no duplicates, nothing reserved or offline, near CPUs before far
// ones, and no shared physical core while a free one was available.
func TestPickCPUsProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, tree := range []string{"one-node-2cpu", "two-node-8cpu-smt", "no-node-offline-cpu"} {
		top := readTree(t, tree)
		for i := 0; i < 500; i++ {
			var reserved []int
			for _, c := range top.Online {
				if rng.UintN(4) == 0 {
					reserved = append(reserved, c)
				}
			}
			free := len(top.Online) - len(reserved)
			n := int(rng.UintN(uint(free + 1)))
			node := int(rng.UintN(3)) - 1
			got, err := top.PickCPUs(n, node, reserved)
			if err != nil {
				t.Fatalf("%s: PickCPUs(%d, %d, %v): %v", tree, n, node, reserved, err)
			}
			if len(got) != n {
				t.Fatalf("%s: got %d CPUs, want %d", tree, len(got), n)
			}
			taken := map[coreKey]bool{}
			for _, r := range reserved {
				c, _ := top.CPU(r)
				taken[coreKey{c.Package, c.Core}] = true
			}
			seen := map[int]bool{}
			farSeen := false
			for _, id := range got {
				c, ok := top.CPU(id)
				if !ok || seen[id] || slices.Contains(reserved, id) {
					t.Fatalf("%s: picked %v: CPU %d is offline, repeated or reserved (reserved %v)", tree, got, id, reserved)
				}
				seen[id] = true
				far := node >= 0 && c.Node != node
				if !far && farSeen {
					t.Fatalf("%s: picked %v for node %d: a near CPU after a far one", tree, got, node)
				}
				farSeen = farSeen || far
				k := coreKey{c.Package, c.Core}
				if taken[k] {
					// Sharing a core is allowed only if no untaken core
					// in the same distance class was left.
					for _, o := range top.CPUs {
						ok := node < 0 || (o.Node == node) == !far
						if ok && !seen[o.ID] && !slices.Contains(reserved, o.ID) && !taken[coreKey{o.Package, o.Core}] {
							t.Fatalf("%s: picked %v (node %d, reserved %v): CPU %d shares a taken core while CPU %d had a free one",
								tree, got, node, reserved, id, o.ID)
						}
					}
				}
				taken[k] = true
			}
		}
	}
}

func TestOnlineExcept(t *testing.T) {
	two := readTree(t, "two-node-8cpu-smt")
	if got := two.OnlineExcept([]int{6, 0, 2, 99}); !slices.Equal(got, []int{1, 3, 4, 5, 7}) {
		t.Errorf("OnlineExcept([6 0 2 99]) = %v, want [1 3 4 5 7]", got)
	}
	if got := two.OnlineExcept(nil); !slices.Equal(got, two.Online) {
		t.Errorf("OnlineExcept(nil) = %v, want all online %v", got, two.Online)
	}
	// Only CPUs 2 and 3 allowed: workers must land there even for node 0.
	got, err := two.PickCPUs(2, 0, two.OnlineExcept([]int{2, 3}))
	if err != nil || !slices.Equal(got, []int{2, 3}) {
		t.Errorf("PickCPUs inside allowed {2,3} = %v, %v", got, err)
	}
}
