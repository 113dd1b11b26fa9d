package quic

import (
	"context"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/internal/quichooks"
	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/streambuf"
)

// Stream is a QUIC stream (RFC 9000 §2, §3). It is an io.ReadWriteCloser:
// Close ends the sending side with FIN; CloseRead asks the peer to stop
// sending (STOP_SENDING); Reset abandons the sending side (RESET_STREAM).
// A unidirectional stream has only one side; the other side's methods
// return errors.
//
// Read and Write may be called from different goroutines at once: each
// side has its own buffer and lock, and neither waits for the connection's
// goroutine. Two concurrent Reads (or Writes) are not meaningful.
type Stream struct {
	st *conn.Stream
	c  *Conn

	// readReady and writeReady wake a Read or Write waiting for the
	// connection.
	readReady, writeReady signal

	dlMu                        sync.Mutex
	readDeadline, writeDeadline time.Time
	waitDone                    <-chan struct{} // the Done channel of SetContext's context

	sctx atomic.Pointer[streamContext] // made by Context
	// watcher is told when the stream is over for the peer
	// (stream_context.go); the driver's.
	watcher quichooks.StreamWatcher

	// state is the state machine's stream (st), in the same allocation
	// (allocStream).
	state conn.Stream
}

// allocStream makes a Stream and the state machine's stream in one
// allocation (conn.Mailbox.SetStreamAlloc).
func (c *Conn) allocStream() *conn.Stream {
	s := &Stream{c: c}
	s.st = &s.state
	s.state.SetOwner(s)
	return s.st
}

// newStream returns the Stream of a stream the peer opened.
func newStream(c *Conn, st *conn.Stream) *Stream {
	if s := streamOf(st); s != nil {
		return s // made by allocStream
	}
	s := &Stream{st: st, c: c}
	st.SetOwner(s)
	return s
}

// streamOf returns the Stream of a stream the state machine reports.
func streamOf(st *conn.Stream) *Stream {
	s, _ := st.Owner().(*Stream)
	return s
}

// ID is the stream ID (RFC 9000 §2.1).
func (s *Stream) ID() uint64 { return s.st.ID() }

// SetPriority sets the stream's priority among the connection's streams
// (RFC 9218 §4): urgency from 0 (most urgent) to 7, and whether its data
// is used incrementally. Data of more urgent streams goes first; at one
// urgency, incremental streams share the connection in turn, and the
// others are served one at a time in stream ID order. Streams start at
// urgency 3, incremental.
func (s *Stream) SetPriority(urgency uint8, incremental bool) {
	s.st.SetPriority(urgency, incremental)
}

// signal wakes the one goroutine that waits on it. Its channel is made
// (or taken from the connection's waitChans) when a goroutine first needs
// to wait, so that a stream whose Reads and Writes never wait pays for
// none: a waiter makes it, then tries again before waiting, so a notify
// before the channel existed is not missed.
type signal struct {
	v atomic.Value // chan struct{}, buffered 1; a nil one once released
}

// notify wakes the waiter, if any; the wake-up is kept for the next wait.
func (g *signal) notify() {
	if ch, _ := g.v.Load().(chan struct{}); ch != nil {
		notify(ch)
	}
}

// notify sends a wake-up on ch (buffered 1) unless one is pending.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// channel returns the signal's channel, and whether it existed before: a
// caller that made it tries again before waiting.
func (g *signal) channel(cache *waitChans) (ch chan struct{}, existed bool) {
	old := g.v.Load()
	if ch, _ := old.(chan struct{}); ch != nil {
		return ch, true
	}
	ch = cache.get()
	if !g.v.CompareAndSwap(old, ch) {
		cache.put(ch) // another waiter's came first
	}
	return g.v.Load().(chan struct{}), false
}

// release gives the signal's channel back to cache, once no goroutine will
// wait on it again: the side it wakes has ended.
func (g *signal) release(cache *waitChans) {
	old := g.v.Load()
	if ch, _ := old.(chan struct{}); ch != nil && g.v.CompareAndSwap(old, chan struct{}(nil)) {
		cache.put(ch)
	}
}

// woken is called by a waiter that ch woke: if the signal released ch
// meanwhile (a concurrent Read saw the end), the wake-up may have been
// meant for the stream that took ch next, and is passed on to it.
func (g *signal) woken(ch chan struct{}) {
	if cur, _ := g.v.Load().(chan struct{}); cur != ch {
		notify(ch)
	}
}

