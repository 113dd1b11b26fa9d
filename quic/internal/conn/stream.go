package conn

import (
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/quic/internal/streambuf"
)

// MaxSendBuffered is how much a stream's writer may buffer (written, not
// yet acknowledged) before Write reports Blocked. It covers the
// flow-control window a fast path needs, so the application is never the
// bottleneck of a bulk transfer. Write also takes nothing beyond the
// peer's credit for the stream plus Config.SendCushion.
const MaxSendBuffered = 4 << 20

// Stream is a QUIC stream (RFC 9000 §2, §3). Its exported methods are for
// application goroutines: they touch only the stream's shared parts (the
// sending and the receiving part, each with its own lock) and its
// connection's Mailbox, and never block. Everything else is the
// connection's, touched by its owner's goroutine only.
type Stream struct {
	send streambuf.SendPart
	recv streambuf.RecvPart
	id   uint64
	mb   *Mailbox
	// hasSend and hasRecv say which parts exist (RFC 9000 §2.1); they
	// never change.
	hasSend, hasRecv bool
	// flagged: in the mailbox's list of streams with work, linked by next.
	flagged atomic.Bool
	next    *Stream
	// priority is what SetPriority asked for, packed by packPriority.
	priority atomic.Uint32
	// owner is the owner's handle for the stream, set before any event
	// names the stream.
	owner any
	// earlyData: some of the stream's data arrived in 0-RTT packets.
	earlyData atomic.Bool

	// The connection's, from here on.

	registered bool // in the connection's stream map
	done       bool // both parts finished; forgotten by the connection

	// Sending part (RFC 9000 §3.1).
	out            streambuf.SendState
	sendMax        uint64 // the peer's MAX_STREAM_DATA
	resetCode      uint64
	resetPending   bool // a RESET_STREAM frame should go out
	resetSent      bool
	resetAcked     bool
	blockedPending bool   // a STREAM_DATA_BLOCKED frame should go out
	blockedAt      uint64 // the limit it reported
	releasePending bool   // acknowledged storage to release after this ACK frame
	releaseNext    *Stream

	// Receiving part (RFC 9000 §3.2).
	maxDataPending bool // a MAX_STREAM_DATA frame should go out
	recvUpdateAt   time.Duration
	stopPending    bool // a STOP_SENDING frame should go out
	stopCode       uint64

	sched      schedEntry
	ctrlQueued bool // in the connection's queue of control frames to send
	ctrlNext   *Stream
}

func newStream(mb *Mailbox, id uint64, hasSend, hasRecv bool) *Stream {
	if mb.alloc == nil {
		return &Stream{id: id, mb: mb, hasSend: hasSend, hasRecv: hasRecv}
	}
	s := mb.alloc()
	s.id, s.mb, s.hasSend, s.hasRecv = id, mb, hasSend, hasRecv
	return s
}

// Owner returns the owner's handle for the stream.
func (s *Stream) Owner() any { return s.owner }

// SetOwner sets the owner's handle for a stream the peer opened, when
// the connection reports it (EventStreamOpened).
func (s *Stream) SetOwner(v any) { s.owner = v }

// ID is the stream ID (RFC 9000 §2.1).
func (s *Stream) ID() uint64 { return s.id }

// HasSend and HasRecv report whether the stream has a sending part and a
// receiving part: a unidirectional stream has one (RFC 9000 §2.1).
func (s *Stream) HasSend() bool { return s.hasSend }
func (s *Stream) HasRecv() bool { return s.hasRecv }

// Read copies stream data into p, in order. It returns the bytes read, or
// why there are none: streambuf.Blocked (wait for EventStreamReadable),
// EOF, Closed (after CloseRead), ResetRemote with the peer's code.
func (s *Stream) Read(p []byte) (int, streambuf.Status, uint64) {
	n, st, code, want := s.recv.Read(p)
	s.mb.consume(uint64(n))
	if want {
		s.mb.push(s)
	}
	return n, st, code
}

// Write buffers p for sending, as much as MaxSendBuffered and the peer's
// credit plus the cushion (Config.SendCushion) allow. It
// returns how much it took, and Blocked when that was not all (wait for
// EventStreamWritable), or why the sending part takes no more: Closed
// (after CloseWrite), ResetLocal or ResetRemote with the code.
func (s *Stream) Write(p []byte) (int, streambuf.Status, uint64) {
	n, st, code := s.send.Write(p, MaxSendBuffered, s.mb.sendCushion)
	if n > 0 {
		s.mb.sendWork.Store(true) // before push wakes the owner
		s.mb.push(s)
	}
	return n, st, code
}

// CloseWrite ends the sending part after what was written (a STREAM frame
// with FIN). It returns streambuf.OK, or why the part had already ended.
func (s *Stream) CloseWrite() (streambuf.Status, uint64) {
	st, code := s.send.Close()
	if st == streambuf.OK {
		s.mb.sendWork.Store(true)
		s.mb.push(s)
	}
	return st, code
}

// Reset abandons the sending part with an application error code
// (RESET_STREAM, RFC 9000 §3.1, §19.4); what was not sent is discarded.
func (s *Stream) Reset(code uint64) {
	if s.send.Reset(code) {
		s.mb.push(s)
	}
}

// CloseRead tells the peer we read no more (STOP_SENDING with code, RFC
// 9000 §3.5) and discards what is buffered.
func (s *Stream) CloseRead(code uint64) {
	consumed, first := s.recv.CloseRead(code)
	if !first {
		return
	}
	// Bytes received but never read still count as consumed for
	// connection flow control, or the connection's window would leak.
	s.mb.consume(consumed)
	s.mb.push(s)
}

// Buffered is how many bytes written are not yet acknowledged.
func (s *Stream) Buffered() uint64 { return s.send.Buffered() }
