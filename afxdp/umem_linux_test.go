package afxdp

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestNewUMEMBadConfig(t *testing.T) {
	for _, tc := range []struct {
		c    UMEMConfig
		want string
	}{
		{UMEMConfig{FrameSize: 3000, NumFrames: 16, FillSize: 16, CompletionSize: 16}, "FrameSize 3000"},
		{UMEMConfig{FrameSize: 4096, NumFrames: 0, FillSize: 16, CompletionSize: 16}, "NumFrames is 0"},
		{UMEMConfig{FrameSize: 4096, NumFrames: 16, FillSize: 15, CompletionSize: 16}, "powers of two"},
	} {
		if _, err := NewUMEM(tc.c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewUMEM(%+v) = %v, want an error containing %q", tc.c, err, tc.want)
		}
	}
}

func TestUMEMFrames(t *testing.T) {
	requireRoot(t, "(CAP_NET_RAW) to open AF_XDP sockets")
	fds := openFDs(t)
	u, err := NewUMEM(UMEMConfig{FrameSize: 2048, NumFrames: 64, FillSize: 64, CompletionSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Bytes()) != 64*2048 || u.FrameSize() != 2048 || u.NumFrames() != 64 {
		t.Fatalf("UMEM of %d bytes, frame %d, %d frames", len(u.Bytes()), u.FrameSize(), u.NumFrames())
	}
	addrs := u.FrameAddrs(nil)
	if len(addrs) != 64 || addrs[0] != 0 || addrs[63] != 63*2048 {
		t.Fatalf("FrameAddrs = %d entries, first %d last %d", len(addrs), addrs[0], addrs[len(addrs)-1])
	}
	if u.FrameAddr(5*2048+256+17) != 5*2048 {
		t.Fatal("FrameAddr does not round down to the frame start")
	}
	f := u.Frame(5*2048 + 256)
	if len(f) != 2048-256 || cap(f) != len(f) {
		t.Fatalf("Frame from offset 256 has len %d cap %d, want %d", len(f), cap(f), 2048-256)
	}
	copy(f, "hello")
	if d := u.Data(Desc{Addr: 5*2048 + 256, Len: 5}); string(d) != "hello" || cap(d) != 5 {
		t.Fatalf("Data = %q (cap %d)", d, cap(d))
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := u.Bind(SocketConfig{Ifindex: 1, RxSize: 64, TxSize: 64}); err == nil || !strings.Contains(err.Error(), "closed UMEM") {
		t.Fatalf("Bind on a closed UMEM: %v", err)
	}
	if got := openFDs(t); got != fds {
		t.Fatalf("%d fds after UMEM.Close, %d before", got, fds)
	}
}

// TestNewUMEMNonRoot checks the errors a regular user gets: a UMEM over
// RLIMIT_MEMLOCK is refused with the limit named, and a small one fails at
// socket(AF_XDP) with the capability named. As root it has nothing to check.
func TestNewUMEMNonRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("checks the errors a non-root user gets; run the test binary as a regular user")
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max != unix.RLIM_INFINITY && lim.Max < 1<<40 {
		frames := uint32(lim.Max/4096) + 16
		_, err := NewUMEM(UMEMConfig{FrameSize: 4096, NumFrames: frames, FillSize: 16, CompletionSize: 16})
		if err == nil || !strings.Contains(err.Error(), "RLIMIT_MEMLOCK") {
			t.Fatalf("UMEM over the hard memlock limit %d: %v, want an RLIMIT_MEMLOCK error", lim.Max, err)
		}
	}
	_, err := NewUMEM(UMEMConfig{FrameSize: 4096, NumFrames: 16, FillSize: 16, CompletionSize: 16})
	if err == nil || !strings.Contains(err.Error(), "needs root") {
		t.Fatalf("small UMEM as non-root: %v, want a needs-root error", err)
	}
}