// waitChans keeps a connection's wake-up channels that streams released,
// for the next streams that wait: on a client with many requests in flight
// each response is waited for, and a channel made for each would be an
// allocation a request. It is per connection, not a sync.Pool, because a
// channel belongs to the testing/synctest bubble that made it.
type waitChans struct {
	mu   sync.Mutex
	free []chan struct{}
}

// maxWaitChans bounds waitChans: a connection that had many waiters at
// once keeps no more than this many channels (96 bytes each) when idle.
const maxWaitChans = 32

// get returns a channel from the cache, or a new one.
func (w *waitChans) get() chan struct{} {
	w.mu.Lock()
	if n := len(w.free); n > 0 {
		ch := w.free[n-1]
		w.free[n-1] = nil
		w.free = w.free[:n-1]
		w.mu.Unlock()
		return ch
	}
	w.mu.Unlock()
	return make(chan struct{}, 1)
}

// put gives ch to the cache, emptied of a pending wake-up. (One sent by a
// notify that loaded ch before it was released may still arrive: its
// next waiter then wakes once for nothing and waits again.)
func (w *waitChans) put(ch chan struct{}) {
	select {
	case <-ch:
	default:
	}
	w.mu.Lock()
	if len(w.free) < maxWaitChans {
		w.free = append(w.free, ch)
	}
	w.mu.Unlock()
}

// Read reads stream data in order. At the end of the stream it returns
// io.EOF; when the peer reset the stream, a *StreamError.
func (s *Stream) Read(p []byte) (int, error) {
	if !s.st.HasRecv() {
		return 0, ErrStreamClosed
	}
	for {
		n, st, code := s.st.Read(p)
		if st != streambuf.Blocked {
			if st != streambuf.OK {
				// EOF, Closed or ResetRemote: the receiving part has
				// ended, and no Read waits again.
				s.readReady.release(&s.c.waitChans)
			}
			return s.readResult(n, st, code)
		}
		ready, existed := s.readReady.channel(&s.c.waitChans)
		if !existed {
			continue
		}
		s.dlMu.Lock()
		deadline, done := s.readDeadline, s.waitDone
		s.dlMu.Unlock()
		if err := s.wait(ready, deadline, done); err != nil {
			return 0, err
		}
		s.readReady.woken(ready)
	}
}

// readResult is what Read returns for a status of the receiving part
// other than Blocked.
func (s *Stream) readResult(n int, st streambuf.Status, code uint64) (int, error) {
	switch st {
	case streambuf.EOF:
		return 0, io.EOF
	case streambuf.Closed:
		return 0, ErrStreamClosed
	case streambuf.ResetRemote:
		return 0, &StreamError{StreamID: s.ID(), Code: code, Remote: true}
	}
	return n, nil
}

// readNoWait reads what the stream holds now, 0 and no error where Read
// would wait (quichooks.ReadNoWait).
func readNoWait(stream any, p []byte) (int, error) {
	s := stream.(*Stream)
	if !s.st.HasRecv() {
		return 0, ErrStreamClosed
	}
	n, st, code := s.st.Read(p)
	if st == streambuf.Blocked {
		return 0, nil
	}
	return s.readResult(n, st, code)
}

// Write writes data to the stream, blocking while more than 4 MiB wait to
// be acknowledged, or while what was written reaches the peer's credit for
// the stream (its MAX_STREAM_DATA) plus Config.SendCushion. Once the
// connection has ended, or started to, it returns why and takes nothing.
func (s *Stream) Write(p []byte) (int, error) {
	if !s.st.HasSend() {
		return 0, ErrStreamClosed
	}
	if err := s.connEnded(); err != nil {
		return 0, err
	}
	written := 0
	for {
		n, st, code := s.st.Write(p)
		written += n
		p = p[n:]
		if err := s.sendError(st, code); err != nil {
			return written, err
		}
		if len(p) == 0 {
			return written, nil
		}
		ready, existed := s.writeReady.channel(&s.c.waitChans)
		if !existed {
			continue
		}
		s.dlMu.Lock()
		deadline, done := s.writeDeadline, s.waitDone
		s.dlMu.Unlock()
		if err := s.wait(ready, deadline, done); err != nil {
			return written, err
		}
	}
}

// writeNoWait writes what of b the stream takes now, without waiting
// (quichooks.WriteNoWait).
func writeNoWait(stream any, b []byte) (int, error) {
	s := stream.(*Stream)
	if !s.st.HasSend() {
		return 0, ErrStreamClosed
	}
	if err := s.connEnded(); err != nil {
		return 0, err
	}
	n, st, code := s.st.Write(b)
	return n, s.sendError(st, code)
}

