package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/mpxdp/mpxdp/internal/cli"
	"github.com/mpxdp/mpxdp/internal/iperf"
	"github.com/mpxdp/mpxdp/internal/report"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the test failed
	exitUsage = 2 // bad arguments, or a feature that is not available
)

const usageText = `mptcp-bench: an iperf3-compatible client that reports throughput per MPTCP subflow.

Usage:
  mptcp-bench -c HOST [options]        run a test against an iperf3 server
  mptcp-bench loopback [options]       our stack against itself over in-memory links: the
                                       stack's CPU ceiling on any machine (no NIC, no root)
  mptcp-bench record [options]         the record setup on a namespaced testbed (root): one
                                       connection, paths added one by one, our stack then
                                       kernel MPTCP on the same topology

Options:
  -c HOST            server to connect to
  -p PORT            server port (default 5201)
  -t SECS            test duration in seconds (default 10; ignored with -n)
  -n BYTES           send (or, with -R, receive) exactly BYTES; K/M/G/T suffixes (1024-based)
  -R                 reverse: the server sends, we receive
  -P N               parallel streams (default 1)
  -i SECS            report interval in seconds (default 1; 0 disables)
  -l BYTES           block size for each write (default 128K)
  -C, --congestion ALGO
                     TCP congestion control for every stream (kernel sockets; the server
                     is asked to use it too), e.g. cubic, bbr, reno
  -b RATE            pace each stream to RATE bits/s (K/M/G/T, 1000-based; default unlimited);
                     with -R the server paces
  -J, --json         print iperf3's JSON document (plus "subflows") at the end
  --json-stream      print one JSON object per line: start, each interval, end
  --plot FILE.svg    write a throughput plot (per subflow and total) to FILE.svg
  --kernel           use the kernel's MPTCP sockets (works today)
  --tcp              with --kernel: plain TCP instead of MPTCP (for comparison)
  --iface IF=CIDR    our AF_XDP stack on interface IF with address CIDR (repeatable;
                     needs root). The stack dials MPTCP (plain TCP when the server
                     has none) and joins the addresses the server announces
  --gateway IP       with --iface: next hop for servers off the interfaces' subnets
  --title TEXT       prefix every output line with TEXT (sent to the server too)
  --events           our stack (--iface, loopback, record): print each MPTCP event
                     (CREATED, ESTABLISHED, ANNOUNCED, SF_ESTABLISHED, SF_CLOSED, ...)
                     to stderr as "ip mptcp monitor" prints the kernel's
  -h, --help         this help

loopback options (with -t, -n, -R, -P, -i, -l, -b, -J, --json-stream, --plot):
  --subflows N       in-memory paths, one subflow each (default 1, at most 8): the server
                     stack announces paths 1..N-1 and the client joins them
  --mtu M            IP MTU of the paths (default 1500, 576..9000)
  --kernel           then run the same test over kernel MPTCP on a loopback interface and
                     print both with the ratio. As root: lo of a private network namespace
                     with MTU M and N-1 signal endpoints (N subflows); otherwise this
                     namespace's lo (its own MTU) with 1 subflow

record options (with -t, -n, -R, -P, -i, -l, -b, -J, --json-stream, --plot):
  --paths N          veth paths between namespaces (default 6, at most 8); our stack (AF_XDP)
                     dials a kernel MPTCP server on path 0, which announces path i at
                     i*t/N s (a signal endpoint), so the connection grows a subflow per path
  --mtu M            MTU of every path (default 9000)
  --rate MBIT[,...]  limit every path (one value) or each path to MBIT Mbit/s (tbf on a
                     router namespace between the two ends)
  --no-kernel        skip the kernel reference (by default kernel MPTCP runs as the client on
                     the same topology and both are printed with the ratio)
  --iface IF=CIDR    real hardware instead of the testbed (repeat per NIC, with -c HOST): our
                     stack dials HOST, whose kernel path manager announces its other
                     addresses (ip mptcp endpoint add ADDR dev IF signal); no kernel reference
                     (the NICs are ours): run mptcp-bench --kernel -c HOST afterwards

Examples:
  mptcp-server --kernel --iperf :5201 &           # or: iperf3 -s
  mptcp-bench --kernel -c 10.100.0.2 -t 10 -i 1
  mptcp-bench --kernel -c 10.100.0.2 -R -P 4 -n 10G --plot run.svg
  mptcp-bench --kernel -c 10.100.0.2 --json-stream | jq .
  mptcp-bench --iface veth0=10.100.0.1/24 -c 10.100.0.2 -n 1G    # our AF_XDP stack
  mptcp-bench loopback --subflows 2 --mtu 9000 -t 10 --kernel      # CPU ceiling vs kernel
  mptcp-bench record -t 12                                         # 6 paths, MTU 9000 (root)
  mptcp-bench record --paths 3 --rate 1000 -t 6 --plot record.svg

Each interval prints one line per subflow (interface, local->remote, bitrate,
share of the total, retransmits, congestion window, smoothed RTT), then [SUM].
`

