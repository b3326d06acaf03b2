package mptcp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"net/netip"
)

// Key is a 64-bit MPTCP key (RFC 8684 §3.1). On the wire and as hash input
// it is big-endian.
type Key uint64

// GenerateKey returns a key from crypto/rand. Keys whose tokens collide with
// a live connection must be rejected by the caller: TokenTable.NewLocalKey
// does that.
func GenerateKey() (Key, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, err
	}
	return Key(binary.BigEndian.Uint64(b[:])), nil
}

// keyDigest returns SHA-256 over the key's 8 big-endian bytes.
func keyDigest(k Key) [sha256.Size]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(k))
	return sha256.Sum256(b[:])
}

// Token returns the 32-bit token that names the connection this key
// belongs to: the most significant 32 bits of SHA-256(key).
func (k Key) Token() uint32 {
	d := keyDigest(k)
	return binary.BigEndian.Uint32(d[:4])
}

// IDSN returns the initial data sequence number of the key's owner: the
// least significant 64 bits of SHA-256(key). The first data byte has
// DSN IDSN+1.
func (k Key) IDSN() uint64 {
	d := keyDigest(k)
	return binary.BigEndian.Uint64(d[24:])
}

// TokenIDSN returns Token and IDSN with one hash computation.
func (k Key) TokenIDSN() (token uint32, idsn uint64) {
	d := keyDigest(k)
	return binary.BigEndian.Uint32(d[:4]), binary.BigEndian.Uint64(d[24:])
}

const hmacBlock = 64 // SHA-256 block size

// Hasher computes MPTCP's HMAC-SHA256 values with a SHA-256 state it
// reuses, so it does not allocate per call. One Hasher belongs to one
// goroutine (a worker or the control plane); it is not safe for concurrent
// use. The zero value is ready to use.
type Hasher struct {
	h   hash.Hash
	pad [hmacBlock]byte
	in  [sha256.Size]byte
	out [sha256.Size]byte
	msg [1 + 16 + 2]byte
}

// hmac computes HMAC-SHA256 with key keyA||keyB (each 8 bytes big-endian,
// zero-padded to the block size) over msg, into h.out.
func (h *Hasher) hmac(keyA, keyB Key, msg []byte) *[sha256.Size]byte {
	if h.h == nil {
		h.h = sha256.New()
	}
	h.pad = [hmacBlock]byte{}
	binary.BigEndian.PutUint64(h.pad[0:], uint64(keyA))
	binary.BigEndian.PutUint64(h.pad[8:], uint64(keyB))
	for i := range h.pad {
		h.pad[i] ^= 0x36
	}
	h.h.Reset()
	h.h.Write(h.pad[:])
	h.h.Write(msg)
	h.h.Sum(h.in[:0])
	for i := range h.pad {
		h.pad[i] ^= 0x36 ^ 0x5c
	}
	h.h.Reset()
	h.h.Write(h.pad[:])
	h.h.Write(h.in[:])
	h.h.Sum(h.out[:0])
	return &h.out
}

// JoinHMAC returns the full HMAC-SHA256 an MP_JOIN sender computes
// (RFC 8684 §3.2): key = the sender's key followed by the receiver's key,
// message = the sender's nonce followed by the receiver's nonce. The SYN/ACK
// carries its leftmost 64 bits (TruncatedJoinHMAC), the third ACK its
// leftmost 160 bits.
//
// For host A (the initiator) that is HMAC(KeyA||KeyB, R_A||R_B); host B
// passes its own key and nonce first.
func (h *Hasher) JoinHMAC(senderKey, receiverKey Key, senderNonce, receiverNonce uint32) [sha256.Size]byte {
	binary.BigEndian.PutUint32(h.msg[0:], senderNonce)
	binary.BigEndian.PutUint32(h.msg[4:], receiverNonce)
	return *h.hmac(senderKey, receiverKey, h.msg[:8])
}

// TruncatedJoinHMAC returns the leftmost 64 bits of JoinHMAC, as carried in
// the MP_JOIN SYN/ACK.
func TruncatedJoinHMAC(mac *[sha256.Size]byte) uint64 {
	return binary.BigEndian.Uint64(mac[:8])
}

// AddAddrHMAC returns the 64-bit truncated HMAC an ADD_ADDR carries
// (RFC 8684 §3.4.1): key = the sender's key followed by the receiver's key,
// message = address id (1 byte), the address (4 or 16 bytes) and the port
// (2 bytes big-endian, zero when the option has none); the value is the
// rightmost 64 bits of the HMAC. IPv4-mapped IPv6 addresses count as IPv6,
// as on the wire.
func (h *Hasher) AddAddrHMAC(senderKey, receiverKey Key, id uint8, addr netip.Addr, port uint16) uint64 {
	h.msg[0] = id
	n := 1
	if addr.Is4() {
		v := addr.As4()
		n += copy(h.msg[n:], v[:])
	} else {
		v := addr.As16()
		n += copy(h.msg[n:], v[:])
	}
	binary.BigEndian.PutUint16(h.msg[n:], port)
	n += 2
	mac := h.hmac(senderKey, receiverKey, h.msg[:n])
	return binary.BigEndian.Uint64(mac[sha256.Size-8:])
}
