package iperf

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// loopbackPair returns a connected client and server conn on 127.0.0.1,
// kernel MPTCP when mptcp is set.
func loopbackPair(t *testing.T, mptcp bool) (client, server net.Conn) {
	t.Helper()
	var lc net.ListenConfig
	lc.SetMultipathTCP(mptcp)
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var d net.Dialer
	d.SetMultipathTCP(mptcp)
	client, err = d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func mptcpAvailable(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/mptcp/enabled")
	if err != nil || len(b) == 0 || b[0] != '1' {
		t.Skip("needs kernel MPTCP (net.mptcp.enabled=1)")
	}
}

func TestKernelSubflowsTCPAndMPTCP(t *testing.T) {
	for _, mptcp := range []bool{false, true} {
		name := "tcp"
		if mptcp {
			mptcpAvailable(t)
			name = "mptcp"
		}
		t.Run(name, func(t *testing.T) {
			c, s := loopbackPair(t, mptcp)
			if mptcp {
				if ok, err := c.(*net.TCPConn).MultipathTCP(); err != nil || !ok {
					t.Skipf("kernel fell back to TCP on loopback (%v)", err)
				}
			}
			const n = 1 << 20
			go func() { _, _ = c.Write(make([]byte, n)) }()
			if _, err := io.ReadFull(s, make([]byte, n)); err != nil {
				t.Fatal(err)
			}
			src := SubflowsOf(c)
			if src == nil {
				t.Fatal("no subflow source for a kernel socket")
			}
			var stats []SubflowStat
			var err error
			// bytes_acked may lag the read by an ACK: poll briefly.
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				stats, err = src.AppendSubflows(stats[:0])
				if err != nil {
					t.Fatal(err)
				}
				if len(stats) == 1 && stats[0].BytesAcked >= n {
					break
				}
			}
			if len(stats) != 1 {
				t.Fatalf("%d subflows, want 1: %+v", len(stats), stats)
			}
			st := stats[0]
			if st.Local != addrPortOf(c.LocalAddr()) || st.Remote != addrPortOf(c.RemoteAddr()) {
				t.Errorf("subflow %v -> %v, conn %v -> %v", st.Local, st.Remote, c.LocalAddr(), c.RemoteAddr())
			}
			if st.BytesAcked < n || st.Iface != "lo" || st.MSS == 0 || st.Cwnd == 0 || st.SRTT <= 0 {
				t.Errorf("stats %+v", st)
			}
			info, ok, err := KernelMPTCPInfo(c)
			if err != nil || ok != mptcp {
				t.Fatalf("KernelMPTCPInfo: ok=%v err=%v, want ok=%v", ok, err, mptcp)
			}
			// The DATA_ACK may lag the subflow ACKs: check what was sent.
			if mptcp && (info.BytesSent < n || info.Token == 0 || info.SubflowsTotal != 1) {
				t.Errorf("mptcp_info %+v: want bytes_sent >= %d, a token, 1 subflow", info, n)
			}
			rs, err := SubflowsOf(s).AppendSubflows(nil)
			if err != nil || len(rs) != 1 || rs[0].BytesReceived < n {
				t.Errorf("receiver side: %+v %v", rs, err)
			}
		})
	}
}

func TestKernelSubflowsClosed(t *testing.T) {
	c, _ := loopbackPair(t, false)
	src := SubflowsOf(c)
	c.Close()
	if _, err := src.AppendSubflows(nil); err == nil {
		t.Error("stats of a closed socket: no error")
	}
	if SubflowsOf(fakeConn{}) != nil {
		t.Error("a conn without a file descriptor got a kernel source")
	}
	if _, ok, err := KernelMPTCPInfo(fakeConn{}); ok || err != nil {
		t.Errorf("KernelMPTCPInfo on a fake conn: %v %v", ok, err)
	}
}

// fakeConn is a net.Conn without a socket.
type fakeConn struct{ net.Conn }

// A SubflowSource conn (as mpxdp's stack will provide) is used as is.
type sourceConn struct {
	net.Conn
	stats []SubflowStat
}

func (s sourceConn) AppendSubflows(dst []SubflowStat) ([]SubflowStat, error) {
	if s.stats == nil {
		return dst, errors.New("none")
	}
	return append(dst, s.stats...), nil
}

func TestSubflowsOfPrefersTheConn(t *testing.T) {
	sc := sourceConn{stats: []SubflowStat{{Iface: "x"}, {Iface: "y"}}}
	got, err := SubflowsOf(sc).AppendSubflows(nil)
	if err != nil || len(got) != 2 || got[1].Iface != "y" {
		t.Fatalf("got %+v %v", got, err)
	}
}
