package afxdp

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeSysfs writes ROOT/class/net/NAME with mtu, ifindex and rx/tx queue dirs.
func fakeSysfs(t *testing.T, name string, mtu, rx, tx int) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "class", "net", name)
	for i := 0; i < rx; i++ {
		if err := os.MkdirAll(filepath.Join(dir, "queues", "rx-"+strconv.Itoa(i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < tx; i++ {
		if err := os.MkdirAll(filepath.Join(dir, "queues", "tx-"+strconv.Itoa(i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "mtu"), []byte(strconv.Itoa(mtu)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ifindex"), []byte("7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestValidate(t *testing.T) {
	std := fakeSysfs(t, "veth0", 1500, 4, 4)
	jumbo := fakeSysfs(t, "veth0", 9000, 1, 1)
	mid := fakeSysfs(t, "veth0", 3000, 1, 1)
	cases := []struct {
		name string
		c    Config
		want string // "" means valid; else a substring of the error
	}{
		{"defaults", Config{Interface: "veth0", SysfsRoot: std}, ""},
		{"explicit queues", Config{Interface: "veth0", SysfsRoot: std, Queues: []int{0, 3}}, ""},
		{"frame 2048", Config{Interface: "veth0", SysfsRoot: std, FrameSize: 2048}, ""},
		{"no interface", Config{SysfsRoot: std}, "Config.Interface is empty"},
		{"missing interface", Config{Interface: "eth9", SysfsRoot: std}, `interface "eth9" not found`},
		{"bad interface name", Config{Interface: "../x", SysfsRoot: std}, "invalid"},
		{"frame not pow2", Config{Interface: "veth0", SysfsRoot: std, FrameSize: 3000}, "Config.FrameSize 3000"},
		{"frame too small", Config{Interface: "veth0", SysfsRoot: std, FrameSize: 1024}, "Config.FrameSize 1024"},
		{"frame too big", Config{Interface: "veth0", SysfsRoot: std, FrameSize: 1 << 20}, "Config.FrameSize"},
		{"headroom", Config{Interface: "veth0", SysfsRoot: std, FrameSize: 2048, FrameHeadroom: 1800}, "Config.FrameHeadroom"},
		{"fill not pow2", Config{Interface: "veth0", SysfsRoot: std, FillSize: 1000}, "Config.FillSize 1000"},
		{"comp not pow2", Config{Interface: "veth0", SysfsRoot: std, CompletionSize: 3}, "Config.CompletionSize 3"},
		{"rx not pow2", Config{Interface: "veth0", SysfsRoot: std, RxSize: 100}, "Config.RxSize 100"},
		{"tx not pow2", Config{Interface: "veth0", SysfsRoot: std, TxSize: 6}, "Config.TxSize 6"},
		{"queue beyond", Config{Interface: "veth0", SysfsRoot: std, Queues: []int{4}}, "queue 4 does not exist"},
		{"negative queue", Config{Interface: "veth0", SysfsRoot: std, Queues: []int{-1}}, "Config.Queues contains -1"},
		{"duplicate queue", Config{Interface: "veth0", SysfsRoot: std, Queues: []int{1, 1}}, "queue 1 twice"},
		{"bad mode", Config{Interface: "veth0", SysfsRoot: std, Mode: 9}, "Config.Mode 9"},
		{"bad attach", Config{Interface: "veth0", SysfsRoot: std, Attach: 9}, "Config.Attach 9"},
		{"budget over ring", Config{Interface: "veth0", SysfsRoot: std, TxSize: 128, TxBudget: 256}, "Config.TxBudget 256"},
		{"budget too small", Config{Interface: "veth0", SysfsRoot: std, TxBudget: 16}, "Config.TxBudget 16"},
		{"budget 32", Config{Interface: "veth0", SysfsRoot: std, TxBudget: 32}, ""},
		{"frames below fill", Config{Interface: "veth0", SysfsRoot: std, NumFrames: 100}, "Config.NumFrames 100"},
		{"jumbo without mb", Config{Interface: "veth0", SysfsRoot: jumbo}, "set Config.MultiBuffer"},
		{"jumbo with mb", Config{Interface: "veth0", SysfsRoot: jumbo, MultiBuffer: true}, ""},
		{"jumbo mb native", Config{Interface: "veth0", SysfsRoot: jumbo, MultiBuffer: true, Attach: AttachNative}, ""},
		{"3000 fits 4096 frames", Config{Interface: "veth0", SysfsRoot: mid}, ""},
		{"3000 needs more than 2048", Config{Interface: "veth0", SysfsRoot: mid, FrameSize: 2048}, "MTU 3000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate passed, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %q does not contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "afxdp: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

// TestValidateLinkNative covers the native-mode MTU limit, which frame sizes
// alone cannot trigger on 4 KiB pages.
func TestValidateLinkNative(t *testing.T) {
	c := Config{Interface: "x", Attach: AttachNative, FrameSize: 4096}.WithDefaults()
	l := linkFacts{Name: "x", MTU: 3600, RxQueues: 1, TxQueues: 1}
	c.FrameHeadroom = 0
	// 3600+14 fits a 4096-byte frame (3840 bytes after the headroom) but not native linear XDP.
	if _, err := c.validateLink(l); err == nil || !strings.Contains(err.Error(), "native XDP without multi-buffer") {
		t.Fatalf("MTU 3600 native: %v", err)
	}
	c.Attach = AttachGeneric
	if _, err := c.validateLink(l); err != nil {
		t.Fatalf("MTU 3600 generic: %v", err)
	}
	c.Attach = AttachNative
	l.MTU = NativeLinearMaxMTU
	if _, err := c.validateLink(l); err != nil {
		t.Fatalf("MTU %d native: %v", NativeLinearMaxMTU, err)
	}
	q, err := c.validateLink(linkFacts{MTU: 1500, RxQueues: 3})
	if err != nil || len(q) != 3 || q[0] != 0 || q[2] != 2 {
		t.Fatalf("nil Queues should mean all 3 queues: %v %v", q, err)
	}
	if _, err := c.validateLink(linkFacts{MTU: 1500}); err == nil {
		t.Fatal("a device without RX queues passed")
	}
}

func TestWithDefaults(t *testing.T) {
	c := Config{Interface: "x"}.WithDefaults()
	if c.FrameSize != DefaultFrameSize || c.FillSize != DefaultRingSize || c.CompletionSize != DefaultRingSize ||
		c.RxSize != DefaultRingSize || c.TxSize != DefaultRingSize || c.SysfsRoot != "/sys" {
		t.Fatalf("defaults not applied: %+v", c)
	}
	if c.Mode != ModeAuto || c.Attach != AttachAuto || c.DisableNeedWakeup {
		t.Fatalf("mode defaults wrong: %+v", c)
	}
	k := Config{Interface: "x", FrameSize: 2048, RxSize: 512}.WithDefaults()
	if k.FrameSize != 2048 || k.RxSize != 512 {
		t.Fatalf("explicit values overwritten: %+v", k)
	}
	u := Config{Interface: "x"}.UMEMConfig(3)
	if u.NumFrames != 3*DefaultFramesPerQ || u.FrameSize != DefaultFrameSize {
		t.Fatalf("UMEMConfig(3) = %+v", u)
	}
}

func TestModeStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{ModeAuto.String(), "auto"}, {ModeCopy.String(), "copy"}, {ModeZeroCopy.String(), "zero-copy"}, {Mode(7).String(), "Mode(7)"},
		{AttachAuto.String(), "auto"}, {AttachNative.String(), "native"}, {AttachGeneric.String(), "generic"}, {AttachMode(5).String(), "AttachMode(5)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
