package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic"
)

// idleDialers is how many goroutines open the idle connections.
const idleDialers = 32

// BenchmarkIdleConns opens n connections from one client endpoint to the
// peer, runs one small request on each, and measures what they keep while
// idle: live heap and goroutines per connection on each side.
func BenchmarkIdleConns(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) { benchIdle(b, n) })
	}
}

// idleSettle is how long the connections stay idle before the heaps are
// read: the driver's idle trim (a second in package quic) with a margin.
const idleSettle = 2 * time.Second

func benchIdle(b *testing.B, n int) {
	p := getPeer(b)
	ep, conf := newClient(b), p.clientConfig()
	base := runtime.NumGoroutine()
	// The endpoints' buffers and pools, and the runtime's, are not
	// per-connection state: a first burst of connections, opened as the
	// measured ones are, grows them to what such a burst needs, so that
	// the first iteration does not count them.
	for _, c := range openIdle(b, ep, p.quicAddr, conf, 4*idleDialers) {
		c.Close()
	}
	var clientHeap, serverHeap, clientG, serverG float64
	for range b.N {
		b.StopTimer()
		h0 := p.settledHeaps(b, base)
		b.StartTimer()
		conns := openIdle(b, ep, p.quicAddr, conf, n)
		b.StopTimer()
		// Idle means idle: a connection's driver trims what the
		// handshake and the request grew, and rests its keys, once
		// nothing was due and nothing arrived for a second.
		time.Sleep(idleSettle)
		h1 := p.heaps(b)
		clientHeap += float64(h1.client-h0.client) / float64(n)
		serverHeap += float64(h1.server-h0.server) / float64(n)
		clientG += float64(h1.clientG-h0.clientG) / float64(n)
		serverG += float64(h1.serverG-h0.serverG) / float64(n)
		for _, c := range conns {
			c.Close()
		}
		b.StartTimer()
	}
	iters := float64(b.N)
	b.ReportMetric(clientHeap/iters, "client-B/conn")
	b.ReportMetric(serverHeap/iters, "server-B/conn")
	b.ReportMetric(clientG/iters, "client-goroutines/conn")
	b.ReportMetric(serverG/iters, "server-goroutines/conn")
}

// openIdle opens n connections to addr, each with one finished request.
func openIdle(b *testing.B, ep *quic.Endpoint, addr netip.AddrPort, conf *quic.Config, n int) []*quic.Conn {
	conns := make([]*quic.Conn, n)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range idleDialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				c, err := ep.Dial(ctx, addr, conf)
				if err == nil {
					conns[i] = c
					err = echo(c, []byte("request"))
				}
				if err != nil {
					b.Error(err)
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		b.FailNow()
	}
	return conns
}

// echo runs one request on a new stream of c: msg there and back.
func echo(c *quic.Conn, msg []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	s, err := c.OpenStream(ctx)
	if err != nil {
		return err
	}
	if err := writeEcho(s, msg); err != nil {
		return err
	}
	return readEcho(s, msg)
}

// writeEcho asks the peer to echo msg on s.
func writeEcho(s *quic.Stream, msg []byte) error {
	if _, err := s.Write(append([]byte{opEcho}, msg...)); err != nil {
		return err
	}
	return s.Close()
}

// readEcho reads the peer's answer on s and checks it is msg.
func readEcho(s *quic.Stream, msg []byte) error {
	got, err := io.ReadAll(s)
	if err == nil && !bytes.Equal(got, msg) {
		err = fmt.Errorf("stream %d: echo of %d bytes, want %d", s.ID(), len(got), len(msg))
	}
	return err
}

// BenchmarkManyStreams opens manyStreams streams on one connection, writes
// 32 bytes on each and closes it, then reads the peer's echo of each: the
// time is for the whole operation, the heap figures are taken when all the
// streams are open and written.
func BenchmarkManyStreams(b *testing.B) {
	p := getPeer(b)
	ep, conf := newClient(b), p.clientConfig()
	base := runtime.NumGoroutine()
	dial(b, ep, p.manyAddr, conf).Close()
	msg := bytes.Repeat([]byte("s"), 31) // and the operation byte
	var clientHeap, serverHeap float64
	streams := make([]*quic.Stream, manyStreams)
	for range b.N {
		b.StopTimer()
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		h0 := p.settledHeaps(b, base)
		c := dial(b, ep, p.manyAddr, conf)
		b.StartTimer()
		for i := range streams {
			s, err := c.OpenStream(ctx)
			if err != nil {
				b.Fatalf("opening stream %d: %v", i, err)
			}
			if err := writeEcho(s, msg); err != nil {
				b.Fatal(err)
			}
			streams[i] = s
		}
		b.StopTimer()
		h1 := p.heaps(b)
		clientHeap += float64(h1.client-h0.client) / manyStreams
		serverHeap += float64(h1.server-h0.server) / manyStreams
		b.StartTimer()
		for _, s := range streams {
			if err := readEcho(s, msg); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		c.Close()
		cancel()
		b.StartTimer()
	}
	iters := float64(b.N)
	b.ReportMetric(clientHeap/iters, "client-B/stream")
	b.ReportMetric(serverHeap/iters, "server-B/stream")
}
