package quic

import (
	"context"
	"io"
	"os"
	"sync"
	"time"

	"github.com/skiffnet/skiff/quic/internal/streambuf"
)

// Stream is a QUIC stream (RFC 9000 §2, §3). It is an io.ReadWriteCloser:
// Close ends the sending side with FIN; CloseRead asks the peer to stop
// sending (STOP_SENDING); Reset abandons the sending side (RESET_STREAM).
// A unidirectional stream has only one side; the other side's methods
// return errors.
//
// Read and Write may be called from different goroutines at once; two
// concurrent Reads (or Writes) are not meaningful.
type Stream struct {
	id   uint64
	conn *Conn

	mu sync.Mutex

	// Receive side (RFC 9000 §3.2).
	hasRecv        bool
	recv           streambuf.Recv
	recvMax        uint64 // the MAX_STREAM_DATA limit we advertised
	recvWindow     uint64 // the window, grown by auto-tuning
	recvUpdateAt   time.Duration
	maxDataPending bool // a MAX_STREAM_DATA frame should go out
	recvReset      *StreamError
	readClosed     bool // CloseRead was called
	stopCode       uint64
	stopPending    bool // a STOP_SENDING frame should go out
	readDeadline   time.Time
	readReady      chan struct{}

	// Send side (RFC 9000 §3.1).
	hasSend        bool
	send           streambuf.Send
	sendMax        uint64 // the peer's MAX_STREAM_DATA
	writeClosed    bool
	resetCode      uint64
	resetPending   bool // a RESET_STREAM frame should go out
	resetSent      bool
	resetAcked     bool
	stopReceived   *StreamError // the peer's STOP_SENDING
	blockedPending bool         // a STREAM_DATA_BLOCKED frame should go out
	blockedAt      uint64       // the limit it reported
	writeDeadline  time.Time
	writeReady     chan struct{}

	// Guarded by conn.mu.
	queued bool // in the connection's send queue
	done   bool // both sides finished; forgotten by the connection
}

// maxSendBuffered is how much a Write may buffer before it blocks. It
// covers the flow-control window a fast path needs, so the application is
// never the bottleneck of a bulk transfer.
const maxSendBuffered = 4 << 20

func newStream(c *Conn, id uint64, hasSend, hasRecv bool) *Stream {
	return &Stream{
		id:         id,
		conn:       c,
		hasSend:    hasSend,
		hasRecv:    hasRecv,
		readReady:  make(chan struct{}, 1),
		writeReady: make(chan struct{}, 1),
	}
}

// ID is the stream ID (RFC 9000 §2.1).
func (s *Stream) ID() uint64 { return s.id }

func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Read reads stream data in order. At the end of the stream it returns
// io.EOF; when the peer reset the stream, a *StreamError.
func (s *Stream) Read(p []byte) (int, error) {
	if !s.hasRecv {
		return 0, ErrStreamClosed
	}
	for {
		s.mu.Lock()
		if s.readClosed {
			s.mu.Unlock()
			return 0, ErrStreamClosed
		}
		if s.recvReset != nil {
			err := s.recvReset
			s.mu.Unlock()
			return 0, err
		}
		if len(p) == 0 {
			s.mu.Unlock()
			return 0, nil
		}
		n, eof := s.recv.Read(p)
		if n > 0 {
			wake := s.onConsumedLocked(uint64(n))
			s.mu.Unlock()
			s.conn.flow.consumed(uint64(n))
			if wake || eof {
				s.conn.queueStream(s)
			}
			return n, nil
		}
		if eof {
			s.mu.Unlock()
			// The FIN may have come after the last data was read: let
			// the driver see that the receive side is done, so a stream
			// finished both ways is forgotten rather than kept for the
			// connection's lifetime.
			s.conn.queueStream(s)
			return 0, io.EOF
		}
		deadline := s.readDeadline
		s.mu.Unlock()
		if err := s.wait(s.readReady, deadline); err != nil {
			return 0, err
		}
	}
}

// onConsumedLocked notes that the application read n bytes, and reports
// whether the stream's receive window should be extended now: when half
// of it is used (RFC 9000 §4.2 leaves the policy to us).
func (s *Stream) onConsumedLocked(n uint64) bool {
	read := s.recv.ReadOffset()
	if _, fin := s.recv.FinalSize(); fin {
		return false // no more credit is needed once the size is known
	}
	if read+s.recvWindow-s.recvMax >= s.recvWindow/2 && !s.maxDataPending {
		s.maxDataPending = true
		return true
	}
	_ = n
	return false
}

