// Command mpx-topo builds a testbed topology (namespaces "ours", "peer" and
// optionally "router", one veth path per -paths), prints it as environment
// variables, and either runs the command given after the flags with those
// variables set or waits for Ctrl-C. It always removes the topology before
// exiting.
//
//	mpx-topo -paths 2 -router -rate 100,50 -loss 0,1 -delay 0,20ms -- sh -c 'ip netns exec $MPX_PEER ip addr'
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mpxdp/mpxdp/internal/testbed"
)

func main() {
	os.Exit(run())
}

func run() int {
	var c testbed.Config
	flag.IntVar(&c.Paths, "paths", 2, "number of paths")
	flag.IntVar(&c.MTU, "mtu", 1500, "MTU of every link")
	flag.IntVar(&c.Queues, "queues", 1, "queues of the veths attached to ours")
	flag.BoolVar(&c.Router, "router", false, "put a router namespace (one bridge per path) in the middle")
	flag.BoolVar(&c.IPv6, "ipv6", false, "also address each path with fd00:<i>::/64")
	flag.BoolVar(&c.LossBothWays, "loss-both-ways", false, "without -router, also lose packets on the peer's ingress")
	rates := flag.String("rate", "", "per-path rate limits in Mbit/s, comma separated (0 = unlimited)")
	losses := flag.String("loss", "", "per-path random loss in percent, comma separated")
	delays := flag.String("delay", "", "per-path one-way delay, comma separated durations (e.g. 20ms,0); needs -router")
	jitters := flag.String("jitter", "", "per-path extra random delay, comma separated durations; needs -router")
	kernel := flag.Bool("kernel", false, "give ours kernel addresses too (kernel-to-kernel reference run)")
	flag.StringVar(&c.Tag, "tag", "topo", "namespace tag")
	flag.Parse()

	var err error
	if c.RateMbit, err = parseList(*rates, strconv.Atoi); err != nil {
		fmt.Fprintln(os.Stderr, "mpx-topo: -rate:", err)
		return 2
	}
	if c.LossPct, err = parseList(*losses, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }); err != nil {
		fmt.Fprintln(os.Stderr, "mpx-topo: -loss:", err)
		return 2
	}
	if c.Delay, err = parseList(*delays, time.ParseDuration); err != nil {
		fmt.Fprintln(os.Stderr, "mpx-topo: -delay:", err)
		return 2
	}
	if c.Jitter, err = parseList(*jitters, time.ParseDuration); err != nil {
		fmt.Fprintln(os.Stderr, "mpx-topo: -jitter:", err)
		return 2
	}
	if err := testbed.Available(); err != nil {
		fmt.Fprintln(os.Stderr, "mpx-topo:", err)
		return 1
	}
	topo, err := testbed.NewTopology(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpx-topo:", err)
		return 1
	}
	defer func() {
		if err := topo.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "mpx-topo:", err)
		}
	}()
	if *kernel {
		if err := topo.KernelMode(); err != nil {
			fmt.Fprintln(os.Stderr, "mpx-topo:", err)
			return 1
		}
	}
	env := topo.Env()
	for _, e := range env {
		fmt.Println(e)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "mpx-topo: topology ready; Ctrl-C removes it")
		<-sig
		return 0
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "mpx-topo:", err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case s := <-sig:
		_ = cmd.Process.Signal(s)
		err = <-done
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpx-topo:", err)
		return 1
	}
	return 0
}

// parseList parses a comma-separated list; empty gives nil.
func parseList[T any](s string, parse func(string) (T, error)) ([]T, error) {
	if s == "" {
		return nil, nil
	}
	var out []T
	for _, f := range strings.Split(s, ",") {
		v, err := parse(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%q: %v: give one value per path, comma separated", f, err)
		}
		out = append(out, v)
	}
	return out, nil
}
