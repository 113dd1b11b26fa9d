package h3interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"github.com/skiffnet/skiff/h3"
	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

func payload(seed uint64, n int) []byte {
	b := make([]byte, n)
	mrand.NewChaCha8([32]byte{byte(seed), 3}).Read(b)
	return b
}

// handler serves the scenarios: GET /bytes/N returns payload(7, N) with
// its SHA-256 in a trailer; POST or PUT /sha256 answers with the SHA-256
// of the body and echoes the request's X-Echo header.
func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bytes/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		body := payload(7, n)
		sum := sha256.Sum256(body)
		w.Header().Set("Trailer", "X-Sha256")
		w.Write(body)
		w.Header().Set("X-Sha256", hex.EncodeToString(sum[:]))
	})
	sha := func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		if _, err := io.Copy(h, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Echo", r.Header.Get("X-Echo"))
		io.WriteString(w, hex.EncodeToString(h.Sum(nil)))
	}
	mux.HandleFunc("POST /sha256", sha)
	mux.HandleFunc("PUT /sha256", sha)
	mux.HandleFunc("POST /small", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write(small)
	})
	return mux
}

var small = payload(9, 4096)

type stack struct {
	name   string
	client func(t testing.TB) http.RoundTripper
	server func(t testing.TB) (addr string, stop func())
}

func stacks(t testing.TB) (skiff, quicGo stack) {
	cert, pool, err := selfsigned.New("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	std := tls.Certificate{Certificate: cert.Certificate, PrivateKey: cert.PrivateKey, Leaf: cert.Leaf}
	skiff = stack{
		name: "skiff",
		client: func(t testing.TB) http.RoundTripper {
			return &h3.Transport{Mode: h3.ModeHTTP3Only, TLSClientConfig: &tls13.Config{RootCAs: pool, ServerName: "localhost"}}
		},
		server: func(t testing.TB) (string, func()) {
			ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{
				TLS:            &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{h3.NextProtoH3}},
				MaxBidiStreams: 1000,
			})
			if err != nil {
				t.Fatal(err)
			}
			srv := &h3.Server{Handler: handler()}
			go srv.Serve(ln)
			return ln.Addr().String(), func() { srv.Close() }
		},
	}
	quicGo = stack{
		name: "quic-go",
		client: func(t testing.TB) http.RoundTripper {
			return &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}
		},
		server: func(t testing.TB) (string, func()) {
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &http3.Server{
				Handler:    handler(),
				TLSConfig:  http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{std}}),
				QUICConfig: &quicgo.Config{MaxIncomingStreams: 1000},
			}
			go srv.Serve(pc)
			return pc.LocalAddr().String(), func() { srv.Close(); pc.Close() }
		},
	}
	return skiff, quicGo
}