// Write writes data to the stream, blocking while more than
// maxSendBuffered bytes wait to be acknowledged.
func (s *Stream) Write(p []byte) (int, error) {
	if !s.hasSend {
		return 0, ErrStreamClosed
	}
	written := 0
	for {
		s.mu.Lock()
		if err := s.writeErrLocked(); err != nil {
			s.mu.Unlock()
			return written, err
		}
		room := int64(maxSendBuffered) - int64(s.send.Buffered())
		if room > 0 {
			n := min(int64(len(p)), room)
			s.send.Write(p[:n])
			p = p[n:]
			written += int(n)
		}
		deadline := s.writeDeadline
		s.mu.Unlock()
		s.conn.queueStream(s)
		if len(p) == 0 {
			return written, nil
		}
		if err := s.wait(s.writeReady, deadline); err != nil {
			return written, err
		}
	}
}

func (s *Stream) writeErrLocked() error {
	switch {
	case s.stopReceived != nil:
		return s.stopReceived
	case s.resetPending || s.resetSent:
		return &StreamError{StreamID: s.id, Code: s.resetCode}
	case s.writeClosed:
		return ErrStreamClosed
	}
	return nil
}

// wait blocks until ready is signalled, the deadline passes or the
// connection ends.
func (s *Stream) wait(ready chan struct{}, deadline time.Time) error {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return os.ErrDeadlineExceeded
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ready:
		return nil
	case <-timeout:
		return os.ErrDeadlineExceeded
	case <-s.conn.closed:
		return s.conn.closeError()
	}
}

// Close ends the sending side: the peer reads io.EOF after the data
// written so far (a STREAM frame with FIN). It does not wait for the data
// to be acknowledged. On a receive-only stream it is CloseRead(0).
func (s *Stream) Close() error {
	if !s.hasSend {
		return s.CloseRead(0)
	}
	s.mu.Lock()
	if err := s.writeErrLocked(); err != nil {
		s.mu.Unlock()
		if err == ErrStreamClosed {
			return nil
		}
		return err
	}
	s.writeClosed = true
	s.send.Close()
	s.mu.Unlock()
	s.conn.queueStream(s)
	return nil
}

// CloseRead tells the peer we will read no more (STOP_SENDING with code,
// RFC 9000 §3.5) and discards what is buffered.
func (s *Stream) CloseRead(code uint64) error {
	if !s.hasRecv {
		return ErrStreamClosed
	}
	s.mu.Lock()
	if s.readClosed {
		s.mu.Unlock()
		return nil
	}
	s.readClosed = true
	// No STOP_SENDING once everything has arrived or the peer reset.
	if _, fin := s.recv.FinalSize(); !fin && s.recvReset == nil {
		s.stopCode, s.stopPending = code, true
	}
	consumedBefore := s.recv.ReadOffset()
	highest := s.recv.Highest()
	s.recv.Discard()
	s.mu.Unlock()
	// Bytes received but never read still count as consumed for
	// connection flow control, or the connection's window would leak.
	s.conn.flow.consumed(highest - consumedBefore)
	notify(s.readReady)
	s.conn.queueStream(s)
	return nil
}

// Reset abandons the sending side with an application error code
// (RESET_STREAM, RFC 9000 §3.1, §19.4). Unsent data is discarded.
func (s *Stream) Reset(code uint64) error {
	if !s.hasSend {
		return ErrStreamClosed
	}
	s.mu.Lock()
	if s.resetPending || s.resetSent || s.send.AllAcked() {
		s.mu.Unlock()
		return nil
	}
	s.resetCode, s.resetPending = code, true
	s.send.Discard()
	s.mu.Unlock()
	notify(s.writeReady)
	s.conn.queueStream(s)
	return nil
}

// SetReadDeadline sets the deadline for Read calls, current and future.
func (s *Stream) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	s.readDeadline = t
	s.mu.Unlock()
	notify(s.readReady)
	return nil
}

// SetWriteDeadline sets the deadline for Write calls, current and future.
func (s *Stream) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	s.writeDeadline = t
	s.mu.Unlock()
	notify(s.writeReady)
	return nil
}

// SetDeadline sets both deadlines.
func (s *Stream) SetDeadline(t time.Time) error {
	s.SetReadDeadline(t)
	return s.SetWriteDeadline(t)
}

// Context-aware helpers used by Conn.OpenStream and AcceptStream.
func ctxDone(ctx context.Context) <-chan struct{} {
	if ctx == nil {
		return nil
	}
	return ctx.Done()
}
