package quic

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/internal/selfsigned"
	"github.com/skiffnet/skiff/quic/internal/testcert"
	"github.com/skiffnet/skiff/tls13"
)

// dialFailure is a handshake that fails: how the client's and the
// server's TLS configurations are changed, and what Dial's error must be.
type dialFailure struct {
	name   string
	client func(c *tls13.Config)
	server func(s *tls13.Config)
	check  func(t *testing.T, err error)
}

// A handshake that fails returns from Dial as soon as the failure is
// known, with an error that keeps its cause, and leaves nothing running:
// over loopback, the errors and the goroutines (the time is printed);
// TestSimDialFailsFast checks on the simulated network that no timer is
// waited for. (A wall-clock bound of 500 ms here was sound only as long as
// the race detector and a loaded machine left a handshake that much time.)
func TestDialFailsFast(t *testing.T) {
	failures, clientCert, clientCAs := dialFailures(t)
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			ctx := loopbackContext(t)
			goroutines := countGoroutines()
			cc, sc := testcert.Fresh(t)
			if tc.server != nil {
				tc.server(sc)
			}
			ln, err := Listen("udp", "127.0.0.1:0", &Config{TLS: sc})
			if err != nil {
				t.Fatal(err)
			}
			// A server that accepts, so that an established connection
			// would not wait in the accept queue.
			go acceptAndClose(ctx, ln)
			tc.client(cc)
			start := time.Now()
			c, err := Dial(ctx, "udp", ln.Addr().String(), &Config{TLS: cc})
			took := time.Since(start)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			t.Logf("failed in %v: %v", took, err)
			tc.check(t, err)
			ln.Close()
			goroutines.check(t)
		})
	}
	// And the right client certificate is accepted: Dial then returns an
	// established connection.
	t.Run("client certificate accepted", func(t *testing.T) {
		ctx := loopbackContext(t)
		cc, sc := testcert.Fresh(t)
		sc.ClientAuth, sc.ClientCAs = tls13.RequireAndVerifyClientCert, clientCAs
		cc.Certificates = []tls13.Certificate{clientCert}
		ln, err := Listen("udp", "127.0.0.1:0", &Config{TLS: sc})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		c, err := Dial(ctx, "udp", ln.Addr().String(), &Config{TLS: cc})
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	})
}

// On the simulated network with a 100 ms round trip, a handshake that
// fails returns from Dial when the failure reaches the client: one round
// trip when the server refuses the ClientHello or the client refuses the
// server's certificate, two when the server refuses the client's
// certificate. A Dial that waited for a timer instead (the first PTO is
// about a second, a PTO once the round trip is measured 325 ms, and the
// closing period three of them) would take longer.
func TestSimDialFailsFast(t *testing.T) {
	const oneWay = 50 * time.Millisecond
	failures, _, _ := dialFailures(t)
	for i := range failures {
		t.Run(failures[i].name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// The certificates made in the bubble, valid at its time.
				failures, _, _ := dialFailures(t)
				tc := failures[i]
				cc, sc := testConfigs(t)
				if tc.server != nil {
					tc.server(sc.TLS)
				}
				tc.client(cc.TLS)
				sn := newSimNetWith(t, netsim.Impairment{Delay: oneWay}, 1, cc, sc)
				go acceptAndClose(t.Context(), &Listener{e: sn.server})
				start := time.Now()
				c, err := sn.client.Dial(t.Context(), serverAddr, cc)
				took := time.Since(start)
				if err == nil {
					c.Close()
					t.Fatal("Dial succeeded")
				}
				t.Logf("failed in %v: %v", took, err)
				if took.Round(time.Millisecond) > 4*oneWay {
					t.Errorf("Dial failed after %v, want within two round trips (%v)", took, 4*oneWay)
				}
				tc.check(t, err)
			})
		})
	}
}

