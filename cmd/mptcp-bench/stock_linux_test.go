package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/internal/testbed"
)

// lockedBuffer is a bytes.Buffer safe to write from the exec copier
// goroutine while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// stockServerDoc is the part of a stock `iperf3 -s -J` document the test
// reads: the server's own totals.
type stockServerDoc struct {
	Start struct {
		Version string `json:"version"`
	} `json:"start"`
	End struct {
		SumSent struct {
			Bytes uint64 `json:"bytes"`
		} `json:"sum_sent"`
		SumReceived struct {
			Bytes uint64 `json:"bytes"`
		} `json:"sum_received"`
	} `json:"end"`
	Error string `json:"error"`
}

// stockServer is one stock `mptcpize run iperf3 -s -1 -J` in a namespace.
type stockServer struct {
	cmd  *exec.Cmd
	out  lockedBuffer
	errs lockedBuffer
	done chan error
}

// startStockServer starts a stock iperf3 server made MPTCP by mptcpize in
// ns on port, and waits (at most 10 s) until the kernel lists its MPTCP
// listener. The server exits after one test (-1); t.Cleanup kills it if
// it has not.
func startStockServer(t *testing.T, ns *testbed.NS, port int) *stockServer {
	t.Helper()
	p := strconv.Itoa(port)
	cmd, err := ns.Command("mptcpize", "run", "iperf3", "-s", "-1", "-J", "-p", p)
	if err != nil {
		t.Fatal(err)
	}
	s := &stockServer{cmd: cmd, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = &s.out, &s.errs
	if err := ns.StartCmd(cmd); err != nil {
		t.Fatalf("starting mptcpize run iperf3 -s in %s: %v", ns, err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			// The whole group: ip netns exec, mptcpize, iperf3.
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		// -M lists MPTCP sockets only: the listener is MPTCP, so
		// mptcpize took effect.
		if out, err := ns.Exec("ss", "-HlM", "sport = :"+p); err == nil && strings.Contains(string(out), "LISTEN") {
			return s
		}
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("mptcpize run iperf3 -s exited before listening (%v): %s%s", err, s.errs.String(), s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mptcpize run iperf3 -s -p %s: no MPTCP listener after 10 s (ss -lM); output: %s%s", p, s.errs.String(), s.out.String())
		}
	}
}

// result waits (at most 10 s) for the one-off server to exit and parses
// its JSON document.
func (s *stockServer) result(t *testing.T) stockServerDoc {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Errorf("stock iperf3 -s exited with %v: %s", err, s.errs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("stock iperf3 -s -1 did not exit 10 s after the test; output so far:\n%s", s.out.String())
	}
	var d stockServerDoc
	if err := json.Unmarshal([]byte(s.out.String()), &d); err != nil {
		t.Fatalf("stock iperf3 -s -J output does not parse (%v):\n%s", err, s.out.String())
	}
	if d.Error != "" {
		t.Errorf("stock iperf3 -s reported an error: %s", d.Error)
	}
	return d
}

// Issue 5 must-show: mptcp-bench on our AF_XDP stack, through the
// program's own entry (`mptcp-bench --iface xdp0=... --iface xdp1=...
// -c PEER -t 2 -J --events`, an upload and a -R download), against a
// stock `mptcpize run iperf3 -s` in a kernel namespace whose path manager
// has a signal endpoint on its second address: the kernel announces it,
// our stack joins it, both subflows carry data, and the stock server's
// own JSON agrees with what we report.
func TestStackClientStockIperf3Server(t *testing.T) {
	testbed.Require(t)
	for _, tool := range [][2]string{{"iperf3", "iperf3"}, {"mptcpize", "mptcpize"}, {"ss", "iproute2"}} {
		if _, err := exec.LookPath(tool[0]); err != nil {
			t.Skipf("needs the stock %s in PATH (apt-get install -y %s)", tool[0], tool[1])
		}
	}
	topo, err := testbed.NewTopology(testbed.Config{Paths: 2, Tag: "bstock"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	if err := topo.KernelMPTCP(topo.Peer, "signal"); err != nil {
		t.Fatal(err)
	}
	p0, p1 := topo.Paths[0], topo.Paths[1]

	for i, rev := range []bool{false, true} {
		name := "upload"
		if rev {
			name = "download"
		}
		port := 5201 + i
		before, err := topo.Peer.MPTcpExt()
		if err != nil {
			t.Fatal(err)
		}
		srv := startStockServer(t, topo.Peer, port)

		args := []string{
			"--iface", p0.Ours.Name + "=" + netip.PrefixFrom(p0.OurAddr, 24).String(),
			"--iface", p1.Ours.Name + "=" + netip.PrefixFrom(p1.OurAddr, 24).String(),
			"-c", p0.PeerAddr.String(), "-p", strconv.Itoa(port), "-t", "2", "-J", "--events"}
		if rev {
			args = append(args, "-R")
		}
		var out, errOut bytes.Buffer
		var code int
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		// run opens the stack in the namespace of the calling thread.
		if err := topo.Ours.Do(func() error {
			code = run(ctx, args, &out, &errOut)
			return nil
		}); err != nil {
			cancel()
			t.Fatal(err)
		}
		cancel()
		if code != exitOK {
			t.Fatalf("%s: mptcp-bench %s: exit %d: %s\n%s", name, strings.Join(args, " "), code, errOut.String(), out.String())
		}
		r, err := iperf.ParseJSON(out.Bytes())
		if err != nil {
			t.Fatalf("%s: %v:\n%s", name, err, out.String())
		}
		if r.Received.Bytes == 0 || r.Sent.Bytes == 0 {
			t.Errorf("%s: sent %d received %d bytes: want both > 0", name, r.Sent.Bytes, r.Received.Bytes)
		}
		if len(r.Streams) != 1 {
			t.Fatalf("%s: %d streams, want 1", name, len(r.Streams))
		}
		// -J gives each subflow's bytes as the local end saw them:
		// acknowledged by the server when we send, received when it sends.
		ifaces := map[string]uint64{}
		for _, sf := range r.Streams[0].Subflows {
			if rev {
				ifaces[sf.Iface] += sf.BytesReceived
			} else {
				ifaces[sf.Iface] += sf.BytesAcked
			}
		}
		if len(r.Streams[0].Subflows) != 2 || len(ifaces) != 2 || ifaces[p0.Ours.Name] == 0 || ifaces[p1.Ours.Name] == 0 {
			t.Errorf("%s: subflows %+v: want 2, one on %s and one on %s, each carrying data", name, r.Streams[0].Subflows, p0.Ours.Name, p1.Ours.Name)
		}

		doc := srv.result(t)
		after, err := topo.Peer.MPTcpExt()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"MPCapableSYNRX", "MPJoinSynRx", "MPJoinAckRx"} {
			if after[c] <= before[c] {
				t.Errorf("%s: the peer kernel's MPTcpExt%s stayed at %d: want it to grow", name, c, after[c])
			}
		}
		// The stock server's own totals are what our report carries: in
		// an upload it received what we count as received, in a download
		// it sent what we count as sent (both come from its results).
		srvBytes, ours := doc.End.SumReceived.Bytes, r.Received.Bytes
		if rev {
			srvBytes, ours = doc.End.SumSent.Bytes, r.Sent.Bytes
		}
		if srvBytes == 0 || srvBytes != ours {
			t.Errorf("%s: stock iperf3 %s -s counted %d bytes, our report %d: want equal and > 0", name, doc.Start.Version, srvBytes, ours)
		}
		if rev && r.Received.Bytes > doc.End.SumSent.Bytes {
			t.Errorf("download: we received %d bytes, more than the stock server sent (%d)", r.Received.Bytes, doc.End.SumSent.Bytes)
		}
		if !rev && doc.End.SumReceived.Bytes > r.Sent.Bytes {
			t.Errorf("upload: the stock server received %d bytes, more than we sent (%d)", doc.End.SumReceived.Bytes, r.Sent.Bytes)
		}
		// --events (stderr): the join on the second interface, and each
		// connection's end, printed before the program returns.
		ev := errOut.String()
		if !strings.Contains(ev, "SF_ESTABLISHED]") || !strings.Contains(ev, "ifname="+p1.Ours.Name) {
			t.Errorf("%s: --events shows no SF_ESTABLISHED on %s:\n%s", name, p1.Ours.Name, ev)
		}
		if c, cl := strings.Count(ev, "[         CREATED]"), strings.Count(ev, "[          CLOSED]"); c == 0 || c != cl {
			t.Errorf("%s: --events printed %d CREATED and %d CLOSED lines: want one CLOSED per connection:\n%s", name, c, cl, ev)
		}
		t.Logf("%s: %.2f Gbit/s, %s; stock %s -s: sent %d received %d; peer MPTcpExt MPJoinSynRx %d->%d MPJoinAckRx %d->%d",
			name, r.Received.BitsPerSecond()/1e9, fmt.Sprint(ifaces), doc.Start.Version, doc.End.SumSent.Bytes, doc.End.SumReceived.Bytes,
			before["MPJoinSynRx"], after["MPJoinSynRx"], before["MPJoinAckRx"], after["MPJoinAckRx"])
	}
}
