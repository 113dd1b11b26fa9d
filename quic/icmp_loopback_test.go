package quic

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/skiffnet/skiff/tls13"
)

// A Dial to a UDP port where nothing listens ends when the ICMP port
// unreachable comes back, with an error saying so, long before the
// handshake timeout.
func TestDialPortUnreachable(t *testing.T) {
	for _, tc := range []struct{ name, network, ip string }{
		{"IPv4", "udp4", "127.0.0.1"},
		{"IPv6", "udp6", "::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pc, err := net.ListenPacket(tc.network, net.JoinHostPort(tc.ip, "0"))
			if err != nil {
				t.Skipf("no %s loopback: %v", tc.network, err)
			}
			addr := pc.LocalAddr().String()
			pc.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cfg := &Config{TLS: &tls13.Config{ServerName: "localhost", NextProtos: []string{"test"}}, HandshakeTimeout: 20 * time.Second}
			start := time.Now()
			c, err := Dial(ctx, "udp", addr, cfg)
			took := time.Since(start)
			if err == nil {
				c.Close()
				t.Fatal("Dial to a closed port succeeded")
			}
			if !errors.Is(err, ErrUnreachable) || !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("Dial error %v (%T), want ErrUnreachable and ECONNREFUSED", err, err)
			}
			// Far below the 20 s handshake timeout; the figure is printed.
			if took > 10*time.Second {
				t.Fatalf("Dial took %v to fail", took)
			}
			t.Logf("failed in %v: %v", took, err)
		})
	}
}
