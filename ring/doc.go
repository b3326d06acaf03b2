// Package ring owns the lock-free queues that carry work between cores in
// mpxdp, and the free-list of UMEM frame addresses.
//
// The queues are bounded, power-of-two sized and generic over the element
// type:
//
//   - [SPSC] has exactly one producer goroutine and one consumer goroutine.
//     Each side keeps a private copy of its own index and a cached copy of the
//     other side's index on its own cache line, so the fast path reads and
//     writes only memory the calling side owns; the other side's line is read
//     only when the cached copy says the ring looks full (producer) or empty
//     (consumer).
//   - [MPSC] has any number of producers and one consumer. Producers claim
//     positions with a compare-and-swap on the tail; every slot carries a
//     sequence number (D. Vyukov's bounded queue) that tells the consumer when
//     the slot's value has been published and tells producers when the
//     consumer has released it. There are no locks.
//
// Both queues have single-item (Enqueue, Dequeue) and batch (EnqueueBatch,
// DequeueBatch) operations. None of them allocates, blocks or spins waiting
// for the other side: a full or empty ring is reported to the caller, which
// decides whether to retry, poll or drop. (The one exception is
// [SharedFreeList], whose Get and Put yield the processor while another
// goroutine is half-way through an operation on the slot they need.)
//
// All publication goes through sync/atomic, so a value written by a producer
// before Enqueue returns true is visible to the consumer after the matching
// Dequeue (a happens-before edge in the Go memory model); the race detector
// understands these edges.
//
// [FreeList] is a single-owner LIFO stack of frame addresses (UMEM offsets) for
// a worker that owns its frames; [SharedFreeList] is a lock-free variant that
// several goroutines may use at once.
package ring
