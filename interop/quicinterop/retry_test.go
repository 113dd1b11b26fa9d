package quicinterop

import (
	"context"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic"
)

// TestSkiffClientThroughRetry: a quic-go server that validates every
// client address with a Retry (RFC 9000 §8.1.2). skiff's client checks the
// Retry integrity tag, resends its Initial with the token to the new
// connection ID, and verifies retry_source_connection_id; then data flows.
func TestSkiffClientThroughRetry(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, std, _, skClient := certs(t)
	addr, asked := quicGoRetryServer(t, ctx, std)
	conn, err := quic.Dial(ctx, "udp", addr, &quic.Config{TLS: skClient})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	if asked.Load() == 0 {
		t.Fatal("the server never considered a Retry")
	}
	s, err := conn.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := runClientStream(s, payload(3, 1<<20), 1<<20); err != nil {
		t.Fatal(err)
	}
}
