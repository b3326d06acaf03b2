package mptcp

import (
	"errors"
	"sync"
)

// MaxKeyAttempts is how many keys NewLocalKey tries before it gives up on
// finding one whose token is free.
const MaxKeyAttempts = 64

// ErrTokenSpaceExhausted is returned by NewLocalKey when every key it tried
// had a token already in use.
var ErrTokenSpaceExhausted = errors.New("mptcp: could not find a key with an unused token after 64 tries: the token table is too full (close idle connections) or the key generator is broken")

// TokenTable maps local tokens to connections across all workers. It is
// control-plane state (touched at connection setup, MP_JOIN and teardown),
// guarded by a read-write mutex. The zero value is not usable: call
// NewTokenTable.
type TokenTable[V any] struct {
	mu     sync.RWMutex
	m      map[uint32]V
	newKey func() (Key, error)
}

// NewTokenTable returns an empty table that draws keys from GenerateKey.
func NewTokenTable[V any]() *TokenTable[V] {
	return &TokenTable[V]{m: make(map[uint32]V), newKey: GenerateKey}
}

// SetKeyGenerator replaces the key source (tests use it to force
// collisions). It must be called before the table is shared.
func (t *TokenTable[V]) SetKeyGenerator(f func() (Key, error)) { t.newKey = f }

// NewLocalKey draws keys until one has a token no live connection uses,
// registers v under that token, and returns the key, its token and its IDSN.
// Drawing and registering happen under the table's lock, so two callers
// never get the same token.
func (t *TokenTable[V]) NewLocalKey(v V) (key Key, token uint32, idsn uint64, err error) {
	for range MaxKeyAttempts {
		k, err := t.newKey()
		if err != nil {
			return 0, 0, 0, err
		}
		tok, idsn := k.TokenIDSN()
		t.mu.Lock()
		_, taken := t.m[tok]
		if !taken {
			t.m[tok] = v
		}
		t.mu.Unlock()
		if !taken {
			return k, tok, idsn, nil
		}
	}
	return 0, 0, 0, ErrTokenSpaceExhausted
}

// Insert registers v under token unless the token is taken; it reports
// whether it did.
func (t *TokenTable[V]) Insert(token uint32, v V) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, taken := t.m[token]; taken {
		return false
	}
	t.m[token] = v
	return true
}

// Lookup returns the connection registered under token (the receiver's
// token of an incoming MP_JOIN SYN).
func (t *TokenTable[V]) Lookup(token uint32) (V, bool) {
	t.mu.RLock()
	v, ok := t.m[token]
	t.mu.RUnlock()
	return v, ok
}

// Remove forgets token; it reports whether the token was present.
func (t *TokenTable[V]) Remove(token uint32) bool {
	t.mu.Lock()
	_, ok := t.m[token]
	delete(t.m, token)
	t.mu.Unlock()
	return ok
}

// Len returns the number of registered tokens.
func (t *TokenTable[V]) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.m)
}
