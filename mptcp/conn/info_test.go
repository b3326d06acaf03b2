package conn

import (
	"testing"
	"time"
)

func TestInfoAndSubflows(t *testing.T) {
	a, b := twoPaths()
	sim, cl, sv := pair(t, 50, Config{Checksum: true}, Config{}, a, b)
	cl.joinTo = 2
	n := int64(4 << 20)
	cl.toSend = n
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return sv.recvd > n/2 && len(c.subflows) == 2 && c.subflows[1].dataReady() })
	c.subflows[1].SetIfname("veth1")
	in := c.Info()
	if in.Token != c.Token() || in.Subflows != 1 || in.SubflowsTotal != 2 || in.LocalAddrUsed != 2 || !in.CsumEnabled || in.Fallback {
		t.Fatalf("info %+v", in)
	}
	if in.Flags&InfoFlagRemoteKeyReceived == 0 || in.WriteSeq < in.SndUna || in.BytesAcked == 0 || in.BytesSent < in.BytesAcked {
		t.Fatalf("info %+v", in)
	}
	if in.WriteSeq-c.localIDSN-1 != uint64(cl.sent) {
		t.Fatalf("write_seq %d is not IDSN+1+%d", in.WriteSeq, cl.sent)
	}
	sin := sv.conns[0].Info()
	if sin.BytesReceived != uint64(sv.recvd)+uint64(sv.conns[0].Readable())+sv.conns[0].rcv.ooo.bytes() {
		t.Fatalf("server bytes_received %d, read %d", sin.BytesReceived, sv.recvd)
	}
	if sin.RcvNxt != c.localIDSN+1+uint64(sv.recvd)+uint64(sv.conns[0].Readable()) {
		t.Fatalf("server rcv_nxt %d != client IDSN+1+received", sin.RcvNxt)
	}
	sfs := c.Subflows(nil)
	if len(sfs) != 2 || sfs[1].Ifname != "veth1" || sfs[0].Cwnd == 0 || sfs[0].SRTT == 0 || sfs[0].BytesSent == 0 || sfs[1].LocalID != 1 {
		t.Fatalf("subflows %+v", sfs)
	}
	sim.RunUntil(time.Minute, func() bool { return sv.eof && cl.eof })
	var names []string
	for _, e := range sv.events {
		names = append(names, e.Type.String())
	}
	want := []string{"CREATED", "ESTABLISHED", "SF_ESTABLISHED", "SF_ESTABLISHED"}
	for i, w := range want {
		if i >= len(names) || names[i] != w {
			t.Fatalf("server events %v, want prefix %v", names, want)
		}
	}
}

// TestSubflowBytesAcked: each subflow reports the payload its TCP ACKs
// covered (the sender side showed 0): during the transfer it is where the
// subflow's snd_una stands, and at the end every byte a subflow sent new
// is acknowledged once the subflows closed, so together they cover the
// stream.
func TestSubflowBytesAcked(t *testing.T) {
	a, b := twoPaths()
	b.Loss = 0.01
	sim, cl, sv := pair(t, 51, Config{}, Config{}, a, b)
	cl.joinTo = 2
	n := int64(8 << 20)
	cl.toSend = n
	c := cl.dial(0)
	sim.RunUntil(time.Minute, func() bool { return sv.recvd > n/2 && len(c.subflows) == 2 && c.subflows[1].bytesSent > 0 })
	for i, si := range c.Subflows(nil) {
		sf := c.subflows[i]
		want := uint64((sf.iss + 1).Size(sf.ep.SndUna()))
		if si.BytesAcked != want || si.BytesAcked == 0 || si.BytesAcked > si.BytesSent {
			t.Errorf("subflow %d mid-transfer: bytes acked %d, sent %d; its snd_una is %d bytes past the SYN", i, si.BytesAcked, si.BytesSent, want)
		}
	}
	sim.RunUntil(time.Minute, func() bool { return sv.eof && cl.eof && c.Closed() })
	if !sv.eof || sv.recvd != n || !c.Closed() {
		t.Fatalf("transfer incomplete: %d of %d, closed %v", sv.recvd, n, c.Closed())
	}
	var acked uint64
	for i, si := range c.Subflows(nil) {
		if si.BytesAcked == 0 || si.BytesAcked+si.BytesRetrans < si.BytesSent {
			t.Errorf("subflow %d at the end: acked %d + retransmitted %d < sent %d", i, si.BytesAcked, si.BytesRetrans, si.BytesSent)
		}
		acked += si.BytesAcked
	}
	if acked < uint64(n) {
		t.Errorf("subflows acknowledged %d bytes in all, the stream is %d", acked, n)
	}
}
