// Package numa owns what mpxdp knows about the machine it runs on: CPU and
// NUMA topology read from sysfs, the NUMA node and queue count of a network
// interface, the choice of cores for per-queue workers, pinning the calling
// thread to a core, and the CPU features that select fast paths (for
// example the checksum routine).
//
// Topology reading takes the sysfs root as a parameter ([Read]); [System]
// reads the live "/sys". Tests use small fake trees under testdata/.
//
// Pinning ([PinThread], [CurrentCPU], [ThreadAffinity]) uses
// sched_setaffinity and getcpu on Linux; on other systems those functions
// return an error wrapping errors.ErrUnsupported. [Features] comes from
// github.com/klauspost/cpuid/v2.
//
// Nothing in this package is on the per-packet path: it runs at start-up,
// when workers are placed, and in tools.
package numa
