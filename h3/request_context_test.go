package h3

import (
	"context"
	"errors"
	"testing"
)

// The server request's context behaves as the context.WithCancelCause it
// stands for, whether it is first used before or after it ends: Err,
// context.Cause, and contexts derived from it, which are ended at once by
// its end (attached to it, not watching it from a goroutine).
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

	t.Run("used then ended", func(t *testing.T) {
		var c requestContext
		if _, ok := c.Deadline(); ok {
			t.Error("a deadline")
		}
		if c.Err() != nil {
			t.Fatal("ended before end")
		}
		child, stop := context.WithCancel(&c)
		defer stop()
		ran := make(chan struct{})
		context.AfterFunc(&c, func() { close(ran) })
		c.end(cause)
		// Attached children end within end itself.
		if child.Err() == nil {
			t.Fatal("a derived context did not end with the request's")
		}
		if got := context.Cause(child); got != cause {
			t.Errorf("derived context's Cause = %v, want %v", got, cause)
		}
		<-ran
		if got := context.Cause(&c); got != cause {
			t.Errorf("Cause = %v, want %v", got, cause)
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
