package afxdp

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/mpxdp/mpxdp/internal/testbed"
)

// requireRoot skips t unless the process is root; why says what needs it.
func requireRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root " + why)
	}
}

func TestLoadProgram(t *testing.T) {
	requireRoot(t, "(CAP_BPF, CAP_NET_ADMIN) to load XDP programs and XSKMAPs")
	for _, frags := range []bool{false, true} {
		p, err := LoadProgram(8, frags)
		if err != nil {
			t.Fatalf("LoadProgram(frags=%v): %v", frags, err)
		}
		if p.Frags() != frags || p.Mode() != AttachAuto {
			t.Fatalf("frags %v mode %v", p.Frags(), p.Mode())
		}
		if err := p.Unregister(3); err != nil {
			t.Fatalf("Unregister of an empty slot: %v", err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadProgram(0, false); err == nil {
		t.Fatal("LoadProgram(0) succeeded")
	}
}

// TestLoadErrorHasVerifierLog feeds the loader a program that returns an
// unset R0: the error must carry the verifier's complaint.
func TestLoadErrorHasVerifierLog(t *testing.T) {
	requireRoot(t, "(CAP_BPF, CAP_NET_ADMIN) to load XDP programs and XSKMAPs")
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.XSKMap, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	bad := asm.Instructions{
		asm.LoadMapPtr(asm.R1, 0).WithReference("xsks"),
		asm.Return(), // R0 never written
	}
	_, err = loadXDP(bad, m, false)
	if err == nil {
		t.Fatal("the verifier accepted a program returning an unset R0")
	}
	if !strings.HasPrefix(err.Error(), "afxdp: loading the XDP redirect program failed") || !strings.Contains(err.Error(), "R0") {
		t.Fatalf("error lacks the verifier log: %v", err)
	}
}

// TestStatsAndBudget: XDP_MAX_TX_SKB_BUDGET 256 is accepted, the TX ring of a
// copy-mode socket asks for kicks, and XDP_STATISTICS counts the packets
// that found the fill ring empty.
func TestStatsAndBudget(t *testing.T) {
	p := newTestPair(t, testbed.LinkOpts{}, false)
	port := p.open(t, Config{Mode: ModeCopy, Attach: AttachNative, TxBudget: 256, NumFrames: 4096})
	s := port.Sockets[0]
	if !s.Tx().NeedsWakeup() {
		t.Error("copy-mode TX ring does not ask for a kick (XDP_RING_NEED_WAKEUP clear)")
	}
	// Nothing on the fill ring: arriving packets must be counted as drops.
	c := p.peerUDP(t)
	dst := &net.UDPAddr{IP: net.IPv4(10, 77, 0, 1), Port: 9999}
	var st Stats
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.WriteTo([]byte("no frames for you"), dst)
		var err error
		if st, err = s.Stats(); err != nil {
			t.Fatal(err)
		}
		if st.RxFillRingEmptyDescs > 0 || st.RxDropped > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st.RxFillRingEmptyDescs == 0 && st.RxDropped == 0 {
		t.Fatalf("packets arrived with an empty fill ring but stats show no drop: %+v", st)
	}
	if s.Receive(make([]Desc, 4)) != 0 {
		t.Fatal("received a packet although no frame was ever given to the kernel")
	}
	t.Logf("stats with an empty fill ring: %+v", st)
}
