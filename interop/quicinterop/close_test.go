package quicinterop

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// TestApplicationCloseBothWays: an application close code and reason sent
// by one implementation reach the other's application.
func TestApplicationCloseBothWays(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	skCert, std, goClient, skClient := certs(t)

	t.Run("skiff closes, quic-go sees it", func(t *testing.T) {
		ln, err := quicgo.ListenAddr("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{std}, NextProtos: []string{alpn}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		accepted := acceptOne(ctx, ln.Accept)
		conn, err := quic.Dial(ctx, "udp", ln.Addr().String(), &quic.Config{TLS: skClient})
		if err != nil {
			t.Fatal(err)
		}
		srv := <-accepted
		conn.CloseWithError(0x42, "skiff says bye")
		<-srv.Context().Done()
		var ae *quicgo.ApplicationError
		if err := context.Cause(srv.Context()); !errors.As(err, &ae) || ae.ErrorCode != 0x42 || ae.ErrorMessage != "skiff says bye" || !ae.Remote {
			t.Fatalf("quic-go saw %v", context.Cause(srv.Context()))
		}
	})

	t.Run("quic-go closes, skiff sees it", func(t *testing.T) {
		ln, err := quic.Listen("udp", "127.0.0.1:0", &quic.Config{TLS: &tls13.Config{Certificates: []tls13.Certificate{skCert}, NextProtos: []string{alpn}}})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		accepted := acceptOne(ctx, ln.Accept)
		conn, err := quicgo.DialAddr(ctx, ln.Addr().String(), goClient, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv := <-accepted
		conn.CloseWithError(0x77, "quic-go says bye")
		_, err = srv.AcceptStream(ctx)
		var ae *quic.ApplicationError
		if !errors.As(err, &ae) || ae.Code != 0x77 || ae.Reason != "quic-go says bye" || !ae.Remote {
			t.Fatalf("skiff saw %v", err)
		}
	})
}

// acceptOne accepts one connection in the background, for either library.
func acceptOne[C any](ctx context.Context, accept func(context.Context) (C, error)) <-chan C {
	ch := make(chan C, 1)
	go func() {
		c, _ := accept(ctx)
		ch <- c
	}()
	return ch
}

// TestIdleTimeout: with a 1 s idle timeout on our side, a silent
// connection ends on both sides.
func TestIdleTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, std, _, skClient := certs(t)
	ln, err := quicgo.ListenAddr("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{std}, NextProtos: []string{alpn}}, &quicgo.Config{MaxIdleTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := acceptOne(ctx, ln.Accept)
	conn, err := quic.Dial(ctx, "udp", ln.Addr().String(), &quic.Config{TLS: skClient, MaxIdleTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := <-accepted
	start := time.Now()
	<-conn.Context().Done()
	t.Logf("skiff timed out after %v", time.Since(start))
	if _, err := conn.AcceptStream(ctx); !errors.Is(err, quic.ErrIdleTimeout) {
		t.Fatalf("skiff: %v, want the idle timeout", err)
	}
	<-srv.Context().Done()
	var ie *quicgo.IdleTimeoutError
	if err := context.Cause(srv.Context()); !errors.As(err, &ie) {
		t.Fatalf("quic-go: %v, want its idle timeout", err)
	}
	// quic-go never times out before 5 s, whatever the peer advertises.
	t.Logf("quic-go timed out after %v", time.Since(start))
}
