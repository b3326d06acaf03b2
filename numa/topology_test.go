package numa

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func readTree(t *testing.T, name string) *Topology {
	t.Helper()
	top, err := Read(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("Read(testdata/%s): %v", name, err)
	}
	return top
}

func TestReadOneNode(t *testing.T) {
	top := readTree(t, "one-node-2cpu")
	want := &Topology{
		Root:   filepath.Join("testdata", "one-node-2cpu"),
		Online: []int{0, 1},
		CPUs: []CPU{
			{ID: 0, Core: 0, Package: 0, Node: 0, Siblings: []int{0}},
			{ID: 1, Core: 1, Package: 0, Node: 0, Siblings: []int{1}},
		},
		Nodes: []Node{{ID: 0, CPUs: []int{0, 1}}},
	}
	if !reflect.DeepEqual(top, want) {
		t.Fatalf("got  %+v\nwant %+v", top, want)
	}
	if top.PhysicalCores() != 2 {
		t.Errorf("PhysicalCores = %d, want 2", top.PhysicalCores())
	}
}

func TestReadTwoNodesSMT(t *testing.T) {
	top := readTree(t, "two-node-8cpu-smt")
	// CPUs i and i+4 are SMT siblings; CPUs 0,1,4,5 are package/node 0 and
	// 2,3,6,7 package/node 1; core ids restart at 0 in each package.
	wantCPUs := []CPU{
		{ID: 0, Core: 0, Package: 0, Node: 0, Siblings: []int{0, 4}},
		{ID: 1, Core: 1, Package: 0, Node: 0, Siblings: []int{1, 5}},
		{ID: 2, Core: 0, Package: 1, Node: 1, Siblings: []int{2, 6}},
		{ID: 3, Core: 1, Package: 1, Node: 1, Siblings: []int{3, 7}},
		{ID: 4, Core: 0, Package: 0, Node: 0, Siblings: []int{0, 4}},
		{ID: 5, Core: 1, Package: 0, Node: 0, Siblings: []int{1, 5}},
		{ID: 6, Core: 0, Package: 1, Node: 1, Siblings: []int{2, 6}},
		{ID: 7, Core: 1, Package: 1, Node: 1, Siblings: []int{3, 7}},
	}
	if !reflect.DeepEqual(top.CPUs, wantCPUs) {
		t.Fatalf("CPUs:\ngot  %+v\nwant %+v", top.CPUs, wantCPUs)
	}
	wantNodes := []Node{{ID: 0, CPUs: []int{0, 1, 4, 5}}, {ID: 1, CPUs: []int{2, 3, 6, 7}}}
	if !reflect.DeepEqual(top.Nodes, wantNodes) {
		t.Fatalf("Nodes = %+v, want %+v", top.Nodes, wantNodes)
	}
	if top.PhysicalCores() != 4 {
		t.Errorf("PhysicalCores = %d, want 4 (core ids repeat across packages)", top.PhysicalCores())
	}
	if n := top.NodeOf(6); n != 1 {
		t.Errorf("NodeOf(6) = %d, want 1", n)
	}
	if n := top.NodeOf(8); n != -1 {
		t.Errorf("NodeOf(8) = %d, want -1 for a CPU that does not exist", n)
	}
	if _, ok := top.CPU(8); ok {
		t.Error("CPU(8) found a CPU that does not exist")
	}
}

func TestReadNoNodeDirOfflineCPU(t *testing.T) {
	top := readTree(t, "no-node-offline-cpu")
	want := &Topology{
		Root:   filepath.Join("testdata", "no-node-offline-cpu"),
		Online: []int{0, 2, 3},
		CPUs: []CPU{
			{ID: 0, Core: 0, Package: 0, Node: 0, Siblings: []int{0}},
			{ID: 2, Core: 2, Package: 0, Node: 0, Siblings: []int{2}},
			// No topology directory: defaults.
			{ID: 3, Core: 3, Package: 0, Node: 0, Siblings: []int{3}},
		},
		Nodes: []Node{{ID: 0, CPUs: []int{0, 2, 3}}},
	}
	if !reflect.DeepEqual(top, want) {
		t.Fatalf("got  %+v\nwant %+v", top, want)
	}
	if _, ok := top.CPU(1); ok {
		t.Error("CPU(1) found an offline CPU")
	}
}

