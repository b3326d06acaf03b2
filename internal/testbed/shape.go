package testbed

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// tbfLatency is how long a packet may wait in a tbf queue (it sets the
// queue length as rate x latency + burst).
const tbfLatency = "50ms"

// tbfBurst returns the bucket size in bytes for a rate: at least 2 ms of
// traffic (so timer granularity does not cut the rate), at least four
// frames of the interface MTU (so 9000-byte frames pass), and at least 32 KiB.
func tbfBurst(mbit, mtu int) int {
	b := mbit * 1_000_000 / 8 / 500
	if f := 4 * (mtu + 14); f > b {
		b = f
	}
	if b < 32<<10 {
		b = 32 << 10
	}
	return b
}

// SetRate limits what leaves v (its egress) to mbit Mbit/s with a tbf root
// qdisc: `tc qdisc replace dev X root tbf rate Nmbit burst B latency 50ms`,
// where B comes from the rate and MTU (see tbfBurst). mbit 0 removes the
// limit. As with SetLoss, shape a kernel hop, not the AF_XDP side.
func SetRate(v Veth, mbit int) error {
	if mbit < 0 || mbit > 1_000_000 {
		return fmt.Errorf("testbed: rate %d Mbit/s is out of range: use 0 (unlimited) to 1000000", mbit)
	}
	if _, err := lookTool("tc"); err != nil {
		return err
	}
	if mbit == 0 {
		_, err := v.NS.Exec("tc", "qdisc", "del", "dev", v.Name, "root")
		var ce *CmdError
		if errors.As(err, &ce) && (strings.Contains(ce.Output, "No such file") || strings.Contains(ce.Output, "Cannot delete qdisc with handle of zero")) {
			return nil // no root qdisc: already unlimited
		}
		return err
	}
	out, err := v.NS.ip("-j", "link", "show", "dev", v.Name)
	if err != nil {
		return err
	}
	l, err := parseLinkJSON(out)
	if err != nil {
		return err
	}
	burst := tbfBurst(mbit, l.MTU)
	_, err = v.NS.Exec("tc", "qdisc", "replace", "dev", v.Name, "root", "tbf",
		"rate", strconv.Itoa(mbit)+"mbit", "burst", strconv.Itoa(burst), "latency", tbfLatency)
	return err
}
