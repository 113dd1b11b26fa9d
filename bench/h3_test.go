package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiffnet/skiff/h3"
	"github.com/skiffnet/skiff/tls13"
)

// h3InFlight is how many requests are outstanding at any time.
const h3InFlight = 100

// h3Request is the body of every request.
var h3Request = bytes.Repeat([]byte("u"), 1<<10)

// BenchmarkH3Requests measures HTTP/3 requests (1 KiB up, 4 KiB down, 100
// in flight) over one connection and over 100 connections (one request in
// flight on each).
func BenchmarkH3Requests(b *testing.B) {
	b.Run("conns=1", func(b *testing.B) { benchRequests(b, 1) })
	b.Run("conns=100", func(b *testing.B) { benchRequests(b, 100) })
}

func benchRequests(b *testing.B, conns int) {
	p := getPeer(b)
	p.settle(b)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	// One Transport per connection: a Transport keeps one connection per
	// origin.
	trs := make([]*h3.Transport, conns)
	for i := range trs {
		trs[i] = newTransport(b, p)
		if err := request(ctx, trs[i], p.h3URL); err != nil { // dial outside the measurement
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.SetBytes(int64(len(h3Request) + len(h3Response)))
	used := p.startUsage(b)
	b.ResetTimer()
	start := time.Now()
	for i := range h3InFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := request(ctx, trs[i%conns], p.h3URL); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cl, sv := used()
	reportPerOp(b, "req/s", elapsed, cl, sv)
}

// newTransport is an HTTP/3 client of the peer, closed when tb ends. The
// peer serves only HTTP/3: no TCP first, no discovery.
func newTransport(tb testing.TB, p *peer) *h3.Transport {
	tr := &h3.Transport{Mode: h3.ModeHTTP3Only, TLSClientConfig: &tls13.Config{RootCAs: p.roots}}
	tb.Cleanup(tr.CloseIdleConnections)
	return tr
}

// request POSTs h3Request to url and reads the whole response.
func request(ctx context.Context, tr *h3.Transport, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(h3Request))
	if err != nil {
		return err
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && (resp.StatusCode != http.StatusOK || n != int64(len(h3Response))) {
		err = fmt.Errorf("response: status %d, %d bytes", resp.StatusCode, n)
	}
	return err
}