// writeTree creates a sysfs tree from path -> content under a temporary
// directory and returns its root.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestReadErrors(t *testing.T) {
	const cpu = "devices/system/cpu/"
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no sysfs", map[string]string{"x": ""}, "is sysfs mounted"},
		{"bad online", map[string]string{cpu + "online": "0-x\n"}, `"0-x"`},
		{"no online CPU", map[string]string{cpu + "online": "\n"}, "no online CPU"},
		{"bad core_id", map[string]string{cpu + "online": "0\n", cpu + "cpu0/topology/core_id": "zero\n"}, "core_id should hold one integer"},
		{"siblings without self", map[string]string{cpu + "online": "0-1\n", cpu + "cpu0/topology/core_cpus_list": "1\n"}, "does not list CPU 0 itself"},
		{"bad siblings", map[string]string{cpu + "online": "0\n", cpu + "cpu0/topology/thread_siblings_list": "0-\n"}, "SMT siblings of CPU 0"},
		{"missing node cpulist", map[string]string{cpu + "online": "0\n", "devices/system/node/online": "0-1\n", "devices/system/node/node0/cpulist": "0\n"}, "CPUs of NUMA node 1"},
	} {
		_, err := Read(writeTree(t, c.files))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "numa: ") {
			t.Errorf("%s: error %v, want one starting \"numa: \" and containing %q", c.name, err, c.want)
		}
	}
}

func TestReadCPUWithoutNode(t *testing.T) {
	root := writeTree(t, map[string]string{
		"devices/system/cpu/online":                "0-1\n",
		"devices/system/node/online":               "0\n",
		"devices/system/node/node0/cpulist":        "0\n",
		"devices/system/node/has_memory":           "0\n",
		"devices/system/cpu/cpu1/topology/core_id": "1\n",
	})
	top, err := Read(root)
	if err != nil {
		t.Fatal(err)
	}
	if top.NodeOf(0) != 0 || top.NodeOf(1) != -1 {
		t.Fatalf("NodeOf(0), NodeOf(1) = %d, %d; want 0, -1", top.NodeOf(0), top.NodeOf(1))
	}
}

// TestSystem reads the live /sys and checks it for internal consistency
// and against what the runtime sees.
func TestSystem(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sysfs topology exists only on Linux")
	}
	top, err := System()
	if err != nil {
		t.Fatal(err)
	}
	if top.Root != "/sys" {
		t.Errorf("Root = %q", top.Root)
	}
	if n := runtime.NumCPU(); n > len(top.Online) {
		t.Errorf("the runtime may use %d CPUs but sysfs lists only %d online", n, len(top.Online))
	}
	var inNodes []int
	for _, n := range top.Nodes {
		inNodes = append(inNodes, n.CPUs...)
	}
	slices.Sort(inNodes)
	if !slices.Equal(inNodes, top.Online) {
		t.Errorf("node CPU lists %v do not cover the online CPUs %v exactly", inNodes, top.Online)
	}
	for i, c := range top.CPUs {
		if c.ID != top.Online[i] || !slices.Contains(c.Siblings, c.ID) {
			t.Errorf("CPU entry %d = %+v is inconsistent with Online %v", i, c, top.Online)
		}
	}
	if pc := top.PhysicalCores(); pc < 1 || pc > len(top.Online) {
		t.Errorf("PhysicalCores = %d with %d online CPUs", pc, len(top.Online))
	}
}

func TestTopologyString(t *testing.T) {
	for tree, want := range map[string]string{
		"two-node-8cpu-smt":   "8 CPUs online (4 physical cores), 2 nodes: node0 0-1,4-5; node1 2-3,6-7",
		"one-node-2cpu":       "2 CPUs online (2 physical cores), 1 node: node0 0-1",
		"no-node-offline-cpu": "3 CPUs online (3 physical cores), 1 node: node0 0,2-3",
	} {
		if got := readTree(t, tree).String(); got != want {
			t.Errorf("%s: String() = %q, want %q", tree, got, want)
		}
	}
}
