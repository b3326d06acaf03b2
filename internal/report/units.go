package report

import (
	"fmt"
	"time"
)

// Bits formats a rate as iperf3 does: "941 Mbits/sec", "9.43 Gbits/sec"
// (powers of 1000).
func Bits(bps float64) string {
	return scaled(bps, 1000, "bits/sec", "Kbits/sec", "Mbits/sec", "Gbits/sec", "Tbits/sec")
}

// Bytes formats a byte count as iperf3 does: "1.10 GBytes" (powers of
// 1024).
func Bytes(n uint64) string {
	return scaled(float64(n), 1024, "Bytes", "KBytes", "MBytes", "GBytes", "TBytes")
}

// scaled divides v by base until it is below base (or the units run out)
// and prints it with three significant digits and the unit reached.
func scaled(v, base float64, units ...string) string {
	i := 0
	for v >= base && i < len(units)-1 {
		v /= base
		i++
	}
	return num3(v) + " " + units[i]
}

// num3 prints three significant digits, as iperf3's unit_snprintf.
func num3(v float64) string {
	switch {
	case v < 9.995:
		return fmt.Sprintf("%.2f", v)
	case v < 99.95:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// RTT formats a round-trip time: "74us", "1.07ms", "120ms".
func RTT(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dus", d.Microseconds())
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
}
