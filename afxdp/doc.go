// Package afxdp is mpxdp's own AF_XDP layer: it owns the UMEM (the shared
// packet buffer area), the fill, completion, RX and TX rings, the socket
// options and bind modes (copy, zero-copy, need_wakeup, shared UMEM across
// queues and interfaces, multi-buffer), the XDP redirect program with its
// XSKMAP (built with cilium/ebpf's asm package, no clang) and its attach
// modes, and the kernel's per-socket statistics.
//
// # Frame ownership
//
// A UMEM is cut into NumFrames frames of FrameSize bytes; a frame is named
// by its address (byte offset into the UMEM). At any moment exactly one
// party owns a frame, and only that party may touch its bytes:
//
//	free list (app) ──FillRing.Produce──► fill ring ──► kernel (waits for a packet)
//	kernel ──writes packet──► RX ring ──Socket.Receive──► app (reads the Desc)
//	app ──done with it──► free list, or straight back to the fill ring
//	free list (app) ──writes packet──► Socket.Transmit ──► TX ring ──► kernel (sends)
//	kernel ──sent──► completion ring ──CompletionRing.Consume──► free list
//
// RX descriptors carry the address of the packet's first byte, which lies
// inside the frame at some headroom offset; FrameAddr rounds it back to the
// frame start (aligned mode) before the frame is recycled.
//
// # Threads
//
// Rings are single-producer/single-consumer: each Socket (and the
// fill/completion pair it uses) belongs to one goroutine at a time. The hot
// path (Receive, Transmit, Produce, Consume, Kick) takes no locks and does
// not allocate.
//
// Everything that needs syscalls or unsafe lives in *_linux.go files; the
// configuration checks and the ring index logic are portable and tested
// without privileges.
package afxdp
