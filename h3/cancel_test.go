package h3

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic"
)

// streamingHandler writes content until the request context ends, and
// reports the write error, then the context's end, on done.
func streamingHandler(done chan<- error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/stream" {
			io.WriteString(w, "ok")
			return
		}
		chunk := make([]byte, 32<<10)
		var err error
		for err == nil {
			_, err = w.Write(chunk)
			w.(http.Flusher).Flush()
		}
		done <- err
		<-r.Context().Done()
		done <- r.Context().Err()
	})
}

func TestCancelMidResponseBody(t *testing.T) {
	ctx := testContext(t)
	done := make(chan error, 2)
	e := newTestEnv(t, streamingHandler(done))
	reqCtx, cancel := context.WithCancel(ctx)
	resp, err := e.do(t, reqCtx, http.MethodGet, "/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, 1<<20); err != nil {
		t.Fatal(err)
	}
	cancel()
	// The body fails with the context's error once canceled.
	_, err = io.Copy(io.Discard, resp.Body)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("body read after cancel: %v, want context.Canceled", err)
	}
	resp.Body.Close()
	checkStopped(t, ctx, done)
	// The connection carries on.
	if code, _ := e.get(t, ctx, "/x"); code != 200 {
		t.Errorf("next request: %d", code)
	}
}

func TestCloseBodyEarly(t *testing.T) {
	ctx := testContext(t)
	done := make(chan error, 2)
	e := newTestEnv(t, streamingHandler(done))
	resp, err := e.do(t, ctx, http.MethodGet, "/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, 64<<10); err != nil {
		t.Fatal(err)
	}
	// Close before EOF: STOP_SENDING with H3_REQUEST_CANCELLED, which
	// makes the handler's writes fail and ends its context.
	resp.Body.Close()
	checkStopped(t, ctx, done)
}

// checkStopped checks that the streaming handler's writes failed with the
// client's STOP_SENDING H3_REQUEST_CANCELLED (RFC 9114 §4.1.1) and that its
// request context then ended.
func checkStopped(t *testing.T, ctx context.Context, done <-chan error) {
	t.Helper()
	for i := range 2 {
		select {
		case err := <-done:
			var se *quic.StreamError
			if i == 0 && (!errors.As(err, &se) || ErrCode(se.Code) != ErrCodeRequestCancelled) {
				t.Errorf("handler's write failed with %v, want STOP_SENDING H3_REQUEST_CANCELLED", err)
			}
			if i == 1 && !errors.Is(err, context.Canceled) {
				t.Errorf("handler context ended with %v", err)
			}
		case <-ctx.Done():
			t.Fatal("handler's request was not stopped")
		}
	}
}

func TestCancelMidRequestBody(t *testing.T) {
	ctx := testContext(t)
	done := make(chan error, 1)
	readErr := make(chan error, 1)
	started := make(chan struct{})
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadFull(r.Body, make([]byte, 1024)); err != nil {
			t.Errorf("handler: first read: %v", err)
		}
		close(started)
		_, err := io.Copy(io.Discard, r.Body)
		readErr <- err
		<-r.Context().Done()
		done <- r.Context().Err()
	}))
	pr, pw := io.Pipe()
	reqCtx, cancel := context.WithCancel(ctx)
	result := make(chan error, 1)
	go func() {
		_, err := e.do(t, reqCtx, http.MethodPost, "/upload", pr)
		result <- err
	}()
	// Write part of the body, then cancel while the upload is going on,
	// once the handler has read some of it.
	if _, err := pw.Write(make([]byte, 256<<10)); err != nil {
		t.Fatal(err)
	}
	<-started
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Errorf("RoundTrip: %v, want context.Canceled", err)
	}
	pw.CloseWithError(errors.New("test over"))
	var se *quic.StreamError
	if err := <-readErr; !errors.As(err, &se) || ErrCode(se.Code) != ErrCodeRequestCancelled {
		t.Errorf("handler's body read failed with %v, want a reset with H3_REQUEST_CANCELLED", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler context ended with %v", err)
		}
	case <-ctx.Done():
		t.Fatal("handler's request context was not canceled")
	}
}

func TestRequestTimeout(t *testing.T) {
	ctx := testContext(t)
	release := make(chan struct{})
	defer close(release)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	// A context that is already past its deadline: no wall-clock wait.
	reqCtx, cancel := context.WithDeadline(ctx, timeZero)
	defer cancel()
	_, err := e.do(t, reqCtx, http.MethodGet, "/slow", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("RoundTrip: %v, want context.DeadlineExceeded", err)
	}
	// Cancel while waiting for the response header.
	reqCtx, cancel = context.WithCancel(ctx)
	result := make(chan error, 1)
	go func() {
		_, err := e.do(t, reqCtx, http.MethodGet, "/slow", nil)
		result <- err
	}()
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Errorf("RoundTrip: %v, want context.Canceled", err)
	}
}

// TestCancelUploadAfterResponse: the server answers at once and reads
// nothing; the client's upload goes on after RoundTrip returned until flow
// control stops it. Canceling the request then, with nobody reading the
// response body, resets the stream: the handler's context ends.
func TestCancelUploadAfterResponse(t *testing.T) {
	ctx := testContext(t)
	done := make(chan error, 1)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		done <- r.Context().Err()
	}))
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		// More than any flow control window: the upload blocks.
		chunk := make([]byte, 64<<10)
		for {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
	}()
	reqCtx, cancel := context.WithCancel(ctx)
	resp, err := e.do(t, reqCtx, http.MethodPost, "/upload", pr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cancel()
	// Far above the milliseconds it takes, and below the idle timeout
	// that would end the request anyway.
	wait, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler context ended with %v", err)
		}
	case <-wait.Done():
		t.Fatal("handler's request context was not canceled")
	}
}
