package stack

import (
	"net/netip"
	"testing"

	"github.com/mpxdp/mpxdp/stack/header"
)

// FuzzProcess feeds arbitrary frames to a worker with a listener and an
// established connection. Nothing may panic, every frame is counted, and a
// TCP/IPv4 frame our parser accepts, re-encoded by our own writer (the
// round trip header -> tcp.Segment -> header), must parse back to the same
// segment with a valid checksum.
func FuzzProcess(f *testing.F) {
	v := newVnet(f, Config{}, Config{})
	v.connect(80)
	syn := arpRequest(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"))
	f.Add(syn)
	for _, fr := range v.qa.sent {
		f.Add(fr)
	}
	// Seed with the frames of a short exchange.
	c := v.a.newConn(nil, v.a.workers[0])
	c.raddr = netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), 80)
	v.a.workers[0].dial(c, v.now)
	v.a.workers[0].flushDirty(v.now)
	v.a.workers[0].flushTx()
	for _, fr := range v.qa.take() {
		f.Add(fr)
	}
	wb := v.b.workers[0]
	f.Fuzz(func(t *testing.T, b []byte) {
		before := v.b.Stats()
		in := append([]byte(nil), b...)
		wb.Process(0, frames(in), v.now)
		v.qb.take()
		after := v.b.Stats()
		if after.RxFrames != before.RxFrames+1 {
			t.Fatal("frame not counted")
		}
		// Round trip: a frame our parser accepts as TCP/IPv4 converts to a
		// segment that our writer encodes back to an equivalent header.
		eth, n, err := header.ParseEthernet(b)
		if err != nil || eth.EtherType() != header.EtherTypeIPv4 {
			return
		}
		ip, ihl, err := header.ParseIPv4(b[n:])
		if err != nil || ip.Protocol() != header.TCPProtocolNumber {
			return
		}
		tv, _, err := header.ParseTCP(ip[ihl:])
		if err != nil || !wb.toSegment(tv) {
			return
		}
		seg := wb.seg
		seg.Options.Ext = nil
		rt := route{p: wb.ports[0], src: ip.SrcAddr(), dst: ip.DstAddr(), lport: tv.SrcPort(), rport: tv.DstPort(), macOK: true}
		buf := make([]byte, 4096)
		if len(seg.Payload) > 1500 {
			return
		}
		m, _ := wb.writeTCP(buf, &rt, &seg, -1)
		ip2, ihl2, err := header.ParseIPv4(buf[14:m])
		if err != nil {
			t.Fatalf("our frame does not parse: %v", err)
		}
		tv2, _, err := header.ParseTCP(ip2[ihl2:])
		if err != nil || !tv2.ChecksumValid(ip2.PseudoHeaderSum()) {
			t.Fatalf("our TCP header does not parse or verify: %v", err)
		}
		saved := wb.seg
		if !wb.toSegment(tv2) {
			t.Fatal("our own segment was refused")
		}
		got := wb.seg
		if got.Seq != saved.Seq || got.Ack != saved.Ack || got.Flags != saved.Flags || got.Window != saved.Window ||
			string(got.Payload) != string(saved.Payload) || got.Options.HasTS != saved.Options.HasTS ||
			got.Options.TSVal != saved.Options.TSVal || got.Options.MSS != saved.Options.MSS ||
			got.Options.NumSACK > saved.Options.NumSACK {
			t.Fatalf("round trip changed the segment:\n%+v\n%+v", saved, got)
		}
	})
}
