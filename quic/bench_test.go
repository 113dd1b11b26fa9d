package quic

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/udpio"
)

// Benchmarks of whole connections over real loopback UDP in one process:
// bulk transfer in each direction, handshakes, and heap allocations per
// packet. Both ends run here, so CPU and allocations are those of both
// sides together; the side-by-side comparison with other stacks, one side
// per process, is interop/cmd/benchreport.

// loopback is a server listener and a client endpoint on 127.0.0.1.
type loopback struct {
	ln     *Listener
	client *Endpoint
	cc, sc *Config
	// Send calls and the datagrams they carried, per side (0: client,
	// 1: server): the GSO burst size.
	writes, datagrams [2]atomic.Uint64
}

// countingSocket counts the system calls that send (a WriteBatch) and
// the datagrams they carry.
type countingSocket struct {
	packetConn
	writes, datagrams *atomic.Uint64
}

func (s countingSocket) WriteBatch(msgs []udpio.Message) (int, error) {
	s.writes.Add(1)
	for i := range msgs {
		n := 1
		if seg := msgs[i].SegmentSize; seg > 0 {
			n = (msgs[i].N + seg - 1) / seg
		}
		s.datagrams.Add(uint64(n))
	}
	return s.packetConn.WriteBatch(msgs)
}

func newLoopback(tb testing.TB) *loopback {
	tb.Helper()
	cc, sc := testConfigs(tb)
	return newLoopbackWith(tb, cc, sc)
}

func newLoopbackWith(tb testing.TB, cc, sc *Config) *loopback {
	tb.Helper()
	lb := &loopback{cc: cc, sc: sc}
	ssock, err := udpio.Listen("udp", netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	csock, err := udpio.Listen("udp", netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{})
	if err != nil {
		ssock.Close()
		tb.Fatal(err)
	}
	lb.ln = &Listener{e: newEndpoint(countingSocket{ssock, &lb.writes[1], &lb.datagrams[1]}, sc)}
	lb.client = newEndpoint(countingSocket{csock, &lb.writes[0], &lb.datagrams[0]}, nil)
	tb.Cleanup(func() {
		lb.client.Close()
		lb.ln.Close()
	})
	return lb
}

// connect dials the listener and returns both ends.
func (lb *loopback) connect(tb testing.TB) (client, server *Conn) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := lb.client.Dial(ctx, lb.ln.Addr(), lb.cc)
	if err != nil {
		tb.Fatal(err)
	}
	server, err = lb.ln.Accept(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return client, server
}

// benchBytes is SKIFF_BENCH_BYTES when set: a benchmark operation then
// moves that many bytes (use -benchtime=1x), else 0.
func benchBytes(tb testing.TB) int64 {
	s := os.Getenv("SKIFF_BENCH_BYTES")
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		tb.Fatalf("SKIFF_BENCH_BYTES=%q: want a positive integer", s)
	}
	return n
}

// openPair opens a client stream and accepts it on the server; the client
// writes one byte so that the stream reaches the server.
func openPair(tb testing.TB, client, server *Conn) (cs, ss *Stream) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := client.OpenStream(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := cs.Write([]byte{1}); err != nil {
		tb.Fatal(err)
	}
	ss, err = server.AcceptStream(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	var one [1]byte
	if _, err := io.ReadFull(ss, one[:]); err != nil {
		tb.Fatal(err)
	}
	return cs, ss
}

// pump writes n bytes to w in chunks of buf and closes it, while the
// caller drains r; it returns how many bytes r delivered.
func pump(w, r *Stream, n int64, buf []byte) (int64, error) {
	errc := make(chan error, 1)
	go func() {
		for left := n; left > 0; {
			k := min(left, int64(len(buf)))
			if _, err := w.Write(buf[:k]); err != nil {
				errc <- err
				return
			}
			left -= k
		}
		errc <- w.Close()
	}()
	rbuf := make([]byte, 256<<10)
	var got int64
	for {
		k, err := r.Read(rbuf)
		got += int64(k)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return got, err
		}
	}
	return got, <-errc
}

// packets is how many packets a connection sent and received: each packet
// of the connection counted once, from the client's side.
func packets(c *Conn) uint64 {
	s := c.Stats()
	return s.PacketsSent + s.PacketsReceived
}

