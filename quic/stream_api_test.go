package quic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/quic/internal/conn"
)

// simPair connects a client and a server over a clean simulated path
// inside the current synctest bubble.
func simPair(t *testing.T, ctx context.Context, tweak func(client, server *Config)) (*simNet, *Conn, *Conn) {
	t.Helper()
	cc, sc := cheapConfigs(t)
	if tweak != nil {
		tweak(cc, sc)
	}
	sn := newSimNetWith(t, netsim.Impairment{Delay: 5 * time.Millisecond, RateBitsPerSec: 100e6, QueueBytes: 1 << 20}, 9, cc, sc)
	client, server := sn.connect(t, ctx)
	return sn, client, server
}

// 2000 streams opened through a stream limit of 10 (RFC 9000 §4.6): 20
// goroutines each open 100 bidirectional streams in turn and exchange a few
// bytes on each. All succeed; the client was blocked by the limit (its
// STREAMS_BLOCKED went out) and let through by the server's MAX_STREAMS,
// which rose as streams finished.
func TestSimManyStreamsThroughLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		_, client, server := simPair(t, ctx, func(_, sc *Config) { sc.MaxBidiStreams = 10 })
		go func() {
			for {
				s, err := server.AcceptStream(ctx)
				if err != nil {
					return
				}
				go func() {
					b, err := io.ReadAll(s)
					if err != nil {
						s.Reset(1)
						return
					}
					s.Write(append([]byte("re: "), b...))
					s.Close()
				}()
			}
		}()
		const workers, each = 20, 100
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		var mu sync.Mutex
		ids := map[uint64]bool{}
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					s, err := client.OpenStream(ctx)
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					ids[s.ID()] = true
					mu.Unlock()
					msg := fmt.Sprintf("worker %d stream %d", w, i)
					if _, err := s.Write([]byte(msg)); err != nil {
						errs <- err
						return
					}
					s.Close()
					got, err := io.ReadAll(s)
					if err != nil || string(got) != "re: "+msg {
						errs <- fmt.Errorf("stream %d: %q, %v", s.ID(), got, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(ids) != workers*each {
			t.Fatalf("%d distinct stream IDs, want %d", len(ids), workers*each)
		}
		var cl, sl conn.StreamLimits
		inspect(client, func(sm *conn.Conn, _ time.Time) { cl = sm.Limits(false) })
		inspect(server, func(sm *conn.Conn, _ time.Time) { sl = sm.Limits(false) })
		t.Logf("client: %+v; server: %+v", cl, sl)
		if cl.PeerMax < workers*each || sl.LocalMax < workers*each {
			t.Errorf("MAX_STREAMS never reached %d: client sees %d, server sent %d", workers*each, cl.PeerMax, sl.LocalMax)
		}
		if cl.BlockedAt < 10 || cl.BlockedQueued {
			t.Errorf("no STREAMS_BLOCKED was sent (last at %d, still queued %v)", cl.BlockedAt, cl.BlockedQueued)
		}
		if sl.RemoteOpened != workers*each {
			t.Errorf("server saw %d streams opened", sl.RemoteOpened)
		}
		if sl.Live > 10 {
			t.Errorf("server still tracks %d streams", sl.Live)
		}
	})
}

// acceptWith opens a client stream, writes first so the server learns of
// it, and returns both ends.
func acceptWith(t *testing.T, ctx context.Context, client, server *Conn, first string) (*Stream, *Stream) {
	t.Helper()
	cs, err := client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Write([]byte(first)); err != nil {
		t.Fatal(err)
	}
	ss, err := server.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(first))
	if _, err := io.ReadFull(ss, buf); err != nil || string(buf) != first {
		t.Fatalf("read %q, %v", buf, err)
	}
	return cs, ss
}

// RFC 9000 §3.1, §19.4: Reset abandons the sending side; the peer's Read
// fails with a *StreamError carrying the code, and our own Write too.
func TestSimStreamReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, client, server := simPair(t, ctx, nil)
		cs, ss := acceptWith(t, ctx, client, server, "hello")
		if err := cs.Reset(42); err != nil {
			t.Fatal(err)
		}
		var se *StreamError
		if _, err := cs.Write([]byte("more")); !errors.As(err, &se) || se.Code != 42 || se.Remote {
			t.Errorf("Write after Reset: %v", err)
		}
		_, err := io.ReadAll(ss)
		if !errors.As(err, &se) || se.Code != 42 || !se.Remote || se.StreamID != cs.ID() {
			t.Fatalf("peer's Read: %v, want a remote StreamError with code 42", err)
		}
		// The other direction of the stream still works.
		if _, err := ss.Write([]byte("still here")); err != nil {
			t.Fatal(err)
		}
		ss.Close()
		if b, err := io.ReadAll(cs); err != nil || string(b) != "still here" {
			t.Fatalf("read %q, %v", b, err)
		}
	})
}

// RFC 9000 §3.5: CloseRead sends STOP_SENDING; the peer answers with
// RESET_STREAM, and its Write fails with a *StreamError carrying our code.
func TestSimStreamCloseRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, client, server := simPair(t, ctx, nil)
		cs, ss := acceptWith(t, ctx, client, server, "hello")
		if err := ss.CloseRead(7); err != nil {
			t.Fatal(err)
		}
		if _, err := ss.Read(make([]byte, 10)); !errors.Is(err, ErrStreamClosed) {
			t.Errorf("Read after CloseRead: %v", err)
		}
		chunk := make([]byte, 1000)
		var err error
		for range 10000 {
			if _, err = cs.Write(chunk); err != nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
		var se *StreamError
		if !errors.As(err, &se) || se.Code != 7 || !se.Remote {
			t.Fatalf("writer got %v, want a remote StreamError with code 7", err)
		}
	})
}

