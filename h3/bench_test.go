package h3

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkRequests measures requests per second on one connection over
// loopback: 1 KiB request bodies, 4 KiB responses, 100 requests in
// flight.
func BenchmarkRequests(b *testing.B) {
	down := bytes.Repeat([]byte("d"), 4<<10)
	e := newTestEnv(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write(down)
	}))
	up := bytes.Repeat([]byte("u"), 1<<10)
	ctx := context.Background()
	do := func() error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/", bytes.NewReader(up))
		resp, err := e.tr.RoundTrip(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return err
	}
	if err := do(); err != nil { // dial outside the measurement
		b.Fatal(err)
	}
	const inFlight = 100
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.SetBytes(int64(len(up) + len(down)))
	st0 := e.last.Load().Stats()
	b.ResetTimer()
	start := time.Now()
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := do(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	// Datagrams each way per request: the packet path's share of the cost.
	st := e.last.Load().Stats()
	b.ReportMetric(float64(st.DatagramsSent-st0.DatagramsSent)/float64(b.N), "up-dgrams/req")
	b.ReportMetric(float64(st.DatagramsReceived-st0.DatagramsReceived)/float64(b.N), "down-dgrams/req")
	b.ReportMetric(float64(st.PacketsSent+st.PacketsReceived-st0.PacketsSent-st0.PacketsReceived)/float64(b.N), "pkts/req")
	if d := e.dials.Load(); d != 1 {
		b.Errorf("%d connections", d)
	}
}
