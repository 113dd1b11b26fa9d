package quic

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/quic/internal/conn"
)

// onlyConn returns the one connection of an endpoint.
func onlyConn(e *Endpoint) *Conn {
	e.mu.Lock()
	defer e.mu.Unlock()
	for c := range e.all {
		return c
	}
	return nil
}

// echoHash sends data on a new stream; the peer answers with its SHA-256.
func echoHash(ctx context.Context, client, server *Conn, data []byte) error {
	errc := make(chan error, 1)
	go func() {
		s, err := server.AcceptStream(ctx)
		if err != nil {
			errc <- err
			return
		}
		h := sha256.New()
		if _, err := io.Copy(h, s); err != nil {
			errc <- err
			return
		}
		s.Write(h.Sum(nil))
		errc <- s.Close()
	}()
	s, err := client.OpenStream(ctx)
	if err != nil {
		return err
	}
	go func() {
		s.Write(data)
		s.Close()
	}()
	sum, err := io.ReadAll(s)
	if err != nil {
		return err
	}
	if err := <-errc; err != nil {
		return err
	}
	if want := sha256.Sum256(data); string(sum) != string(want[:]) {
		return errors.New("hash differs")
	}
	return nil
}

// Flow control limits hold at every packet of a lossy transfer through
// small windows (RFC 9000 §4.1, §4.2): three 512 KB uploads at once, with
// tracer hooks checking both endpoints' counters after each packet sent
// and received. The sender was blocked by the limits along the way.
func TestSimFlowControlLimitsNeverExceeded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		cc, sc := cheapConfigs(t)
		for _, c := range []*Config{cc, sc} {
			c.InitialStreamWindow, c.MaxStreamWindow = 8<<10, 16<<10
			c.InitialConnectionWindow, c.MaxConnectionWindow = 12<<10, 24<<10
		}
		var sn *simNet
		var checks atomic.Int64
		var failed atomic.Pointer[error]
		hook := func(e func() *Endpoint) func(string, uint64, int) {
			return func(string, uint64, int) {
				c := onlyConn(e())
				if c == nil {
					return
				}
				checks.Add(1)
				// The hook runs on the connection's driver goroutine.
				if err := c.sm.CheckFlowLimits(); err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		}
		cc.Tracer = func(bool, []byte) *Tracer {
			h := hook(func() *Endpoint { return sn.client })
			return &Tracer{PacketSent: h, PacketReceived: h}
		}
		sc.Tracer = func(bool, []byte) *Tracer {
			h := hook(func() *Endpoint { return sn.server })
			return &Tracer{PacketSent: h, PacketReceived: h}
		}
		imp := netsim.Impairment{Delay: 10 * time.Millisecond, Jitter: 4 * time.Millisecond, Loss: 0.03, RateBitsPerSec: 20e6, QueueBytes: 64 << 10}
		sn = newSimNetWith(t, imp, 5, cc, sc)
		client, server := sn.connect(t, ctx)

		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = echoHash(ctx, client, server, payload(uint64(10+i), 512<<10))
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if p := failed.Load(); p != nil {
			t.Fatal(*p)
		}
		if checks.Load() < 1000 {
			t.Fatalf("only %d checks ran", checks.Load())
		}
		blocked := make(chan [2]uint64, 1)
		inspect(client, func(sm *conn.Conn, _ time.Time) {
			at, max := sm.FlowBlocked()
			blocked <- [2]uint64{at, max}
		})
		b := <-blocked
		if b[0] == 0 {
			t.Error("the client was never blocked by MAX_DATA")
		}
		t.Logf("%d checks; client last blocked at MAX_DATA %d, now %d; %d packets lost", checks.Load(), b[0], b[1], client.Stats().PacketsLost)
	})
}
