package tls13

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestServerCertificateErrors: our client must refuse bad server
// certificates with the alert RFC 8446 §6.2 names.
func TestServerCertificateErrors(t *testing.T) {
	good := testLeaf(leafOpts{key: "p256"})
	wrongKey := good
	wrongKey.PrivateKey = mustKey("p256") // CertificateVerify will not verify
	cases := []struct {
		name   string
		cert   Certificate
		roots  *x509.CertPool
		server string
		want   AlertError
	}{
		{"wrongName", testLeaf(leafOpts{key: "p256", dnsName: "other.skiff.test"}), nil, "", AlertBadCertificate},
		{"expired", testLeaf(leafOpts{key: "p256", notAfter: testNow.Add(-time.Hour)}), nil, "", AlertCertificateExpired},
		{"unknownCA", testLeaf(leafOpts{key: "p256", selfSign: true}), nil, "", AlertUnknownCA},
		{"otherRoots", good, getPKI().otherCA, "", AlertUnknownCA},
		{"badSignature", wrongKey, nil, "", AlertDecryptError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ccfg := baseClientConfig()
			if tc.roots != nil {
				ccfg.RootCAs = tc.roots
			}
			// Against crypto/tls's server...
			h, c, _ := ourClientTheirServer(t, ccfg, theirServerConfig(tc.cert))
			if a, ok := alertOf(h.cr.err); !ok || AlertError(a) != tc.want {
				t.Errorf("vs crypto/tls: client error %v, want %v", h.cr.err, tc.want)
			}
			if h.cr.done || c.ConnectionState().HandshakeComplete {
				t.Errorf("handshake completed")
			}
			if len(h.cr.write[LevelApplication]) != 0 {
				t.Errorf("client installed 1-RTT keys")
			}
			// ...and against ours.
			h, _, _ = ourClientOurServer(t, baseClientConfigWithRoots(tc.roots), baseServerConfig(tc.cert))
			if a, ok := alertOf(h.cr.err); !ok || AlertError(a) != tc.want {
				t.Errorf("vs ours: client error %v, want %v", h.cr.err, tc.want)
			}
		})
	}
	t.Run("theirClientBadSignature", func(t *testing.T) {
		h, _, _ := theirClientOurServer(t, theirClientConfig(), baseServerConfig(wrongKey))
		if a, ok := alertOf(h.cr.err); !ok || AlertError(a) != AlertDecryptError {
			t.Errorf("crypto/tls client error %v, want decrypt_error", h.cr.err)
		}
	})
}

func baseClientConfigWithRoots(roots *x509.CertPool) *Config {
	c := baseClientConfig()
	if roots != nil {
		c.RootCAs = roots
	}
	return c
}

func TestInsecureSkipVerifyAndHook(t *testing.T) {
	selfSigned := testLeaf(leafOpts{key: "p256", selfSign: true, dnsName: "elsewhere.test"})
	t.Run("skip", func(t *testing.T) {
		ccfg := baseClientConfig()
		ccfg.InsecureSkipVerify = true
		var hookCerts [][]byte
		var hookChains [][]*x509.Certificate
		ccfg.VerifyPeerCertificate = func(raw [][]byte, chains [][]*x509.Certificate) error {
			hookCerts, hookChains = raw, chains
			return nil
		}
		h, c, _ := ourClientTheirServer(t, ccfg, theirServerConfig(selfSigned))
		h.check(t)
		if len(hookCerts) != 1 || hookChains != nil || len(c.ConnectionState().PeerCertificates) != 1 {
			t.Errorf("hook saw %d certs, chains %v", len(hookCerts), hookChains)
		}
	})
	t.Run("hookRejects", func(t *testing.T) {
		ccfg := baseClientConfig()
		ccfg.VerifyPeerCertificate = func([][]byte, [][]*x509.Certificate) error { return errors.New("no") }
		h, _, _ := ourClientTheirServer(t, ccfg, theirServerConfig(testLeaf(leafOpts{key: "p256"})))
		if a, _ := alertOf(h.cr.err); AlertError(a) != AlertBadCertificate {
			t.Errorf("client error %v, want bad_certificate", h.cr.err)
		}
	})
	t.Run("intermediate", func(t *testing.T) {
		// A chain leaf <- intermediate <- root, sent in full.
		chain, key := intermediateChain(t)
		cert := Certificate{Certificate: chain, PrivateKey: key}
		h, c, _ := theirClientOurServerCert(t, cert)
		h.check(t)
		_ = c
		h2, oc, _ := ourClientTheirServer(t, baseClientConfig(), theirServerConfig(cert))
		h2.check(t)
		if len(oc.ConnectionState().VerifiedChains[0]) != 3 {
			t.Errorf("verified chain length %d", len(oc.ConnectionState().VerifiedChains[0]))
		}
	})
}

func theirClientOurServerCert(t *testing.T, cert Certificate) (handshakeResult, *tls.QUICConn, *Conn) {
	return theirClientOurServer(t, theirClientConfig(), baseServerConfig(cert))
}

func TestKeyLog(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	var ours bytes.Buffer
	var theirs bytes.Buffer
	ccfg := baseClientConfig()
	ccfg.KeyLogWriter = &ours
	scfg := theirServerConfig(cert)
	scfg.KeyLogWriter = &theirs
	h, _, _ := ourClientTheirServer(t, ccfg, scfg)
	h.check(t)
	for _, label := range []string{keyLogClientHS, keyLogServerHS, keyLogClientAP, keyLogServerAP} {
		if !strings.Contains(ours.String(), label+" ") {
			t.Errorf("key log lacks %s", label)
		}
	}
	// crypto/tls logs the same lines (it may order them differently).
	for _, line := range strings.Split(strings.TrimSpace(ours.String()), "\n") {
		if !strings.Contains(theirs.String(), line) {
			t.Errorf("crypto/tls did not log %q", line)
		}
	}
}

// TestKeyLogEarly: with 0-RTT both implementations log the same five
// secrets, CLIENT_EARLY_TRAFFIC_SECRET included.
func TestKeyLogEarly(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	var ours, theirs bytes.Buffer
	scfg := baseServerConfig(cert)
	scfg.KeyLogWriter = &ours
	ccfg := theirClientConfig()
	ccfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	ccfg.KeyLogWriter = &theirs
	h, c, s := theirClientOurServer(t, ccfg, scfg)
	h.check(t)
	if err := s.SendSessionTicket(true); err != nil {
		t.Fatal(err)
	}
	run(theirEndpoint{q: c}, ourEndpoint{s}, h.cr, h.sr)
	ours.Reset()
	theirs.Reset()
	h, _, _ = theirClientOurServer(t, ccfg, scfg)
	h.check(t, LevelEarly, LevelHandshake, LevelApplication)
	lines := strings.Split(strings.TrimSpace(ours.String()), "\n")
	if len(lines) != 5 || !strings.HasPrefix(ours.String(), keyLogClientEarly+" ") {
		t.Fatalf("our key log:\n%s", ours.String())
	}
	// crypto/tls's QUIC client does not log its early secret; compare
	// that line with the secret it installed instead.
	if want := hex.EncodeToString(h.cr.write[LevelEarly]); !strings.HasSuffix(lines[0], " "+want) {
		t.Errorf("early secret line %q, crypto/tls installed %s", lines[0], want)
	}
	for _, line := range lines[1:] {
		if !strings.Contains(theirs.String(), line) {
			t.Errorf("crypto/tls did not log %q", line)
		}
	}
}
