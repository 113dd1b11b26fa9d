package quicinterop

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

const alpn = "skiff-interop"

// certs returns one certificate in both libraries' forms.
func certs(t testing.TB) (tls13.Certificate, tls.Certificate, *tls.Config, *tls13.Config) {
	t.Helper()
	c, pool, err := selfsigned.New("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	std := tls.Certificate{Certificate: c.Certificate, PrivateKey: c.PrivateKey, Leaf: c.Leaf}
	goClient := &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{alpn}}
	skClient := &tls13.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{alpn}}
	return c, std, goClient, skClient
}

func payload(seed uint64, n int) []byte {
	r := mrand.NewChaCha8([32]byte{byte(seed), 9})
	b := make([]byte, n)
	r.Read(b)
	return b
}

// The stream protocol of these tests: the client sends an 8-byte
// big-endian length it wants back, then its upload, then FIN; the server
// answers with the SHA-256 of the upload and then the requested bytes
// (payload seed 7), then FIN.

type stream interface {
	io.ReadWriteCloser
}

func serveStream(s stream) error {
	var hdr [8]byte
	if _, err := io.ReadFull(s, hdr[:]); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(h, s); err != nil {
		return err
	}
	if _, err := s.Write(h.Sum(nil)); err != nil {
		return err
	}
	if _, err := s.Write(payload(7, int(binary.BigEndian.Uint64(hdr[:])))); err != nil {
		return err
	}
	return s.Close()
}

func runClientStream(s stream, upload []byte, download int) error {
	errc := make(chan error, 1)
	go func() {
		var hdr [8]byte
		binary.BigEndian.PutUint64(hdr[:], uint64(download))
		if _, err := s.Write(hdr[:]); err != nil {
			errc <- err
			return
		}
		if _, err := s.Write(upload); err != nil {
			errc <- err
			return
		}
		errc <- s.Close()
	}()
	got, err := io.ReadAll(s)
	if err != nil {
		return err
	}
	if err := <-errc; err != nil {
		return err
	}
	sum := sha256.Sum256(upload)
	if len(got) < 32 || [32]byte(got[:32]) != sum {
		return errors.New("the server's hash of the upload differs")
	}
	if sha256.Sum256(got[32:]) != sha256.Sum256(payload(7, download)) {
		return fmt.Errorf("download of %d bytes differs (got %d)", download, len(got)-32)
	}
	return nil
}

// serveAll accepts connections with accept and answers every stream of
// each with serveStream, for either library.
func serveAll[C any, S stream](ctx context.Context, accept func(context.Context) (C, error), streams func(C) func(context.Context) (S, error)) {
	go func() {
		for {
			c, err := accept(ctx)
			if err != nil {
				return
			}
			next := streams(c)
			go func() {
				for {
					s, err := next(ctx)
					if err != nil {
						return
					}
					go serveStream(s)
				}
			}()
		}
	}()
}

func TestSkiffClientQuicGoServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	_, std, _, skClient := certs(t)
	ln, err := quicgo.ListenAddr("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{std}, NextProtos: []string{alpn}}, &quicgo.Config{MaxIncomingStreams: 2000})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serveAll(ctx, ln.Accept, func(c *quicgo.Conn) func(context.Context) (*quicgo.Stream, error) { return c.AcceptStream })
	conn, err := quic.Dial(ctx, "udp", ln.Addr().String(), &quic.Config{TLS: skClient})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	t.Run("bulk", func(t *testing.T) {
		s, err := conn.OpenStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := runClientStream(s, payload(1, 50<<20), 50<<20); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		concurrentStreams(t, ctx, 1000, func(ctx context.Context) (stream, error) { return conn.OpenStream(ctx) })
	})
}

func TestQuicGoClientSkiffServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	skCert, _, goClient, _ := certs(t)
	ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{
		TLS:            &tls13.Config{Certificates: []tls13.Certificate{skCert}, NextProtos: []string{alpn}},
		MaxBidiStreams: 2000,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serveAll(ctx, ln.Accept, func(c *quic.Conn) func(context.Context) (*quic.Stream, error) { return c.AcceptStream })
	conn, err := quicgo.DialAddr(ctx, ln.Addr().String(), goClient, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	t.Run("bulk", func(t *testing.T) {
		s, err := conn.OpenStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := runClientStream(s, payload(1, 50<<20), 50<<20); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		concurrentStreams(t, ctx, 1000, func(ctx context.Context) (stream, error) { return conn.OpenStreamSync(ctx) })
	})
}

// concurrentStreams runs n small exchanges at once.
func concurrentStreams(t *testing.T, ctx context.Context, n int, open func(context.Context) (stream, error)) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := open(ctx)
			if err != nil {
				errs <- err
				return
			}
			if err := runClientStream(s, payload(uint64(i), 1000+i), 2000); err != nil {
				errs <- fmt.Errorf("stream %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
