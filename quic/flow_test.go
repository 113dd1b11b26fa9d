package quic

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
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

// flowInvariants checks, on c's own goroutine, that no limit was passed:
// what the peer sent is within what we advertised (RFC 9000 §4.1: the
// receiver's view), and what we sent is within the peer's limits (the
// sender's view).
func flowInvariants(c *Conn) error {
	if r, m := c.flow.received, c.flow.recvMax.Load(); r > m {
		return fmt.Errorf("client=%v received %d bytes, MAX_DATA %d", c.isClient, r, m)
	}
	if c.flow.sent > c.flow.sendMax {
		return fmt.Errorf("client=%v sent %d bytes, peer's MAX_DATA %d", c.isClient, c.flow.sent, c.flow.sendMax)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.streams.m {
		s.mu.Lock()
		h, rm, u, sm := s.recv.Highest(), s.recvMax, s.send.Unsent(), s.sendMax
		s.mu.Unlock()
		if s.hasRecv && h > rm {
			return fmt.Errorf("client=%v stream %d: received up to %d, MAX_STREAM_DATA %d", c.isClient, s.id, h, rm)
		}
		if s.hasSend && u > sm {
			return fmt.Errorf("client=%v stream %d: sent up to %d, peer's MAX_STREAM_DATA %d", c.isClient, s.id, u, sm)
		}
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
				if err := flowInvariants(c); err != nil {
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
		client.submit(func(time.Time) { blocked <- [2]uint64{client.flow.blockedAt, client.flow.sendMax} })
		b := <-blocked
		if b[0] == 0 {
			t.Error("the client was never blocked by MAX_DATA")
		}
		t.Logf("%d checks; client last blocked at MAX_DATA %d, now %d; %d packets lost", checks.Load(), b[0], b[1], client.Stats().PacketsLost)
	})
}

// RFC 9000 §4.1: stream data beyond MAX_DATA, summed over streams, is a
// FLOW_CONTROL_ERROR even when each stream stays within its own limit.
func TestFlowControlConnectionLimitExceeded(t *testing.T) {
	cc, sc := cheapConfigs(t)
	sc.InitialConnectionWindow, sc.InitialStreamWindow = 20000, 64<<10
	p := newTestPairWith(t, cc, sc)
	p.handshake()
	p.clientSends(recovery.SpaceAppData, streamFrame(0, 19999, []byte("x"), false), 0)
	if p.server.closing.state != stateOpen {
		t.Fatalf("closed at exactly MAX_DATA: %+v", p.server.closing.frame)
	}
	p.clientSends(recovery.SpaceAppData, streamFrame(4, 0, []byte("y"), false), 0)
	p.expectClose(p.server, wire.FlowControlError, 0, false)
}

// RFC 9000 §4.1, §4.5: data past MAX_STREAM_DATA is a FLOW_CONTROL_ERROR,
// and so is a RESET_STREAM whose final size is past it; data up to the
// limit is fine.
func TestFlowControlStreamLimitExceeded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"stream", streamFrame(0, defaultStreamWindow-1, []byte("xy"), false)},
		{"reset", appendFrame(&wire.ResetStreamFrame{StreamID: 0, ErrorCode: 1, FinalSize: defaultStreamWindow + 1})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := h3specPair(t)
			p.handshake()
			p.clientSends(recovery.SpaceAppData, streamFrame(0, defaultStreamWindow-1, []byte("x"), false), 0)
			if p.server.closing.state != stateOpen {
				t.Fatalf("closed at exactly MAX_STREAM_DATA: %+v", p.server.closing.frame)
			}
			p.clientSends(recovery.SpaceAppData, tc.frame, 0)
			p.expectClose(p.server, wire.FlowControlError, 0, false)
		})
	}
}
