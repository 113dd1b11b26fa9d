package quic

import (
	"crypto/x509"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/tls13"
)

var (
	clientAddr = netip.MustParseAddrPort("198.18.0.1:40000")
	serverAddr = netip.MustParseAddrPort("198.18.0.2:443")
)

const testALPN = "skiff-test"

// testConfigs returns client and server Configs with a fresh certificate.
func testConfigs(t testing.TB) (client, server *Config) {
	t.Helper()
	cert, pool, err := selfsigned.New("localhost")
	if err != nil {
		t.Fatal(err)
	}
	server = &Config{TLS: &tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{testALPN}}}
	client = &Config{TLS: &tls13.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{testALPN}}}
	return client, server
}

var (
	sharedCertOnce sync.Once
	sharedCert     tls13.Certificate
	sharedRoots    *x509.CertPool
	sharedCertErr  error
	sharedCertTime time.Time
)

// cheapConfigs returns client and server Configs that share one
// certificate per test binary: generating a key per test would dominate
// the run time. The client checks the certificate at the time it was
// made: tests inside a synctest bubble and outside it see different
// clocks.
func cheapConfigs(t testing.TB) (client, server *Config) {
	t.Helper()
	sharedCertOnce.Do(func() {
		sharedCertTime = time.Now()
		sharedCert, sharedRoots, sharedCertErr = selfsigned.New("localhost")
	})
	if sharedCertErr != nil {
		t.Fatal(sharedCertErr)
	}
	server = &Config{TLS: &tls13.Config{Certificates: []tls13.Certificate{sharedCert}, NextProtos: []string{testALPN}}}
	client = &Config{TLS: &tls13.Config{RootCAs: sharedRoots, ServerName: "localhost", NextProtos: []string{testALPN},
		Time: func() time.Time { return sharedCertTime }}}
	return client, server
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
	case <-c.done:
		return false
	}
}