func BenchmarkLoopbackDownload(b *testing.B) { benchmarkBulk(b, false, 0) }
func BenchmarkLoopbackUpload(b *testing.B)   { benchmarkBulk(b, true, 0) }

// The same with the largest datagrams loopback carries: the largest UDP
// payload over IPv4, which path MTU discovery finds.
func BenchmarkLoopbackDownloadLarge(b *testing.B) { benchmarkBulk(b, false, maxIPv4Datagram) }
func BenchmarkLoopbackUploadLarge(b *testing.B)   { benchmarkBulk(b, true, maxIPv4Datagram) }

// maxIPv4Datagram is the largest UDP payload of an IPv4 datagram.
const maxIPv4Datagram = 65535 - 20 - 8

// benchmarkBulk moves data over one stream of one connection: server to
// client (download) or client to server (upload). Each operation is 1 MiB,
// or SKIFF_BENCH_BYTES. datagram, when not 0, is Config.MaxDatagramSize.
func benchmarkBulk(b *testing.B, upload bool, datagram int) {
	benchmarkBulkWith(b, upload, datagram, congestion.DefaultAlgorithm)
}

// The same with BBR at both ends (issue 19: BBR must not lose throughput
// against CUBIC on loopback).
func BenchmarkLoopbackDownloadBBR(b *testing.B) { benchmarkBulkWith(b, false, 0, congestion.BBR) }
func BenchmarkLoopbackUploadBBR(b *testing.B)   { benchmarkBulkWith(b, true, 0, congestion.BBR) }

// benchmarkBulkWith is benchmarkBulk with the congestion controller alg at
// both ends.
func benchmarkBulkWith(b *testing.B, upload bool, datagram int, alg congestion.Algorithm) {
	cc, sc := testConfigs(b)
	cc.MaxDatagramSize, sc.MaxDatagramSize = datagram, datagram
	cc.Congestion, sc.Congestion = alg, alg
	lb := newLoopbackWith(b, cc, sc)
	client, server := lb.connect(b)
	defer client.Close()
	cs, ss := openPair(b, client, server)
	w, r := ss, cs
	if upload {
		w, r = cs, ss
	}
	per := benchBytes(b)
	if per == 0 {
		per = 1 << 20
	}
	total := per * int64(b.N)
	b.SetBytes(per)
	b.ReportAllocs()
	buf := make([]byte, 256<<10)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	p0 := packets(client)
	// The sender's bursts: the server's in a download, the client's in an
	// upload.
	side := 1
	if upload {
		side = 0
	}
	w0, d0 := lb.writes[side].Load(), lb.datagrams[side].Load()
	b.ResetTimer()
	start := time.Now()
	got, err := pump(w, r, total, buf)
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if got != total {
		b.Fatalf("read %d bytes, want %d", got, total)
	}
	runtime.ReadMemStats(&ms1)
	// The driver publishes its counters after each batch: the last batch
	// may be missing, a few packets in thousands.
	p := packets(client) - p0
	b.ReportMetric(float64(total)*8/elapsed.Seconds()/1e9, "Gbit/s")
	if os.Getenv("SKIFF_BENCH_DEBUG") != "" {
		// Windows, RTTs and losses of both ends, for looking into a run.
		b.Logf("client %+v", client.Stats())
		b.Logf("server %+v", server.Stats())
	}
	if p > 0 {
		b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(p), "allocs/pkt")
		b.ReportMetric(float64(p)/float64(b.N), "pkts/op")
	}
	if w := lb.writes[side].Load() - w0; w > 0 {
		b.ReportMetric(float64(lb.datagrams[side].Load()-d0)/float64(w), "dgrams/write")
	}
	if datagram != 0 {
		st := server.Stats()
		if upload {
			st = client.Stats()
		}
		b.ReportMetric(float64(st.BytesSent)/float64(st.DatagramsSent), "B/dgram")
	}
}

// BenchmarkHandshake runs sequential handshakes from one client endpoint
// to one server: each connection closes as soon as it is established.
func BenchmarkHandshake(b *testing.B) {
	lb := newLoopback(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			c, err := lb.ln.Accept(ctx)
			if err != nil {
				return
			}
			_ = c
		}
	}()
	b.ReportAllocs()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		c, err := lb.client.Dial(ctx, lb.ln.Addr(), lb.cc)
		if err != nil {
			b.Fatal(err)
		}
		c.CloseWithError(0, "")
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "handshakes/s")
}