// config is a parsed command line.
type config struct {
	sub        string // "", "loopback" or "record"
	host       string
	port       int
	duration   time.Duration
	bytes      uint64
	reverse    bool
	parallel   int
	interval   time.Duration
	blockSize  int
	bitrate    float64
	congestion string
	json       bool
	jsonStream bool
	plot       string
	kernel     bool
	tcp        bool
	ifaces     cli.IfaceList
	gateway    netip.Addr
	title      string
	events     bool // print our stack's MPTCP events to stderr
	help       bool

	// loopback and record
	subflows int   // loopback: in-memory paths (one subflow each)
	mtu      int   // IP MTU of the paths (0: the subcommand's default)
	paths    int   // record: testbed paths
	rates    []int // record: per-path rate limits in Mbit/s (one value: every path)
	noKernel bool  // record: skip the kernel reference run

	// onStart, when set, is called once the test's data streams are
	// connected (record brings paths up from there).
	onStart func()
}

// secondsFlag parses a non-negative number of seconds.
type secondsFlag struct{ d *time.Duration }

// String implements flag.Value.
func (s secondsFlag) String() string {
	if s.d == nil {
		return ""
	}
	return strconv.FormatFloat(s.d.Seconds(), 'f', -1, 64)
}

// Set implements flag.Value.
func (s secondsFlag) Set(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 86400*7 {
		return fmt.Errorf("%q is not a number of seconds between 0 and 604800", v)
	}
	*s.d = time.Duration(f * float64(time.Second))
	return nil
}

// sizeFlag parses a byte count with K/M/G/T suffixes.
type sizeFlag struct{ n *uint64 }

// String implements flag.Value.
func (s sizeFlag) String() string {
	if s.n == nil {
		return ""
	}
	return fmt.Sprint(*s.n)
}

// Set implements flag.Value.
func (s sizeFlag) Set(v string) error {
	n, err := iperf.ParseSize(v)
	if err != nil {
		return err
	}
	*s.n = n
	return nil
}

// rateFlag parses a bit rate with iperf3's 1000-based suffixes (K, M, G,
// T): "100M" is 100 Mbit/s.
type rateFlag struct{ r *float64 }

// String implements flag.Value.
func (f rateFlag) String() string {
	if f.r == nil {
		return ""
	}
	return strconv.FormatFloat(*f.r, 'f', -1, 64)
}

// Set implements flag.Value.
func (f rateFlag) Set(v string) error {
	mult := 1.0
	num := v
	if v != "" {
		switch v[len(v)-1] {
		case 'k', 'K':
			mult = 1e3
		case 'm', 'M':
			mult = 1e6
		case 'g', 'G':
			mult = 1e9
		case 't', 'T':
			mult = 1e12
		}
		if mult != 1 {
			num = v[:len(v)-1]
		}
	}
	x, err := strconv.ParseFloat(num, 64)
	if err != nil || x < 0 || x*mult > 1e15 {
		return fmt.Errorf("%q is not a bit rate such as 100M (K/M/G/T are powers of 1000)", v)
	}
	*f.r = x * mult
	return nil
}

