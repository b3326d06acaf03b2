package afxdp

// FreeList is a LIFO stack of free frame addresses owned by one goroutine
// (no locks). A frame is on the free list exactly while the application owns
// it and is not using it; see the package documentation for the life cycle.
type FreeList struct {
	addrs []uint64
}

// NewFreeList returns a free list with room for capacity addresses, empty.
func NewFreeList(capacity int) *FreeList {
	return &FreeList{addrs: make([]uint64, 0, capacity)}
}

// Len returns the number of free frames.
func (f *FreeList) Len() int { return len(f.addrs) }

// Put returns frames to the list. It panics if more frames come back than
// the list was made for, which means a frame was freed twice.
func (f *FreeList) Put(addrs ...uint64) {
	if len(f.addrs)+len(addrs) > cap(f.addrs) {
		panic("afxdp: FreeList.Put over capacity: a frame was freed twice")
	}
	f.addrs = append(f.addrs, addrs...)
}

// Get moves up to len(dst) free addresses into dst and returns how many.
func (f *FreeList) Get(dst []uint64) int {
	n := min(len(dst), len(f.addrs))
	copy(dst[:n], f.addrs[len(f.addrs)-n:])
	f.addrs = f.addrs[:len(f.addrs)-n]
	return n
}

// Get1 pops one free address; ok is false when the list is empty.
func (f *FreeList) Get1() (addr uint64, ok bool) {
	if len(f.addrs) == 0 {
		return 0, false
	}
	addr = f.addrs[len(f.addrs)-1]
	f.addrs = f.addrs[:len(f.addrs)-1]
	return addr, true
}
