package quicinterop

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/qlog"
	"github.com/quic-go/quic-go/qlogwriter"
	"github.com/skiffnet/skiff/quic"
)

// retryCounter is a quic-go qlog trace that counts the Retry packets the
// connection accepted and those it dropped.
type retryCounter struct {
	received, dropped atomic.Int32
}

func (r *retryCounter) AddProducer() qlogwriter.Recorder { return r }
func (r *retryCounter) Close() error                     { return nil }
func (r *retryCounter) RecordEvent(e qlogwriter.Event) {
	switch e := e.(type) {
	case qlog.PacketReceived:
		if e.Header.PacketType == qlog.PacketTypeRetry {
			r.received.Add(1)
		}
	case qlog.PacketDropped:
		if e.Header.PacketType == qlog.PacketTypeRetry {
			r.dropped.Add(1)
		}
	}
}

// TestQuicGoClientThroughSkiffRetry: a skiff server that validates every
// client address with a Retry (Config.RequireAddressValidation, RFC 9000
// §8.1.2). quic-go's client accepts the Retry (its integrity tag, RFC 9001
// §5.8), comes back with the token, and checks the server's
// original_destination_connection_id and retry_source_connection_id
// transport parameters (RFC 9000 §7.3); then data flows both ways.
func TestQuicGoClientThroughSkiffRetry(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	skCert, _, goClient, _ := certs(t)
	ln := listenSkiff(t, skCert, &quic.Config{RequireAddressValidation: true})
	serveAll(ctx, ln.Accept, func(c *quic.Conn) func(context.Context) (*quic.Stream, error) { return c.AcceptStream })

	var retries retryCounter
	conn, err := quicgo.DialAddr(ctx, ln.Addr().String(), goClient, &quicgo.Config{
		Tracer: func(context.Context, bool, quicgo.ConnectionID) qlogwriter.Trace { return &retries },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	if n := retries.received.Load(); n != 1 {
		t.Fatalf("the client accepted %d Retries, want 1", n)
	}
	t.Logf("Retries: 1 accepted, %d dropped (one per further datagram of the first flight)", retries.dropped.Load())
	for i := range 3 {
		s, err := conn.OpenStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := runClientStream(s, payload(uint64(i), 1<<20), 1<<20); err != nil {
			t.Fatal(err)
		}
	}
}
