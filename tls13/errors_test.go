package tls13

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestErrorsKeepCause: a chain that does not verify fails with an error in
// which errors.As finds both the alert sent and crypto/x509's error, and
// whose text says what went wrong (issue 17).
func TestErrorsKeepCause(t *testing.T) {
	t.Run("unknownCA", func(t *testing.T) {
		h, _, _ := ourClientOurServer(t, baseClientConfigWithRoots(getPKI().otherCA), baseServerConfig(testLeaf(leafOpts{key: "p256"})))
		err := h.cr.err
		wantAlert(t, err, AlertUnknownCA)
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &ua) {
			t.Fatalf("errors.As finds no x509.UnknownAuthorityError in %v", err)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "tls13: certificate signed by unknown authority") || !strings.HasSuffix(msg, "(alert unknown_ca)") {
			t.Errorf("message %q", msg)
		}
		var cve *CertificateVerificationError
		if !errors.As(err, &cve) || len(cve.UnverifiedCertificates) != 1 || cve.Alert != AlertUnknownCA {
			t.Errorf("CertificateVerificationError %+v", cve)
		}
	})
	t.Run("wrongName", func(t *testing.T) {
		h, _, _ := ourClientOurServer(t, baseClientConfig(), baseServerConfig(testLeaf(leafOpts{key: "p256", dnsName: "other.skiff.test"})))
		err := h.cr.err
		wantAlert(t, err, AlertBadCertificate)
		var he x509.HostnameError
		if !errors.As(err, &he) || he.Host != testServerName {
			t.Fatalf("errors.As finds no x509.HostnameError for %s in %v", testServerName, err)
		}
		want := "tls13: certificate is valid for other.skiff.test, not server.skiff.test (alert bad_certificate)"
		if err.Error() != want {
			t.Errorf("message %q, want %q", err.Error(), want)
		}
	})
	t.Run("expired", func(t *testing.T) {
		h, _, _ := ourClientOurServer(t, baseClientConfig(), baseServerConfig(testLeaf(leafOpts{key: "p256", notAfter: testNow.Add(-time.Hour)})))
		err := h.cr.err
		wantAlert(t, err, AlertCertificateExpired)
		var ie x509.CertificateInvalidError
		if !errors.As(err, &ie) || ie.Reason != x509.Expired {
			t.Fatalf("errors.As finds no expired x509.CertificateInvalidError in %v", err)
		}
		if !strings.Contains(err.Error(), "expired") || !strings.HasSuffix(err.Error(), "(alert certificate_expired)") {
			t.Errorf("message %q", err.Error())
		}
	})
	t.Run("clientCertificateRefused", func(t *testing.T) {
		scfg := baseServerConfig(testLeaf(leafOpts{key: "p256"}))
		scfg.ClientAuth = RequireAndVerifyClientCert
		scfg.ClientCAs = getPKI().otherCA
		ccfg := baseClientConfig()
		ccfg.Certificates = []Certificate{testLeaf(leafOpts{key: "p256", client: true})}
		h, _, _ := ourClientOurServer(t, ccfg, scfg)
		wantAlert(t, h.sr.err, AlertUnknownCA)
		var ua x509.UnknownAuthorityError
		if !errors.As(h.sr.err, &ua) {
			t.Errorf("server error %v lacks the x509 error", h.sr.err)
		}
	})
	t.Run("verifyPeerCertificateHook", func(t *testing.T) {
		sentinel := errors.New("pinned key mismatch")
		ccfg := baseClientConfig()
		ccfg.VerifyPeerCertificate = func([][]byte, [][]*x509.Certificate) error { return sentinel }
		h, _, _ := ourClientOurServer(t, ccfg, baseServerConfig(testLeaf(leafOpts{key: "p256"})))
		wantAlert(t, h.cr.err, AlertBadCertificate)
		if !errors.Is(h.cr.err, sentinel) {
			t.Errorf("hook error lost: %v", h.cr.err)
		}
		if want := "tls13: VerifyPeerCertificate: pinned key mismatch (alert bad_certificate)"; h.cr.err.Error() != want {
			t.Errorf("message %q, want %q", h.cr.err.Error(), want)
		}
	})
	t.Run("protocolError", func(t *testing.T) {
		err := alertf(AlertUnexpectedMessage, "expected ServerHello")
		if err.Error() != "tls13: expected ServerHello (alert unexpected_message)" {
			t.Errorf("message %q", err.Error())
		}
		wantAlert(t, err, AlertUnexpectedMessage)
	})
}

// TestPeerAlertError: an alert the peer sent reads differently from one
// raised here, yet errors.As finds the alert in both.
func TestPeerAlertError(t *testing.T) {
	a, ok := AlertFromQUICErrorCode(0x130)
	if !ok || a != AlertUnknownCA || a.QUICErrorCode() != 0x130 {
		t.Fatalf("AlertFromQUICErrorCode(0x130) = %v, %v", a, ok)
	}
	for _, code := range []uint64{0, 0xff, 0x200, 0x10c} {
		if _, ok := AlertFromQUICErrorCode(code); ok != (code >= 0x100 && code <= 0x1ff) {
			t.Errorf("AlertFromQUICErrorCode(%#x) ok = %v", code, ok)
		}
	}
	var err error = &PeerAlertError{Alert: AlertBadCertificate, Reason: "client certificate refused"}
	if want := "tls13: peer sent alert bad_certificate: client certificate refused"; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
	wantAlert(t, err, AlertBadCertificate)
	var pa *PeerAlertError
	if !errors.As(err, &pa) {
		t.Error("errors.As finds no PeerAlertError")
	}
	if errors.As(alertf(AlertBadCertificate, "local"), &pa) {
		t.Error("a local alert reads as the peer's")
	}
	if AlertError(200).String() != "200" || AlertNoApplicationProtocol.String() != "no_application_protocol" {
		t.Errorf("names: %q %q", AlertError(200).String(), AlertNoApplicationProtocol.String())
	}
}

