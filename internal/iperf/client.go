package iperf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Options describe a client test (iperf3's client flags).
type Options struct {
	// Duration is -t; with Bytes set it is ignored. 0 with Bytes 0 means
	// 10 s, as in iperf3.
	Duration time.Duration
	// Bytes is -n: the test ends once this many bytes were sent (forward)
	// or received (Reverse). Our senders send exactly this many in total.
	Bytes uint64
	// Reverse is -R: the server sends.
	Reverse bool
	// Parallel is -P (1..MaxStreams); 0 means 1.
	Parallel int
	// Interval is -i; 0 disables interval reports.
	Interval time.Duration
	// BlockSize is -l; 0 means DefaultBlockSize.
	BlockSize int
	// Title is iperf3's --title (sent to the server).
	Title string
	// Congestion is -C: the congestion control algorithm for every stream
	// (kernel sockets), asked of the server too; "" keeps the default.
	Congestion string
	// Bitrate is -b: each stream's target rate in bits per second (the
	// sender paces itself; the server does in reverse mode); 0 is
	// unlimited.
	Bitrate float64

	// OnConnected is called once every stream is connected.
	OnConnected func(streams []StreamResult)
	// OnInterval is called for each interval report, from Run's
	// goroutine.
	OnInterval func(Interval)
	// Subflows returns the statistics source of a data connection; nil
	// means SubflowsOf.
	Subflows func(net.Conn) SubflowSource
	// HandshakeTimeout bounds each wait for the server outside the data
	// phase; 0 means 10 s.
	HandshakeTimeout time.Duration
}

// Dialer opens one connection to the server (control or data).
type Dialer func(ctx context.Context) (net.Conn, error)

// PeerError is a failure the server reported (or, from Serve, the client).
type PeerError struct {
	State  State // AccessDenied, ServerError or ServerTerminate
	IErrno int32 // iperf3's i_errno with ServerError
	Errno  int32 // the server's errno with ServerError
}

// Error implements error.
func (e *PeerError) Error() string {
	switch e.State {
	case AccessDenied:
		return "iperf: the server is busy running a test (ACCESS_DENIED): try again later"
	case ServerTerminate:
		return "iperf: the server terminated the test (SERVER_TERMINATE)"
	case ServerError:
		return fmt.Sprintf("iperf: the server reported an error (SERVER_ERROR, i_errno %d, errno %d): check the server's log", e.IErrno, e.Errno)
	}
	return fmt.Sprintf("iperf: unexpected control message %v", e.State)
}

// normalize fills defaults and checks o.
func (o *Options) normalize() error {
	if o.Parallel == 0 {
		o.Parallel = 1
	}
	if o.Parallel < 1 || o.Parallel > MaxStreams {
		return fmt.Errorf("iperf: -P %d out of range: use 1..%d streams", o.Parallel, MaxStreams)
	}
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.BlockSize < 1 || o.BlockSize > MaxBlockSize {
		return fmt.Errorf("iperf: block size %d out of range: use 1..%d bytes", o.BlockSize, MaxBlockSize)
	}
	if o.Bytes == 0 && o.Duration == 0 {
		o.Duration = 10 * time.Second
	}
	if o.Duration < 0 || o.Interval < 0 || o.Bitrate < 0 {
		return errors.New("iperf: negative duration, interval or bitrate")
	}
	if o.Subflows == nil {
		o.Subflows = SubflowsOf
	}
	if o.HandshakeTimeout == 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	return nil
}

// params builds the PARAM_EXCHANGE message.
func (o *Options) params() Params {
	p := Params{TCP: true, Parallel: o.Parallel, Reverse: o.Reverse, Len: o.BlockSize,
		PacingTimer: 1000, Title: o.Title, ClientVersion: "mpxdp", Bandwidth: o.Bitrate,
		Congestion: o.Congestion}
	if o.Bytes > 0 {
		p.Num = Count(o.Bytes)
	} else {
		// iperf3 sends whole seconds; round up so the server's watchdog
		// (time + 5 s) never cuts a sub-second test short.
		p.Time = int((o.Duration + time.Second - 1) / time.Second)
	}
	return p
}

// endGrace is how long a -n sender waits, once the receiver acknowledged
// everything, before it sends TEST_END.
const endGrace = 50 * time.Millisecond

// ctrlMsg is a control message read in the background.
type ctrlMsg struct {
	s   State
	err error
}

// Run performs one test against an iperf3 server: dial opens the control
// connection and each data stream. It returns the result once the server
// displayed its results, or an error (*PeerError for a refusal or a server failure).
func Run(ctx context.Context, dial Dialer, o Options) (Result, error) {
	if err := o.normalize(); err != nil {
		return Result{}, err
	}
	res := Result{Reverse: o.Reverse, Parallel: o.Parallel, BlockSize: o.BlockSize, Bytes: o.Bytes}
	if o.Bytes == 0 {
		res.Duration = o.Duration
	}
	cookie, err := NewCookie()
	if err != nil {
		return res, err
	}
	res.Cookie = cookie.String()
	ctrl, err := dial(ctx)
	if err != nil {
		return res, err
	}
	defer ctrl.Close()
	// Abort blocking control I/O when ctx ends.
	stopWatch := context.AfterFunc(ctx, func() { _ = ctrl.SetDeadline(time.Now()) })
	defer stopWatch()
	if _, err := ctrl.Write(cookie[:]); err != nil {
		return res, fmt.Errorf("iperf: sending the cookie: %w", err)
	}
	c := &client{o: o, ctrl: ctrl, dial: dial, res: &res, cookie: cookie, cpu0: readCPU()}
	defer c.close()
	err = c.loop(ctx)
	if err != nil && ctx.Err() != nil {
		// Tell the server, as iperf3 does on ^C.
		_ = ctrl.SetDeadline(time.Now().Add(time.Second))
		_ = writeState(ctrl, ClientTerminate)
		return res, fmt.Errorf("iperf: test interrupted: %w", ctx.Err())
	}
	return res, err
}

// client is the state of one running client test.
type client struct {
	o      Options
	ctrl   net.Conn
	dial   Dialer
	res    *Result
	cookie Cookie
	set    *streamSet
	cpu0   cpuClock
	local  ResultsReport
	ended  time.Duration
}

func (c *client) close() {
	if c.set != nil {
		c.set.stop.Store(true)
		c.set.closeAll()
		c.set.wg.Wait()
	}
}

// loop reads control messages until DISPLAY_RESULTS.
func (c *client) loop(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Outside the data phase the server answers promptly; a peer that
		// is not an iperf3 server must not hang us.
		_ = c.ctrl.SetReadDeadline(time.Now().Add(c.o.HandshakeTimeout))
		st, err := readState(c.ctrl)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("iperf: the server closed the control connection unexpectedly")
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
				return fmt.Errorf("iperf: the server sent nothing for %v: is it an iperf3 server? (%w)", c.o.HandshakeTimeout, err)
			}
			return fmt.Errorf("iperf: reading from the control connection: %w", err)
		}
		switch st {
		case ParamExchange:
			if err := writeJSON(c.ctrl, c.o.params()); err != nil {
				return err
			}
		case CreateStreams:
			if err := c.createStreams(ctx); err != nil {
				return err
			}
		case TestStart:
		case TestRunning:
			if c.set == nil {
				return errors.New("iperf: server sent TEST_RUNNING before the streams were created")
			}
			if err := c.run(ctx); err != nil {
				return err
			}
			// c.run consumed the message that followed TEST_END.
			if err := c.exchange(); err != nil {
				return err
			}
		case DisplayResults:
			if err := writeState(c.ctrl, IperfDone); err != nil {
				return err
			}
			return nil
		case ServerError:
			var b [8]byte
			se := &PeerError{State: ServerError}
			if _, err := io.ReadFull(c.ctrl, b[:]); err == nil {
				se.IErrno = int32(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
				se.Errno = int32(uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7]))
			}
			return se
		case AccessDenied, ServerTerminate:
			return &PeerError{State: st}
		default:
			return fmt.Errorf("iperf: unexpected control message %v from the server", st)
		}
	}
}

