package mptcp

import (
	"errors"
	"sync"
	"testing"
)

// Two distinct keys with the same token, found by a birthday search over
// keys 1, 2, 3, ... with Python's hashlib.
const (
	collideKeyA  Key    = 0xc66f
	collideKeyB  Key    = 0xe658
	collideToken uint32 = 0x7357966a
)

func seqGen(keys ...Key) (func() (Key, error), *int) {
	calls := new(int)
	return func() (Key, error) {
		k := keys[*calls%len(keys)]
		*calls++
		return k, nil
	}, calls
}

func TestTokenTableRealCollision(t *testing.T) {
	if collideKeyA.Token() != collideToken || collideKeyB.Token() != collideToken {
		t.Fatalf("collision vector wrong: %#x %#x", collideKeyA.Token(), collideKeyB.Token())
	}
	tt := NewTokenTable[string]()
	gen, calls := seqGen(collideKeyA, collideKeyB, collideKeyB, 0x0123456789abcdef)
	tt.SetKeyGenerator(gen)
	k1, tok1, idsn1, err := tt.NewLocalKey("first")
	if err != nil || k1 != collideKeyA || tok1 != collideToken || idsn1 != collideKeyA.IDSN() {
		t.Fatalf("first: %#x %#x %#x %v", uint64(k1), tok1, idsn1, err)
	}
	// collideKeyB twice (same token as first), then a fresh key.
	k2, tok2, _, err := tt.NewLocalKey("second")
	if err != nil || k2 != 0x0123456789abcdef || tok2 != 0x55c53f5d {
		t.Fatalf("second: %#x %#x %v", uint64(k2), tok2, err)
	}
	if *calls != 4 {
		t.Fatalf("generator called %d times, want 4 (two collisions retried)", *calls)
	}
	if v, ok := tt.Lookup(collideToken); !ok || v != "first" {
		t.Fatalf("Lookup(first) = %q %v", v, ok)
	}
	if v, ok := tt.Lookup(tok2); !ok || v != "second" {
		t.Fatalf("Lookup(second) = %q %v", v, ok)
	}
	if tt.Len() != 2 {
		t.Fatalf("Len = %d", tt.Len())
	}
	if !tt.Remove(collideToken) || tt.Remove(collideToken) {
		t.Fatal("Remove should succeed once")
	}
	if _, ok := tt.Lookup(collideToken); ok {
		t.Fatal("token still present after Remove")
	}
	// After removal the token is free again.
	if !tt.Insert(collideToken, "again") || tt.Insert(collideToken, "dup") {
		t.Fatal("Insert should succeed once on a free token")
	}
}

func TestTokenTableExhausted(t *testing.T) {
	tt := NewTokenTable[int]()
	gen, calls := seqGen(7)
	tt.SetKeyGenerator(gen)
	if _, _, _, err := tt.NewLocalKey(1); err != nil {
		t.Fatal(err)
	}
	*calls = 0
	if _, _, _, err := tt.NewLocalKey(2); !errors.Is(err, ErrTokenSpaceExhausted) {
		t.Fatalf("err = %v, want ErrTokenSpaceExhausted", err)
	}
	if *calls != MaxKeyAttempts {
		t.Fatalf("tried %d keys, want %d", *calls, MaxKeyAttempts)
	}
	boom := errors.New("entropy source failed")
	tt.SetKeyGenerator(func() (Key, error) { return 0, boom })
	if _, _, _, err := tt.NewLocalKey(3); !errors.Is(err, boom) {
		t.Fatalf("generator error not passed on: %v", err)
	}
}

func TestTokenTableConcurrent(t *testing.T) {
	tt := NewTokenTable[int]()
	const workers, each = 8, 200
	var wg sync.WaitGroup
	toks := make([][]uint32, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, tok, _, err := tt.NewLocalKey(w*each + i)
				if err != nil {
					t.Error(err)
					return
				}
				toks[w] = append(toks[w], tok)
				if _, ok := tt.Lookup(tok); !ok {
					t.Error("fresh token not found")
				}
			}
		}()
	}
	wg.Wait()
	seen := map[uint32]bool{}
	for _, l := range toks {
		for _, tok := range l {
			if seen[tok] {
				t.Fatalf("token %#x handed out twice", tok)
			}
			seen[tok] = true
		}
	}
	if tt.Len() != workers*each {
		t.Fatalf("Len = %d, want %d", tt.Len(), workers*each)
	}
}
