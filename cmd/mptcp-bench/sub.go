package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mpxdp/mpxdp/internal/iperf"
)

// Limits of the loopback and record subcommands.
const (
	maxLoopSubflows = 8    // the kernel's largest subflow limit, for the reference run
	maxRecordPaths  = 8    // likewise
	maxPipeMTU      = 9000 // in-memory frames are sized for jumbo frames at most
)

// parseSub validates the command line of the loopback and record
// subcommands; set holds the flags given explicitly.
func parseSub(c *config, set map[string]bool, rates string, blk uint64) error {
	name := c.sub
	reject := func(flags ...string) error {
		for _, f := range flags {
			if set[f] {
				return fmt.Errorf("%s: -%s does not apply here (see -h)", name, strings.TrimPrefix(f, "-"))
			}
		}
		return nil
	}
	if err := reject("tcp", "C", "congestion"); err != nil {
		return fmt.Errorf("%w: both runs use their default congestion control (cubic) over MPTCP", err)
	}
	switch name {
	case "loopback":
		if err := reject("c", "iface", "gateway", "paths", "rate", "no-kernel"); err != nil {
			return fmt.Errorf("%w: loopback joins two stacks in this process; it takes --subflows, --mtu and --kernel", err)
		}
		if c.subflows < 1 || c.subflows > maxLoopSubflows {
			return fmt.Errorf("loopback: --subflows %d: use 1..%d", c.subflows, maxLoopSubflows)
		}
		if c.mtu == 0 {
			c.mtu = 1500
		}
		if c.mtu < 576 || c.mtu > maxPipeMTU {
			return fmt.Errorf("loopback: --mtu %d: use 576..%d", c.mtu, maxPipeMTU)
		}
	case "record":
		if err := reject("subflows", "kernel"); err != nil {
			return fmt.Errorf("%w: record always measures kernel MPTCP on the same topology (--no-kernel skips it) and uses --paths", err)
		}
		if c.paths < 1 || c.paths > maxRecordPaths {
			return fmt.Errorf("record: --paths %d: use 1..%d", c.paths, maxRecordPaths)
		}
		if c.mtu == 0 {
			c.mtu = 9000
		}
		if c.mtu < 1280 || c.mtu > maxPipeMTU {
			return fmt.Errorf("record: --mtu %d: use 1280..%d", c.mtu, maxPipeMTU)
		}
		if rates != "" {
			for _, f := range strings.Split(rates, ",") {
				r, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || r < 0 || r > 1000000 {
					return fmt.Errorf("record: --rate %q: give Mbit/s per path as integers, e.g. 1000 or 1000,2000,500", rates)
				}
				c.rates = append(c.rates, r)
			}
			if len(c.rates) != 1 && len(c.rates) != c.paths {
				return fmt.Errorf("record: --rate has %d values for %d paths: give one (every path) or one per path", len(c.rates), c.paths)
			}
		}
		if len(c.ifaces) > 0 {
			if c.host == "" {
				return errors.New("record --iface runs on real NICs against a server: give -c HOST (a kernel MPTCP server announcing its other addresses)")
			}
			if set["paths"] || set["rate"] || set["mtu"] {
				return errors.New("record --iface: --paths, --rate and --mtu shape the namespaced testbed; on real NICs the interfaces given are the paths")
			}
		} else if c.host != "" || c.gateway.IsValid() {
			return errors.New("record: -c and --gateway need --iface (real NICs); without, record builds its own testbed")
		}
	}
	if c.port < 1 || c.port > 65535 {
		return fmt.Errorf("-p %d: the port must be 1..65535", c.port)
	}
	if c.parallel < 1 || c.parallel > iperf.MaxStreams {
		return fmt.Errorf("-P %d: use 1..%d parallel streams", c.parallel, iperf.MaxStreams)
	}
	if blk > iperf.MaxBlockSize {
		return fmt.Errorf("-l %d: the block size must be at most %d bytes", blk, iperf.MaxBlockSize)
	}
	c.blockSize = int(blk)
	if c.bytes == 0 && c.duration == 0 {
		return errors.New("-t 0 without -n: give a duration or a byte count")
	}
	if c.json && c.jsonStream {
		return errors.New("-J and --json-stream exclude each other: pick one")
	}
	if c.plot != "" && c.interval == 0 {
		return errors.New("--plot needs interval data: do not combine it with -i 0")
	}
	return nil
}