// createStreams dials the data streams and sends the cookie on each.
func (c *client) createStreams(ctx context.Context) error {
	set := &streamSet{}
	for i := 0; i < c.o.Parallel; i++ {
		conn, err := c.dial(ctx)
		if err != nil {
			set.closeAll()
			return fmt.Errorf("iperf: connecting data stream %d: %w", i+1, err)
		}
		if c.o.Congestion != "" {
			if err := setCongestion(conn, c.o.Congestion); err != nil {
				conn.Close()
				set.closeAll()
				return err
			}
		}
		if _, err := conn.Write(c.cookie[:]); err != nil {
			conn.Close()
			set.closeAll()
			return fmt.Errorf("iperf: sending the cookie on data stream %d: %w", i+1, err)
		}
		set.streams = append(set.streams, &stream{id: streamID(i), conn: conn, sender: !c.o.Reverse, src: c.o.Subflows(conn)})
	}
	c.set = set
	c.res.Streams = make([]StreamResult, len(set.streams))
	for i, s := range set.streams {
		c.res.Streams[i] = StreamResult{ID: s.id, Local: addrPortOf(s.conn.LocalAddr()), Remote: addrPortOf(s.conn.RemoteAddr())}
	}
	if c.o.OnConnected != nil {
		c.o.OnConnected(c.res.Streams)
	}
	return nil
}

