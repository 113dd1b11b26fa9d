package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/congestion"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// The QUIC performance protocol (draft-banks-quic-performance, ALPN
// "perf"): the client opens a bidirectional stream, sends the number of
// bytes it wants back as an 8-byte big-endian integer, uploads its bytes
// and sends FIN; the server discards the upload until FIN, then sends the
// requested number of bytes and FIN.
const perfALPN = "perf"

func perfMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: skiff perf server|client [flags]")
		return 2
	}
	switch args[0] {
	case "server":
		return perfServer(args[1:], stdout, stderr)
	case "client":
		return perfClient(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "skiff perf: unknown mode %q (want server or client)\n", args[0])
	return 2
}

// perfServerOptions are skiff perf server's flags.
type perfServerOptions struct {
	listen, certFile, keyFile string
	cc                        congestion.Algorithm
}

// perfServerFlags defines them, for parsing and for skiff help perf.
func perfServerFlags(o *perfServerOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("skiff perf server", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", "[::]:4433", "`address` to listen on")
	fs.StringVar(&o.certFile, "cert", "", "certificate chain `file` (PEM); a self-signed one when empty")
	fs.StringVar(&o.keyFile, "key", "", "private key `file` (PEM) of --cert")
	fs.Var((*algorithmFlag)(&o.cc), "cc", ccUsage)
	return fs
}

// ccUsage documents the -cc flag of both modes (its default, cubic, is
// the flag's value: writeFlagSet prints it).
const ccUsage = "congestion controller `name`: cubic, newreno or bbr"

// algorithmFlag is a congestion.Algorithm as a command-line flag.
type algorithmFlag congestion.Algorithm

func (a *algorithmFlag) String() string { return congestion.Algorithm(*a).String() }

func (a *algorithmFlag) Set(name string) error {
	alg, err := congestion.ParseAlgorithm(name)
	*a = algorithmFlag(alg)
	return err
}

func perfServer(args []string, stdout, stderr io.Writer) int {
	var o perfServerOptions
	fs := perfServerFlags(&o)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cert, err := loadOrMakeCertificate(o.certFile, o.keyFile)
	if err != nil {
		fmt.Fprintln(stderr, "skiff perf server:", err)
		return 1
	}
	ln, err := quic.Listen("udp", o.listen, &quic.Config{
		TLS:            &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{perfALPN}},
		Congestion:     o.cc,
		MaxBidiStreams: 1000,
	})
	if err != nil {
		fmt.Fprintln(stderr, "skiff perf server:", err)
		return 1
	}
	fmt.Fprintf(stderr, "skiff perf server listening on %v\n", ln.Addr())
	// servePerf returns only when the listener fails.
	fmt.Fprintln(stderr, "skiff perf server:", servePerf(context.Background(), ln))
	return 1
}

// servePerf answers perf clients until the listener fails, and returns why.
func servePerf(ctx context.Context, ln *quic.Listener) error {
	for {
		conn, err := ln.Accept(ctx)
		if err != nil {
			return err
		}
		go servePerfConn(ctx, conn)
	}
}

// servePerfConn answers every stream of one connection.
func servePerfConn(ctx context.Context, conn *quic.Conn) {
	for {
		s, err := conn.AcceptStream(ctx)
		if err != nil {
			return
		}
		go servePerfStream(s)
	}
}

// perfChunk is what both ends send, over and over: 64 KiB of
// pseudo-random bytes, so that the payload does not compress and a
// misplaced byte shows. It is the payload of the interop module's perf
// peers too (interop/perf), so either side can verify the other's.
var perfChunk = func() []byte {
	b := make([]byte, 64<<10)
	mrand.NewChaCha8([32]byte{'s', 'k', 'i', 'f', 'f', ' ', 'p', 'e', 'r', 'f'}).Read(b)
	return b
}()

// patternChecker compares a downloaded byte stream with perfChunk repeated.
type patternChecker struct{ off uint64 }

func (p *patternChecker) check(b []byte) error {
	for len(b) > 0 {
		i := int(p.off % uint64(len(perfChunk)))
		n := min(len(b), len(perfChunk)-i)
		if !bytes.Equal(b[:n], perfChunk[i:i+n]) {
			return fmt.Errorf("payload differs from the perf pattern near byte %d", p.off)
		}
		b = b[n:]
		p.off += uint64(n)
	}
	return nil
}

func servePerfStream(s *quic.Stream) {
	var hdr [8]byte
	if _, err := io.ReadFull(s, hdr[:]); err != nil {
		s.Reset(0)
		return
	}
	if _, err := io.Copy(io.Discard, s); err != nil {
		s.Reset(0)
		return
	}
	want := binary.BigEndian.Uint64(hdr[:])
	for want > 0 {
		n := min(want, uint64(len(perfChunk)))
		if _, err := s.Write(perfChunk[:n]); err != nil {
			return
		}
		want -= n
	}
	s.Close()
}

// perfResult is the JSON line the client prints.
type perfResult struct {
	UploadBytes   uint64  `json:"uploadBytes"`
	DownloadBytes uint64  `json:"downloadBytes"`
	Streams       int     `json:"streams"`
	HandshakeMs   float64 `json:"handshakeMs"`
	TotalSeconds  float64 `json:"totalSeconds"`
	UploadMbps    float64 `json:"uploadMbps"`
	DownloadMbps  float64 `json:"downloadMbps"`
	PacketsSent   uint64  `json:"packetsSent"`
	PacketsLost   uint64  `json:"packetsLost"`
	SmoothedRTTMs float64 `json:"smoothedRttMs"`
	Congestion    string  `json:"congestion"`
}

