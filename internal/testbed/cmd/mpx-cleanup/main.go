// Command mpx-cleanup removes network namespaces left behind by testbed runs
// whose process no longer exists ("mpx-<tag>-<pid>-<n>" with a dead pid).
// `make test` runs it first. It prints each namespace it removed.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

func main() {
	prefix := flag.String("prefix", testbed.NSPrefix, "only namespaces whose name starts with this (must start with "+testbed.NSPrefix+")")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "mpx-cleanup: needs root to delete network namespaces; nothing done")
		os.Exit(0)
	}
	removed, err := testbed.Cleanup(*prefix)
	for _, n := range removed {
		fmt.Println("removed stale namespace", n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpx-cleanup:", err)
		os.Exit(1)
	}
}
