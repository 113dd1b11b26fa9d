package quic

import (
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/quic/internal/conn"
)

// simStreamPair connects over a simulated 10 ms path and returns a stream
// the client opened (with "request" and FIN written) and the server's end
// of it, read to EOF.
func simStreamPair(t *testing.T, ctx context.Context) (sn *simNet, client, server *Conn, cs, ss *Stream) {
	t.Helper()
	sn = newSimNet(t, netsim.Impairment{Delay: 10 * time.Millisecond}, 1)
	client, server = sn.connect(t, ctx)
	cs, err := client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Write([]byte("request")); err != nil {
		t.Fatal(err)
	}
	cs.Close()
	ss, err = server.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(ss); err != nil || string(b) != "request" {
		t.Fatalf("server read %q, %v", b, err)
	}
	return sn, client, server, cs, ss
}

// ended waits for ctx to end within limit (synthetic time) and returns its
// cause, or fails the test.
func ended(t *testing.T, ctx context.Context, limit time.Duration, what string) error {
	t.Helper()
	if limit == 0 {
		if ctx.Err() == nil {
			t.Fatalf("%s: the stream's context has not ended", what)
		}
		return context.Cause(ctx)
	}
	start := time.Now()
	select {
	case <-ctx.Done():
		t.Logf("%s: the stream's context ended after %v: %v", what, time.Since(start), context.Cause(ctx))
		return context.Cause(ctx)
	case <-time.After(limit):
		t.Fatalf("%s: the stream's context did not end within %v", what, limit)
		return nil
	}
}

// A stream's context ends at the peer's STOP_SENDING, although its FIN
// was read and nobody reads or writes, with the peer's code.
func TestStreamContextStopSendingAfterFIN(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		_, client, _, cs, ss := simStreamPair(t, ctx)
		sctx := ss.Context()
		cs.CloseRead(0x10c)
		// One way is 10 ms; the STOP_SENDING goes at once.
		var se *StreamError
		if err := ended(t, sctx, 15*time.Millisecond, "STOP_SENDING"); !errors.As(err, &se) || !se.Remote || se.Code != 0x10c || se.StreamID != ss.ID() {
			t.Errorf("cause %v, want the peer's StreamError 0x10c", err)
		}
		client.Close()
	})
}

// A stream's context ends at the peer's RESET_STREAM, with its code; the
// context of a stream reset before it was asked for ends at once.
func TestStreamContextReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		sn := newSimNet(t, netsim.Impairment{Delay: 10 * time.Millisecond}, 1)
		client, server := sn.connect(t, ctx)
		cs, err := client.OpenStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cs.Write([]byte("partial"))
		ss, err := server.AcceptStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sctx := ss.Context()
		cs.Reset(0x42)
		var se *StreamError
		if err := ended(t, sctx, 15*time.Millisecond, "RESET_STREAM"); !errors.As(err, &se) || !se.Remote || se.Code != 0x42 {
			t.Errorf("cause %v, want the peer's StreamError 0x42", err)
		}
		// A second stream, reset before anyone asks for its context.
		cs2, _ := client.OpenStream(ctx)
		cs2.Write([]byte("x"))
		ss2, err := server.AcceptStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cs2.Reset(0x43)
		synctest.Wait()
		time.Sleep(15 * time.Millisecond) // synthetic: the RESET_STREAM arrives
		synctest.Wait()
		if err := ended(t, ss2.Context(), 0, "reset before Context"); !errors.As(err, &se) || se.Code != 0x43 {
			t.Errorf("cause %v, want the peer's StreamError 0x43", err)
		}
		client.Close()
	})
}

// A stream's context ends with the connection, with its error; our own
// Close does not end it; a stream whose both directions finished has its
// context ended and is no longer watched.
func TestStreamContextLifetime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		_, client, server, cs, ss := simStreamPair(t, ctx)
		// The client's context: its stream's FIN was sent, the server's
		// not yet.
		cctx := cs.Context()
		sctx := ss.Context()
		ss.Write([]byte("response"))
		ss.Close() // our own Close: the server's context goes on
		if b, err := io.ReadAll(cs); err != nil || string(b) != "response" {
			t.Fatalf("client read %q, %v", b, err)
		}
		if err := ended(t, cctx, 100*time.Millisecond, "finished (client)"); !errors.Is(err, ErrStreamClosed) {
			t.Errorf("client: cause %v, want ErrStreamClosed", err)
		}
		if err := ended(t, sctx, 100*time.Millisecond, "finished (server)"); !errors.Is(err, ErrStreamClosed) {
			t.Errorf("server: cause %v, want ErrStreamClosed", err)
		}
		for _, c := range []*Conn{client, server} {
			inspect(c, func(*conn.Conn, time.Time) {
				if len(c.watched) != 0 {
					t.Errorf("%d finished streams still watched", len(c.watched))
				}
			})
		}

		// A stream open when the connection ends.
		open, err := client.OpenStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		octx := open.Context()
		later, err := client.OpenStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		server.CloseWithError(7, "going away")
		var ae *ApplicationError
		if err := ended(t, octx, 15*time.Millisecond, "connection closed"); !errors.As(err, &ae) || ae.Code != 7 || !ae.Remote {
			t.Errorf("cause %v, want the server's application error 7", err)
		}
		// A context asked for after the end has ended.
		if err := ended(t, later.Context(), 0, "after the end"); !errors.As(err, &ae) {
			t.Errorf("cause %v, want the connection's error", err)
		}
	})
}
