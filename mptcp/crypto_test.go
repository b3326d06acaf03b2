package mptcp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"testing"
)

// Known answers computed with Python's hashlib/hmac (an implementation
// independent of Go's) from the definitions in RFC 8684 §3.1, §3.2, §3.4.1.
var keyVectors = []struct {
	key   Key
	token uint32
	idsn  uint64
}{
	{0x0123456789abcdef, 0x55c53f5d, 0x570762cd38be9818},
	{0xfedcba9876543210, 0x18f9781b, 0x280818bf0fa7e28e},
	{0, 0xaf5570f5, 0xe5b2328de0e83dfc},
	{0xffffffffffffffff, 0x12a3ae44, 0x57fb595bbbacf0ca},
}

func TestKeyTokenIDSNKnownAnswers(t *testing.T) {
	for _, v := range keyVectors {
		if got := v.key.Token(); got != v.token {
			t.Errorf("Token(%#x) = %#x, want %#x", uint64(v.key), got, v.token)
		}
		if got := v.key.IDSN(); got != v.idsn {
			t.Errorf("IDSN(%#x) = %#x, want %#x", uint64(v.key), got, v.idsn)
		}
		tok, idsn := v.key.TokenIDSN()
		if tok != v.token || idsn != v.idsn {
			t.Errorf("TokenIDSN(%#x) = %#x, %#x", uint64(v.key), tok, idsn)
		}
	}
}

// TestKeyTokenIndependent recomputes token and IDSN from the RFC's wording
// with a different code path (hex text of the key, byte-wise assembly).
func TestKeyTokenIndependent(t *testing.T) {
	for i := 0; i < 200; i++ {
		k, err := GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := hex.DecodeString(hexKey(k))
		d := sha256.Sum256(raw)
		var tok uint32
		for _, c := range d[:4] {
			tok = tok<<8 | uint32(c)
		}
		var idsn uint64
		for _, c := range d[24:] {
			idsn = idsn<<8 | uint64(c)
		}
		if k.Token() != tok || k.IDSN() != idsn {
			t.Fatalf("key %s: token %#x/%#x idsn %#x/%#x", hexKey(k), k.Token(), tok, k.IDSN(), idsn)
		}
	}
}

func hexKey(k Key) string {
	const digits = "0123456789abcdef"
	var s [16]byte
	for i := 15; i >= 0; i-- {
		s[i] = digits[k&0xf]
		k >>= 4
	}
	return string(s[:])
}

func TestGenerateKeyVaries(t *testing.T) {
	seen := map[Key]bool{}
	for i := 0; i < 64; i++ {
		k, err := GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		seen[k] = true
	}
	if len(seen) < 63 {
		t.Fatalf("64 keys from crypto/rand gave only %d distinct values", len(seen))
	}
}

const (
	vecKeyA   Key    = 0x0123456789abcdef
	vecKeyB   Key    = 0xfedcba9876543210
	vecNonceA uint32 = 0x11223344
	vecNonceB uint32 = 0x55667788
	// HMAC(KeyA||KeyB, R_A||R_B), computed with Python's hmac module.
	vecHMACA = "d8b5e46b7a782e79d3ecfd78307751df993e222b384c52754868f2561cf58998"
	// HMAC(KeyB||KeyA, R_B||R_A).
	vecHMACB = "0d44dc5f555121b7027f5508b30392de251c946ac377f517ba2194c06bc4d441"
)

func TestJoinHMACKnownAnswers(t *testing.T) {
	var h Hasher
	a := h.JoinHMAC(vecKeyA, vecKeyB, vecNonceA, vecNonceB)
	if hex.EncodeToString(a[:]) != vecHMACA {
		t.Fatalf("HMAC-A = %x, want %s", a, vecHMACA)
	}
	b := h.JoinHMAC(vecKeyB, vecKeyA, vecNonceB, vecNonceA)
	if hex.EncodeToString(b[:]) != vecHMACB {
		t.Fatalf("HMAC-B = %x, want %s", b, vecHMACB)
	}
	// B's SYN/ACK carries the leftmost 64 bits of HMAC-B; A's ACK the
	// leftmost 160 bits of HMAC-A.
	if got := TruncatedJoinHMAC(&b); got != 0x0d44dc5f555121b7 {
		t.Fatalf("truncated HMAC-B = %#x", got)
	}
	j := Join{Form: JoinACK}
	copy(j.HMAC[:], a[:JoinHMACLen])
	var w [JoinLenACK]byte
	j.Write(w[:])
	if hex.EncodeToString(w[4:]) != vecHMACA[:40] {
		t.Fatalf("MP_JOIN ACK carries %x, want %s", w[4:], vecHMACA[:40])
	}
}