func init() {
	quichooks.WriteNoWait = writeNoWait
	quichooks.ReadNoWait = readNoWait
}

// connEnded is why the connection ended, once it has started to: data
// written then would sit in a buffer that nothing sends any more (the
// closing and draining periods carry CONNECTION_CLOSE alone, RFC 9000
// §10.2), so Write says so instead of taking it while it has room.
func (s *Stream) connEnded() error {
	select {
	case <-s.c.closed:
		return s.c.closeError()
	default:
		return nil
	}
}

// sendError is the error a status of the sending part means, nil for OK
// and Blocked.
func (s *Stream) sendError(st streambuf.Status, code uint64) error {
	switch st {
	case streambuf.ResetRemote:
		return &StreamError{StreamID: s.ID(), Code: code, Remote: true}
	case streambuf.ResetLocal:
		return &StreamError{StreamID: s.ID(), Code: code}
	case streambuf.Closed:
		return ErrStreamClosed
	}
	return nil
}

// wait blocks until ready is signalled, the deadline passes, done is
// closed or the connection ends.
func (s *Stream) wait(ready chan struct{}, deadline time.Time, done <-chan struct{}) error {
	if deadline.IsZero() && done == nil {
		// The usual wait, on two channels: a select locks each of its
		// channels when it starts and again when it wakes.
		select {
		case <-ready:
			return nil
		case <-s.c.closed:
			return s.c.closeError()
		}
	}
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
	case <-done:
		return ErrContextDone
	case <-s.c.closed:
		return s.c.closeError()
	}
}

// Close ends the sending side: the peer reads io.EOF after the data
// written so far (a STREAM frame with FIN). It does not wait for the data
// to be acknowledged. On a receive-only stream it is CloseRead(0).
func (s *Stream) Close() error {
	if !s.st.HasSend() {
		return s.CloseRead(0)
	}
	st, code := s.st.CloseWrite()
	if st == streambuf.Closed {
		return nil
	}
	return s.sendError(st, code)
}

// CloseRead tells the peer we will read no more (STOP_SENDING with code,
// RFC 9000 §3.5) and discards what is buffered.
func (s *Stream) CloseRead(code uint64) error {
	if !s.st.HasRecv() {
		return ErrStreamClosed
	}
	s.st.CloseRead(code)
	s.readReady.notify()
	return nil
}

// Reset abandons the sending side with an application error code
// (RESET_STREAM, RFC 9000 §3.1, §19.4). Unsent data is discarded.
func (s *Stream) Reset(code uint64) error {
	if !s.st.HasSend() {
		return ErrStreamClosed
	}
	s.st.Reset(code)
	s.writeReady.notify()
	return nil
}

// SetReadDeadline sets the deadline for Read calls, current and future.
func (s *Stream) SetReadDeadline(t time.Time) error {
	s.dlMu.Lock()
	s.readDeadline = t
	s.dlMu.Unlock()
	s.readReady.notify()
	return nil
}

// SetWriteDeadline sets the deadline for Write calls, current and future.
func (s *Stream) SetWriteDeadline(t time.Time) error {
	s.dlMu.Lock()
	s.writeDeadline = t
	s.dlMu.Unlock()
	s.writeReady.notify()
	return nil
}

// SetContext makes Read and Write calls, current and future, that wait
// for the peer return ErrContextDone once ctx ends (ctx.Err says why); a
// context that never ends (context.Background()) removes it. Data already
// buffered is still read and written: only waiting is cut short. It costs
// no goroutine or watcher, where a context.AfterFunc that resets the
// stream would cost several allocations. (The Stream keeps ctx's Done
// channel, not ctx: the 8 bytes more of a Context would put a Stream in
// the next allocation size class.)
func (s *Stream) SetContext(ctx context.Context) {
	done := ctxDone(ctx)
	s.dlMu.Lock()
	s.waitDone = done
	s.dlMu.Unlock()
	s.readReady.notify()
	s.writeReady.notify()
}

// SetDeadline sets both deadlines.
func (s *Stream) SetDeadline(t time.Time) error {
	s.SetReadDeadline(t)
	return s.SetWriteDeadline(t)
}

// ctxDone is ctx's Done channel, nil for a nil context.
func ctxDone(ctx context.Context) <-chan struct{} {
	if ctx == nil {
		return nil
	}
	return ctx.Done()
}
