package tls13

import (
	"crypto/tls"
	"testing"
	"time"
)

// Interop matrix against crypto/tls's QUIC API, in both directions. Every
// case checks that both sides installed the same secrets at each level and
// that transport parameters arrived intact.

func TestInteropCipherSuites(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	for _, id := range defaultCipherSuites {
		t.Run(CipherSuiteName(id), func(t *testing.T) {
			t.Run("ourClient", func(t *testing.T) {
				ccfg := baseClientConfig()
				ccfg.CipherSuites = []uint16{id} // e.g. a client offering only ChaCha20
				h, c, s := ourClientTheirServer(t, ccfg, theirServerConfig(cert))
				h.check(t)
				if c.ConnectionState().CipherSuite != id || s.ConnectionState().CipherSuite != id {
					t.Errorf("suite: ours %x theirs %x", c.ConnectionState().CipherSuite, s.ConnectionState().CipherSuite)
				}
				if h.cr.suites[LevelApplication] != id {
					t.Errorf("secret suite %x", h.cr.suites[LevelApplication])
				}
			})
			t.Run("ourServer", func(t *testing.T) {
				scfg := baseServerConfig(cert)
				scfg.CipherSuites = []uint16{id}
				h, c, s := theirClientOurServer(t, theirClientConfig(), scfg)
				h.check(t)
				if c.ConnectionState().CipherSuite != id || s.ConnectionState().CipherSuite != id {
					t.Errorf("suite: theirs %x ours %x", c.ConnectionState().CipherSuite, s.ConnectionState().CipherSuite)
				}
			})
		})
	}
}

func TestInteropGroups(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	for _, g := range defaultCurvePreferences {
		t.Run(g.String(), func(t *testing.T) {
			t.Run("ourClient", func(t *testing.T) {
				ccfg := baseClientConfig()
				ccfg.CurvePreferences = []CurveID{g}
				h, c, s := ourClientTheirServer(t, ccfg, theirServerConfig(cert))
				h.check(t)
				if c.ConnectionState().Group != g || uint16(s.ConnectionState().CurveID) != uint16(g) {
					t.Errorf("group: ours %v theirs %v", c.ConnectionState().Group, s.ConnectionState().CurveID)
				}
				if h.cr.writes[LevelInitial] != 1 {
					t.Errorf("unexpected HelloRetryRequest")
				}
			})
			t.Run("ourServer", func(t *testing.T) {
				tcfg := theirClientConfig()
				tcfg.CurvePreferences = []tls.CurveID{tls.CurveID(g)}
				h, c, s := theirClientOurServer(t, tcfg, baseServerConfig(cert))
				h.check(t)
				if s.ConnectionState().Group != g || uint16(c.ConnectionState().CurveID) != uint16(g) {
					t.Errorf("group: ours %v theirs %v", s.ConnectionState().Group, c.ConnectionState().CurveID)
				}
			})
		})
	}
}

func TestInteropCertificateKeys(t *testing.T) {
	for _, key := range []string{"p256", "p384", "p521", "rsa", "ed25519"} {
		cert := testLeaf(leafOpts{key: key})
		t.Run(key, func(t *testing.T) {
			t.Run("ourClient", func(t *testing.T) {
				h, _, _ := ourClientTheirServer(t, baseClientConfig(), theirServerConfig(cert))
				h.check(t)
			})
			t.Run("ourServer", func(t *testing.T) {
				h, _, _ := theirClientOurServer(t, theirClientConfig(), baseServerConfig(cert))
				h.check(t)
			})
		})
	}
}