// TestVerifyConnection: the hook runs on both sides, on full and resumed
// handshakes, with the state the handshake completes with; its error
// aborts with bad_certificate and is kept.
func TestVerifyConnection(t *testing.T) {
	var seen []ConnectionState
	hook := func(cs ConnectionState) error { seen = append(seen, cs); return nil }
	cert := testLeaf(leafOpts{key: "p256"})
	ccfg, scfg := baseClientConfig(), baseServerConfig(cert)
	ccfg.VerifyConnection, scfg.VerifyConnection = hook, hook
	ccfg.ClientSessionCache = NewLRUClientSessionCache(1)
	resumeOurs(t, ccfg, scfg, false)
	h, _, _ := ourClientOurServer(t, ccfg, scfg)
	h.check(t)
	// Client and server of the first handshake, then of the resumed one.
	if len(seen) != 4 {
		t.Fatalf("hook ran %d times, want 4", len(seen))
	}
	for i, cs := range seen {
		if cs.HandshakeComplete || cs.Version != versionTLS13 || cs.NegotiatedProtocol != "h3" || cs.DidResume != (i >= 2) {
			t.Errorf("call %d: state %+v", i, cs)
		}
	}
	if len(seen[0].PeerCertificates) != 1 || len(seen[0].VerifiedChains) != 1 || len(seen[2].PeerCertificates) != 1 {
		t.Errorf("client saw certificates %d/%d, resumed %d", len(seen[0].PeerCertificates), len(seen[0].VerifiedChains), len(seen[2].PeerCertificates))
	}

	sentinel := errors.New("not this one")
	for _, side := range []string{"client", "server"} {
		ccfg, scfg := baseClientConfig(), baseServerConfig(cert)
		fail := func(ConnectionState) error { return sentinel }
		if side == "client" {
			ccfg.VerifyConnection = fail
		} else {
			scfg.VerifyConnection = fail
		}
		h, c, s := ourClientOurServer(t, ccfg, scfg)
		err := h.cr.err
		if side == "server" {
			err = h.sr.err
		}
		wantAlert(t, err, AlertBadCertificate)
		if !errors.Is(err, sentinel) {
			t.Errorf("%s: hook error lost: %v", side, err)
		}
		if c.ConnectionState().HandshakeComplete && s.ConnectionState().HandshakeComplete {
			t.Errorf("%s: handshake completed", side)
		}
	}
}

// TestVerifiedChainCache: a Config verifies a chain once and reuses the
// result only under the same terms and within the certificates' validity.
func TestVerifiedChainCache(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	scfg := baseServerConfig(cert)
	ccfg := baseClientConfig()
	now := testNow
	ccfg.Time = func() time.Time { return now }

	h, c1, _ := ourClientOurServer(t, ccfg, scfg)
	h.check(t)
	h, c2, _ := ourClientOurServer(t, ccfg, scfg)
	h.check(t)
	s1, s2 := c1.ConnectionState(), c2.ConnectionState()
	if s1.PeerCertificates[0] != s2.PeerCertificates[0] || len(s2.VerifiedChains) != 1 {
		t.Error("second handshake did not reuse the verified chain")
	}

	// Another name: not a hit, and the name check fails.
	ccfg.ServerName = "other.skiff.test"
	h, _, _ = ourClientOurServer(t, ccfg, scfg)
	var he x509.HostnameError
	if !errors.As(h.cr.err, &he) {
		t.Errorf("other name: %v", h.cr.err)
	}
	ccfg.ServerName = testServerName

	// Other roots: not a hit.
	ccfg.RootCAs = getPKI().otherCA
	h, _, _ = ourClientOurServer(t, ccfg, scfg)
	wantAlert(t, h.cr.err, AlertUnknownCA)
	ccfg.RootCAs = getPKI().roots

	// Past the leaf's NotAfter: the cached result no longer counts.
	now = cert.Leaf.NotAfter.Add(time.Minute)
	h, _, _ = ourClientOurServer(t, ccfg, scfg)
	wantAlert(t, h.cr.err, AlertCertificateExpired)
}

func TestVerifyCacheBounded(t *testing.T) {
	var c verifyCache
	cert := testLeaf(leafOpts{key: "p256"})
	chains := [][]*x509.Certificate{{cert.Leaf, getPKI().caCert}}
	for i := 0; i < 3*verifyCacheSize; i++ {
		k, _ := newVerifyKey([][]byte{cert.Certificate[0]}, nil, string(rune('a'+i)), x509.ExtKeyUsageServerAuth)
		c.put(k, []*x509.Certificate{cert.Leaf}, chains)
		if _, _, ok := c.get(k, testNow); !ok {
			t.Fatal("fresh entry missing")
		}
	}
	if len(c.entries) != verifyCacheSize || len(c.order) != verifyCacheSize {
		t.Errorf("%d entries, %d keys queued; want %d", len(c.entries), len(c.order), verifyCacheSize)
	}
}
