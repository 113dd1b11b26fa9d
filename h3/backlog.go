package h3

import (
	"errors"
	"sync"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/internal/quichooks"
	"github.com/skiffnet/skiff/quic"
)

// Our QPACK decoder stream (RFC 9204 §4.2, §4.4) carries an instruction
// for nearly every request stream: a Section Acknowledgment or a Stream
// Cancellation, a few bytes each; our control stream carries a
// PRIORITY_UPDATE whenever the application changes a request's priority
// (RFC 9218 §7). A peer that never reads one of them (its flow control
// then stops taking bytes) must neither make us block, with c.mu held
// (which would stall every request of the connection and pile up a
// goroutine per stream) or in the application's call, nor make us keep
// the bytes without limit. So these streams are written without blocking
// (a backlogWriter): what the stream takes at once goes now, the rest
// waits in a backlog for a goroutine that exists only while there is one;
// past maxStreamBacklog waiting bytes, some 16,000 requests' worth of
// decoder instructions, the peer is not reading what it must, and the
// connection closes with H3_EXCESSIVE_LOAD (RFC 9114 §8.1).
const maxStreamBacklog = 64 << 10

// errExcessiveBacklog is what a write returns when it closed the
// connection because the peer had stopped reading the stream.
var errExcessiveBacklog = errors.New("h3: the peer does not read our stream; connection closed (H3_EXCESSIVE_LOAD)")

// backlogWriter writes on one of our unidirectional streams without
// waiting for the peer's flow control credit. Its methods are called with
// mu held, the lock that orders the stream's writes.
type backlogWriter struct {
	mu      *sync.Mutex
	s       *quic.Stream // nil until the stream is open
	backlog []byte
	// writing is what flush is writing now, out of the backlog but not
	// yet taken by the stream: it counts against maxStreamBacklog too.
	writing  int
	flushing bool
	qc       *quic.Conn // closed when the backlog would pass its limit
	what     string     // the reason the connection closes with
}

// writeLocked sends b: what the stream takes now, the rest in order
// behind it from the backlog. w.mu is held.
func (w *backlogWriter) writeLocked(b []byte) error {
	if !w.flushing {
		n, err := quichooks.WriteNoWait(w.s, b)
		if err != nil {
			return err
		}
		if b = b[n:]; len(b) == 0 {
			return nil
		}
	}
	if w.writing+len(w.backlog)+len(b) > maxStreamBacklog {
		w.backlog = nil
		w.qc.CloseWithError(uint64(frame.ErrCodeExcessiveLoad), w.what)
		return errExcessiveBacklog
	}
	w.backlog = append(w.backlog, b...)
	if !w.flushing {
		w.flushing = true
		go w.flush()
	}
	return nil
}

// flush writes the backlog, blocking as long as the peer takes its time,
// until there is none or the connection ends.
func (w *backlogWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.backlog) > 0 {
		b := w.backlog
		w.backlog, w.writing = nil, len(b)
		w.mu.Unlock()
		_, err := w.s.Write(b)
		w.mu.Lock()
		w.writing = 0
		if err != nil {
			w.backlog = nil
			break
		}
	}
	w.flushing = false
}
