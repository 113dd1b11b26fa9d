package h3

import (
	"context"
	"sync"
	"time"

	"github.com/skiffnet/skiff/internal/quichooks"
)

// requestContext is the context of a request on the server (Request.Context),
// part of the request's serverRequest. The context.WithCancelCause it stands
// for is made only when something asks for it: a handler that never looks at
// its request's context, as many do not, spares the request the two
// allocations of one (its state and its cancel function), and the
// connection's goroutine the watching of its stream
// (quichooks.WatchStream), which only ends the context. An end that comes
// before (the handler returned, the response failed) is kept and applied
// when it is made; the client's reset or STOP_SENDING, or the
// connection's end, from before then are seen when the watch starts.
//
// It forwards every method to that context, Value included, so that the
// context package sees through it: context.Cause reports the cause given
// to end, and a context derived from it (context.WithCancel,
// context.AfterFunc) attaches to the inner one as to any cancelable
// context, without a goroutine.
type requestContext struct {
	sr     *serverRequest // its request: the stream to watch, the watcher
	mu     sync.Mutex
	inner  context.Context // nil until asked for
	cancel context.CancelCauseFunc
	// ended is end's cause when it came before inner was made
	// (context.Canceled for none, which is what the inner context's
	// cancel makes of none), nil before the end.
	ended error
}

// context returns the inner context, made at the first call, which
// starts the watch of the request's stream unless the request ended.
func (c *requestContext) context() context.Context {
	c.mu.Lock()
	if c.inner != nil {
		c.mu.Unlock()
		return c.inner
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	c.inner, c.cancel = ctx, cancel
	ended := c.ended
	c.ended = nil
	c.mu.Unlock()
	if ended != nil {
		cancel(ended)
		return ctx
	}
	// Outside mu: the watch may end the context (end) at once.
	quichooks.WatchStream(c.sr.mr.str, c.sr)
	return ctx
}

// end ends the context with cause (nil: context.Canceled), as the
// CancelCauseFunc of context.WithCancelCause does; later calls do nothing.
// It does not block: the connection's goroutine calls it
// (serverRequest.StreamEnded).
func (c *requestContext) end(cause error) {
	c.mu.Lock()
	if c.inner != nil {
		cancel := c.cancel
		c.mu.Unlock()
		cancel(cause)
		return
	}
	if c.ended == nil {
		if cause == nil {
			cause = context.Canceled
		}
		c.ended = cause
	}
	c.mu.Unlock()
}

// Deadline reports none: the inner context, made from
// context.Background, has none.
func (c *requestContext) Deadline() (time.Time, bool) { return time.Time{}, false }

func (c *requestContext) Done() <-chan struct{} { return c.context().Done() }
func (c *requestContext) Err() error            { return c.context().Err() }
func (c *requestContext) Value(key any) any     { return c.context().Value(key) }

// String names the context, as the context package's own do.
func (c *requestContext) String() string { return "h3.requestContext" }
