package iperf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ServeOptions configure Serve.
type ServeOptions struct {
	// Logger receives one line per test and per error; nil discards.
	Logger *slog.Logger
	// OnTest is called when a test ends (successfully or not).
	OnTest func(TestSummary)
	// Subflows returns the statistics source of a data connection; nil
	// means SubflowsOf.
	Subflows func(net.Conn) SubflowSource
	// HandshakeTimeout bounds each step in which the server waits for the
	// client outside the data phase; 0 means 10 s.
	HandshakeTimeout time.Duration
}

// TestSummary describes one test the server ran.
type TestSummary struct {
	Client   net.Addr
	Params   Params
	Streams  []StreamResult // Sender or Receiver filled from the server's view
	Duration time.Duration
	Err      error
}

// Bytes is the total the server sent or received.
func (t TestSummary) Bytes() uint64 {
	var n uint64
	for _, s := range t.Streams {
		n += s.Sender.Bytes + s.Receiver.Bytes
	}
	return n
}

// ServerStats are the server's counters, for metrics.
type ServerStats struct {
	Accepted, Tests, Denied, Failed atomic.Uint64
	BytesSent, BytesReceived        atomic.Uint64
}

// Server is an iperf3 server that runs one test at a time.
type Server struct {
	o     ServeOptions
	Stats ServerStats

	mu        sync.Mutex
	active    *serverTest
	conns     map[net.Conn]struct{}
	listeners map[net.Listener]struct{}
	shutdown  bool
	wg        sync.WaitGroup
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("iperf: server closed")

// Shutdown stops accepting connections and waits for the running test
// to finish; when ctx ends first it terminates the test (SERVER_TERMINATE)
// and returns ctx's error. Serve calls return once the test is gone.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if !s.Busy() {
			return nil
		}
		select {
		case <-ctx.Done():
			s.terminate()
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Busy reports whether a test is running.
func (s *Server) Busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active != nil
}

// NewServer returns a server with options o.
func NewServer(o ServeOptions) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Subflows == nil {
		o.Subflows = SubflowsOf
	}
	if o.HandshakeTimeout == 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	return &Server{o: o, conns: map[net.Conn]struct{}{}, listeners: map[net.Listener]struct{}{}}
}

// Serve runs an iperf3 server on ln until ctx ends; see Server.Serve.
func Serve(ctx context.Context, ln net.Listener, o ServeOptions) error {
	return NewServer(o).Serve(ctx, ln)
}

// Serve accepts connections on ln until ctx ends or ln fails. When ctx
// ends it closes ln, sends SERVER_TERMINATE to a running test's client,
// waits for the test's goroutines and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer s.wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				s.terminate()
				return nil
			}
			s.mu.Lock()
			down := s.shutdown
			s.mu.Unlock()
			if down {
				return nil // Shutdown drains the running test
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			s.terminate()
			return fmt.Errorf("iperf: accepting on %v: %w", ln.Addr(), err)
		}
		s.Stats.Accepted.Add(1)
		s.track(c, true)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(ctx, c)
		}()
	}
}

