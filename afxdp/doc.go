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
// # Use
//
//	port, err := afxdp.Open(afxdp.Config{Interface: "eth0"}) // all queues, auto modes
//	if err != nil { ... }                                     // errors name the field and the fix
//	defer port.Close()                                        // detaches, closes, unmaps
//	s := port.Sockets[0]                                      // one per port.Queues[i]
//	s.Fill().Produce(frames)                                  // give the kernel frames to fill
//	n := s.Receive(descs)                                     // port.UMEM.Data(descs[i]) is the packet
//	s.Fill().Produce(addrs)                                   // recycle: port.UMEM.FrameAddr(d.Addr)
//	s.Transmit(out); s.Kick()                                 // send; reclaim via s.Completion().Consume
//
// Open, OpenShared, Bind and Program.Attach act on the network namespace of
// the calling OS thread (runtime.LockOSThread plus setns for a namespace
// other than the process's); the sockets keep working from any thread after.
// Config.Validate checks a configuration against /sys without privileges.
// Several ports can share one UMEM (OpenShared), across queues and devices;
// the kernel then gives each (device, queue) its own fill/completion pair,
// and every shared socket inherits the first socket's copy/zero-copy,
// need_wakeup and multi-buffer mode.
//
// # Measured on veth (Linux 6.18)
//
// Zero-copy is refused (ModeAuto falls back to copy). With generic attach on
// a multi-queue veth the program sees rx_queue_index one lower than the veth
// queue the frame came in on (queues 0 and 1 both read 0), so the last
// queue's socket gets nothing; native attach maps queues one to one.
// XDP_MAX_TX_SKB_BUDGET below 32 is refused. A closed socket releases its
// queue from a kernel work queue; Bind retries EBUSY for up to a second.
//
// Everything that needs syscalls or unsafe lives in *_linux.go files; the
// configuration checks and the ring index logic are portable and tested
// without privileges.
package afxdp