// BenchmarkHandshakeParallel runs handshakes from 32 goroutines at once
// over one client endpoint, as the side-by-side report's parallel figure.
func BenchmarkHandshakeParallel(b *testing.B) {
	lb := newLoopback(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			if _, err := lb.ln.Accept(ctx); err != nil {
				return
			}
		}
	}()
	b.ReportAllocs()
	b.SetParallelism(16) // 32 goroutines on 2 CPUs
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c, err := lb.client.Dial(ctx, lb.ln.Addr(), lb.cc)
			if err != nil {
				b.Error(err)
				return
			}
			c.CloseWithError(0, "")
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "handshakes/s")
}

// maxAllocsPerPacket bounds the heap allocations per packet of a steady
// bulk transfer, both ends together (see TestSteadyStateAllocsPerPacket).
// Measured: 0.001 to 0.003, none of it per packet; the bound leaves room
// for growth a warm-up may not have reached.
const maxAllocsPerPacket = 0.05

// TestSteadyStateAllocsPerPacket moves data over loopback and checks that
// the packet path does not allocate in steady state (DESIGN.md, "The
// packet path"): after a warm-up transfer, the process's heap allocations
// during a second transfer, divided by the packets the connection sent and
// received, stay below maxAllocsPerPacket. What remains is growth, not a
// cost per packet: receive buffers up to the inbox bound, the sent-packet
// ring as the congestion window opens, stream chunks after a garbage
// collection emptied their pool.
func TestSteadyStateAllocsPerPacket(t *testing.T) { steadyStateAllocs(t, congestion.DefaultAlgorithm) }

// TestSteadyStateAllocsPerPacketBBR is the same with BBR, whose per-packet
// state lives in the sent-packet records.
func TestSteadyStateAllocsPerPacketBBR(t *testing.T) { steadyStateAllocs(t, congestion.BBR) }

func steadyStateAllocs(t *testing.T, alg congestion.Algorithm) {
	if testing.Short() {
		t.Skip("moves 192 MiB over loopback")
	}
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	cc, sc := testConfigs(t)
	cc.Congestion, sc.Congestion = alg, alg
	lb := newLoopbackWith(t, cc, sc)
	client, server := lb.connect(t)
	defer client.Close()
	buf := make([]byte, 256<<10)
	for _, upload := range []bool{false, true} {
		cs, ss := openPair(t, client, server)
		w, r := ss, cs
		if upload {
			w, r = cs, ss
		}
		// Warm up: pools, rings, windows and the congestion window grow.
		// The measured phase is long enough that what can still grow
		// after the warm-up (receive buffers up to the inbox bound, the
		// sent-packet ring as the window opens: a few thousand objects
		// at most) stays far below the bound per packet.
		const warm, steady = 32 << 20, 64 << 20
		errc := make(chan error, 1)
		go func() {
			for left := warm + steady; left > 0; left -= len(buf) {
				if _, err := w.Write(buf[:min(left, len(buf))]); err != nil {
					errc <- err
					return
				}
			}
			errc <- w.Close()
		}()
		rbuf := make([]byte, 256<<10)
		var got int
		for got < warm {
			n, err := r.Read(rbuf[:min(len(rbuf), warm-got)])
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		p0 := packets(client)
		for {
			n, err := r.Read(rbuf)
			got += n
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&ms1)
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if got != warm+steady {
			t.Fatalf("read %d bytes, want %d", got, warm+steady)
		}
		p := packets(client) - p0
		if p < 1000 {
			t.Fatalf("only %d packets counted for %d bytes", p, steady)
		}
		perPacket := float64(ms1.Mallocs-ms0.Mallocs) / float64(p)
		t.Logf("upload=%v: %d allocations for %d packets: %.4f per packet", upload, ms1.Mallocs-ms0.Mallocs, p, perPacket)
		if perPacket > maxAllocsPerPacket {
			t.Errorf("upload=%v: %.4f allocations per packet, want at most %v", upload, perPacket, maxAllocsPerPacket)
		}
	}
}
