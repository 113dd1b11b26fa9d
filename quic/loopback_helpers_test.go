package quic

import (
	"bytes"
	"context"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"
)

// loopbackTimeout bounds the tests over real sockets: far above the
// milliseconds each takes, so that a lost datagram fails the test rather
// than hanging it.
const loopbackTimeout = 30 * time.Second

func loopbackContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), loopbackTimeout)
	t.Cleanup(cancel)
	return ctx
}

// goroutineCount is how many goroutines ran when a test started, so that
// it can check that it left none behind.
type goroutineCount int

func countGoroutines() goroutineCount { return goroutineCount(runtime.NumGoroutine()) }

// check waits (up to 10 s: connections closed just before may still be
// sending their last datagram) until no more goroutines run than at the
// start, and fails the test with their stacks otherwise.
func (g goroutineCount) check(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > int(g) {
		if time.Now().After(deadline) {
			var b bytes.Buffer
			pprof.Lookup("goroutine").WriteTo(&b, 1)
			t.Fatalf("%d goroutines left, %d at the start:\n%s", runtime.NumGoroutine(), g, b.String())
		}
		time.Sleep(5 * time.Millisecond) // polling a count, not waiting for an event
	}
}

// acceptAndClose accepts connections on ln and closes each at once, until
// ln closes or ctx ends.
func acceptAndClose(ctx context.Context, ln *Listener) {
	for {
		c, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		c.Close()
	}
}
