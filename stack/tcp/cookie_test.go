package tcp

import (
	"net/netip"
	"testing"
	"time"
)

var testTuple = FourTuple{
	LocalAddr: netip.MustParseAddr("10.0.0.1"), LocalPort: 80,
	RemoteAddr: netip.MustParseAddr("10.0.0.2"), RemotePort: 40000,
}

func TestSipHashReferenceVectors(t *testing.T) {
	// Vectors from the SipHash paper's reference implementation: key
	// 00..0f, message 00..(n-1).
	msg := make([]byte, 15)
	for i := range msg {
		msg[i] = byte(i)
	}
	k0, k1 := uint64(0x0706050403020100), uint64(0x0f0e0d0c0b0a0908)
	if got := sipHash24(k0, k1, nil); got != 0x726fdb47dd0e0e31 {
		t.Errorf("empty message: %#x", got)
	}
	if got := sipHash24(k0, k1, msg); got != 0xa129ca6149be45e5 {
		t.Errorf("15-byte message: %#x", got)
	}
}

func TestISNGenerator(t *testing.T) {
	g := NewISNGenerator([16]byte{1, 2, 3})
	a := g.ISN(testTuple, 0)
	if g.ISN(testTuple, 0) != a {
		t.Fatal("same tuple, key and time gave different ISNs")
	}
	if d := g.ISN(testTuple, time.Second) - a; d != 250000 {
		t.Errorf("ISN advanced by %d in 1 s, want 250000 (4 µs clock)", d)
	}
	other := testTuple
	other.RemotePort++
	if g.ISN(other, 0) == a {
		t.Error("different tuples gave the same ISN offset")
	}
	if NewISNGenerator([16]byte{9}).ISN(testTuple, 0) == a {
		t.Error("different keys gave the same ISN")
	}
}

// cookieHandshake runs a client's SYN through SYNACK and returns the
// client and its ACK (which carries data when data is non-empty).
func cookieHandshake(t *testing.T, c *SYNCookies, cfgA, cfgB Config, data string, at time.Duration) (*Endpoint, Segment) {
	t.Helper()
	a, err := NewActive(cfgA, at)
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte(data))
	syn := outs(a, at)[0]
	sa := c.SYNACK(&cfgB, testTuple, &syn, at)
	a.Input(&sa, at+ms)
	if a.State() != Established {
		t.Fatalf("client did not accept the cookie SYN-ACK: %v", a.State())
	}
	r := outs(a, at+ms)
	if len(r) == 0 {
		t.Fatal("client sent nothing after the SYN-ACK")
	}
	return a, r[0]
}

func TestSYNCookies(t *testing.T) {
	c := NewSYNCookies([16]byte{42})
	cfgA, cfgB := baseConfig(issA), baseConfig(0)
	cfgA.MSS = 1440
	now := 1000 * time.Second
	a, ack := cookieHandshake(t, c, cfgA, cfgB, "hello", now)
	info, ok := c.Check(testTuple, &ack, now+2*ms)
	if !ok {
		t.Fatal("valid cookie rejected")
	}
	if info.MSS != 1440 || !info.HasWScale || info.WScale != 9 || !info.SACKPermitted || !info.HasTS {
		t.Fatalf("cookie restored %+v, want MSS 1440, wscale 9, SACK, timestamps", info)
	}
	b, err := NewFromCookie(cfgB, &ack, info, now+2*ms)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	if n := b.Read(buf); string(buf[:n]) != "hello" || b.State() != Established {
		t.Fatalf("server read %q in %v", buf[:n], b.State())
	}
	if b.MSS() != 1440 || !b.sackOK || b.sndShift != 9 {
		t.Errorf("server MSS %d sack %v shift %d", b.MSS(), b.sackOK, b.sndShift)
	}
	b.Write([]byte("world"))
	exchange(a, b, now+3*ms)
	if n := a.Read(buf); string(buf[:n]) != "world" {
		t.Errorf("client read %q", buf[:n])
	}

	// Forged, mismatched and stale cookies.
	forged := ack
	forged.Ack ^= 0x100
	if _, ok := c.Check(testTuple, &forged, now+2*ms); ok {
		t.Error("cookie with a flipped hash bit accepted")
	}
	other := testTuple
	other.RemotePort++
	if _, ok := c.Check(other, &ack, now+2*ms); ok {
		t.Error("cookie accepted for another 4-tuple")
	}
	if _, ok := NewSYNCookies([16]byte{43}).Check(testTuple, &ack, now+2*ms); ok {
		t.Error("cookie accepted under another key")
	}
	if _, ok := c.Check(testTuple, &ack, now+3*cookieTick); ok {
		t.Error("cookie accepted three ticks (>128 s) later")
	}
	if _, ok := c.Check(testTuple, &ack, now+cookieTick); !ok {
		t.Error("cookie rejected one tick later (must live 64-128 s)")
	}
	rst := ack
	rst.Flags |= FlagRST
	if _, ok := c.Check(testTuple, &rst, now); ok {
		t.Error("a RST passed as a cookie ACK")
	}
}

func TestSYNCookieMSSTableAndNoTimestamps(t *testing.T) {
	c := NewSYNCookies([16]byte{7})
	for _, tc := range []struct{ mss, want uint16 }{{1000, 536}, {1460, 1460}, {1459, 1440}, {9000, 8960}, {1200, 1200}} {
		cfgA, cfgB := testConfig(issA), testConfig(0)
		cfgA.MSS = int(tc.mss)
		_, ack := cookieHandshake(t, c, cfgA, cfgB, "", time.Hour)
		info, ok := c.Check(testTuple, &ack, time.Hour)
		if !ok || info.MSS != tc.want || info.HasTS || info.HasWScale || info.SACKPermitted {
			t.Errorf("MSS %d: %+v ok %v; want MSS %d and no options (no timestamps to carry them)", tc.mss, info, ok, tc.want)
		}
	}
}
