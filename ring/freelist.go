package ring

import (
	"fmt"
	"runtime"
	"sync/atomic"
)

// FreeList is a LIFO stack of free frame addresses (UMEM offsets) owned by a
// single goroutine: it is not safe for concurrent use, and costs no atomics.
// Use one per worker; hand frames between workers through an [SPSC] or
// [MPSC] ring, or use [SharedFreeList].
//
// LIFO order returns the most recently freed frame first, which is the one
// most likely to still be in the CPU cache.
type FreeList struct {
	addrs []uint64 // addrs[:n] are free; addrs[n-1] is the top
	n     int
}

// NewFreeList returns an empty free-list that can hold capacity addresses.
func NewFreeList(capacity int) (*FreeList, error) {
	if capacity < 1 || capacity > MaxCapacity {
		return nil, fmt.Errorf("ring: FreeList capacity %d is invalid: use 1 to %d (the number of UMEM frames)", capacity, MaxCapacity)
	}
	return &FreeList{addrs: make([]uint64, capacity)}, nil
}

// NewFrameFreeList returns a full free-list holding the addresses of count
// frames of frameSize bytes, starting at offset base: base, base+frameSize,
// ..., base+(count-1)*frameSize. Get returns them lowest address first.
func NewFrameFreeList(base, frameSize uint64, count int) (*FreeList, error) {
	if frameSize == 0 {
		return nil, fmt.Errorf("ring: frame size 0 is invalid: pass the UMEM frame size (e.g. 4096)")
	}
	f, err := NewFreeList(count)
	if err != nil {
		return nil, err
	}
	for i := range f.addrs {
		// Fill top-down so that the lowest address is on top.
		f.addrs[count-1-i] = base + uint64(i)*frameSize
	}
	f.n = count
	return f, nil
}

// Len returns the number of free addresses held.
func (f *FreeList) Len() int { return f.n }

// Cap returns the number of addresses the free-list can hold.
func (f *FreeList) Cap() int { return len(f.addrs) }

// Get removes and returns a free address, or reports false if there is none.
func (f *FreeList) Get() (uint64, bool) {
	if f.n == 0 {
		return 0, false
	}
	f.n--
	return f.addrs[f.n], true
}

// Put returns addr to the free-list. Putting more addresses than Cap means a
// frame was freed twice (or was never the list's): Put panics, because
// continuing would hand the same frame to two users.
func (f *FreeList) Put(addr uint64) {
	if f.n == len(f.addrs) {
		panic(fmt.Sprintf("ring: FreeList.Put(%#x) on a full list of %d frames: a frame was freed twice or does not belong to this list", addr, len(f.addrs)))
	}
	f.addrs[f.n] = addr
	f.n++
}

// GetBatch fills out with up to len(out) free addresses and returns how many
// it wrote.
func (f *FreeList) GetBatch(out []uint64) int {
	n := min(len(out), f.n)
	// Pop from the top: out[0] is the most recently freed address.
	for i := 0; i < n; i++ {
		out[i] = f.addrs[f.n-1-i]
	}
	f.n -= n
	return n
}

// PutBatch returns all of addrs to the free-list. Like Put it panics if they
// do not all fit, before changing anything.
func (f *FreeList) PutBatch(addrs []uint64) {
	if len(addrs) > len(f.addrs)-f.n {
		panic(fmt.Sprintf("ring: FreeList.PutBatch of %d frames with room for %d (capacity %d): a frame was freed twice or does not belong to this list",
			len(addrs), len(f.addrs)-f.n, len(f.addrs)))
	}
	f.n += copy(f.addrs[f.n:], addrs)
}

// sharedSlot is one cell of a SharedFreeList (a bounded MPMC queue with
// per-slot sequence numbers): seq == pos means free for the Put that claims
// position pos, seq == pos+1 means holding the address put at pos, and a Get
// that takes position pos frees the slot for the next lap with
// seq = pos+capacity.
type sharedSlot struct {
	seq atomic.Uint64
	val uint64
}