// run drives the data phase: it starts the workers, reports intervals,
// ends the test (time, bytes, or a message from the server), sends
// TEST_END and waits for EXCHANGE_RESULTS.
func (c *client) run(ctx context.Context) error {
	set := c.set
	set.start = time.Now()
	c.res.Started = set.start
	reached := make(chan struct{})
	var once sync.Once
	signal := func() { once.Do(func() { close(reached) }) }
	var total atomic.Uint64
	var bud *budget
	if !c.o.Reverse && c.o.Bytes > 0 {
		bud = &budget{}
		bud.left.Store(int64(c.o.Bytes))
	}
	var senders sync.WaitGroup
	for _, s := range set.streams {
		set.wg.Add(1)
		if s.sender {
			senders.Add(1)
			blk := make([]byte, c.o.BlockSize)
			fillPattern(blk)
			go func() {
				defer set.wg.Done()
				defer senders.Done()
				s.runSender(&set.stop, bud, blk, c.o.Bitrate)
				s.endNS.Store(int64(set.elapsed()))
			}()
		} else {
			buf := make([]byte, c.o.BlockSize)
			go func() {
				defer set.wg.Done()
				s.runReceiver(&set.stop, buf, &total, c.o.Bytes, signal)
			}()
		}
	}
	var sendersDone <-chan struct{} // nil in reverse mode: the server sends
	if !c.o.Reverse {
		sendersDone = waitChan(&senders)
	}

	var timer <-chan time.Time
	if c.o.Bytes == 0 {
		t := time.NewTimer(c.o.Duration)
		defer t.Stop()
		timer = t.C
	}
	var tick <-chan time.Time
	if c.o.Interval > 0 {
		tk := time.NewTicker(c.o.Interval)
		defer tk.Stop()
		tick = tk.C
	}
	_ = c.ctrl.SetReadDeadline(time.Time{}) // the data phase may be long
	msgs := make(chan ctrlMsg, 1)
	go func() {
		st, err := readState(c.ctrl)
		msgs <- ctrlMsg{st, err}
	}()

	var lastTick time.Duration
	var early *ctrlMsg
loop:
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer:
			break loop
		case <-reached:
			break loop
		case <-sendersDone:
			break loop
		case m := <-msgs:
			early = &m
			break loop
		case <-tick:
			now := set.elapsed()
			c.report(set.sampleAll(lastTick, now, !c.o.Reverse))
			lastTick = now
		}
	}
	// Stop counting, then let the writers go.
	set.stop.Store(true)
	c.ended = set.elapsed()
	if !c.o.Reverse {
		set.unblockWriters()
		<-waitChan(&senders)
		if c.o.Bytes > 0 {
			// Let the receiver hold (and, a moment later, read) every
			// byte before TEST_END: iperf3's server stops counting when
			// TEST_END arrives, even with data left in its socket buffers.
			set.waitUnsent(2 * time.Second)
			time.Sleep(endGrace)
		}
	}
	// The last, partial interval: reported when it moved data (as iperf3
	// keeps a short final interval), so that intervals add up to the
	// total; always sampled for the final subflow figures.
	final := set.sampleAll(lastTick, c.ended, !c.o.Reverse)
	if c.o.Interval > 0 && c.ended > lastTick && (final.Sum.Bytes > 0 || c.ended-lastTick >= c.o.Interval/10) {
		c.report(final)
	}
	if early == nil && !c.o.Reverse {
		// A stream that failed usually means the server went away: give
		// its verdict (SERVER_TERMINATE, ...) a moment to arrive.
		for _, s := range set.streams {
			if s.err != nil {
				select {
				case m := <-msgs:
					early = &m
				case <-time.After(500 * time.Millisecond):
				}
				break
			}
		}
	}
	if early != nil {
		if early.err != nil {
			return fmt.Errorf("iperf: control connection failed during the test: %w", early.err)
		}
		return &PeerError{State: early.s}
	}
	if !c.o.Reverse {
		// The senders have returned: their errors are safe to read.
		for _, s := range set.streams {
			if s.err != nil {
				return fmt.Errorf("iperf: data stream %d failed: %w", s.id, s.err)
			}
		}
	}
	c.local = c.localResults()
	if err := writeState(c.ctrl, TestEnd); err != nil {
		return err
	}
	// The server drains its streams (up to a few seconds), then answers.
	_ = c.ctrl.SetReadDeadline(time.Now().Add(c.o.HandshakeTimeout + 5*time.Second))
	var m ctrlMsg
	select {
	case m = <-msgs:
	case <-ctx.Done():
		return ctx.Err()
	}
	if m.err != nil {
		return fmt.Errorf("iperf: waiting for EXCHANGE_RESULTS: %w", m.err)
	}
	if m.s != ExchangeResults {
		if m.s == ServerError || m.s == AccessDenied || m.s == ServerTerminate {
			return &PeerError{State: m.s}
		}
		return fmt.Errorf("iperf: expected EXCHANGE_RESULTS after TEST_END, got %v", m.s)
	}
	return nil
}