// TestJoinHMACMatchesStdlib checks the reused-state HMAC against
// crypto/hmac for random inputs.
func TestJoinHMACMatchesStdlib(t *testing.T) {
	var h Hasher
	for i := 0; i < 100; i++ {
		ka, _ := GenerateKey()
		kb, _ := GenerateKey()
		ra, rb := uint32(ka>>7), uint32(kb>>13)
		var key [16]byte
		binary.BigEndian.PutUint64(key[:], uint64(ka))
		binary.BigEndian.PutUint64(key[8:], uint64(kb))
		var msg [8]byte
		binary.BigEndian.PutUint32(msg[:], ra)
		binary.BigEndian.PutUint32(msg[4:], rb)
		m := hmac.New(sha256.New, key[:])
		m.Write(msg[:])
		want := m.Sum(nil)
		got := h.JoinHMAC(ka, kb, ra, rb)
		if !hmac.Equal(got[:], want) {
			t.Fatalf("JoinHMAC mismatch for %x %x", key, msg)
		}
	}
}

func TestAddAddrHMAC(t *testing.T) {
	var h Hasher
	cases := []struct {
		id   uint8
		addr string
		port uint16
		want uint64
	}{
		{3, "10.0.2.1", 0, 0xf0b7b31bce6829ca},
		{3, "10.0.2.1", 8080, 0x10c76f32ab383846},
		{7, "2001:db8::1", 443, 0x6e968a01292d5ea7},
	}
	for _, c := range cases {
		a := netip.MustParseAddr(c.addr)
		if got := h.AddAddrHMAC(vecKeyA, vecKeyB, c.id, a, c.port); got != c.want {
			t.Errorf("AddAddrHMAC(%d, %s, %d) = %#x, want %#x", c.id, c.addr, c.port, got, c.want)
		}
		// Independent path: crypto/hmac over the message built by hand.
		key := make([]byte, 16)
		binary.BigEndian.PutUint64(key, uint64(vecKeyA))
		binary.BigEndian.PutUint64(key[8:], uint64(vecKeyB))
		msg := append([]byte{c.id}, a.AsSlice()...)
		msg = append(msg, byte(c.port>>8), byte(c.port))
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		sum := m.Sum(nil)
		if want := binary.BigEndian.Uint64(sum[24:]); want != c.want {
			t.Errorf("stdlib path gives %#x, table says %#x", want, c.want)
		}
	}
}

func TestHasherNoAllocs(t *testing.T) {
	var h Hasher
	h.JoinHMAC(1, 2, 3, 4) // first use allocates the hash state
	a := netip.MustParseAddr("2001:db8::1")
	n := testing.AllocsPerRun(100, func() {
		h.JoinHMAC(vecKeyA, vecKeyB, vecNonceA, vecNonceB)
		h.AddAddrHMAC(vecKeyA, vecKeyB, 1, a, 80)
		_ = vecKeyA.Token()
	})
	if n != 0 {
		t.Fatalf("%v allocations per HMAC round", n)
	}
}

func BenchmarkJoinHMAC(b *testing.B) {
	var h Hasher
	b.ReportAllocs()
	for b.Loop() {
		h.JoinHMAC(vecKeyA, vecKeyB, vecNonceA, vecNonceB)
	}
}

func BenchmarkAddAddrHMAC(b *testing.B) {
	var h Hasher
	a := netip.MustParseAddr("10.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		h.AddAddrHMAC(vecKeyA, vecKeyB, 3, a, 0)
	}
}

func BenchmarkKeyTokenIDSN(b *testing.B) {
	b.ReportAllocs()
	k := vecKeyA
	for b.Loop() {
		k.TokenIDSN()
	}
}