// scenarios runs every exchange from client to server.
func scenarios(t *testing.T, client, server stack) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	addr, stop := server.server(t)
	defer stop()
	rt := client.client(t)
	defer func() {
		if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
		if c, ok := rt.(io.Closer); ok {
			c.Close()
		}
	}()
	hc := &http.Client{Transport: rt}
	base := "https://localhost:" + portOf(addr)

	t.Run("GET 20 MB with trailer", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/bytes/20000000", nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		h := sha256.New()
		n, err := io.Copy(h, resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256(payload(7, 20000000))
		if n != 20000000 || !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatalf("got %d bytes with a different hash", n)
		}
		if got := resp.Trailer.Get("X-Sha256"); got != hex.EncodeToString(want[:]) {
			t.Fatalf("trailer X-Sha256 = %q", got)
		}
		if resp.ProtoMajor != 3 {
			t.Fatalf("proto %s", resp.Proto)
		}
	})
	for _, method := range []string{"POST", "PUT"} {
		t.Run(method+" 20 MB", func(t *testing.T) {
			body := payload(11, 20000000)
			req, _ := http.NewRequestWithContext(ctx, method, base+"/sha256", bytes.NewReader(body))
			req.Header.Set("X-Echo", "skiff-"+method)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			want := sha256.Sum256(body)
			if string(got) != hex.EncodeToString(want[:]) || resp.Header.Get("X-Echo") != "skiff-"+method {
				t.Fatalf("status %d, hash %q, echo %q", resp.StatusCode, got, resp.Header.Get("X-Echo"))
			}
		})
	}
	t.Run("200 concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n := 1000 + i*37
				req, _ := http.NewRequestWithContext(ctx, "GET", base+"/bytes/"+strconv.Itoa(n), nil)
				resp, err := hc.Do(req)
				if err != nil {
					errs <- err
					return
				}
				defer resp.Body.Close()
				got, err := io.ReadAll(resp.Body)
				if err != nil || !bytes.Equal(got, payload(7, n)) {
					errs <- fmt.Errorf("request %d: %d bytes, %v", i, len(got), err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
	// RFC 9218: a Priority header, and, from a skiff client, a
	// PRIORITY_UPDATE mid-response (RequestPriority.Set; other clients
	// ignore the context). The response arrives whole and the connection
	// serves the next request.
	t.Run("priority update mid-body", func(t *testing.T) {
		rp := h3.NewRequestPriority(h3.Priority{Urgency: 5})
		req, _ := http.NewRequestWithContext(h3.WithPriority(ctx, rp), "GET", base+"/bytes/5000000", nil)
		req.Header.Set("Priority", "u=5, i")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got := make([]byte, 5000000)
		if _, err := io.ReadFull(resp.Body, got[:1<<20]); err != nil {
			t.Fatal(err)
		}
		rp.Set(h3.Priority{Urgency: 0})
		if _, err := io.ReadFull(resp.Body, got[1<<20:]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, payload(7, 5000000)) {
			t.Fatal("the body differs")
		}
		nextRequest(t, ctx, hc, base)
	})
	t.Run("cancel mid-body", func(t *testing.T) {
		cctx, ccancel := context.WithCancel(ctx)
		req, _ := http.NewRequestWithContext(cctx, "GET", base+"/bytes/50000000", nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.ReadFull(resp.Body, make([]byte, 1<<20)); err != nil {
			t.Fatal(err)
		}
		ccancel()
		if _, err := io.Copy(io.Discard, resp.Body); err == nil {
			t.Fatal("the body read on after the request was canceled")
		}
		nextRequest(t, ctx, hc, base)
	})
}

// nextRequest checks that the connection is still good for a request.
func nextRequest(t *testing.T, ctx context.Context, hc *http.Client, base string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/bytes/1000", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

func TestSkiffClientQuicGoServer(t *testing.T) {
	skiff, quicGo := stacks(t)
	scenarios(t, skiff, quicGo)
}

func TestQuicGoClientSkiffServer(t *testing.T) {
	skiff, quicGo := stacks(t)
	scenarios(t, quicGo, skiff)
}

// BenchmarkRequests: requests per second on one connection, 1 KiB up and
// 4 KiB down, 100 in flight, each stack with itself, in the same run.
func BenchmarkRequests(b *testing.B) {
	skiff, quicGo := stacks(b)
	for _, st := range []stack{skiff, quicGo} {
		b.Run(st.name, func(b *testing.B) {
			addr, stop := st.server(b)
			defer stop()
			hc := &http.Client{Transport: st.client(b)}
			url := "https://localhost:" + portOf(addr) + "/small"
			up := payload(5, 1024)
			do := func() error {
				resp, err := hc.Post(url, "application/octet-stream", bytes.NewReader(up))
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				n, err := io.Copy(io.Discard, resp.Body)
				if err == nil && n != int64(len(small)) {
					err = fmt.Errorf("%d bytes", n)
				}
				return err
			}
			if err := do(); err != nil { // the handshake, outside the timing
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var next sync.Mutex
			i := 0
			var wg sync.WaitGroup
			start := time.Now()
			for range 100 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						next.Lock()
						if i >= b.N {
							next.Unlock()
							return
						}
						i++
						next.Unlock()
						if err := do(); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
			if c, ok := hc.Transport.(interface{ CloseIdleConnections() }); ok {
				c.CloseIdleConnections()
			}
		})
	}
}
