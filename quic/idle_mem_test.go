package quic

import (
	"context"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
)

// TestIdleConnHeap opens idleMemConns connections over loopback, completes
// one request on each (a stream each way closed cleanly, as the side-by-side
// report's idle scenario does), and measures the growth of the live heap
// per connection pair (client end plus server end, both in this process).
// Set SKIFF_IDLE_MEMPROFILE=file to write a heap profile while the
// connections are open, and SKIFF_IDLE_MEMPROFILE_BASE=file for one
// before they were, which pprof -diff_base takes to show what they keep.
func TestIdleConnHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 200 loopback connections")
	}
	if raceEnabled {
		t.Skip("the race detector's shadow allocations distort heap figures")
	}
	const idleMemConns = 200
	// The bound the per-pair figure must stay under (client + server, in
	// bytes), measured once the drivers made their idle trim: about 13.7
	// KB (go1.26, linux/amd64, ECDSA P-256 certificate). From 26-27 KB
	// before the idle trim rested the 1-RTT keys (5.2 KB a pair), dropped
	// the packets that only acknowledged, the drained 1-RTT CRYPTO streams
	// and a server's TLS connection, and before conn.Conn went back to
	// the 2048-byte size class and the driver waited on one channel; 42
	// KB before handshake state, next-generation 1-RTT keys and CRYPTO
	// buffers were released or made lazy. The margin (about 1.5 KB)
	// absorbs allocator noise and the odd retransmission.
	const maxBytesPerPair = 15 << 10

	if os.Getenv("SKIFF_IDLE_MEMPROFILE") != "" || os.Getenv("SKIFF_IDLE_MEMPROFILE_BASE") != "" {
		defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
		runtime.MemProfileRate = 1
	}
	lb := newLoopback(t)
	// Warm up: the first connection allocates the endpoints' pools and
	// buffers, which are not per-connection state.
	warm, warmServer := lb.connect(t)
	idleRequest(t, warm, warmServer)

	heapNow := func() uint64 {
		// Free receive buffers are the endpoints' (up to a megabyte
		// kept for the next burst), not the connections': without them
		// the figure varies by kilobytes per pair from run to run.
		for _, p := range [...]*rxPool{&smallBuffers, &groBuffers} {
			p.mu.Lock()
			p.trimTo(0)
			p.mu.Unlock()
		}
		// So are the send buffers' reserves (sendbuf.go).
		sendBufPool.trim()
		handshakeSendBufPool.trim()
		// A driver that is sending an ACK at that moment holds a send
		// buffer from its pool (64 KiB, 372 KB once a flush filled
		// it): the least of a few readings is the heap the
		// connections keep.
		least := uint64(math.MaxUint64)
		for range 5 {
			runtime.GC()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			least = min(least, ms.HeapAlloc)
			runtime.Gosched()
		}
		return least
	}
	before := heapNow()
	writeHeapProfile(t, os.Getenv("SKIFF_IDLE_MEMPROFILE_BASE"))
	clients := make([]*Conn, idleMemConns)
	servers := make([]*Conn, idleMemConns)
	for i := range clients {
		clients[i], servers[i] = lb.connect(t)
		idleRequest(t, clients[i], servers[i])
	}
	// The connections are idle: each driver trims what an idle
	// connection does not keep once nothing happened for idleAfter (a
	// second). The test asks for that trim at once instead of waiting.
	for i := range clients {
		trimNow(t, clients[i])
		trimNow(t, servers[i])
	}
	after := heapNow()
	writeHeapProfile(t, os.Getenv("SKIFF_IDLE_MEMPROFILE"))
	perPair := (int64(after) - int64(before)) / idleMemConns
	t.Logf("live heap per idle connection pair (client + server): %d bytes", perPair)
	if perPair > maxBytesPerPair {
		t.Errorf("live heap per idle connection pair = %d bytes, want at most %d", perPair, maxBytesPerPair)
	}
	for i := range clients {
		clients[i].CloseWithError(0, "")
		servers[i].CloseWithError(0, "")
	}
	runtime.KeepAlive(warm)
	runtime.KeepAlive(warmServer)
}

// writeHeapProfile writes the heap profile to file, if named.
func writeHeapProfile(t *testing.T, file string) {
	t.Helper()
	if file == "" {
		return
	}
	w, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := pprof.Lookup("heap").WriteTo(w, 0); err != nil {
		t.Fatal(err)
	}
}

// trimNow makes c's driver trim as it does after idleAfter with nothing
// due, and returns once it did.
func trimNow(t testing.TB, c *Conn) {
	t.Helper()
	if !ask(c, func(*conn.Conn) bool { c.trimNow = true; return true }, func() bool { return false }) {
		t.Fatal("connection ended")
	}
	// The trim ends the driver's turn that ran the request above; this
	// one runs in a later turn.
	ask(c, func(*conn.Conn) bool { return true }, func() bool { return false })
}

// idleRequest runs one small request on a fresh bidirectional stream: the
// client sends a few bytes and closes, the server answers and closes.
func idleRequest(t testing.TB, client, server *Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Write([]byte("request")); err != nil {
		t.Fatal(err)
	}
	if err := cs.Close(); err != nil {
		t.Fatal(err)
	}
	ss, err := server.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(ss); err != nil || string(got) != "request" {
		t.Fatalf("server read %q, %v", got, err)
	}
	if _, err := ss.Write([]byte("response")); err != nil {
		t.Fatal(err)
	}
	if err := ss.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(cs); err != nil || string(got) != "response" {
		t.Fatalf("client read %q, %v", got, err)
	}
}