// parseArgs parses and validates the command line.
func parseArgs(args []string) (config, error) {
	c := config{port: iperf.DefaultPort, duration: 10 * time.Second, parallel: 1, interval: time.Second}
	if len(args) > 0 && (args[0] == "loopback" || args[0] == "record") {
		c.sub, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("mptcp-bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.host, "c", "", "")
	fs.IntVar(&c.port, "p", c.port, "")
	fs.Var(secondsFlag{&c.duration}, "t", "")
	var n uint64
	fs.Var(sizeFlag{&n}, "n", "")
	fs.BoolVar(&c.reverse, "R", false, "")
	fs.IntVar(&c.parallel, "P", 1, "")
	fs.Var(secondsFlag{&c.interval}, "i", "")
	var blk uint64
	fs.Var(sizeFlag{&blk}, "l", "")
	fs.Var(rateFlag{&c.bitrate}, "b", "")
	fs.StringVar(&c.congestion, "C", "", "")
	fs.StringVar(&c.congestion, "congestion", "", "")
	fs.BoolVar(&c.json, "J", false, "")
	fs.BoolVar(&c.json, "json", false, "")
	fs.BoolVar(&c.jsonStream, "json-stream", false, "")
	fs.StringVar(&c.plot, "plot", "", "")
	fs.BoolVar(&c.kernel, "kernel", false, "")
	fs.BoolVar(&c.tcp, "tcp", false, "")
	fs.Var(&c.ifaces, "iface", "")
	var gateway string
	fs.StringVar(&gateway, "gateway", "", "")
	fs.StringVar(&c.title, "title", "", "")
	fs.BoolVar(&c.events, "events", false, "")
	fs.BoolVar(&c.help, "h", false, "")
	fs.BoolVar(&c.help, "help", false, "")
	fs.IntVar(&c.subflows, "subflows", 1, "")
	fs.IntVar(&c.mtu, "mtu", 0, "")
	fs.IntVar(&c.paths, "paths", 6, "")
	var rates string
	fs.StringVar(&rates, "rate", "", "")
	fs.BoolVar(&c.noKernel, "no-kernel", false, "")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.help {
		return c, nil
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q: options start with '-' (see -h)", fs.Arg(0))
	}
	c.bytes = n
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.sub == "" {
		for _, name := range []string{"subflows", "mtu", "paths", "rate", "no-kernel"} {
			if set[name] {
				return c, fmt.Errorf("--%s belongs to the loopback and record subcommands (see -h)", name)
			}
		}
	}
	if gateway != "" {
		g, err := netip.ParseAddr(gateway)
		if err != nil {
			return c, fmt.Errorf("--gateway %q is not an IP address", gateway)
		}
		c.gateway = g
	}
	if c.events && c.kernel && c.sub != "loopback" {
		return c, errors.New("--events prints our stack's MPTCP events; for the kernel's run `ip mptcp monitor` beside the test, or drop --kernel")
	}
	if c.sub != "" {
		if err := parseSub(&c, set, rates, blk); err != nil {
			return c, err
		}
		return c, nil
	}
	if c.kernel && (len(c.ifaces) > 0 || c.gateway.IsValid()) {
		return c, errors.New("--iface and --gateway select our AF_XDP stack; with --kernel the kernel routes the subflows (configure paths with `ip mptcp endpoint`): drop one or the other")
	}
	if c.host == "" {
		return c, errors.New("no server given: use -c HOST (see -h)")
	}
	if c.port < 1 || c.port > 65535 {
		return c, fmt.Errorf("-p %d: the port must be 1..65535", c.port)
	}
	if c.parallel < 1 || c.parallel > iperf.MaxStreams {
		return c, fmt.Errorf("-P %d: use 1..%d parallel streams", c.parallel, iperf.MaxStreams)
	}
	if blk > iperf.MaxBlockSize {
		return c, fmt.Errorf("-l %d: the block size must be at most %d bytes", blk, iperf.MaxBlockSize)
	}
	c.blockSize = int(blk)
	if c.bytes == 0 && c.duration == 0 {
		return c, errors.New("-t 0 without -n: give a duration or a byte count")
	}
	if c.json && c.jsonStream {
		return c, errors.New("-J and --json-stream exclude each other: pick one")
	}
	if c.tcp && !c.kernel {
		return c, errors.New("--tcp needs --kernel (it selects plain kernel TCP instead of kernel MPTCP)")
	}
	if c.congestion != "" && !c.kernel {
		return c, errors.New("-C selects a kernel congestion control: it needs --kernel")
	}
	if c.plot != "" && c.interval == 0 {
		return c, errors.New("--plot needs interval data: do not combine it with -i 0")
	}
	return c, nil
}

// errNoIface asks for the data plane.
const errNoIface = "no data plane: give --iface IF=CIDR (our AF_XDP stack; repeat for each path) or --kernel (the kernel's MPTCP sockets)"

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "mptcp-bench: %v\n", err)
		return exitUsage
	}
	if c.help {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	switch c.sub {
	case "loopback":
		return loopback(ctx, c, stdout, stderr)
	case "record":
		return record(ctx, c, stdout, stderr)
	}
	addr := net.JoinHostPort(c.host, strconv.Itoa(c.port))
	if c.kernel {
		return client(ctx, c, kernelDialer(addr, !c.tcp), stdout, stderr)
	}
	if len(c.ifaces) == 0 {
		fmt.Fprintf(stderr, "mptcp-bench: %s\n", errNoIface)
		return exitUsage
	}
	s, err := newStack(c)
	if err != nil {
		fmt.Fprintf(stderr, "mptcp-bench: %v\n", err)
		return exitFail
	}
	defer s.Close()
	if c.events {
		stop := printEvents(s, stderr)
		defer stop()
	}
	return client(ctx, c, stackDialer(s, addr), stdout, stderr)
}

