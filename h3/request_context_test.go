package h3

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

// The server request's context behaves as the context.WithCancelCause it
// stands for when it ended before anything asked for it: Err,
// context.Cause, and contexts derived from it.
func TestRequestContext(t *testing.T) {
	cause := errors.New("stream reset")

	t.Run("ended before use", func(t *testing.T) {
		var c requestContext
		c.end(cause)
		c.end(errors.New("later")) // ignored, as a CancelCauseFunc's
		if c.inner != nil {
			t.Fatal("end made the inner context")
		}
		if err := c.Err(); err != context.Canceled {
			t.Errorf("Err = %v, want context.Canceled", err)
		}
		if got := context.Cause(&c); got != cause {
			t.Errorf("Cause = %v, want %v", got, cause)
		}
		child, stop := context.WithCancel(&c)
		defer stop()
		if context.Cause(child) != cause {
			t.Errorf("a context derived after the end: Cause %v", context.Cause(child))
		}
	})

	t.Run("never used", func(t *testing.T) {
		var c requestContext
		c.end(nil)
		if c.inner != nil {
			t.Fatal("the inner context was made")
		}
		if context.Cause(&c) != context.Canceled {
			t.Errorf("Cause = %v, want context.Canceled", context.Cause(&c))
		}
	})
}

// A handler that asked for its request's context, and derived one from it,
// sees both end when the client resets the stream, with the client's
// H3_REQUEST_CANCELLED as their cause: the stream is watched from when the
// context is made. The derived context ends within the end of the
// request's (attached to it, not watching it from a goroutine).
func TestRequestContextClientReset(t *testing.T) {
	ctx := testContext(t)
	ready := make(chan struct{})
	type result struct {
		cause, childCause    error
		childEndedWithParent bool
	}
	results := make(chan result, 1)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/wait" {
			return
		}
		child, stop := context.WithCancel(r.Context())
		defer stop()
		close(ready)
		select {
		case <-r.Context().Done():
		case <-ctx.Done(): // the test's deadline: reported below
		}
		results <- result{context.Cause(r.Context()), context.Cause(child), child.Err() != nil}
	}))
	reqCtx, cancel := context.WithCancel(ctx)
	go func() {
		<-ready
		cancel()
	}()
	if _, err := e.do(t, reqCtx, http.MethodGet, "/wait", nil); err == nil {
		t.Fatal("request canceled by its context succeeded")
	}
	res := <-results
	var se *StreamError
	if !errors.As(res.cause, &se) || se.Code != ErrCodeRequestCancelled || !se.Remote {
		t.Errorf("request context's cause %v, want the client's H3_REQUEST_CANCELLED", res.cause)
	}
	if !res.childEndedWithParent || res.childCause != res.cause {
		t.Errorf("derived context: ended %v, cause %v; want ended with the request's, cause %v", res.childEndedWithParent, res.childCause, res.cause)
	}
	// The connection carries on.
	if code, _ := e.get(t, ctx, "/x"); code != http.StatusOK {
		t.Errorf("next request: %d", code)
	}
}
