package h3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
)

// TestShutdownUnderLoad: Shutdown while 100 requests are in the handlers
// and 50 more wait for stream credit. The server's GOAWAY names the first
// stream it did not accept; the 100 finish, the 50 fail with an error
// that says they can be retried (the client's attempt to redial is
// refused by the test), and Shutdown returns once the client closed the
// connection.
func TestShutdownUnderLoad(t *testing.T) {
	ctx := testContext(t)
	const inHandlers, waiting = 100, 50 // 100: the server's stream limit
	var entered atomic.Int32
	allIn := make(chan struct{})
	release := make(chan struct{})
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if entered.Add(1) == inHandlers {
			close(allIn)
		}
		<-release
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("handler: %v", err)
		}
		w.Write(bytes.Repeat([]byte("r"), 10000))
		w.Write(body)
	}))
	errRedial := errors.New("test: no second connection")
	e.redial = func() error { return errRedial }

	var completed, retryable atomic.Int32
	// Every request has its connection before the shutdown begins.
	var gotConn atomic.Int32
	allGotConn := make(chan struct{})
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) {
		if gotConn.Add(1) == inHandlers+waiting {
			close(allGotConn)
		}
	}}
	reqCtx := httptrace.WithClientTrace(ctx, trace)
	var wg sync.WaitGroup
	for i := range inHandlers + waiting {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var resp *http.Response
			var err error
			if i%2 == 0 {
				resp, err = e.do(t, reqCtx, http.MethodGet, "/", nil)
			} else {
				// bytes.Reader bodies have GetBody: replayable.
				resp, err = e.do(t, reqCtx, http.MethodPost, "/", bytes.NewReader([]byte(fmt.Sprint(i))))
			}
			if err != nil {
				if !errors.Is(err, ErrRetryable) {
					t.Errorf("request %d failed with a non-retryable error: %v", i, err)
				}
				var re interface{ Retryable() bool }
				if !errors.As(err, &re) || !re.Retryable() {
					t.Errorf("request %d: error has no Retryable() true: %v", i, err)
				}
				retryable.Add(1)
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || len(b) < 10000 {
				t.Errorf("request %d: body of %d bytes, %v", i, len(b), err)
				return
			}
			completed.Add(1)
		}()
	}
	for _, ch := range []chan struct{}{allIn, allGotConn} {
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatal("requests not under way")
		}
	}
	cc := e.onlyConn(t)
	shutdown := make(chan error, 1)
	go func() { shutdown <- e.srv.Shutdown(ctx) }()
	select {
	case <-cc.goAwayReceived:
	case <-ctx.Done():
		t.Fatal("no GOAWAY")
	}
	cc.mu.Lock()
	id := cc.goAwayID
	cc.mu.Unlock()
	if id != 4*inHandlers {
		t.Errorf("GOAWAY stream ID %d, want %d", id, 4*inHandlers)
	}
	close(release)
	wg.Wait()
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	t.Logf("%d completed, %d refused as retryable", completed.Load(), retryable.Load())
	if completed.Load() != inHandlers || retryable.Load() != waiting {
		t.Errorf("%d completed and %d retryable, want %d and %d", completed.Load(), retryable.Load(), inHandlers, waiting)
	}
}

// TestGoAwayRetryOnNewConnection: after a GOAWAY, requests go to a new
// connection, and rejected ones are replayed there.
func TestGoAwayNewConnection(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, okHandler())
	if code, _ := e.get(t, ctx, "/"); code != 200 {
		t.Fatal(code)
	}
	cc := e.onlyConn(t)
	// The server starts a graceful shutdown of this one connection.
	e.srv.mu.Lock()
	var sc *serverConn
	for c := range e.srv.conns {
		sc = c
	}
	e.srv.mu.Unlock()
	sc.goAway()
	<-cc.goAwayReceived
	if code, body := e.get(t, ctx, "/"); code != 200 || body != "ok" {
		t.Fatalf("after GOAWAY: %d %q", code, body)
	}
	if d := e.dials.Load(); d != 2 {
		t.Errorf("%d dials, want 2", d)
	}
	// The old connection, idle, was closed by the client.
	select {
	case <-cc.qc.Context().Done():
	case <-ctx.Done():
		t.Error("old connection still open")
	}
}

// TestClosingConnectionNotReused: a connection that is closing (here
// closed locally; its context ends only after the draining period) is not
// used for the next request, which goes to a new connection at once.
func TestClosingConnectionNotReused(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, okHandler())
	if code, _ := e.get(t, ctx, "/"); code != 200 {
		t.Fatal(code)
	}
	cc := e.onlyConn(t)
	cc.qc.CloseWithError(uint64(ErrCodeNoError), "test")
	if code, body := e.get(t, ctx, "/"); code != 200 || body != "ok" {
		t.Errorf("after the close: %d %q", code, body)
	}
	if d := e.dials.Load(); d != 2 {
		t.Errorf("%d dials, want 2", d)
	}
}
