package h3

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic"
)

// Issue 15, defect 5: requests whose context is already canceled, or ends
// within a few milliseconds, leave nothing behind once
// CloseIdleConnections has run: no goroutine, no socket, no heap. A
// request canceled before its dial completes cancels the dial, and a dial
// that completes as it is canceled does not enter the pool.
func TestCanceledRequestsLeaveNothing(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, okHandler())
	var canceledDials atomic.Int32
	e.tr.Dial = func(ctx context.Context, addr string, cfg *quic.Config) (*quic.Conn, error) {
		e.dials.Add(1)
		qc, err := quic.Dial(ctx, "udp", addr, cfg)
		if err != nil && ctx.Err() != nil {
			canceledDials.Add(1)
		}
		return qc, err
	}
	base := takeResources()

	// Already canceled: no dial starts.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	for range 200 {
		if _, err := e.do(t, gone, http.MethodGet, "/", nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("request with a canceled context: %v", err)
		}
	}
	// The same when QUIC races TCP.
	e.tr.Mode = ModeRace
	for range 50 {
		if _, err := e.do(t, gone, http.MethodGet, "/", nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("raced request with a canceled context: %v", err)
		}
	}
	e.tr.Mode = ModeHTTP3Only
	if n := e.dials.Load(); n != 0 {
		t.Fatalf("%d dials for requests whose context was canceled before they started", n)
	}

	// Contexts that end within a few milliseconds, five requests at a
	// time sharing a dial, then CloseIdleConnections.
	var done, failed atomic.Int32
	for range 60 {
		var wg sync.WaitGroup
		for i := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rctx, cancel := context.WithTimeout(ctx, time.Duration(i*i+1)*100*time.Microsecond)
				defer cancel()
				resp, err := e.do(t, rctx, http.MethodGet, "/", nil)
				if err != nil {
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("request: %v, want context.DeadlineExceeded", err)
					}
					failed.Add(1)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				done.Add(1)
			}()
		}
		wg.Wait()
		e.tr.CloseIdleConnections()
	}
	e.tr.CloseIdleConnections()
	after := waitResources(t, settleContext(t), base, 2<<20)
	t.Logf("%d requests canceled, %d completed; %d dials, %d of them canceled; start: %v; end: %v",
		failed.Load(), done.Load(), e.dials.Load(), canceledDials.Load(), base, after)
	p := e.tr.connPool()
	p.mu.Lock()
	conns, dialing := len(p.conns), len(p.dialing)
	p.mu.Unlock()
	if conns != 0 || dialing != 0 {
		t.Errorf("pool holds %d connections and %d dials after CloseIdleConnections", conns, dialing)
	}
}

// A dial shared by two requests goes on when one of them is canceled,
// and serves the other.
func TestDialSurvivesOneCancel(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, okHandler())
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	var dialCanceled atomic.Bool
	e.tr.Dial = func(dctx context.Context, addr string, cfg *quic.Config) (*quic.Conn, error) {
		started <- struct{}{}
		select {
		case <-release:
		case <-dctx.Done():
			dialCanceled.Store(true)
			return nil, dctx.Err()
		}
		return quic.Dial(dctx, "udp", addr, cfg)
	}
	first, cancelFirst := context.WithCancel(ctx)
	firstErr := make(chan error, 1)
	go func() {
		_, err := e.do(t, first, http.MethodGet, "/", nil)
		firstErr <- err
	}()
	<-started
	second := make(chan error, 1)
	go func() {
		resp, err := e.do(t, ctx, http.MethodGet, "/", nil)
		if err == nil {
			resp.Body.Close()
		}
		second <- err
	}()
	// Wait until the second request waits on the dial too.
	p := e.tr.connPool()
	waitFor(t, ctx, "two requests waiting on the dial", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, call := range p.dialing {
			return call.waiters == 2
		}
		return false
	})
	cancelFirst()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("first request: %v", err)
	}
	close(release)
	if err := <-second; err != nil {
		t.Fatalf("second request: %v", err)
	}
	if dialCanceled.Load() {
		t.Error("the dial was canceled although a request still waited for it")
	}
}

// The only request waiting for a dial is canceled: the dial is canceled
// too, and a dial that completes regardless is closed, not pooled.
func TestCanceledRequestCancelsItsDial(t *testing.T) {
	ctx := testContext(t)
	e := newTestEnv(t, okHandler())
	base := takeResources()
	for _, completes := range []bool{false, true} {
		started := make(chan struct{})
		dialed := make(chan *quic.Conn, 1)
		canceled := make(chan bool, 1)
		e.tr.Dial = func(dctx context.Context, addr string, cfg *quic.Config) (*quic.Conn, error) {
			close(started)
			<-dctx.Done()
			canceled <- true
			if !completes {
				return nil, dctx.Err()
			}
			// A handshake that completes as the cancel comes.
			qc, err := quic.Dial(ctx, "udp", addr, cfg)
			dialed <- qc
			return qc, err
		}
		rctx, cancel := context.WithCancel(ctx)
		result := make(chan error, 1)
		go func() {
			_, err := e.do(t, rctx, http.MethodGet, "/", nil)
			result <- err
		}()
		<-started
		cancel()
		if err := <-result; !errors.Is(err, context.Canceled) {
			t.Fatalf("request: %v", err)
		}
		select {
		case <-canceled:
		case <-ctx.Done():
			t.Fatal("the dial was not canceled")
		}
		if completes {
			qc := <-dialed
			select {
			case <-qc.Context().Done():
			case <-ctx.Done():
				t.Fatal("a connection nobody waited for was left open")
			}
		}
		p := e.tr.connPool()
		waitFor(t, ctx, "the dial to end", func() bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			return len(p.dialing) == 0
		})
		p.mu.Lock()
		pooled := len(p.conns)
		p.mu.Unlock()
		if pooled != 0 {
			t.Fatalf("%d connections pooled after the only request gave up", pooled)
		}
	}
	waitGoroutines(t, settleContext(t), base)
}
