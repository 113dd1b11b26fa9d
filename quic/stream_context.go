package quic

import (
	"context"
	"time"

	"github.com/skiffnet/skiff/internal/quichooks"
	"github.com/skiffnet/skiff/quic/internal/conn"
)

// streamContext is a Stream's context and what ends it.
type streamContext struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// Context returns a context that ends when the stream is over for the
// peer: at once when the peer resets it (RESET_STREAM, before its FIN was
// read) or stops it (STOP_SENDING), whether or not anyone reads or
// writes, with a *StreamError (Remote true) as its cause; when the
// connection ends, with the connection's error as its cause; and when both
// directions of the stream are finished, with ErrStreamClosed. Our own
// Close, CloseRead and Reset do not end it.
//
// It is made on first use, so that streams nobody asks pay nothing.
func (s *Stream) Context() context.Context {
	if sc := s.sctx.Load(); sc != nil {
		return sc.ctx
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	sc := &streamContext{ctx: ctx, cancel: cancel}
	if !s.sctx.CompareAndSwap(nil, sc) {
		cancel(nil)
		return s.sctx.Load().ctx
	}
	// What happened before the context existed ends it now; what happens
	// after, the driver sees (EventStreamAborted): the context is
	// published before this looks, so one of the two does.
	s.checkAborted(false)
	c := s.c
	select {
	case <-c.closed:
		cancel(c.closeError())
		return ctx
	default:
	}
	if !c.call(func(sm *conn.Conn, _ time.Time) { c.watch(s) }) {
		cancel(c.closeError())
	}
	return ctx
}

// peerAborted is the cause that ends the stream for the peer's
// RESET_STREAM or STOP_SENDING; nil if it sent neither.
func (s *Stream) peerAborted() error {
	if code, ok := s.st.PeerReset(); ok {
		return &StreamError{StreamID: s.ID(), Code: code, Remote: true}
	}
	if code, ok := s.st.PeerStopped(); ok {
		return &StreamError{StreamID: s.ID(), Code: code, Remote: true}
	}
	return nil
}

// checkAborted ends the stream's context, if it has one, when the peer
// reset or stopped the stream; and, on the driver goroutine (driver), tells
// its watcher.
func (s *Stream) checkAborted(driver bool) {
	sc := s.sctx.Load()
	if sc == nil && (!driver || s.watcher == nil) {
		return
	}
	cause := s.peerAborted()
	if cause == nil {
		return
	}
	if sc != nil {
		sc.cancel(cause)
	}
	if driver {
		s.tellWatcher(cause)
	}
}

// tellWatcher tells the stream's watcher, once, that the stream is over
// (driver goroutine).
func (s *Stream) tellWatcher(cause error) {
	if w := s.watcher; w != nil {
		s.watcher = nil
		w.StreamEnded(cause)
	}
}

// watch keeps s's context and watcher until the stream finishes or the
// connection ends (driver goroutine).
func (c *Conn) watch(s *Stream) {
	var cause error
	switch {
	case c.sm.Closing():
		cause = c.closeError()
	case s.st.Finished():
		cause = ErrStreamClosed
	default:
		if c.watched == nil {
			c.watched = map[*Stream]struct{}{}
		}
		c.watched[s] = struct{}{}
		return
	}
	if sc := s.sctx.Load(); sc != nil {
		sc.cancel(cause)
	}
	s.tellWatcher(cause)
}

// unwatch ends the context of a stream that finished, and tells its
// watcher (driver goroutine).
func (c *Conn) unwatch(s *Stream) {
	if _, ok := c.watched[s]; !ok {
		return
	}
	delete(c.watched, s)
	if sc := s.sctx.Load(); sc != nil {
		sc.cancel(ErrStreamClosed)
	}
	s.tellWatcher(ErrStreamClosed)
}

// endStreamContexts ends the contexts of the streams watched, and tells
// their watchers, with the connection's error, when it closes (driver
// goroutine).
func (c *Conn) endStreamContexts() {
	if len(c.watched) == 0 {
		return
	}
	err := c.closeError()
	for s := range c.watched {
		if sc := s.sctx.Load(); sc != nil {
			sc.cancel(err)
		}
		s.tellWatcher(err)
	}
	c.watched = nil
}

// watchStream has w told when s is over for the peer, as s's context
// would end (quichooks.WatchStream): s.watcher is the driver's once the
// request reaches it.
func watchStream(stream any, w quichooks.StreamWatcher) {
	s := stream.(*Stream)
	c := s.c
	select {
	case <-c.closed:
		w.StreamEnded(c.closeError())
		return
	default:
	}
	// What the driver has seen already is told now, not after a turn of
	// the driver: a watch started late (h3's, when a handler first asks
	// for its request's context) ends as soon as it starts, as a Context
	// made then would.
	if cause := s.peerAborted(); cause != nil {
		w.StreamEnded(cause)
		return
	}
	if !c.ask(driverRequest{stream: s, watcher: w}) {
		w.StreamEnded(c.closeError())
	}
}

// startWatch installs w as s's watcher (driver goroutine).
func (s *Stream) startWatch(w quichooks.StreamWatcher) {
	s.watcher = w
	if cause := s.peerAborted(); cause != nil {
		s.tellWatcher(cause)
		return
	}
	s.c.watch(s)
}

func init() { quichooks.WatchStream = watchStream }