func TestInteropHelloRetryRequest(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	t.Run("ourClient", func(t *testing.T) {
		ccfg := baseClientConfig()
		ccfg.CurvePreferences = []CurveID{X25519, CurveP256}
		scfg := theirServerConfig(cert)
		scfg.CurvePreferences = []tls.CurveID{tls.CurveP256}
		h, c, _ := ourClientTheirServer(t, ccfg, scfg)
		h.check(t)
		if h.cr.writes[LevelInitial] != 2 || c.ConnectionState().Group != CurveP256 {
			t.Errorf("expected a HelloRetryRequest to P-256: %d ClientHellos, group %v", h.cr.writes[LevelInitial], c.ConnectionState().Group)
		}
	})
	t.Run("ourServer", func(t *testing.T) {
		scfg := baseServerConfig(cert)
		scfg.CurvePreferences = []CurveID{CurveP384}
		h, c, s := theirClientOurServer(t, theirClientConfig(), scfg)
		h.check(t)
		if h.cr.writes[LevelInitial] != 2 || s.ConnectionState().Group != CurveP384 || c.ConnectionState().CurveID != tls.CurveP384 {
			t.Errorf("expected a HelloRetryRequest to P-384: %d ClientHellos", h.cr.writes[LevelInitial])
		}
	})
	t.Run("ourselvesWithCookie", func(t *testing.T) {
		ccfg := baseClientConfig()
		ccfg.CurvePreferences = []CurveID{X25519, CurveP256}
		scfg := baseServerConfig(cert)
		scfg.CurvePreferences = []CurveID{CurveP256}
		scfg.HelloRetryCookie = true
		h, _, _ := ourClientOurServer(t, ccfg, scfg)
		h.check(t)
		// The second ClientHello on the wire must carry the server's cookie.
		if len(h.cr.sent[LevelInitial]) != 2 {
			t.Fatalf("%d ClientHellos, want 2", len(h.cr.sent[LevelInitial]))
		}
		ch, err := parseClientHello(h.cr.sent[LevelInitial][1][4:])
		if err != nil {
			t.Fatal(err)
		}
		cookie := hrrCookie(t, h.sr)
		if len(cookie) != 16 || string(ch.cookie) != string(cookie) {
			t.Errorf("cookie not echoed: sent %x, echoed %x", cookie, ch.cookie)
		}
	})
	t.Run("theirClientWithCookie", func(t *testing.T) {
		scfg := baseServerConfig(cert)
		scfg.CurvePreferences = []CurveID{CurveP256}
		scfg.HelloRetryCookie = true
		h, _, _ := theirClientOurServer(t, theirClientConfig(), scfg)
		h.check(t)
		if h.cr.writes[LevelInitial] != 2 || len(hrrCookie(t, h.sr)) != 16 {
			t.Errorf("no HelloRetryRequest with a cookie")
		}
	})
	t.Run("cookieNotEchoed", func(t *testing.T) {
		scfg := baseServerConfig(cert)
		scfg.CurvePreferences = []CurveID{CurveP256}
		scfg.HelloRetryCookie = true
		s := newOurServer(t, scfg, serverParams)
		m := validClientHello(t)
		m.supportedGroups = []uint16{uint16(X25519), uint16(CurveP256)}
		if err := s.HandleData(LevelInitial, m.marshal()); err != nil {
			t.Fatal(err)
		}
		ks, _ := newClientKeyShare(CurveP256, nil)
		m.keyShares = []keyShare{ks.share}
		wantAlert(t, s.HandleData(LevelInitial, m.marshal()), AlertIllegalParameter)
	})
}