// kernelDialer dials addr with kernel MPTCP (or plain TCP).
func kernelDialer(addr string, mptcp bool) iperf.Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		d := net.Dialer{Timeout: 10 * time.Second}
		d.SetMultipathTCP(mptcp)
		return d.DialContext(ctx, "tcp", addr)
	}
}

// prefixWriter prefixes each line with a title (iperf3 --title).
type prefixWriter struct {
	w      io.Writer
	prefix string
	mid    bool
}

// Write implements io.Writer.
func (p *prefixWriter) Write(b []byte) (int, error) {
	var out []byte
	for _, c := range b {
		if !p.mid {
			out = append(out, p.prefix...)
			out = append(out, ':', ' ')
			p.mid = true
		}
		out = append(out, c)
		if c == '\n' {
			p.mid = false
		}
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// explain turns a dial or test error into advice.
func explain(err error, addr string) string {
	var pe *iperf.PeerError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("connecting to %s: connection refused: is the server running? try `mptcp-server --kernel --iperf :%s` (or `iperf3 -s`) on the server", addr, portOf(addr))
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("connecting to %s: no route to host: check the address and `ip route get %s`", addr, hostOf(addr))
	case errors.As(err, &pe):
		return pe.Error()
	case errors.Is(err, context.Canceled):
		return "interrupted"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Sprintf("cannot resolve %q: %v: check the host name", dnsErr.Name, dnsErr.Err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("%v: the server at %s does not answer: check the address, the port and any firewall", err, addr)
	}
	return err.Error()
}

func hostOf(addr string) string { h, _, _ := net.SplitHostPort(addr); return h }
func portOf(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

// client runs one test and prints it.
func client(ctx context.Context, c config, dial iperf.Dialer, stdout, stderr io.Writer) int {
	res, err := measure(ctx, c, dial, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "mptcp-bench: %v\n", err)
		return exitFail
	}
	if c.json {
		if err := report.WriteJSON(stdout, res); err != nil {
			fmt.Fprintf(stderr, "mptcp-bench: writing JSON: %v\n", err)
			return exitFail
		}
	}
	if c.plot != "" {
		if err := writePlot(c.plot, res, c, ""); err != nil {
			fmt.Fprintf(stderr, "mptcp-bench: %v\n", err)
			return exitFail
		}
	}
	return exitOK
}

// measure runs one test. Text and JSON-stream output is printed as the
// test goes (and the final summary with it); the -J document is left to
// the caller, which may add to it. A failed test has printed its error
// document (-J, --json-stream) and returns the error explained.
func measure(ctx context.Context, c config, dial iperf.Dialer, stdout io.Writer) (iperf.Result, error) {
	addr := net.JoinHostPort(c.host, strconv.Itoa(c.port))
	out := stdout
	if c.title != "" && !c.json && !c.jsonStream {
		out = &prefixWriter{w: stdout, prefix: c.title}
	}
	text := report.NewText(out)
	stream := report.NewJSONStream(stdout)
	o := iperf.Options{Duration: c.duration, Bytes: c.bytes, Reverse: c.reverse, Parallel: c.parallel,
		Interval: c.interval, BlockSize: c.blockSize, Title: c.title, Bitrate: c.bitrate,
		Congestion: c.congestion, Subflows: iperf.SubflowsOf}
	startDoc := iperf.Result{Host: c.host, Port: c.port, Reverse: c.reverse, Parallel: c.parallel, BlockSize: c.blockSize,
		Duration: c.duration, Bytes: c.bytes, Started: time.Now()}
	if c.bytes > 0 {
		startDoc.Duration = 0
	}
	switch {
	case c.jsonStream:
		o.OnConnected = func(s []iperf.StreamResult) {
			startDoc.Streams = s
			_ = stream.Start(startDoc)
		}
		o.OnInterval = func(iv iperf.Interval) { _ = stream.Interval(iv) }
	case !c.json:
		text.Connecting(c.host, c.port)
		o.OnConnected = text.Connected
		o.OnInterval = text.Interval
	}
	if c.onStart != nil {
		prev := o.OnConnected
		o.OnConnected = func(s []iperf.StreamResult) {
			if prev != nil {
				prev(s)
			}
			c.onStart()
		}
	}
	res, err := iperf.Run(ctx, dial, o)
	res.Host, res.Port = c.host, c.port
	if err != nil {
		msg := explain(err, addr)
		switch {
		case c.json:
			fmt.Fprintf(stdout, "{\n\t\"start\": {},\n\t\"intervals\": [],\n\t\"end\": {},\n\t\"error\": %q\n}\n", msg)
		case c.jsonStream:
			_ = stream.Error(errors.New(msg))
		}
		return res, errors.New(msg)
	}
	switch {
	case c.json:
	case c.jsonStream:
		_ = stream.End(res)
	default:
		text.Final(res)
	}
	return res, nil
}

// writePlot writes the SVG plot to path; title replaces the default one
// when set.
func writePlot(path string, res iperf.Result, c config, title string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--plot: %v: check that the directory exists and is writable", err)
	}
	dir := "to"
	if c.reverse {
		dir = "from"
	}
	if title == "" {
		title = fmt.Sprintf("mptcp-bench %s %s, %d stream(s)", dir, net.JoinHostPort(c.host, strconv.Itoa(c.port)), c.parallel)
	}
	if err := report.WriteSVG(f, res, report.PlotOptions{Title: title}); err != nil {
		f.Close()
		return fmt.Errorf("--plot %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--plot %s: %v", path, err)
	}
	return nil
}
