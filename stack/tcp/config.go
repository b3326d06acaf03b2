package tcp

import (
	"time"

	"github.com/mpxdp/mpxdp/stack/seqnum"
	"github.com/mpxdp/mpxdp/stack/tcp/cc"
)

// Config configures one endpoint. The zero value of every field except CC
// means "use the default" shown in brackets.
type Config struct {
	// MSS is the largest payload we accept per segment, advertised in our
	// SYN, and the upper bound of what we send [1460].
	MSS int
	// SendBufSize is the size of the built-in send buffer [4 MiB].
	SendBufSize int
	// RecvBufSize is the initial size of the built-in receive buffer [256 KiB].
	RecvBufSize int
	// RecvBufMax is how far receive-buffer autotuning may grow it; it also
	// fixes the window-scale shift we offer [16 MiB]. Set it equal to
	// RecvBufSize to turn autotuning off.
	RecvBufMax int
	// InitialRTO is the retransmission timeout before any RTT sample [1 s].
	InitialRTO time.Duration
	// MinRTO and MaxRTO bound the retransmission timeout [200 ms, 120 s].
	MinRTO, MaxRTO time.Duration
	// MaxRetries is how many consecutive RTOs (or unanswered window probes)
	// end the connection with ErrTimeout [15].
	MaxRetries int
	// SYNRetries is how many SYN or SYN-ACK retransmissions are tried [6].
	SYNRetries int
	// TimeWait is how long TIME-WAIT lasts, 2*MSL [60 s].
	TimeWait time.Duration
	// FinWait2Timeout bounds FIN-WAIT-2 after Close (not CloseWrite): a
	// peer that never sends its FIN cannot keep the endpoint forever (Linux
	// tcp_fin_timeout) [60 s].
	FinWait2Timeout time.Duration
	// DelayedACK is the delayed-ACK timeout [40 ms].
	DelayedACK time.Duration
	// QuickACKShort acknowledges at once an in-order segment shorter than
	// the largest one received so far (the sender's last bytes before it
	// paused) instead of delaying the ACK. It suits a receiver whose data
	// is consumed as it arrives: an MPTCP subflow, whose bytes move to the
	// connection at once, while the sender cannot reuse its connection
	// send buffer until the subflow acknowledges the tail (Linux sends
	// that ACK when the reader drains a "pushed" small segment,
	// tcp_cleanup_rbuf). Plain TCP keeps the delayed ACK (RFC 9293
	// §3.8.6.3) for such segments.
	QuickACKShort bool
	// NoSACK, NoTimestamps and NoWindowScale stop us offering or accepting
	// those options.
	NoSACK, NoTimestamps, NoWindowScale bool
	// Nagle turns Nagle's algorithm on (off by default: bulk and latency).
	Nagle bool
	// MaxOOORanges bounds the out-of-order ranges (holes) the receiver
	// keeps, and the SACK scoreboard of the sender [32]. Out-of-order data
	// never exceeds the receive buffer; this bounds the bookkeeping.
	MaxOOORanges int
	// ChallengeACKLimit is the most challenge ACKs sent per second [100].
	ChallengeACKLimit int
	// ISS is the initial send sequence number (from ISNGenerator or
	// SYNCookies); the endpoint never chooses one itself.
	ISS seqnum.Value
	// TSOffset is added to our timestamp clock (per-connection random
	// offset, RFC 7323 §5.4).
	TSOffset uint32
	// CC is the congestion controller; required. The endpoint calls Init.
	CC cc.Controller
	// Ext, when set, adds option bytes to outgoing segments and sees the
	// options of incoming ones (MPTCP subflows).
	Ext Extension
	// ExtOptionSpace is the option space reserved for Ext on every
	// non-SYN segment: it shortens the payload of data segments and leaves
	// less room for SACK blocks (with timestamps and 20 reserved bytes no
	// SACK block fits; with 8, one does). It is ignored without Ext.
	ExtOptionSpace int
	// Send and Recv replace the built-in byte-stream buffers (MPTCP pulls
	// and pushes data by DSN through them). Write/Read then return 0.
	Send SendBuffer
	Recv RecvBuffer
}