func TestInteropALPN(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	t.Run("matchServerPreference", func(t *testing.T) {
		ccfg := theirClientConfig()
		ccfg.NextProtos = []string{"h3-29", "h3"}
		scfg := baseServerConfig(cert)
		scfg.NextProtos = []string{"h3", "h3-29"}
		h, c, s := theirClientOurServer(t, ccfg, scfg)
		h.check(t)
		if s.ConnectionState().NegotiatedProtocol != "h3" || c.ConnectionState().NegotiatedProtocol != "h3" {
			t.Errorf("ALPN %q", s.ConnectionState().NegotiatedProtocol)
		}
	})
	t.Run("mismatchOurClient", func(t *testing.T) {
		scfg := theirServerConfig(cert)
		scfg.NextProtos = []string{"other"}
		h, _, _ := ourClientTheirServer(t, baseClientConfig(), scfg)
		if a, ok := alertOf(h.sr.err); !ok || a != 120 {
			t.Errorf("their server: %v, want no_application_protocol", h.sr.err)
		}
		if h.cr.done {
			t.Errorf("client completed")
		}
	})
	t.Run("mismatchOurServer", func(t *testing.T) {
		scfg := baseServerConfig(cert)
		scfg.NextProtos = []string{"other"}
		h, _, _ := theirClientOurServer(t, theirClientConfig(), scfg)
		if a, ok := alertOf(h.sr.err); !ok || AlertError(a) != AlertNoApplicationProtocol {
			t.Errorf("our server: %v, want no_application_protocol", h.sr.err)
		}
	})
}

func TestInteropMissingTransportParameters(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	t.Run("ourClientOmits", func(t *testing.T) {
		c := Client(baseClientConfig(), clientParams)
		c.omitTransportParams = true
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		s := newTheirServer(t, theirServerConfig(cert), serverParams)
		cr, sr := newRecord(), newRecord()
		run(ourEndpoint{c}, theirEndpoint{q: s}, cr, sr)
		if a, ok := alertOf(sr.err); !ok || a != 109 {
			t.Errorf("their server: %v, want missing_extension", sr.err)
		}
	})
	t.Run("ourServerOmits", func(t *testing.T) {
		c := newTheirClient(t, theirClientConfig(), clientParams)
		s := Server(baseServerConfig(cert), serverParams)
		s.omitTransportParams = true
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		cr, sr := newRecord(), newRecord()
		run(theirEndpoint{q: c}, ourEndpoint{s}, cr, sr)
		if a, ok := alertOf(cr.err); !ok || a != 109 {
			t.Errorf("their client: %v, want missing_extension", cr.err)
		}
	})
	t.Run("ourServerRequires", func(t *testing.T) {
		c := Client(baseClientConfig(), clientParams)
		c.omitTransportParams = true
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		h := handshakeResult{newRecord(), newRecord()}
		run(ourEndpoint{c}, ourEndpoint{newOurServer(t, baseServerConfig(cert), serverParams)}, h.cr, h.sr)
		if a, ok := alertOf(h.sr.err); !ok || AlertError(a) != AlertMissingExtension {
			t.Errorf("our server: %v, want missing_extension", h.sr.err)
		}
	})
	t.Run("ourClientRequires", func(t *testing.T) {
		c := newOurClient(t, baseClientConfig(), clientParams)
		s := Server(baseServerConfig(cert), serverParams)
		s.omitTransportParams = true
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		h := handshakeResult{newRecord(), newRecord()}
		run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
		if a, ok := alertOf(h.cr.err); !ok || AlertError(a) != AlertMissingExtension {
			t.Errorf("our client: %v, want missing_extension", h.cr.err)
		}
	})
}

