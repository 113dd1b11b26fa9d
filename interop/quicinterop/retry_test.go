package quicinterop

import (
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
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
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32
	tr := &quicgo.Transport{Conn: pc, VerifySourceAddress: func(net.Addr) bool { asked.Add(1); return true }}
	defer tr.Close()
	ln, err := tr.Listen(&tls.Config{Certificates: []tls.Certificate{std}, NextProtos: []string{alpn}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serveAll(ctx, ln.Accept, func(c *quicgo.Conn) func(context.Context) (*quicgo.Stream, error) { return c.AcceptStream })

	conn, err := quic.Dial(ctx, "udp", pc.LocalAddr().String(), &quic.Config{TLS: skClient})
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
