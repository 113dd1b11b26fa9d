package quic

import (
	"context"
	"time"

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
	s.checkAborted()
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

// checkAborted ends the stream's context, if it has one, when the peer
// reset or stopped the stream.
func (s *Stream) checkAborted() {
	sc := s.sctx.Load()
	if sc == nil {
		return
	}
	if code, ok := s.st.PeerReset(); ok {
		sc.cancel(&StreamError{StreamID: s.ID(), Code: code, Remote: true})
	} else if code, ok := s.st.PeerStopped(); ok {
		sc.cancel(&StreamError{StreamID: s.ID(), Code: code, Remote: true})
	}
}

// watch keeps s's context until the stream finishes or the connection
// ends (driver goroutine).
func (c *Conn) watch(s *Stream) {
	sc := s.sctx.Load()
	switch {
	case c.sm.Closing():
		sc.cancel(c.closeError())
	case s.st.Finished():
		sc.cancel(ErrStreamClosed)
	default:
		if c.watched == nil {
			c.watched = map[*Stream]struct{}{}
		}
		c.watched[s] = struct{}{}
	}
}

// unwatch ends the context of a stream that finished (driver goroutine).
func (c *Conn) unwatch(s *Stream) {
	if _, ok := c.watched[s]; !ok {
		return
	}
	delete(c.watched, s)
	s.sctx.Load().cancel(ErrStreamClosed)
}

// endStreamContexts ends the contexts of the streams watched, with the
// connection's error, when it closes (driver goroutine).
func (c *Conn) endStreamContexts() {
	if len(c.watched) == 0 {
		return
	}
	err := c.closeError()
	for s := range c.watched {
		s.sctx.Load().cancel(err)
	}
	c.watched = nil
}