// perfClientOptions are skiff perf client's flags.
type perfClientOptions struct {
	upload, download, cacert string
	cc                       congestion.Algorithm
	streams                  int
	insecure, verify         bool
	timeout                  time.Duration
}

// perfClientFlags defines them, for parsing and for skiff help perf.
func perfClientFlags(o *perfClientOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("skiff perf client", flag.ContinueOnError)
	fs.StringVar(&o.upload, "upload", "0", "`bytes` to upload per stream (suffixes K, M, G: powers of 1024)")
	fs.StringVar(&o.download, "download", "1G", "`bytes` to download per stream")
	fs.IntVar(&o.streams, "streams", 1, "open `n` concurrent streams")
	fs.BoolVar(&o.insecure, "insecure", false, "do not verify the server's certificate")
	fs.StringVar(&o.cacert, "cacert", "", "trust the CA certificates in `file` (PEM) instead of the system roots")
	fs.Var((*algorithmFlag)(&o.cc), "cc", ccUsage)
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up after this long")
	fs.BoolVar(&o.verify, "verify", false, "check that the download is the perf pattern skiff's and the interop peers' servers send")
	return fs
}

func perfClient(args []string, stdout, stderr io.Writer) int {
	return perfClientWithRoots(args, nil, stdout, stderr)
}

// perfClientWithRoots is perfClient trusting roots (the demo's
// self-signed certificate) when not nil.
func perfClientWithRoots(args []string, roots *x509.CertPool, stdout, stderr io.Writer) int {
	var o perfClientOptions
	fs := perfClientFlags(&o)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: skiff perf client [flags] HOST:PORT")
		return 2
	}
	up, err1 := parseSize(o.upload)
	down, err2 := parseSize(o.download)
	if err := errors.Join(err1, err2); err != nil || o.streams < 1 {
		fmt.Fprintln(stderr, "skiff perf client: bad size or stream count:", err)
		return 2
	}
	addr := fs.Arg(0)
	host := addr
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		host = strings.Trim(addr[:i], "[]")
	}
	tc := &tls13.Config{ServerName: host, NextProtos: []string{perfALPN}, InsecureSkipVerify: o.insecure, RootCAs: roots}
	if o.cacert != "" {
		pem, err := os.ReadFile(o.cacert)
		if err != nil {
			fmt.Fprintln(stderr, "skiff perf client:", err)
			return 1
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			fmt.Fprintln(stderr, "skiff perf client: no certificate in", o.cacert)
			return 1
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	start := time.Now()
	conn, err := quic.Dial(ctx, "udp", addr, &quic.Config{TLS: tc, Congestion: o.cc})
	if err != nil {
		fmt.Fprintln(stderr, "skiff perf client:", err)
		return 1
	}
	handshake := time.Since(start)
	var received atomic.Uint64
	bar := startProgress(stderr, int64(uint64(o.streams)*down), func() int64 { return int64(received.Load()) })
	var wg sync.WaitGroup
	errs := make(chan error, o.streams)
	for range o.streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- perfStream(ctx, conn, up, down, o.verify, &received)
		}()
	}
	wg.Wait()
	bar.finish()
	close(errs)
	total := time.Since(start)
	st := conn.Stats()
	conn.CloseWithError(0, "")
	for err := range errs {
		if err != nil {
			fmt.Fprintln(stderr, "skiff perf client:", err)
			return 1
		}
	}
	transfer := (total - handshake).Seconds()
	res := perfResult{
		UploadBytes:   up * uint64(o.streams),
		DownloadBytes: received.Load(),
		Streams:       o.streams,
		HandshakeMs:   float64(handshake.Microseconds()) / 1000,
		TotalSeconds:  total.Seconds(),
		UploadMbps:    float64(up*uint64(o.streams)) * 8 / transfer / 1e6,
		DownloadMbps:  float64(received.Load()) * 8 / transfer / 1e6,
		PacketsSent:   st.PacketsSent,
		PacketsLost:   st.PacketsLost,
		SmoothedRTTMs: float64(st.SmoothedRTT.Microseconds()) / 1000,
		Congestion:    o.cc.String(),
	}
	json.NewEncoder(stdout).Encode(res)
	if res.DownloadBytes != down*uint64(o.streams) {
		fmt.Fprintf(stderr, "skiff perf client: received %d of %d bytes\n", res.DownloadBytes, down*uint64(o.streams))
		return 1
	}
	return 0
}

// perfStream runs one request: upload, then read the download to its end.
func perfStream(ctx context.Context, conn *quic.Conn, up, down uint64, verify bool, received *atomic.Uint64) error {
	s, err := conn.OpenStream(ctx)
	if err != nil {
		return err
	}
	werr := make(chan error, 1)
	go func() {
		var hdr [8]byte
		binary.BigEndian.PutUint64(hdr[:], down)
		if _, err := s.Write(hdr[:]); err != nil {
			werr <- err
			return
		}
		for left := up; left > 0; {
			n := min(left, uint64(len(perfChunk)))
			if _, err := s.Write(perfChunk[:n]); err != nil {
				werr <- err
				return
			}
			left -= n
		}
		werr <- s.Close()
	}()
	buf := make([]byte, 256<<10)
	var got uint64
	var chk patternChecker
	for {
		n, err := s.Read(buf)
		got += uint64(n)
		received.Add(uint64(n))
		if verify && n > 0 {
			if err := chk.check(buf[:n]); err != nil {
				return err
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if err := <-werr; err != nil {
		return err
	}
	if got != down {
		return fmt.Errorf("stream %d: received %d bytes, want %d", s.ID(), got, down)
	}
	return nil
}

// parseSize parses "1234", "64K", "10M" or "1G" (powers of 1024).
func parseSize(s string) (uint64, error) {
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	return n * mult, nil
}
