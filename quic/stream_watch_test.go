package quic

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/internal/quichooks"
	"github.com/skiffnet/skiff/quic/internal/conn"
)

// testWatcher records what a stream watcher is told.
type testWatcher struct {
	mu     sync.Mutex
	causes []error
}

func (w *testWatcher) StreamEnded(cause error) {
	w.mu.Lock()
	w.causes = append(w.causes, cause)
	w.mu.Unlock()
}

// told returns the causes the watcher was told, after the connections'
// goroutines settled.
func (w *testWatcher) told() []error {
	synctest.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]error(nil), w.causes...)
}

// A stream watcher (quichooks.WatchStream) is told, once, what ends the
// stream's context: the peer's RESET_STREAM (also when it came before the
// watch), the end of both directions, the connection's end.
func TestStreamWatcher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		sn := newSimNet(t, netsim.Impairment{Delay: 10 * time.Millisecond}, 1)
		client, server := sn.connect(t, ctx)
		accept := func(reset bool, code uint64) (*Stream, *Stream) {
			cs, err := client.OpenStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cs.Write([]byte("x"))
			ss, err := server.AcceptStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if reset {
				cs.Reset(code)
			}
			return cs, ss
		}
		var se *StreamError

		// Nothing yet.
		_, ss := accept(false, 0)
		var w1 testWatcher
		quichooks.WatchStream(ss, &w1)
		if got := w1.told(); len(got) != 0 {
			t.Fatalf("told %v before anything happened", got)
		}

		// Reset after the watch.
		csR, ssR := accept(false, 0)
		var wR testWatcher
		quichooks.WatchStream(ssR, &wR)
		csR.Reset(0x42)
		time.Sleep(15 * time.Millisecond) // synthetic: the RESET_STREAM arrives
		if got := wR.told(); len(got) != 1 || !errors.As(got[0], &se) || !se.Remote || se.Code != 0x42 {
			t.Errorf("reset after the watch: told %v, want one StreamError 0x42 (remote)", got)
		}

		// Reset before the watch: told at once.
		_, ss2 := accept(true, 0x43)
		time.Sleep(15 * time.Millisecond) // synthetic: the RESET_STREAM arrives
		var w2 testWatcher
		quichooks.WatchStream(ss2, &w2)
		if got := w2.told(); len(got) != 1 || !errors.As(got[0], &se) || !se.Remote || se.Code != 0x43 {
			t.Errorf("reset before the watch: told %v, want one StreamError 0x43 (remote)", got)
		}

		// Both directions finished.
		cs3, ss3 := accept(false, 0)
		var w3 testWatcher
		quichooks.WatchStream(ss3, &w3)
		cs3.Close()
		buf := make([]byte, 8)
		for {
			if _, err := ss3.Read(buf); err != nil {
				break
			}
		}
		ss3.Close()
		for {
			if _, err := cs3.Read(buf); err != nil {
				break
			}
		}
		time.Sleep(50 * time.Millisecond) // synthetic: the acknowledgments
		if got := w3.told(); len(got) != 1 || !errors.Is(got[0], ErrStreamClosed) {
			t.Errorf("finished: told %v, want ErrStreamClosed once", got)
		}
		inspect(server, func(*conn.Conn, time.Time) {
			if _, ok := server.watched[ss3]; ok {
				t.Error("a finished stream is still watched")
			}
		})

		// The connection's end, for the first stream; a watch after it is
		// told at once.
		server.CloseWithError(7, "going away")
		var ae *ApplicationError
		if got := w1.told(); len(got) != 1 || !errors.As(got[0], &ae) || ae.Code != 7 {
			t.Errorf("connection closed: told %v, want the application error 7 once", got)
		}
		if got := wR.told(); len(got) != 1 {
			t.Errorf("reset stream: told %v, want its reset only", got)
		}
		var w4 testWatcher
		quichooks.WatchStream(ss, &w4)
		if got := w4.told(); len(got) != 1 || !errors.As(got[0], &ae) {
			t.Errorf("after the end: told %v, want the connection's error", got)
		}
	})
}
