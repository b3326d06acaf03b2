package stack

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/mpxdp/mpxdp/ring"
	"github.com/mpxdp/mpxdp/stack/header"
	"github.com/mpxdp/mpxdp/stack/link"
	"github.com/mpxdp/mpxdp/stack/neigh"
	"github.com/mpxdp/mpxdp/stack/tcp"
)

const (
	batchSize    = 64   // frames per Receive / Transmit call
	cmdRingSize  = 1024 // application commands per worker
	handoffSlots = 256  // frames in flight from one worker to the others
)

// port is one queue of one interface, driven by the worker that owns it.
type port struct {
	ifc   *iface
	q     link.Queue
	txq   []link.Frame // filled frames waiting for Transmit
	stock []link.Frame // allocated, still empty frames
	rx    []link.Frame
	// starved: alloc found no free frame since the worker's last
	// pollQueues (the peer or the device holds them all).
	starved bool
	// dry is the mpOutput round (worker.outGen) in which the port last
	// failed to lend a frame: later checks in that round do not ask
	// the queue again (on AF_XDP each ask may cost a kick).
	dry uint64
}

// handoff carries a copy of a frame to the worker that owns its flow.
type handoff struct {
	from   *worker
	direct bool // the receiver owns the flow whatever the tuple's hash says
	iface  int
	n      int
	buf    []byte
}

// command is an application request for a worker.
type command struct {
	op   uint8
	c    *Conn
	key  flowKey  // opUnredirect
	from int      // opUnredirect: the worker that owned the subflow
	q    *infoReq // opInfo
}

const (
	opDial uint8 = iota + 1
	opUpdate
	opUnredirect
	opInfo
)

// worker is the sans-IO host core of one set of queues (one queue of each
// interface): it parses received frames, answers ARP, ND and ICMP echo,
// runs the TCP engines of the flows it owns, and builds the frames they
// send. It never reads the clock: Process and Poll take the time. It is
// driven by one goroutine (run, or a test).
type worker struct {
	id      int
	st      *Stack
	ports   []*port // indexed by interface
	flows   map[flowKey]*flow
	last    *flow
	timers  timerHeap
	dirty   []*flow
	wakeRd  []*flow // flows whose waiting reader has data, woken by flushWakes
	defers  int     // loop iterations since the last flushWakes
	again   []*flow // flows to service again next Poll (no frames, or their round was full)
	pending *neigh.Pending
	cmds    *ring.MPSC[command]
	inbox   *ring.MPSC[*handoff]
	hfree   *ring.MPSC[*handoff]
	cmdBuf  []command
	hBuf    []*handoff
	woken   []chan struct{} // wake-up channels of applications woken since the last starvedApp

	seg     tcp.Segment
	segOut  tcp.Segment // the segment service builds (OutputTo)
	optsIn  header.TCPOptions
	optsOut header.TCPOptions
	c       counters
	ipID    uint16
	portSeq uint32
	discard []byte
	rstBuf  [16]byte
	// curFrame is the frame tcpIn is handling (for hand-offs from deep
	// in the listener path); direct: it was handed over by another worker
	// as its owner's (no hash check).
	curFrame   []byte
	direct     bool
	directFrom int // the worker that handed a direct frame over
	now        time.Duration
	flowCnt    int
	iterTx     int          // frames transmitted since the last pollQueues began
	outGen     uint64       // mpOutput rounds so far (port.dry)
	nbusy      atomic.Int64 // flows not yet closed or in TIME-WAIT (Stack.Close waits for 0)
	sleep      atomic.Bool  // the worker is (about to be) blocked in Queue.Wait
	stop       atomic.Bool
}