// SharedFreeList is a bounded pool of free frame addresses that any number of
// goroutines may Get from and Put to concurrently, without locks. It is a
// FIFO (a bounded multi-producer multi-consumer queue with per-slot sequence
// numbers), so unlike [FreeList] it does not favour cache-warm frames; prefer
// a per-worker FreeList on hot paths and use this one to rebalance.
//
// Create one with [NewSharedFreeList]; the zero value is not usable.
type SharedFreeList struct {
	_     [cacheLinePad]byte
	tail  atomic.Uint64 // next position to put
	_     [cacheLinePad - 8]byte
	head  atomic.Uint64 // next position to get
	_     [cacheLinePad - 8]byte
	mask  uint64
	slots []sharedSlot
	_     [cacheLinePad - 32]byte
}

// NewSharedFreeList returns an empty shared free-list holding up to capacity
// addresses. capacity must be a power of two between MinCapacity and
// MaxCapacity (round the frame count up).
func NewSharedFreeList(capacity int) (*SharedFreeList, error) {
	if err := checkCapacity("SharedFreeList", capacity); err != nil {
		return nil, err
	}
	f := &SharedFreeList{mask: uint64(capacity - 1), slots: make([]sharedSlot, capacity)}
	for i := range f.slots {
		f.slots[i].seq.Store(uint64(i))
	}
	return f, nil
}

// Cap returns the number of addresses the shared free-list can hold.
func (f *SharedFreeList) Cap() int { return len(f.slots) }

// Len returns a snapshot of the number of free addresses held, between 0 and
// Cap.
func (f *SharedFreeList) Len() int {
	h := f.head.Load()
	t := f.tail.Load()
	if t < h { // head moved past our stale tail
		return 0
	}
	return int(min(t-h, uint64(len(f.slots))))
}

// TryPut returns addr to the shared free-list and reports true, or reports
// false if it is full. If the slot it needs is still being emptied by a Get
// in another goroutine, it yields the processor until that Get finishes
// (a few instructions, unless that goroutine was preempted).
func (f *SharedFreeList) TryPut(addr uint64) bool {
	size := uint64(len(f.slots))
	pos := f.tail.Load()
	for {
		s := &f.slots[pos&f.mask]
		switch d := int64(s.seq.Load() - pos); {
		case d == 0:
			if f.tail.CompareAndSwap(pos, pos+1) {
				s.val = addr
				s.seq.Store(pos + 1)
				return true
			}
			pos = f.tail.Load()
		case d < 0:
			// The slot still holds position pos-size. Either the list is
			// full, or a Get has claimed that position (head moved past
			// it) and has not released the slot yet.
			if h := f.head.Load(); h <= pos && pos-h >= size {
				return false
			}
			runtime.Gosched()
			pos = f.tail.Load()
		default:
			pos = f.tail.Load()
		}
	}
}

// Put returns addr to the shared free-list. It panics if the list is full,
// which means a frame was freed twice or does not belong to the list.
func (f *SharedFreeList) Put(addr uint64) {
	if !f.TryPut(addr) {
		panic(fmt.Sprintf("ring: SharedFreeList.Put(%#x) on a full list of %d frames: a frame was freed twice or does not belong to this list", addr, len(f.slots)))
	}
}

// Get removes and returns a free address, or reports false if there is none.
// If the slot it needs is still being filled by a Put in another goroutine,
// it yields the processor until that Put finishes.
func (f *SharedFreeList) Get() (uint64, bool) {
	pos := f.head.Load()
	for {
		s := &f.slots[pos&f.mask]
		switch d := int64(s.seq.Load() - (pos + 1)); {
		case d == 0:
			if f.head.CompareAndSwap(pos, pos+1) {
				v := s.val
				s.seq.Store(pos + uint64(len(f.slots)))
				return v, true
			}
			pos = f.head.Load()
		case d < 0:
			// Nothing published at pos: empty, unless a Put has claimed
			// pos (tail moved past it) and has not published yet.
			if f.tail.Load() <= pos {
				return 0, false
			}
			runtime.Gosched()
			pos = f.head.Load()
		default:
			pos = f.head.Load()
		}
	}
}

// GetBatch fills out with up to len(out) free addresses and returns how many
// it wrote.
func (f *SharedFreeList) GetBatch(out []uint64) int {
	n := 0
	for n < len(out) {
		v, ok := f.Get()
		if !ok {
			break
		}
		out[n] = v
		n++
	}
	return n
}

// PutBatch returns all of addrs to the shared free-list. It panics if they do
// not fit (see Put); addresses before the one that did not fit have been put.
func (f *SharedFreeList) PutBatch(addrs []uint64) {
	for _, a := range addrs {
		f.Put(a)
	}
}
