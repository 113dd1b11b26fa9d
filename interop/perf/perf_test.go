package perf

import (
	"context"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// setup starts a perf server for tr on loopback and returns a connected
// client connection and a channel of the SHA-256 of each upload the server
// received.
func setup(t *testing.T, ctx context.Context, tr Transport) (Conn, <-chan [32]byte) {
	t.Helper()
	cred, err := NewCredentials(net.IPv4(127, 0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tr.Listen("127.0.0.1:0", cred)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	sums := make(chan [32]byte, 16)
	srv := &Server{
		VerifyUpload: true,
		HashUpload:   func() io.Writer { return sha256.New() },
		OnStream: func(u Upload) {
			var s [32]byte
			u.Sink.(hash.Hash).Sum(s[:0])
			sums <- s
		},
	}
	sctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	go srv.Serve(sctx, ln)

	d, err := tr.NewDialer(cred)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	c, err := d.Dial(ctx, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, sums
}

// TestExchangeHashes moves data both ways over every transport and checks
// both directions by SHA-256 against independently built payloads.
func TestExchangeHashes(t *testing.T) {
	for _, tr := range Transports() {
		t.Run(tr.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			c, sums := setup(t, ctx, tr)
			for _, r := range []Request{
				{Upload: 0, Download: 0},
				{Upload: 5, Download: 3},
				{Upload: 300<<10 + 17, Download: 0},
				{Upload: 0, Download: 1<<20 + 7},
				{Upload: 70000, Download: 200000},
			} {
				h := sha256.New()
				r.Sink, r.Verify = h, true
				n, err := Do(ctx, c, r)
				if err != nil {
					t.Fatalf("%+v: %v", r, err)
				}
				if uint64(n) != r.Download || [32]byte(h.Sum(nil)) != sha256.Sum256(Pattern(int(r.Download))) {
					t.Errorf("upload %d download %d: got %d bytes or wrong SHA-256", r.Upload, r.Download, n)
				}
				if got := <-sums; got != sha256.Sum256(Pattern(int(r.Upload))) {
					t.Errorf("upload %d: server's SHA-256 of the upload does not match", r.Upload)
				}
			}
		})
	}
}

// TestConcurrentRequests keeps several requests in flight on one connection
// (QUIC multiplexes them; TCP+TLS serializes them).
func TestConcurrentRequests(t *testing.T) {
	for _, tr := range Transports() {
		t.Run(tr.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			c, sums := setup(t, ctx, tr)
			go func() {
				for range sums {
				}
			}()
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 8 {
				wg.Go(func() {
					for range 5 {
						if _, err := Do(ctx, c, Request{Upload: 1024, Download: 4096, Verify: true}); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		})
	}
}

// TestBadUploadClosesConnection: an upload that is not the pattern gets no
// answer when the server verifies uploads.
func TestBadUploadClosesConnection(t *testing.T) {
	for _, tr := range Transports() {
		t.Run(tr.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			c, _ := setup(t, ctx, tr)
			s, err := c.OpenStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			req := []byte{0, 0, 0, 0, 0, 0, 0, 10, pattern[0] ^ 1}
			if _, err := s.Write(req); err != nil {
				t.Fatal(err)
			}
			s.Close()
			if _, err := io.ReadAll(s); err == nil {
				t.Fatal("read after a bad upload succeeded")
			}
		})
	}
}

// TestShortRequestIgnored: draft §2.3.1, a stream closed before its 8-byte
// size is ignored and closed; the connection stays usable.
func TestShortRequestIgnored(t *testing.T) {
	for _, tr := range Transports() {
		t.Run(tr.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			c, _ := setup(t, ctx, tr)
			s, err := c.OpenStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			s.Write([]byte{1, 2, 3})
			s.Close()
			if b, err := io.ReadAll(s); err != nil || len(b) != 0 {
				t.Fatalf("short request: got %d bytes, %v; want a bare FIN", len(b), err)
			}
			if _, err := Do(ctx, c, Request{Download: 100, Verify: true}); err != nil {
				t.Fatalf("request after a short one: %v", err)
			}
		})
	}
}

// TestDoHonoursContext: a request that cannot finish returns once its
// context ends.
func TestDoHonoursContext(t *testing.T) {
	for _, tr := range Transports() {
		t.Run(tr.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			c, _ := setup(t, ctx, tr)
			rctx, rcancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			sink := &cancelAfter{n: 1 << 20, cancel: rcancel}
			go func() {
				_, err := Do(rctx, c, Request{Download: Unlimited, Sink: sink})
				done <- err
			}()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want context.Canceled", err)
			}
		})
	}
}

// cancelAfter calls cancel once n bytes have been written to it.
type cancelAfter struct {
	n      int
	cancel func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.n -= len(p)
	if c.n <= 0 {
		c.cancel()
	}
	return len(p), nil
}

func TestPatternCheck(t *testing.T) {
	var c patternChecker
	b := Pattern(3*PatternLen + 100)
	for i := 0; i < len(b); i += 1000 {
		if err := c.check(b[i:min(i+1000, len(b))]); err != nil {
			t.Fatal(err)
		}
	}
	b[PatternLen+5] ^= 0x80
	c = patternChecker{}
	var pe *PatternError
	if err := c.check(b); !errors.As(err, &pe) || pe.Offset != PatternLen+5 {
		t.Fatalf("got %v, want a PatternError at %d", err, PatternLen+5)
	}
}