// waitChan turns a WaitGroup into a channel.
func waitChan(wg *sync.WaitGroup) <-chan struct{} {
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	return ch
}

// report records an interval and hands it to the callback.
func (c *client) report(iv Interval) {
	c.res.Intervals = append(c.res.Intervals, iv)
	if c.o.OnInterval != nil {
		c.o.OnInterval(iv)
	}
}

// localResults builds our EXCHANGE_RESULTS message.
func (c *client) localResults() ResultsReport {
	tot, usr, sys := cpuPercent(c.cpu0, readCPU(), c.ended)
	r := ResultsReport{CPUUtilTotal: tot, CPUUtilUser: usr, CPUUtilSystem: sys, SenderHasRetransmits: -1}
	if len(c.set.streams) > 0 {
		r.CongestionUsed = congestionOf(c.set.streams[0].conn)
		if c.o.Reverse {
			c.res.ReceiverCongestion = r.CongestionUsed
		} else {
			c.res.SenderCongestion = r.CongestionUsed
		}
	}
	c.res.CPU.HostTotal, c.res.CPU.HostUser, c.res.CPU.HostSystem = tot, usr, sys
	for i, s := range c.set.streams {
		end := c.ended
		if e := s.endNS.Load(); e > 0 && s.sender {
			end = time.Duration(e)
		}
		rt := int64(-1)
		if s.sender {
			rt = s.totalRetransmits()
			if rt >= 0 {
				r.SenderHasRetransmits = 1
			} else if r.SenderHasRetransmits < 0 {
				r.SenderHasRetransmits = 0
			}
		}
		// The count as of the final sample, so intervals add up to it.
		n := s.prevBytes
		r.Streams = append(r.Streams, StreamReport{ID: s.id, Bytes: Count(n), Retransmits: Int(rt),
			StartTime: 0, EndTime: end.Seconds()})
		sr := &c.res.Streams[i]
		sm := Summary{End: end, Bytes: n, Retransmits: rt}
		if s.sender {
			sr.Sender = sm
		} else {
			sm.Retransmits = -1
			sr.Receiver = sm
		}
		sr.Subflows = append([]SubflowStat(nil), s.last...)
	}
	return r
}

// exchange sends our results, reads the server's and fills the summaries.
func (c *client) exchange() error {
	if err := writeJSON(c.ctrl, c.local); err != nil {
		return err
	}
	var peer ResultsReport
	if err := readJSON(c.ctrl, &peer); err != nil {
		return fmt.Errorf("iperf: reading the server's results: %w", err)
	}
	if err := peer.validate(); err != nil {
		return err
	}
	c.res.CPU.RemoteTotal, c.res.CPU.RemoteUser, c.res.CPU.RemoteSystem = peer.CPUUtilTotal, peer.CPUUtilUser, peer.CPUUtilSystem
	if c.o.Reverse {
		c.res.SenderCongestion = peer.CongestionUsed
	} else {
		c.res.ReceiverCongestion = peer.CongestionUsed
	}
	byID := make(map[int]StreamReport, len(peer.Streams))
	for _, s := range peer.Streams {
		byID[s.ID] = s
	}
	var sent, recv Summary
	sent.Retransmits, recv.Retransmits = -1, -1
	for i := range c.res.Streams {
		sr := &c.res.Streams[i]
		p, ok := byID[sr.ID]
		if !ok {
			return fmt.Errorf("iperf: the server's results have no stream %d", sr.ID)
		}
		ps := Summary{Start: secs(p.StartTime), End: secs(p.EndTime), Bytes: uint64(p.Bytes), Retransmits: int64(p.Retransmits)}
		if c.o.Reverse {
			sr.Sender = ps
		} else {
			ps.Retransmits = -1
			sr.Receiver = ps
		}
		addSummary(&sent, sr.Sender)
		addSummary(&recv, sr.Receiver)
	}
	c.res.Sent, c.res.Received = sent, recv
	// Streams are done: close them so that the server sees EOF.
	c.set.stop.Store(true)
	c.set.closeAll()
	return nil
}

// addSummary adds one stream's summary to a sum.
func addSummary(sum *Summary, s Summary) {
	sum.Bytes += s.Bytes
	if s.End > sum.End {
		sum.End = s.End
	}
	if s.Retransmits >= 0 {
		if sum.Retransmits < 0 {
			sum.Retransmits = 0
		}
		sum.Retransmits += s.Retransmits
	}
}

func secs(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
