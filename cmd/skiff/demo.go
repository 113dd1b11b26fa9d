package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/skiffnet/skiff/h3"
	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// demo is `make demo`: the discovery story (demoStory), then bulk
// transfers over HTTP/3 (demoBulk).
func demo(w io.Writer) error {
	if err := demoStory(w); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return demoBulk(w)
}

// demoBulk starts an HTTP/3 server on loopback with a fresh self-signed
// certificate, fetches a few resources from it through h3.Transport in an
// ordinary *http.Client, and prints for each the protocol, status, size
// and time. Everything under net/http is skiff's own: HTTP/3, QPACK, QUIC,
// TLS 1.3 and batched UDP.
func demoBulk(w io.Writer) error {
	cert, pool, err := selfsigned.New("localhost", "127.0.0.1")
	if err != nil {
		return err
	}
	ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{
		TLS: &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{"h3"}},
	})
	if err != nil {
		return err
	}
	srv := &h3.Server{Handler: demoHandler()}
	go srv.Serve(ln)
	defer srv.Close()

	client := &http.Client{Transport: &h3.Transport{Mode: h3.ModeHTTP3Only, TLSClientConfig: &tls13.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	base := "https://127.0.0.1:" + strconv.Itoa(int(ln.Addr().Port()))
	fmt.Fprintf(w, "Bulk transfers through h3.Transport in a plain *http.Client, from an HTTP/3 server on %s:\n", base)
	upload := bytes.Repeat([]byte("skiff "), 1<<20) // 6 MiB
	for _, r := range []struct {
		method, path string
		body         []byte
	}{
		{"GET", "/", nil},
		{"GET", "/bytes/1048576", nil},
		{"GET", "/bytes/67108864", nil},
		{"POST", "/sha256", upload},
	} {
		req, err := http.NewRequestWithContext(ctx, r.method, base+r.path, bytes.NewReader(r.body))
		if err != nil {
			return err
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		el := time.Since(start)
		moved := n + int64(len(r.body))
		rate := ""
		if moved >= 1<<20 {
			rate = fmt.Sprintf("%7.0f Mbit/s", float64(moved)*8/el.Seconds()/1e6)
		}
		fmt.Fprintf(w, "  %-4s %-16s %s %d  %9d bytes  %8.2f ms  %s\n",
			r.method, r.path, resp.Proto, resp.StatusCode, moved, float64(el.Microseconds())/1000, rate)
	}
	return nil
}

// demoHandler serves the demo's resources.
func demoHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(rw, "Hello from skiff over %s.\n", r.Proto)
	})
	mux.HandleFunc("GET /bytes/{n}", func(rw http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil || n < 0 || n > 1<<30 {
			http.Error(rw, "bad size", http.StatusBadRequest)
			return
		}
		rw.Header().Set("Content-Length", strconv.Itoa(n))
		for n > 0 {
			k := min(n, len(perfChunk))
			if _, err := rw.Write(perfChunk[:k]); err != nil {
				return
			}
			n -= k
		}
	})
	mux.HandleFunc("POST /sha256", func(rw http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		if _, err := io.Copy(h, r.Body); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(rw, hex.EncodeToString(h.Sum(nil))+"\n")
	})
	return mux
}
