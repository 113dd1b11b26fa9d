package quic

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/quic/internal/streambuf"
)

// TestNonReadingClientBoundsServerMemory (issue 15, defect 4): a client
// opens 100 requests and never reads; the server's handler writes 16 MiB
// on each. Each stream's Write takes no more than the client's credit for
// it (its initial stream window: the client reads nothing, so it never
// grows) plus the cushion, and then blocks; the server's stream storage
// and the heap stay within that bound, where they grew to 4 MiB a stream
// before (402 MiB).
func TestNonReadingClientBoundsServerMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		const streams, size = 100, 16 << 20
		cc, sc := cheapConfigs(t)
		imp := netsim.Impairment{Delay: 5 * time.Millisecond, RateBitsPerSec: 1e9, QueueBytes: 4 << 20}
		sn := newSimNetWith(t, imp, 3, cc, sc)
		client, server := sn.connect(t, ctx)
		body := make([]byte, size)
		credit := uint64(512 << 10)   // the client's InitialStreamWindow default
		cushion := uint64(64 << 10)   // SendCushion's default
		perStream := credit + cushion // what each handler's Write may take
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)

		var wg sync.WaitGroup
		var written [streams]atomic.Uint64
		var accepted [streams]*Stream
		wg.Go(func() {
			for i := range streams {
				s, err := server.AcceptStream(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				accepted[i] = s
				wg.Go(func() {
					for off := 0; off < size; off += 64 << 10 {
						n, err := s.Write(body[off : off+64<<10])
						written[i].Add(uint64(n))
						if err != nil {
							return
						}
					}
				})
			}
		})
		for range streams {
			s, err := client.OpenStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Write([]byte("GET")); err != nil {
				t.Fatal(err)
			}
			s.Close()
		}
		// Long enough for everything the client's windows allow to be
		// sent and acknowledged, and every handler to block.
		time.Sleep(10 * time.Second)
		synctest.Wait()

		var total, storage uint64
		for i, s := range accepted {
			if s == nil {
				t.Fatalf("stream %d was not accepted", i)
			}
			w := written[i].Load()
			send, _ := s.st.StreamStorage()
			total += w
			storage += uint64(send)
			if w > perStream {
				t.Errorf("stream %d: Write took %d bytes, beyond the credit %d plus the cushion %d", i, w, credit, cushion)
			}
			if uint64(send) > perStream+2*streambuf.ChunkSize {
				t.Errorf("stream %d holds %d bytes of send storage", i, send)
			}
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
		t.Logf("%d streams × 16 MiB offered to a client that never reads: Writes took %d KiB (%d KiB a stream), send storage %d KiB; heap grew %d KiB (bound %d KiB: credit %d KiB + cushion %d KiB per stream)",
			streams, total>>10, total/streams>>10, storage>>10, grew>>10, streams*perStream>>10, credit>>10, cushion>>10)
		// The client's receive buffers hold what its connection window let
		// through (768 KiB); the rest of the connections is small.
		if bound := int64(streams*perStream) + 8<<20; grew > bound {
			t.Errorf("heap grew %d bytes, over %d", grew, bound)
		}
		client.CloseWithError(0, "")
		wg.Wait()
		for i := range accepted {
			if w := written[i].Load(); w == size {
				t.Errorf("stream %d: the whole 16 MiB was written", i)
			}
		}
	})
}

// TestOneByteStreamsHoldLittle (issue 15): 100 streams with a byte each,
// unread, cost their stream state and a 256-byte buffer each, not a
// 16 KiB chunk (1.7 MiB for the 100 before).
func TestOneByteStreamsHoldLittle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		const streams = 100
		cc, sc := cheapConfigs(t)
		sn := newSimNetWith(t, netsim.Impairment{Delay: 5 * time.Millisecond}, 3, cc, sc)
		client, server := sn.connect(t, ctx)
		// Idle connections trim what the handshake grew (conn_driver.go).
		time.Sleep(3 * time.Second)
		synctest.Wait()
		runtime.GC()
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)

		var sent, got []*Stream
		for range streams {
			s, err := client.OpenStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Write([]byte{1}); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, s)
		}
		for range streams {
			s, err := server.AcceptStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		}
		// Everything acknowledged, nothing read; idle again.
		time.Sleep(3 * time.Second)
		synctest.Wait()
		var storage int
		for i := range streams {
			send, _ := sent[i].st.StreamStorage()
			_, recv := got[i].st.StreamStorage()
			storage += send + recv
		}
		runtime.GC()
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
		t.Logf("%d one-byte streams, both ends: %d bytes of stream buffers, heap +%d KiB (%d bytes a stream)", streams, storage, grew>>10, grew/streams)
		if storage > streams*256 {
			t.Errorf("%d bytes of stream buffers for %d one-byte streams", storage, streams)
		}
		if grew > 400<<10 {
			t.Errorf("heap grew %d KiB for %d one-byte streams", grew>>10, streams)
		}
		runtime.KeepAlive(sent)
		runtime.KeepAlive(got)
	})
}