func newWorker(st *Stack, id int, queues []link.Queue) *worker {
	w := &worker{
		id:      id,
		st:      st,
		flows:   make(map[flowKey]*flow),
		pending: neigh.NewPending(16, 8, maxFrameCap(queues)),
		cmdBuf:  make([]command, 64),
		hBuf:    make([]*handoff, 64),
		discard: make([]byte, 64<<10),
		portSeq: uint32(id) * 7919,
	}
	w.cmds, _ = ring.NewMPSC[command](cmdRingSize)
	w.inbox, _ = ring.NewMPSC[*handoff](handoffSlots * 4)
	w.hfree, _ = ring.NewMPSC[*handoff](handoffSlots)
	fs := maxFrameCap(queues)
	for range handoffSlots {
		w.hfree.Enqueue(&handoff{from: w, buf: make([]byte, fs)})
	}
	for i, q := range queues {
		w.ports = append(w.ports, &port{
			ifc:   st.ifaces[i],
			q:     q,
			txq:   make([]link.Frame, 0, batchSize),
			stock: make([]link.Frame, 0, batchSize),
			rx:    make([]link.Frame, rxBatch(len(queues))),
		})
	}
	return w
}

func maxFrameCap(qs []link.Queue) int {
	m := 2048
	for _, q := range qs {
		m = max(m, q.FrameSize())
	}
	return m
}

// poll receives one batch from every port and processes it, then runs
// Poll. It reports whether anything was received.
func (w *worker) pollQueues(now time.Duration) bool {
	got, full := false, false
	w.iterTx = 0
	for _, p := range w.ports {
		p.starved = false
	}
	for i, p := range w.ports {
		n := p.q.Receive(p.rx)
		if n > 0 {
			got = true
			full = full || n == len(p.rx)
			w.receive(i, p.rx[:n], now)
		}
	}
	// One service round per touched flow and one transmit and kick per
	// port for everything this iteration received and what Poll adds.
	w.poll(now)
	// Readers are woken once the queues are caught up (a batch came in
	// short), and at least every few iterations under a full load.
	if w.defers++; !full || w.defers >= 8 {
		w.flushWakes()
	}
	return got
}

// txStalled reports whether the last pollQueues transmitted nothing
// because a port had no free frame: its flows wait for frames to come
// back, and polling again at once cannot help.
func (w *worker) txStalled() bool {
	if w.iterTx > 0 {
		return false
	}
	for _, p := range w.ports {
		if p.starved {
			return true
		}
	}
	return false
}

// flushWakes wakes the readers whose data deliver left for later.
func (w *worker) flushWakes() {
	for i, f := range w.wakeRd {
		w.wakeRd[i] = nil
		f.wakeRd = false
		c := f.conn
		if c == nil && f.mp != nil {
			c = f.mp.c // an MPTCP connection's master flow
		}
		if c != nil {
			w.wakeApp(c.rdCh)
		}
	}
	w.wakeRd = w.wakeRd[:0]
	w.defers = 0
}

// Process handles received frames of port pi at time now and gives them
// back to the queue. Frames of flows owned by another worker are copied to
// that worker's hand-off ring.
func (w *worker) Process(pi int, frames []link.Frame, now time.Duration) {
	w.receive(pi, frames, now)
	w.flushDirty(now)
	w.flushTx()
	w.flushWakes()
}

// receive is Process without the service round and the transmit: the
// frames' flows are left dirty.
func (w *worker) receive(pi int, frames []link.Frame, now time.Duration) {
	w.now = now
	p := w.ports[pi]
	w.c.rxFrames.Add(uint64(len(frames)))
	for i := range frames {
		f := &frames[i]
		if f.More {
			// Multi-buffer packets: the tail frames follow; drop the chain.
			w.drop(DropUnsupported)
			continue
		}
		w.input(p, f.Buf[:f.Len], now)
	}
	p.q.Release(frames)
}

// Poll runs everything that is not driven by received frames: hand-offs
// from other workers, application commands, due timers and neighbour
// resolution; then it transmits what that produced.
func (w *worker) Poll(now time.Duration) {
	w.poll(now)
	w.flushWakes()
}

// poll is Poll without waking the readers that have data.
func (w *worker) poll(now time.Duration) {
	w.now = now
	w.drainInbox(now)
	w.drainCommands(now)
	for {
		f := w.timers.peek()
		if f == nil || f.timerAt > now {
			break
		}
		w.timers.remove(f)
		if f.mp != nil {
			f.mp.mc.OnTimer(now)
		} else {
			f.ep.OnTimer(now)
		}
		w.markDirty(f)
	}
	if w.pending.Frames() > 0 {
		w.pending.Poll(w, now)
	}
	w.flushDirty(now)
	w.flushTx()
}

