package pm

import (
	"net/netip"
	"testing"
	"time"
)

var (
	cl0 = netip.MustParseAddr("10.0.0.1")
	cl1 = netip.MustParseAddr("10.0.1.1")
	cl2 = netip.MustParseAddr("10.0.2.1")
	sv0 = netip.AddrPortFrom(netip.MustParseAddr("10.1.0.1"), 80)
	sv1 = netip.MustParseAddr("10.1.1.1")
)

func TestServerAnnouncesSignalEndpoints(t *testing.T) {
	m, err := New(Config{Role: Server, Endpoints: []Endpoint{
		{ID: 1, Addr: sv1, Flags: Signal, Ifname: "veth1"},
		{ID: 2, Addr: netip.MustParseAddr("10.1.2.1"), Flags: Subflow},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if a := m.Poll(0, nil); len(a) != 0 {
		t.Fatalf("actions before establishment: %v", a)
	}
	m.Established(netip.AddrPortFrom(sv0.Addr(), 80), netip.AddrPortFrom(cl0, 40000), 0)
	a := m.Poll(0, nil)
	if len(a) != 1 || a[0].Kind != Announce || a[0].Local.ID != 1 || a[0].Local.Ifname != "veth1" {
		t.Fatalf("actions %+v, want one Announce of id 1", a)
	}
	if a := m.Poll(time.Second, nil); len(a) != 0 {
		t.Fatalf("announced twice: %v", a)
	}
	m.Withdraw(1)
	if a := m.Poll(time.Second, nil); len(a) != 1 || a[0].Kind != Withdraw {
		t.Fatalf("withdraw: %v", a)
	}
}

func TestClientSubflowEndpointsAndLimits(t *testing.T) {
	m, _ := New(Config{Role: Client, Limits: Limits{Subflows: 1, AddAddrAccepted: 1}, Endpoints: []Endpoint{
		{ID: 1, Addr: cl1, Flags: Subflow | Backup},
		{ID: 2, Addr: cl2, Flags: Subflow},
	}})
	m.Established(netip.AddrPortFrom(cl0, 40000), sv0, 0)
	a := m.Poll(0, nil)
	if len(a) != 1 || a[0].Kind != OpenSubflow || a[0].Local.Addr != cl1 || a[0].Remote != sv0 || !a[0].Backup || a[0].Attempt != 1 {
		t.Fatalf("actions %+v, want one backup OpenSubflow from %v (limit 1)", a, cl1)
	}
	// The limit is reached: an announcement is accepted but opens nothing.
	if !m.AddAddr(5, netip.AddrPortFrom(sv1, 0), 0) {
		t.Fatal("announcement within add_addr_accepted refused")
	}
	if a := m.Poll(0, nil); len(a) != 0 {
		t.Fatalf("opened beyond the subflow limit: %v", a)
	}
	if m.AddAddr(6, netip.AddrPortFrom(sv1, 81), 0) {
		t.Fatal("second announcement accepted beyond add_addr_accepted 1")
	}
}

func TestClientJoinsAnnouncedAddress(t *testing.T) {
	m, _ := New(Config{Role: Client, Limits: Limits{Subflows: 2, AddAddrAccepted: 2}})
	m.Established(netip.AddrPortFrom(cl0, 40000), sv0, 0)
	if !m.AddAddr(1, netip.AddrPortFrom(sv1, 0), time.Second) {
		t.Fatal("refused")
	}
	a := m.Poll(time.Second, nil)
	if len(a) != 1 || a[0].Kind != OpenSubflow || a[0].Local.Addr.IsValid() || a[0].Remote != netip.AddrPortFrom(sv1, 80) || a[0].RemoteID != 1 {
		t.Fatalf("actions %+v, want OpenSubflow to %v:80 from the routed address", a, sv1)
	}
	m.RemoveAddr(1)
	if m.SubflowDown(netip.Addr{}, netip.AddrPortFrom(sv1, 80), 2*time.Second) {
		t.Fatal("retry scheduled to a withdrawn address")
	}
}

func TestReestablishWithBackoff(t *testing.T) {
	m, _ := New(Config{Role: Client, RetryBase: time.Second, RetryMax: 4 * time.Second,
		Endpoints: []Endpoint{{ID: 1, Addr: cl1, Flags: Subflow}}})
	m.Established(netip.AddrPortFrom(cl0, 1), sv0, 0)
	m.Poll(0, nil)
	m.SubflowUp(cl1, sv0)
	now := 10 * time.Second
	var gaps []time.Duration
	for range 5 {
		if !m.SubflowDown(cl1, sv0, now) {
			t.Fatal("no retry")
		}
		at := m.NextTimer()
		if a := m.Poll(at-1, nil); len(a) != 0 {
			t.Fatalf("retry before its time: %v", a)
		}
		a := m.Poll(at, nil)
		if len(a) != 1 || a[0].Kind != OpenSubflow {
			t.Fatalf("retry at %v: %v", at, a)
		}
		gaps = append(gaps, at-now)
		now = at + time.Second // the attempt fails a second later
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}
	for i := range want {
		if gaps[i] != want[i] {
			t.Fatalf("back-off %v, want %v", gaps, want)
		}
	}
	m.SubflowUp(cl1, sv0)
	m.SubflowDown(cl1, sv0, now)
	if got := m.NextTimer() - now; got != time.Second {
		t.Fatalf("back-off after a success = %v, want reset to 1s", got)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Config{Endpoints: []Endpoint{{ID: 1, Addr: cl1}, {ID: 1, Addr: cl2}}}); err == nil {
		t.Error("duplicate ids accepted")
	}
	if _, err := New(Config{Endpoints: []Endpoint{{ID: 0, Addr: cl1}}}); err == nil {
		t.Error("id 0 accepted")
	}
	if _, err := New(Config{Endpoints: []Endpoint{{ID: 3}}}); err == nil {
		t.Error("endpoint without address accepted")
	}
	if s := (Signal | Fullmesh).String(); s != "signal fullmesh" {
		t.Errorf("Flags.String = %q", s)
	}
}
