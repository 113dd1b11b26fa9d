package testcert

import (
	"crypto/x509"
	"sync"
	"testing"
	"time"

	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/tls13"
)

// ALPN is the application protocol the configurations negotiate.
const ALPN = "skiff-test"

var (
	once    sync.Once
	cert    tls13.Certificate
	roots   *x509.CertPool
	certErr error
	made    time.Time
)

// Fresh returns client and server TLS configurations with a new
// certificate for "localhost".
func Fresh(t testing.TB) (client, server *tls13.Config) {
	t.Helper()
	c, pool, err := selfsigned.New("localhost")
	if err != nil {
		t.Fatal(err)
	}
	return &tls13.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{ALPN}},
		&tls13.Config{Certificates: []tls13.Certificate{c}, NextProtos: []string{ALPN}}
}

// Shared returns client and server TLS configurations with the
// certificate of this test binary. The client checks it at the time it
// was made: tests inside a synctest bubble and outside it see different
// clocks.
func Shared(t testing.TB) (client, server *tls13.Config) {
	t.Helper()
	once.Do(func() {
		made = time.Now()
		cert, roots, certErr = selfsigned.New("localhost")
	})
	if certErr != nil {
		t.Fatal(certErr)
	}
	return &tls13.Config{RootCAs: roots, ServerName: "localhost", NextProtos: []string{ALPN}, Time: func() time.Time { return made }},
		&tls13.Config{Certificates: []tls13.Certificate{cert}, NextProtos: []string{ALPN}}
}