func TestInteropClientCertificates(t *testing.T) {
	serverCert := testLeaf(leafOpts{key: "p256"})
	for _, key := range []string{"p256", "rsa", "ed25519"} {
		clientCert := testLeaf(leafOpts{key: key, dnsName: "client.skiff.test", client: true})
		t.Run(key, func(t *testing.T) {
			t.Run("ourClient", func(t *testing.T) {
				ccfg := baseClientConfig()
				ccfg.Certificates = []Certificate{clientCert}
				scfg := theirServerConfig(serverCert)
				scfg.ClientAuth = tls.RequireAndVerifyClientCert
				scfg.ClientCAs = getPKI().roots
				h, _, s := ourClientTheirServer(t, ccfg, scfg)
				h.check(t)
				if len(s.ConnectionState().PeerCertificates) != 1 {
					t.Errorf("their server saw no client certificate")
				}
			})
			t.Run("ourServer", func(t *testing.T) {
				ccfg := theirClientConfig()
				ccfg.Certificates = []tls.Certificate{toTLSCert(clientCert)}
				scfg := baseServerConfig(serverCert)
				scfg.ClientAuth = RequireAndVerifyClientCert
				scfg.ClientCAs = getPKI().roots
				h, _, s := theirClientOurServer(t, ccfg, scfg)
				h.check(t)
				if len(s.ConnectionState().PeerCertificates) != 1 || len(s.ConnectionState().VerifiedChains) != 1 {
					t.Errorf("our server saw no verified client certificate")
				}
			})
		})
	}
	t.Run("requiredButAbsent", func(t *testing.T) {
		scfg := baseServerConfig(serverCert)
		scfg.ClientAuth = RequireAnyClientCert
		h, _, _ := theirClientOurServer(t, theirClientConfig(), scfg)
		if a, ok := alertOf(h.sr.err); !ok || AlertError(a) != AlertCertificateRequired {
			t.Errorf("our server: %v, want certificate_required", h.sr.err)
		}
	})
	t.Run("requestedAndAbsent", func(t *testing.T) {
		scfg := theirServerConfig(serverCert)
		scfg.ClientAuth = tls.RequestClientCert
		h, _, _ := ourClientTheirServer(t, baseClientConfig(), scfg)
		h.check(t)
	})
	t.Run("expiredClientCert", func(t *testing.T) {
		expired := testLeaf(leafOpts{key: "p256", client: true, notAfter: testNow.Add(-time.Hour)})
		ccfg := theirClientConfig()
		ccfg.Certificates = []tls.Certificate{toTLSCert(expired)}
		scfg := baseServerConfig(serverCert)
		scfg.ClientAuth = RequireAndVerifyClientCert
		scfg.ClientCAs = getPKI().roots
		h, _, _ := theirClientOurServer(t, ccfg, scfg)
		if a, ok := alertOf(h.sr.err); !ok || AlertError(a) != AlertCertificateExpired {
			t.Errorf("our server: %v, want certificate_expired", h.sr.err)
		}
	})
}

// TestInteropX25519FallbackShare: our client sends X25519MLKEM768 and a
// plain X25519 share (the same X25519 key); a server without ML-KEM takes
// the X25519 share without a HelloRetryRequest.
func TestInteropX25519FallbackShare(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	scfg := theirServerConfig(cert)
	scfg.CurvePreferences = []tls.CurveID{tls.X25519}
	h, c, _ := ourClientTheirServer(t, baseClientConfig(), scfg)
	h.check(t)
	if c.ConnectionState().Group != X25519 || h.cr.writes[LevelInitial] != 1 {
		t.Errorf("group %v after %d ClientHellos", c.ConnectionState().Group, h.cr.writes[LevelInitial])
	}
	ours := baseServerConfig(cert)
	ours.CurvePreferences = []CurveID{X25519}
	h, _, s := theirClientOurServer(t, theirClientConfig(), ours)
	h.check(t)
	if s.ConnectionState().Group != X25519 || h.cr.writes[LevelInitial] != 1 {
		t.Errorf("group %v after %d ClientHellos", s.ConnectionState().Group, h.cr.writes[LevelInitial])
	}
}

// hrrCookie returns the cookie of the HelloRetryRequest our server sent
// first at the Initial level.
func hrrCookie(t *testing.T, sr *record) []byte {
	t.Helper()
	if len(sr.sent[LevelInitial]) == 0 {
		t.Fatal("the server sent nothing at the Initial level")
	}
	hrr, err := parseServerHello(sr.sent[LevelInitial][0][4:])
	if err != nil {
		t.Fatal(err)
	}
	if !hrr.isHelloRetryRequest() {
		t.Fatal("the server's first message is not a HelloRetryRequest")
	}
	return hrr.cookie
}
