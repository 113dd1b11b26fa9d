package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// demo shows, on an embedded default, what skiff does today: it starts a
// QUIC perf server on loopback with a fresh self-signed certificate and
// runs the perf client against it — skiff's own TLS 1.3, QUIC and batched
// UDP end to end. (When h3 lands, the demo becomes HTTP/3 requests
// through an ordinary *http.Client.)
func demo(w io.Writer) error {
	cert, pool, err := selfsigned.New("localhost", "127.0.0.1")
	if err != nil {
		return err
	}
	ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{
		TLS: &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{perfALPN}},
	})
	if err != nil {
		return err
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go servePerf(ctx, ln)

	fmt.Fprintf(w, "skiff %s: QUIC perf server on %v (self-signed certificate)\n", version, ln.Addr())
	for _, run := range []struct{ up, down string }{{"0", "1M"}, {"0", "64M"}, {"64M", "0"}} {
		var out, errOut bytes.Buffer
		args := []string{"--upload", run.up, "--download", run.down, ln.Addr().String()}
		if code := perfClientWithRoots(args, pool, &out, &errOut); code != 0 {
			return fmt.Errorf("perf client: %s", errOut.String())
		}
		var res perfResult
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			return err
		}
		fmt.Fprintf(w, "  upload %-4s download %-4s  handshake %6.2f ms  total %6.3f s  up %7.0f Mbit/s  down %7.0f Mbit/s  rtt %.2f ms\n",
			run.up, run.down, res.HandshakeMs, res.TotalSeconds, res.UploadMbps, res.DownloadMbps, res.SmoothedRTTMs)
	}
	return nil
}
