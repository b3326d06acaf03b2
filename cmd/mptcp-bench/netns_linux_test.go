package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/internal/testbed"
)

// Two paths, kernel MPTCP on both ends, a signal endpoint on the server
// side: every interval prints one line per subflow, on both interfaces.
func TestTwoSubflowsOutput(t *testing.T) {
	testbed.Require(t)
	topo, err := testbed.NewTopology(testbed.Config{Paths: 2, Tag: "bench"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	if err := topo.KernelMode(); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []*testbed.NS{topo.Ours, topo.Peer} {
		if err := ns.Sysctl("net.mptcp.enabled", "1"); err != nil {
			t.Fatal(err)
		}
		if err := ns.MPTCPLimits(8, 8); err != nil {
			t.Fatal(err)
		}
	}
	if err := topo.Peer.MPTCPEndpoint(topo.Paths[1].PeerAddr, topo.Paths[1].Peer.Name, "signal"); err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	if err := topo.Peer.Do(func() error {
		var lc net.ListenConfig
		lc.SetMultipathTCP(true)
		var err error
		ln, err = lc.Listen(context.Background(), "tcp", ":5201")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { _ = iperf.Serve(ctx, ln, iperf.ServeOptions{}); close(served) }()
	t.Cleanup(func() { cancel(); <-served })

	host := topo.Paths[0].PeerAddr.String()
	dial := func(ctx context.Context) (net.Conn, error) {
		var c net.Conn
		err := topo.Ours.Do(func() error {
			var err error
			c, err = kernelDialer(net.JoinHostPort(host, "5201"), true)(ctx)
			return err
		})
		return c, err
	}
	plot := filepath.Join(t.TempDir(), "two.svg")
	cfg, err := parseArgs([]string{"--kernel", "-c", host, "-t", "1.5", "-i", "0.25", "--plot", plot})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer rcancel()
	if code := client(rctx, cfg, dial, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	text := out.String()
	// The last full interval has a line per path.
	for _, want := range []string{topo.Paths[0].Ours.Name + " 10.100.0.1:", topo.Paths[1].Ours.Name + " 10.101.0.1:"} {
		if strings.Count(text, want) < 3 {
			t.Errorf("fewer than 3 interval lines for %q:\n%s", want, text)
		}
	}
	svg, err := os.ReadFile(plot)
	if err != nil || bytes.Count(svg, []byte(`class="series"`)) != 3 {
		t.Errorf("plot: %v, %d series, want 2 subflows + total", err, bytes.Count(svg, []byte(`class="series"`)))
	}
	t.Logf("\n%s", text)
}