// NextTimer returns the earliest timer deadline of the worker's flows, or
// 0 when there is none.
func (w *worker) NextTimer() time.Duration {
	if f := w.timers.peek(); f != nil {
		return f.timerAt
	}
	return 0
}

func (w *worker) drop(d Drop) { w.c.drops[d].Add(1) }

func (w *worker) markDirty(f *flow) {
	if !f.dirty {
		f.dirty = true
		w.dirty = append(w.dirty, f)
	}
}

// flushDirty runs output, delivery and timer bookkeeping for every flow
// touched since the last call.
func (w *worker) flushDirty(now time.Duration) {
	for i := 0; i < len(w.dirty); i++ {
		f := w.dirty[i]
		w.dirty[i] = nil
		f.dirty = false
		if f.removed {
			continue
		}
		w.service(f, now)
	}
	w.dirty = w.dirty[:0]
}

// drainInbox processes frames other workers handed over.
func (w *worker) drainInbox(now time.Duration) {
	for {
		n := w.inbox.DequeueBatch(w.hBuf)
		for i := 0; i < n; i++ {
			h := w.hBuf[i]
			w.hBuf[i] = nil
			w.c.handedIn.Add(1)
			w.direct, w.directFrom = h.direct, h.from.id
			w.input(w.ports[h.iface], h.buf[:h.n], now)
			w.direct = false
			for !h.from.hfree.Enqueue(h) {
				runtime.Gosched()
			}
		}
		if n < len(w.hBuf) {
			return
		}
	}
}

// handoffTo copies frame to worker o's inbox.
func (w *worker) handoffTo(o int, p *port, frame []byte) { w.handoff(o, p, frame, false) }

func (w *worker) handoff(o int, p *port, frame []byte, direct bool) {
	h, ok := w.hfree.Dequeue()
	if !ok || len(frame) > len(h.buf) {
		if ok {
			w.hfree.Enqueue(h)
		}
		w.drop(DropHandoffFull)
		return
	}
	h.n = copy(h.buf, frame)
	h.iface = p.ifc.idx
	h.direct = direct
	if !w.st.workers[o].inbox.Enqueue(h) {
		w.hfree.Enqueue(h)
		w.drop(DropHandoffFull)
		return
	}
	w.c.handedOff.Add(1)
	w.st.workers[o].wake()
}

// wake tells a sleeping worker that it has work (a command or a hand-off).
// It costs one atomic load when the worker is awake.
func (w *worker) wake() {
	if w.sleep.Load() {
		if wk := w.st.wakers[w.id]; wk != nil {
			wk.Wake()
		}
	}
}

// --- transmit plumbing ---

// alloc returns an empty transmit frame of port p.
func (p *port) alloc() (link.Frame, bool) {
	if !p.ready() {
		return link.Frame{}, false
	}
	f := p.stock[len(p.stock)-1]
	p.stock = p.stock[:len(p.stock)-1]
	return f, true
}

// ready reports whether p can lend a transmit frame now, refilling its
// stock from the queue when it is empty (and marking the port starved
// when the queue has none either).
func (p *port) ready() bool {
	if len(p.stock) > 0 {
		return true
	}
	n := p.q.Alloc(p.stock[:cap(p.stock)])
	if n == 0 {
		p.flush()
		n = p.q.Alloc(p.stock[:cap(p.stock)])
	}
	p.stock = p.stock[:n]
	if n == 0 {
		p.starved = true
	}
	return n > 0
}

// readyIn is ready for round gen of mpOutput: a port that failed earlier
// in the round is not asked again.
func (p *port) readyIn(gen uint64) bool {
	if len(p.stock) > 0 {
		return true
	}
	if p.dry == gen {
		return false
	}
	if p.ready() {
		return true
	}
	p.dry = gen
	return false
}

// unalloc returns an unused frame to the stock.
func (p *port) unalloc(f link.Frame) { p.stock = append(p.stock, f) }

