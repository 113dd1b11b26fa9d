package quic

import (
	"context"
	"encoding/binary"
	"io"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
)

// TestSimConcurrentUpDown: several streams upload and download at once,
// the perf protocol's pattern; every byte arrives.
func TestSimConcurrentUpDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		sn := newSimNet(t, netsim.Impairment{Delay: 5 * time.Millisecond, RateBitsPerSec: 200e6, QueueBytes: 512 << 10}, 3)
		client, server := sn.connect(t, ctx)
		go func() {
			for {
				s, err := server.AcceptStream(ctx)
				if err != nil {
					return
				}
				go func() {
					var hdr [8]byte
					io.ReadFull(s, hdr[:])
					io.Copy(io.Discard, s)
					s.Write(make([]byte, binary.BigEndian.Uint64(hdr[:])))
					s.Close()
				}()
			}
		}()
		const up, down = 3 << 20, 5 << 20
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := client.OpenStream(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				go func() {
					var hdr [8]byte
					binary.BigEndian.PutUint64(hdr[:], down)
					s.Write(hdr[:])
					s.Write(make([]byte, up))
					s.Close()
				}()
				n, err := io.Copy(io.Discard, s)
				if err != nil || n != down {
					t.Errorf("stream %d: %d bytes, %v", s.ID(), n, err)
				}
			}()
		}
		wg.Wait()
	})
}