// Read and write deadlines (net.Conn semantics, synthetic time): a blocked
// call returns os.ErrDeadlineExceeded at the deadline, a past deadline
// fails at once, and clearing it lets the stream work again.
func TestSimStreamDeadlines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, client, server := simPair(t, ctx, nil)
		cs, ss := acceptWith(t, ctx, client, server, "x")

		start := time.Now()
		ss.SetReadDeadline(start.Add(time.Second))
		if _, err := ss.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read: %v", err)
		}
		if el := time.Since(start); el != time.Second {
			t.Errorf("Read returned after %v, want 1s", el)
		}
		if _, err := ss.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Read past the deadline: %v", err)
		}
		ss.SetReadDeadline(time.Time{})
		go cs.Write([]byte("late"))
		buf := make([]byte, 4)
		if _, err := io.ReadFull(ss, buf); err != nil || string(buf) != "late" {
			t.Fatalf("Read after clearing the deadline: %q, %v", buf, err)
		}

		// The server reads nothing more: flow control and the send buffer
		// fill, and Write blocks until its deadline.
		start = time.Now()
		cs.SetWriteDeadline(start.Add(2 * time.Second))
		n, err := cs.Write(make([]byte, 2*conn.MaxSendBuffered))
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Write: %d, %v", n, err)
		}
		if el := time.Since(start); el != 2*time.Second {
			t.Errorf("Write returned after %v, want 2s", el)
		}
		if n <= 0 || n >= 2*conn.MaxSendBuffered {
			t.Errorf("Write wrote %d bytes before its deadline", n)
		}
		// A deadline during a blocked Read wakes it.
		done := make(chan error, 1)
		go func() {
			_, err := cs.Read(make([]byte, 1))
			done <- err
		}()
		time.Sleep(100 * time.Millisecond)
		cs.SetReadDeadline(time.Now())
		if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Read woken by SetReadDeadline: %v", err)
		}
	})
}

// SetContext: a Read or Write waiting for the peer returns ErrContextDone
// when the context ends (synthetic time), buffered data is still read, and
// removing the context lets the stream work again.
func TestSimStreamContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, client, server := simPair(t, ctx, nil)
		cs, ss := acceptWith(t, ctx, client, server, "x")

		rctx, rcancel := context.WithCancel(ctx)
		ss.SetContext(rctx)
		done := make(chan error, 1)
		go func() {
			_, err := ss.Read(make([]byte, 10))
			done <- err
		}()
		time.Sleep(100 * time.Millisecond)
		rcancel()
		if err := <-done; err != ErrContextDone {
			t.Fatalf("Read woken by the context's end: %v", err)
		}
		// Data that arrives is read even with the context ended.
		if _, err := cs.Write([]byte("late")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // delivered
		buf := make([]byte, 4)
		if _, err := io.ReadFull(ss, buf); err != nil || string(buf) != "late" {
			t.Fatalf("Read of buffered data: %q, %v", buf, err)
		}
		ss.SetContext(context.Background())
		go cs.Write([]byte("more"))
		if _, err := io.ReadFull(ss, buf); err != nil || string(buf) != "more" {
			t.Fatalf("Read after removing the context: %q, %v", buf, err)
		}

		// A Write blocked by flow control ends with its context's deadline.
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
		defer wcancel()
		cs.SetContext(wctx)
		start := time.Now()
		n, err := cs.Write(make([]byte, 2*conn.MaxSendBuffered))
		if err != ErrContextDone {
			t.Fatalf("Write: %d, %v", n, err)
		}
		if el := time.Since(start); el != 2*time.Second {
			t.Errorf("Write returned after %v, want 2s", el)
		}
	})
}

// Unidirectional streams both ways (RFC 9000 §2.1): data flows from the
// initiator only; writing to a receive-only stream and reading from a
// send-only one fail.
func TestSimUniStreams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, client, server := simPair(t, ctx, nil)
		for _, dir := range []struct {
			name     string
			from, to *Conn
		}{{"client-to-server", client, server}, {"server-to-client", server, client}} {
			out, err := dir.from.OpenUniStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if (out.ID()&1 == 1) != !dir.from.isClient || out.ID()&2 == 0 {
				t.Errorf("%s: stream ID %d", dir.name, out.ID())
			}
			msg := "data " + dir.name
			if _, err := out.Write([]byte(msg)); err != nil {
				t.Fatal(err)
			}
			out.Close()
			if _, err := out.Read(make([]byte, 1)); !errors.Is(err, ErrStreamClosed) {
				t.Errorf("%s: Read on a send-only stream: %v", dir.name, err)
			}
			in, err := dir.to.AcceptUniStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if in.ID() != out.ID() {
				t.Errorf("%s: accepted stream %d, opened %d", dir.name, in.ID(), out.ID())
			}
			if _, err := in.Write([]byte("back")); !errors.Is(err, ErrStreamClosed) {
				t.Errorf("%s: Write on a receive-only stream: %v", dir.name, err)
			}
			if err := in.Reset(1); !errors.Is(err, ErrStreamClosed) {
				t.Errorf("%s: Reset on a receive-only stream: %v", dir.name, err)
			}
			b, err := io.ReadAll(in)
			if err != nil || string(b) != msg {
				t.Errorf("%s: read %q, %v", dir.name, b, err)
			}
		}
	})
}