func (c *Config) setDefaults() {
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	defD := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&c.MSS, 1460)
	def(&c.SendBufSize, 4<<20)
	def(&c.RecvBufSize, 256<<10)
	def(&c.RecvBufMax, 16<<20)
	if c.RecvBufMax < c.RecvBufSize {
		c.RecvBufMax = c.RecvBufSize
	}
	defD(&c.InitialRTO, time.Second)
	defD(&c.MinRTO, 200*time.Millisecond)
	defD(&c.MaxRTO, 120*time.Second)
	def(&c.MaxRetries, 15)
	def(&c.SYNRetries, 6)
	defD(&c.TimeWait, 60*time.Second)
	defD(&c.FinWait2Timeout, 60*time.Second)
	defD(&c.DelayedACK, 40*time.Millisecond)
	def(&c.MaxOOORanges, 32)
	def(&c.ChallengeACKLimit, 100)
	if c.Ext == nil {
		c.ExtOptionSpace = 0
	}
}

// Extension is the seam for MPTCP: it adds options to outgoing segments
// and sees incoming ones. Both methods are called once per segment and must
// not allocate.
type Extension interface {
	// WriteOptions writes whole options (kind, length, data) for seg into
	// buf and returns how many bytes it wrote. seg is complete (sequence
	// numbers, flags, payload); len(buf) is the option space left, at
	// least Config.ExtOptionSpace on data segments.
	WriteOptions(seg *Segment, buf []byte) int
	// OnSegment sees every incoming segment that passed the sequence and
	// ACK checks (and SYNs/SYN-ACKs that start the connection), before its
	// payload is queued. seg.Options.Ext holds its extension options.
	OnSegment(seg *Segment)
}

// WindowLimiter is an optional interface of an Extension. When Config.Ext
// implements it, the receive window the endpoint advertises is at most
// RecvWindowLimit bytes from rcv_nxt (and at most what the RecvBuffer has
// free). MPTCP uses it to keep a subflow's window within the
// connection-level window, which is relative to DATA_ACK (RFC 8684
// §3.3.4). A right edge already advertised never moves left (RFC 9293
// §3.8.6.2.2): a limit below it gives the same edge again, not a smaller
// one. When the limit grows (the application read at the connection
// level), call Endpoint.RecvBufferFreed or Endpoint.SendACK so that the
// opened window is advertised.
type WindowLimiter interface {
	// RecvWindowLimit returns the most bytes, counted from the subflow's
	// rcv_nxt, that the next segment (SYNs included) may advertise; a
	// negative value counts as 0. It is called once per outgoing segment
	// and on window-update checks, and must not allocate.
	RecvWindowLimit() int
}

// SendBuffer holds the bytes of the outgoing stream from snd_una on.
// Offsets are relative to the first unacknowledged byte. Offset 0 is the
// subflow-relative sequence number (seq - ISS - 1) equal to the sum of all
// Consume calls so far, which is how an MPTCP provider maps offsets to its
// DSS mappings. Buffered may grow between calls (a scheduler assigning
// more data); it never shrinks except by Consume.
type SendBuffer interface {
	// Buffered returns the bytes held: sent-but-unacknowledged plus unsent.
	Buffered() int
	// CopyAt copies bytes starting at offset off into p and returns the
	// count. It may copy fewer than len(p) bytes anywhere, not only at
	// the end of the buffered data: an MPTCP subflow stops each copy at
	// the end of a DSS mapping, so that a segment carries one mapping. The
	// endpoint then sends a shorter segment (even one that sender SWS
	// avoidance or Nagle would have held back), sends the FIN only with or
	// after the last buffered byte, and asks again from the next offset.
	// When off < Buffered() and len(p) > 0 it must copy at least one byte:
	// a buffer that copies none stalls the connection until it does.
	CopyAt(off int, p []byte) int
	// Consume drops the first n bytes: they were acknowledged.
	Consume(n int)
}

// RecvBuffer holds received bytes from rcv_nxt on: offset 0 is rcv_nxt,
// whose subflow-relative sequence number (seq - IRS - 1) is the sum of all
// Advance calls so far; an MPTCP sink maps it to a DSN with the mappings
// it saw in Extension.OnSegment. The FIN never reaches the buffer.
type RecvBuffer interface {
	// Free returns the bytes that can be stored from rcv_nxt on; the
	// endpoint advertises it as the receive window.
	Free() int
	// WriteAt stores p at offset off from rcv_nxt (off+len(p) <= Free()).
	// Out-of-order data is written too; it becomes readable only when
	// Advance covers it.
	WriteAt(off int, p []byte)
	// Advance moves rcv_nxt by n: those bytes are now in order.
	Advance(n int)
}