// track adds or removes an open connection.
func (s *Server) track(c net.Conn, add bool) {
	s.mu.Lock()
	if add {
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
	s.mu.Unlock()
}

// terminate tells a running test's client that the server stops and
// closes every connection.
func (s *Server) terminate() {
	s.mu.Lock()
	t := s.active
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	if t != nil {
		t.terminate()
	}
	for _, c := range conns {
		c.Close()
	}
}

// handle reads a new connection's cookie and makes it a control
// connection, a data stream of the running test, or denies it.
func (s *Server) handle(ctx context.Context, c net.Conn) {
	handedOver := false
	defer func() {
		if !handedOver {
			c.Close()
			s.track(c, false)
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(s.o.HandshakeTimeout))
	var ck Cookie
	if _, err := io.ReadFull(c, ck[:]); err != nil {
		s.o.Logger.Debug("iperf: no cookie from client", "client", c.RemoteAddr().String(), "err", err)
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	s.mu.Lock()
	t := s.active
	if t != nil && t.cookie != ck && t.closing.Load() {
		// The running test is saying goodbye: let it finish rather than
		// deny a client that started right after the previous one.
		s.mu.Unlock()
		select {
		case <-t.finished:
		case <-time.After(2 * time.Second):
		}
		s.mu.Lock()
		t = s.active
	}
	if t != nil {
		ok := t.cookie == ck && t.offerStream(c)
		s.mu.Unlock()
		if ok {
			handedOver = true
			return
		}
		s.Stats.Denied.Add(1)
		s.o.Logger.Info("iperf: denied a connection: a test is running", "client", c.RemoteAddr().String())
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_ = writeState(c, AccessDenied)
		return
	}
	t = &serverTest{srv: s, ctrl: c, cookie: ck, streamCh: make(chan net.Conn, MaxStreams), finished: make(chan struct{})}
	s.active = t
	s.mu.Unlock()
	s.Stats.Tests.Add(1)
	sum := t.run(ctx)
	s.mu.Lock()
	s.active = nil
	t.accepting = false
	s.mu.Unlock()
	close(t.finished)
	// Streams that arrived after the test gave up on them.
	for len(t.streamCh) > 0 {
		c := <-t.streamCh
		c.Close()
		s.track(c, false)
	}
	if sum.Err != nil {
		s.Stats.Failed.Add(1)
		s.o.Logger.Warn("iperf: test failed", "client", c.RemoteAddr().String(), "err", sum.Err.Error())
	} else {
		subflows := 0
		for _, st := range sum.Streams {
			subflows += len(st.Subflows)
		}
		s.o.Logger.Info("iperf: test done", "client", c.RemoteAddr().String(), "streams", len(sum.Streams),
			"subflows", subflows, "reverse", sum.Params.Reverse, "bytes", sum.Bytes(), "seconds", sum.Duration.Seconds(),
			"bits_per_second", float64(sum.Bytes())*8/max(sum.Duration.Seconds(), 1e-9))
	}
	if s.o.OnTest != nil {
		s.o.OnTest(sum)
	}
}

// serverTest is the test the server is running.
type serverTest struct {
	srv    *Server
	ctrl   net.Conn
	cookie Cookie
	params Params

	accepting bool // guarded by srv.mu
	streamCh  chan net.Conn
	set       *streamSet
	termOnce  sync.Once
	closing   atomic.Bool   // DISPLAY_RESULTS sent
	finished  chan struct{} // closed once the test is gone
}

// setAccepting opens or closes the test to new data connections.
func (t *serverTest) setAccepting(on bool) {
	t.srv.mu.Lock()
	t.accepting = on
	t.srv.mu.Unlock()
}

// offerStream hands a data connection to the test (srv.mu held).
func (t *serverTest) offerStream(c net.Conn) bool {
	if !t.accepting {
		return false
	}
	select {
	case t.streamCh <- c:
		return true
	default:
		return false
	}
}

// terminate sends SERVER_TERMINATE and closes the control connection.
func (t *serverTest) terminate() {
	t.termOnce.Do(func() {
		_ = t.ctrl.SetWriteDeadline(time.Now().Add(time.Second))
		_ = writeState(t.ctrl, ServerTerminate)
		t.ctrl.Close()
	})
}

// sendError reports SERVER_ERROR with iperf3's i_errno.
func (t *serverTest) sendError(ierrno int32) {
	var b [9]byte
	st := int8(ServerError)
	b[0] = byte(st)
	binary.BigEndian.PutUint32(b[1:], uint32(ierrno))
	_, _ = t.ctrl.Write(b[:])
}

// run performs the whole test on the control connection.
func (t *serverTest) run(ctx context.Context) (sum TestSummary) {
	sum.Client = t.ctrl.RemoteAddr()
	o := t.srv.o
	cpu0 := readCPU()
	defer func() {
		if t.set != nil {
			t.set.stop.Store(true)
			t.set.closeAll()
			t.set.wg.Wait()
			for _, s := range t.set.streams {
				t.srv.track(s.conn, false)
			}
		}
	}()
	hs := func() { _ = t.ctrl.SetDeadline(time.Now().Add(o.HandshakeTimeout)) }
	hs()
	if err := writeState(t.ctrl, ParamExchange); err != nil {
		sum.Err = err
		return
	}
	if err := readJSON(t.ctrl, &t.params); err != nil {
		sum.Err = fmt.Errorf("iperf: reading the client's parameters: %w", err)
		return
	}
	p := &t.params
	sum.Params = *p
	switch {
	case p.UDP || p.SCTP || p.Bidirectional:
		t.sendError(ieUnimp)
		sum.Err = errors.New("iperf: the client asked for UDP, SCTP or a bidirectional test: only TCP, one direction, is supported")
		return
	case p.Parallel < 1 || p.Parallel > MaxStreams:
		if p.Parallel == 0 {
			p.Parallel = 1
			break
		}
		t.sendError(ieNumStreams)
		sum.Err = fmt.Errorf("iperf: the client asked for %d streams: the limit is %d", p.Parallel, MaxStreams)
		return
	}
	if p.Len == 0 {
		p.Len = DefaultBlockSize
	}
	if p.Len < 1 || p.Len > MaxBlockSize {
		t.sendError(ieBlockSize)
		sum.Err = fmt.Errorf("iperf: the client asked for %d-byte blocks: the limit is %d", p.Len, MaxBlockSize)
		return
	}

	// Collect the data streams.
	t.setAccepting(true)
	if err := writeState(t.ctrl, CreateStreams); err != nil {
		sum.Err = err
		return
	}
	// From here the client sends nothing until TEST_END: read that message
	// in the background, so that a client that goes away while the
	// streams are set up (or during the test) frees the server at once.
	_ = t.ctrl.SetReadDeadline(time.Time{})
	ctrlMsgs := make(chan ctrlMsg, 1)
	go func() {
		st, err := readState(t.ctrl)
		ctrlMsgs <- ctrlMsg{st, err}
	}()
	set := &streamSet{}
	t.set = set
	congestion := ""
	timeout := time.NewTimer(o.HandshakeTimeout)
	defer timeout.Stop()
	for len(set.streams) < p.Parallel {
		select {
		case c := <-t.streamCh:
			if p.Congestion != "" {
				// As iperf3: an unknown algorithm is a warning, not an error.
				if err := setCongestion(c, p.Congestion); err != nil {
					o.Logger.Warn("iperf: cannot use the client's congestion control", "err", err.Error())
				}
			}
			if congestion == "" {
				congestion = congestionOf(c)
			}
			set.streams = append(set.streams, &stream{id: streamID(len(set.streams)), conn: c, sender: p.Reverse, src: o.Subflows(c)})
		case m := <-ctrlMsgs:
			sum.Err = clientGone(m, "while the data streams were being set up")
			t.setAccepting(false)
			return
		case <-timeout.C:
			sum.Err = fmt.Errorf("iperf: only %d of %d data streams arrived within %v", len(set.streams), p.Parallel, o.HandshakeTimeout)
			t.setAccepting(false)
			return
		case <-ctx.Done():
			sum.Err = ctx.Err()
			return
		}
	}
	t.setAccepting(false)

	if err := writeState(t.ctrl, TestStart); err != nil {
		sum.Err = err
		return
	}
	set.start = time.Now()
	var bud *budget
	if p.Reverse && p.Num > 0 {
		bud = &budget{}
		bud.left.Store(int64(p.Num))
	}
	for _, s := range set.streams {
		set.wg.Add(1)
		if s.sender {
			blk := make([]byte, p.Len)
			fillPattern(blk)
			go func() {
				defer set.wg.Done()
				s.runSender(&set.stop, bud, blk, p.Bandwidth)
				s.endNS.Store(int64(set.elapsed()))
			}()
		} else {
			buf := make([]byte, p.Len)
			go func() {
				defer set.wg.Done()
				s.runReceiver(&set.stop, buf, nil, 0, nil)
			}()
		}
	}
	if err := writeState(t.ctrl, TestRunning); err != nil {
		sum.Err = err
		return
	}
	omitEnd := time.Duration(p.Omit) * time.Second
	if p.Omit > 0 {
		// iperf3's -O: what moves in the first Omit seconds is left out.
		omit := time.AfterFunc(omitEnd, func() {
			for _, s := range set.streams {
				s.omitted.Store(s.bytes.Load())
			}
		})
		defer omit.Stop()
	}

	// Data phase: wait for TEST_END. iperf3's watchdog: time + omit + 5 s.
	_ = t.ctrl.SetWriteDeadline(time.Time{})
	var watchdog <-chan time.Time
	if p.Time > 0 {
		wd := time.NewTimer(time.Duration(p.Time+p.Omit+5) * time.Second)
		defer wd.Stop()
		watchdog = wd.C
	}
	var m ctrlMsg
	select {
	case m = <-ctrlMsgs:
	case <-watchdog:
		sum.Err = fmt.Errorf("iperf: no TEST_END %d s after the test should have ended: giving up", 5)
		return
	case <-ctx.Done():
		sum.Err = ctx.Err()
		return
	}
	if m.err != nil || m.s != TestEnd {
		sum.Err = clientGone(m, "during the test")
		return
	}
	ended := set.elapsed()
	if !p.Reverse {
		// Count what is already on its way: read until each stream is
		// quiet for a moment (or ends), bounded.
		t.drain(100*time.Millisecond, 2*time.Second)
	}
	set.stop.Store(true)
	set.sampleAll(0, ended, p.Reverse) // final subflow figures
	// Close the streams as iperf3 does: a client blocked reading the rest
	// of a block sees EOF. Then wait for the workers so counts are final.
	set.closeAll()
	set.wg.Wait()
	hs()
	tot, usr, sys := cpuPercent(cpu0, readCPU(), ended)
	rep := ResultsReport{CPUUtilTotal: tot, CPUUtilUser: usr, CPUUtilSystem: sys, SenderHasRetransmits: -1}
	rep.CongestionUsed = congestion
	for _, s := range set.streams {
		end := ended
		if e := s.endNS.Load(); e > 0 && s.sender && time.Duration(e) < end {
			end = time.Duration(e)
		}
		rt := int64(-1)
		sm := Summary{End: end, Bytes: s.bytes.Load() - s.omitBase(), Retransmits: -1}
		if s.omitBase() > 0 {
			sm.Start = omitEnd
		}
		sr := StreamResult{ID: s.id, Local: addrPortOf(s.conn.LocalAddr()), Remote: addrPortOf(s.conn.RemoteAddr()),
			Subflows: append([]SubflowStat(nil), s.last...)}
		if s.sender {
			rt = s.totalRetransmits()
			rep.SenderHasRetransmits = 0
			if rt >= 0 {
				rep.SenderHasRetransmits = 1
			}
			sm.Retransmits = rt
			sr.Sender = sm
			t.srv.Stats.BytesSent.Add(sm.Bytes)
		} else {
			sr.Receiver = sm
			t.srv.Stats.BytesReceived.Add(sm.Bytes)
		}
		sum.Streams = append(sum.Streams, sr)
		rep.Streams = append(rep.Streams, StreamReport{ID: s.id, Bytes: Count(sm.Bytes), Retransmits: Int(rt),
			StartTime: sm.Start.Seconds(), EndTime: end.Seconds()})
	}
	sum.Duration = ended
	if err := writeState(t.ctrl, ExchangeResults); err != nil {
		sum.Err = err
		return
	}
	var peer ResultsReport
	if err := readJSON(t.ctrl, &peer); err != nil {
		sum.Err = fmt.Errorf("iperf: reading the client's results: %w", err)
		return
	}
	if err := writeJSON(t.ctrl, rep); err != nil {
		sum.Err = err
		return
	}
	t.closing.Store(true) // before the client can see DISPLAY_RESULTS
	if err := writeState(t.ctrl, DisplayResults); err != nil {
		sum.Err = err
		return
	}
	// iperf3 clients answer IPERF_DONE; older ones just close.
	st, err := readState(t.ctrl)
	if err != nil && !errors.Is(err, io.EOF) {
		sum.Err = fmt.Errorf("iperf: waiting for IPERF_DONE: %w", err)
		return
	}
	if err == nil && st != IperfDone {
		sum.Err = fmt.Errorf("iperf: expected IPERF_DONE, got %v", st)
	}
	return sum
}

// drain waits until every receiving stream has been quiet for quiet (or
// ended), at most max in all, so that data sent before TEST_END counts.
func (t *serverTest) drain(quiet, max time.Duration) {
	deadline := time.Now().Add(max)
	last := make([]uint64, len(t.set.streams))
	for i, s := range t.set.streams {
		last[i] = s.bytes.Load()
	}
	for time.Now().Before(deadline) {
		time.Sleep(quiet)
		moved := false
		for i, s := range t.set.streams {
			if n := s.bytes.Load(); n != last[i] {
				last[i], moved = n, true
			}
		}
		if !moved {
			return
		}
	}
}

// clientGone explains a control message (or error) where none, or
// TEST_END, was expected.
func clientGone(m ctrlMsg, when string) error {
	switch {
	case m.err != nil && errors.Is(m.err, io.EOF):
		return fmt.Errorf("iperf: the client closed the control connection %s", when)
	case m.err != nil:
		return fmt.Errorf("iperf: control connection failed %s: %w", when, m.err)
	case m.s == ClientTerminate:
		return fmt.Errorf("iperf: the client terminated the test (CLIENT_TERMINATE) %s", when)
	}
	return fmt.Errorf("iperf: unexpected %v from the client %s", m.s, when)
}
