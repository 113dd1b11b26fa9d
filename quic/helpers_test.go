package quic

import (
	"net/netip"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/testcert"
)

var (
	clientAddr = netip.MustParseAddrPort("198.18.0.1:40000")
	serverAddr = netip.MustParseAddrPort("198.18.0.2:443")
)

// testConfigs returns client and server Configs with a fresh certificate.
func testConfigs(t testing.TB) (client, server *Config) {
	c, s := testcert.Fresh(t)
	return &Config{TLS: c}, &Config{TLS: s}
}

// cheapConfigs returns client and server Configs with the certificate of
// this test binary (testcert.Shared).
func cheapConfigs(t testing.TB) (client, server *Config) {
	c, s := testcert.Shared(t)
	return &Config{TLS: c}, &Config{TLS: s}
}

// inspect runs fn on c's driver goroutine with its state machine, and
// waits for it; false when the connection has ended.
func inspect(c *Conn, fn func(sm *conn.Conn, now time.Time)) bool {
	done := make(chan struct{})
	if !c.call(func(sm *conn.Conn, now time.Time) { fn(sm, now); close(done) }) {
		return false
	}
	select {
	case <-done:
		return true
	case <-c.done.wait():
		return false
	}
}