// dialFailures are the handshakes TestDialFailsFast and TestSimDialFailsFast
// make fail, and a client certificate with the pool that accepts it.
func dialFailures(t *testing.T) (_ []dialFailure, clientCert tls13.Certificate, clientCAs *x509.CertPool) {
	clientCert, clientCAs, err := selfsigned.New("client.test")
	if err != nil {
		t.Fatal(err)
	}
	strangerCert, _, err := selfsigned.New("stranger.test")
	if err != nil {
		t.Fatal(err)
	}
	return []dialFailure{
		{
			name:   "ALPN mismatch",
			client: func(c *tls13.Config) { c.NextProtos = []string{"other"} },
			check: func(t *testing.T, err error) {
				// The server's CONNECTION_CLOSE with CRYPTO_ERROR 0x178.
				var pa *tls13.PeerAlertError
				var te *TransportError
				switch {
				case !errors.As(err, &te) || !te.Remote || te.Code != ErrCodeCryptoError+0x78:
					t.Errorf("want the server's CRYPTO_ERROR(0x178), got %v", err)
				case !errors.As(err, &pa) || pa.Alert != tls13.AlertNoApplicationProtocol:
					t.Errorf("errors.As finds no PeerAlertError no_application_protocol in %v", err)
				}
			},
		},
		{
			name: "unknown CA",
			client: func(c *tls13.Config) {
				other, _ := testcert.Fresh(t)
				c.RootCAs = other.RootCAs
			},
			check: func(t *testing.T, err error) {
				var ua x509.UnknownAuthorityError
				var cv *tls13.CertificateVerificationError
				var te *TransportError
				switch {
				case !errors.As(err, &te) || te.Remote || te.Code != ErrCodeCryptoError+TransportErrorCode(tls13.AlertUnknownCA):
					t.Errorf("want our CRYPTO_ERROR unknown_ca, got %v", err)
				case !errors.As(err, &cv) || !errors.As(err, &ua):
					t.Errorf("errors.As finds no CertificateVerificationError and x509.UnknownAuthorityError in %v", err)
				case !errors.Is(err, tls13.AlertUnknownCA):
					t.Errorf("errors.Is finds no unknown_ca alert in %v", err)
				}
			},
		},
		{
			name:   "wrong name",
			client: func(c *tls13.Config) { c.ServerName = "wrong.test" },
			check: func(t *testing.T, err error) {
				var he x509.HostnameError
				if !errors.As(err, &he) || he.Host != "wrong.test" {
					t.Errorf("errors.As finds no x509.HostnameError for wrong.test in %v", err)
				}
				if !errors.Is(err, tls13.AlertBadCertificate) {
					t.Errorf("errors.Is finds no bad_certificate alert in %v", err)
				}
			},
		},
		{
			name:   "client certificate refused",
			client: func(c *tls13.Config) { c.Certificates = []tls13.Certificate{strangerCert} },
			server: func(s *tls13.Config) {
				s.ClientAuth = tls13.RequireAndVerifyClientCert
				s.ClientCAs = clientCAs
			},
			check: func(t *testing.T, err error) {
				var pa *tls13.PeerAlertError
				if !errors.As(err, &pa) || pa.Alert != tls13.AlertUnknownCA {
					t.Errorf("want the server's unknown_ca alert, got %v", err)
				}
			},
		},
	}, clientCert, clientCAs
}

// silentServer is a UDP socket that reads and drops everything: a server
// that never answers, and whose port sends no ICMP error.
func silentServer(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	return pc.LocalAddr().String()
}

// Dial gives up at Config.HandshakeTimeout, or when its context ends,
// whichever comes first, with the error saying which, and leaves nothing
// running: over loopback, toward a socket that never answers. When exactly
// it gives up is TestSimDialHandshakeTimeoutAndContext's to check: here
// the bounds only tell the two apart (a wall-clock bound of ±100 ms failed
// under the race detector on a loaded machine, the timer's goroutine
// running up to 330 ms late).
func TestDialHandshakeTimeoutAndContext(t *testing.T) {
	addr := silentServer(t)
	cc, _ := testcert.Fresh(t)
	goroutines := countGoroutines()

	const timeout = 400 * time.Millisecond
	start := time.Now()
	_, err := Dial(loopbackContext(t), "udp", addr, &Config{TLS: cc, HandshakeTimeout: timeout})
	took := time.Since(start)
	t.Logf("HandshakeTimeout %v: failed after %v: %v", timeout, took, err)
	if !errors.Is(err, ErrHandshakeTimeout) {
		t.Errorf("Dial: %v, want ErrHandshakeTimeout", err)
	}
	if took < timeout {
		t.Errorf("Dial failed after %v, before the %v HandshakeTimeout", took, timeout)
	}

	const ctxTimeout = 300 * time.Millisecond
	start = time.Now() // before the deadline is set, so that took ≥ ctxTimeout
	ctx, cancel := context.WithTimeout(loopbackContext(t), ctxTimeout)
	defer cancel()
	_, err = Dial(ctx, "udp", addr, &Config{TLS: cc, HandshakeTimeout: 10 * time.Second})
	took = time.Since(start)
	t.Logf("context deadline %v: failed after %v: %v", ctxTimeout, took, err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial: %v, want context.DeadlineExceeded", err)
	}
	if took < ctxTimeout {
		t.Errorf("Dial failed after %v, before the %v context deadline", took, ctxTimeout)
	}

	// A context that has already ended dials nothing.
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	if _, err := Dial(ctx, "udp", addr, &Config{TLS: cc}); !errors.Is(err, context.Canceled) {
		t.Errorf("Dial with a canceled context: %v", err)
	}
	goroutines.check(t)
}

// On the simulated network, toward an address where nothing listens (its
// datagrams vanish): Dial gives up at Config.HandshakeTimeout to the
// instant, or at its context's deadline to the instant, whichever comes
// first.
func TestSimDialHandshakeTimeoutAndContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sn := newSimNet(t, netsim.Impairment{Delay: 10 * time.Millisecond}, 1)
		silent := netip.MustParseAddrPort("198.18.0.9:443")
		cfg := *sn.clientConfig
		cfg.HandshakeTimeout = 400 * time.Millisecond
		start := time.Now()
		_, err := sn.client.Dial(t.Context(), silent, &cfg)
		if took := time.Since(start); !errors.Is(err, ErrHandshakeTimeout) || took != cfg.HandshakeTimeout {
			t.Errorf("HandshakeTimeout %v: Dial failed after %v with %v, want ErrHandshakeTimeout then", cfg.HandshakeTimeout, took, err)
		}

		const ctxTimeout = 300 * time.Millisecond
		ctx, cancel := context.WithTimeout(t.Context(), ctxTimeout)
		defer cancel()
		cfg.HandshakeTimeout = 10 * time.Second
		start = time.Now()
		_, err = sn.client.Dial(ctx, silent, &cfg)
		if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took != ctxTimeout {
			t.Errorf("context deadline %v: Dial failed after %v with %v, want context.DeadlineExceeded then", ctxTimeout, took, err)
		}
	})
}
