package quic

import (
	"context"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Scale benchmarks over loopback: many streams on one connection, many
// idle connections on one server. Run them with a fixed count, which is
// the number of streams or connections:
//
//	go test -run '^$' -bench 'OpenStreams|IdleConns' -benchtime 10000x ./quic

// liveHeap is the live heap after two collections.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkOpenStreams opens b.N streams on one connection, writes 1 KiB on
// each and leaves them open, the server reading every one (a goroutine per
// stream, as an HTTP/3 server does: a server that reads them one after the
// other, while the client's data for all of them fills the connection's
// flow-control window, would wait forever). It reports the
// time per stream, the live heap per open stream (both ends), and the rate
// of a 32 MiB transfer on one more stream while they all stay open: the
// send schedule costs the same per stream visited whatever their number.
func BenchmarkOpenStreams(b *testing.B) {
	cc, sc := testConfigs(b)
	sc.MaxBidiStreams = int64(b.N + 1)
	lb := newLoopbackWith(b, cc, sc)
	client, server := lb.connect(b)
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	var wg sync.WaitGroup
	errc := make(chan error, 1)
	wg.Add(b.N)
	go func() {
		for range b.N {
			s, err := server.AcceptStream(ctx)
			if err != nil {
				errc <- err
				return
			}
			go func() {
				defer wg.Done()
				if _, err := io.ReadFull(s, make([]byte, 1024)); err != nil {
					select {
					case errc <- err:
					default:
					}
				}
			}()
		}
	}()
	before := liveHeap()
	msg := make([]byte, 1024)
	streams := make([]*Stream, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s, err := client.OpenStream(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Write(msg); err != nil {
			b.Fatal(err)
		}
		streams = append(streams, s)
	}
	wg.Wait()
	b.StopTimer()
	select {
	case err := <-errc:
		b.Fatal(err)
	default:
	}
	b.ReportMetric(float64(int64(liveHeap())-int64(before))/float64(b.N), "heap-B/stream")

	const bulk = 32 << 20
	cs, ss := openPair(b, client, server)
	start := time.Now()
	got, err := pump(cs, ss, bulk, make([]byte, 256<<10))
	if err != nil || got != bulk {
		b.Fatalf("bulk transfer: %d bytes, %v", got, err)
	}
	b.ReportMetric(bulk*8/time.Since(start).Seconds()/1e9, "bulk-Gbit/s")
	runtime.KeepAlive(streams)
}

// BenchmarkIdleConns opens b.N connections from one client endpoint to one
// server, runs one small request on each and leaves them idle (each
// driver's idle trim, asked for at once). It reports the handshake rate and
// the live heap and goroutines per connection pair (client end plus server
// end, both in this process).
func BenchmarkIdleConns(b *testing.B) {
	lb := newLoopback(b)
	warm, warmServer := lb.connect(b)
	idleRequest(b, warm, warmServer)
	g0 := runtime.NumGoroutine()
	before := liveHeap()
	clients := make([]*Conn, b.N)
	servers := make([]*Conn, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		clients[i], servers[i] = lb.connect(b)
		idleRequest(b, clients[i], servers[i])
	}
	elapsed := time.Since(start)
	b.StopTimer()
	for i := range b.N {
		trimNow(b, clients[i])
		trimNow(b, servers[i])
	}
	after := liveHeap()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "conns/s")
	b.ReportMetric(float64(int64(after)-int64(before))/float64(b.N), "heap-B/pair")
	b.ReportMetric(float64(runtime.NumGoroutine()-g0)/float64(b.N), "goroutines/pair")
	for i := range b.N {
		clients[i].CloseWithError(0, "")
		servers[i].CloseWithError(0, "")
	}
	runtime.KeepAlive(warm)
	runtime.KeepAlive(warmServer)
}

// With Config.MaxDatagramSize, path MTU discovery finds that loopback
// carries the largest UDP payload, and a transfer uses datagrams that
// large, both ways, the data intact.
func TestLargeDatagramsLoopback(t *testing.T) {
	cc, sc := testConfigs(t)
	cc.MaxDatagramSize, sc.MaxDatagramSize = maxIPv4Datagram, maxIPv4Datagram
	lb := newLoopbackWith(t, cc, sc)
	if !lb.client.gro {
		t.Skip("the socket has no GRO: it takes 1500-byte datagrams")
	}
	client, server := lb.connect(t)
	defer client.Close()
	for _, upload := range []bool{false, true} {
		cs, ss := openPair(t, client, server)
		w, r := ss, cs
		sender := server
		if upload {
			w, r, sender = cs, ss, client
		}
		before := sender.Stats()
		const n = 16 << 20
		if got, err := pump(w, r, n, make([]byte, 256<<10)); err != nil || got != n {
			t.Fatalf("upload=%v: %d bytes, %v", upload, got, err)
		}
		st := sender.Stats()
		perDatagram := (st.BytesSent - before.BytesSent) / (st.DatagramsSent - before.DatagramsSent)
		t.Logf("upload=%v: %d bytes per datagram", upload, perDatagram)
		if perDatagram < 8000 {
			t.Errorf("upload=%v: %d bytes per datagram: the large size was not used", upload, perDatagram)
		}
	}
}