// send queues a filled frame; full batches go out at once.
func (w *worker) send(p *port, f link.Frame, n int) {
	f.Len = n
	f.More = false
	p.txq = append(p.txq, f)
	if len(p.txq) == cap(p.txq) {
		w.transmit(p)
	}
}

func (w *worker) transmit(p *port) {
	if len(p.txq) == 0 {
		return
	}
	n := p.q.Transmit(p.txq)
	if n < len(p.txq) {
		p.flush()
		n += p.q.Transmit(p.txq[n:])
	}
	w.c.txFrames.Add(uint64(n))
	w.iterTx += n
	if n < len(p.txq) {
		for range p.txq[n:] {
			w.drop(DropTxFull)
		}
		p.q.Release(p.txq[n:])
	}
	p.txq = p.txq[:0]
}

func (p *port) flush() { _ = p.q.Flush() }

// flushTx transmits every queued frame and kicks the queues.
func (w *worker) flushTx() {
	for _, p := range w.ports {
		if len(p.txq) > 0 {
			w.transmit(p)
			p.flush()
		}
	}
}

// releaseStock gives unused allocated frames back (on shutdown).
func (w *worker) releaseStock() {
	for _, p := range w.ports {
		if len(p.stock) > 0 {
			p.q.Release(p.stock)
			p.stock = p.stock[:0]
		}
	}
}

// --- neigh.Handler: the worker resolves its pending frames ---

// Resolve implements neigh.Handler.
func (w *worker) Resolve(k neigh.Key) (neigh.Entry, bool) { return w.st.neigh.Lookup(k) }

// Send implements neigh.Handler: the queued frame gets its destination
// address and goes out.
func (w *worker) Send(k neigh.Key, e neigh.Entry, frame []byte) {
	p := w.ports[k.Iface]
	f, ok := p.alloc()
	if !ok || len(f.Buf) < len(frame) {
		if ok {
			p.unalloc(f)
		}
		w.drop(DropTxFull)
		return
	}
	n := copy(f.Buf, frame)
	header.Ethernet(f.Buf).SetDst(e.MAC)
	w.send(p, f, n)
}

// Request implements neigh.Handler: another ARP request or NS.
func (w *worker) Request(k neigh.Key) { w.solicit(k) }

// Drop implements neigh.Handler.
func (w *worker) Drop(k neigh.Key, frames int) {
	w.c.drops[DropNeighbour].Add(uint64(frames))
}

// wakeApp wakes the application goroutine waiting on ch (a connection's
// rdCh or wrCh) from the worker and remembers it for starvedApp.
func (w *worker) wakeApp(ch chan struct{}) {
	if signal(ch) {
		w.woken = append(w.woken, ch)
	}
}

// starvedApp reports whether an application goroutine the worker woke
// has not run yet (its wake-up token is still in the channel), and
// forgets the woken ones. Go queues a goroutine that a worker wakes on
// the worker's own P, where it waits until the worker blocks (an idle P
// steals it only after a while, and not while every P is busy): a busy
// worker would keep its own reader or writer from running, and with it
// the reads and writes that open the connection's windows.
func (w *worker) starvedApp() bool {
	starved := false
	for _, ch := range w.woken {
		if len(ch) > 0 {
			starved = true
		}
	}
	clear(w.woken)
	w.woken = w.woken[:0]
	return starved
}

// rxBatch is the receive batch of each of a worker's n queues: one round
// of pollQueues takes about half of batchSize frames in all (at least
// minRxBatch a queue). Small rounds let the worker service its flows (ACKs
// and window updates, the reader's wake-up) more often, and the queues of
// one MPTCP connection's subflows are read in small alternating batches,
// so data reaches the connection close to DSN order: with 64 frames a
// queue at MTU 9000, half a megabyte of one subflow's data waited out of
// order in the receive buffer for the other's (BenchmarkMPTCPPipeGoodput
// with 2 subflows: 80 Gbit/s, 122 with 16 a queue).
func rxBatch(n int) int {
	return max(batchSize/(2*max(n, 1)), minRxBatch)
}

// minRxBatch is the smallest receive batch per queue.
const minRxBatch = 16
