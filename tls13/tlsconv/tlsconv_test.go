package tlsconv_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiffnet/skiff/tls13"
	"github.com/skiffnet/skiff/tls13/tlsconv"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

type pki struct {
	roots          *x509.CertPool
	server, client tls.Certificate
}

var (
	pkiOnce sync.Once
	testPKI pki
)

// getPKI makes a CA, a server and a client certificate, as PEM run
// through tls.X509KeyPair, the way a program gets its tls.Certificates.
func getPKI(t *testing.T) pki {
	pkiOnce.Do(func() {
		caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		caTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tlsconv CA"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
		if err != nil {
			panic(err)
		}
		ca, _ := x509.ParseCertificate(caDER)
		testPKI.roots = x509.NewCertPool()
		testPKI.roots.AddCert(ca)
		leaf := func(name string, usage x509.ExtKeyUsage) tls.Certificate {
			key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			tmpl := &x509.Certificate{
				SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
				DNSNames: []string{name}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
				KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
			if err != nil {
				panic(err)
			}
			keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
			c, err := tls.X509KeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
				pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
			if err != nil {
				panic(err)
			}
			return c
		}
		testPKI.server = leaf("server.test", x509.ExtKeyUsageServerAuth)
		testPKI.client = leaf("client.test", x509.ExtKeyUsageClientAuth)
	})
	return testPKI
}

func timeNow() time.Time { return now }

// handshake runs a client and a server of tls13 against each other in
// memory and returns their errors.
func handshake(t *testing.T, ccfg, scfg *tls13.Config) (c, s *tls13.Conn, cerr, serr error) {
	t.Helper()
	c, s = tls13.Client(ccfg, []byte("c")), tls13.Server(scfg, []byte("s"))
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		moved := false
		for _, p := range [][2]*tls13.Conn{{c, s}, {s, c}} {
			for ev := p[0].NextEvent(); ev.Kind != tls13.EventNone; ev = p[0].NextEvent() {
				if ev.Kind == tls13.EventWriteData && p[0].Err() == nil && p[1].Err() == nil {
					_ = p[1].HandleData(ev.Level, ev.Data)
					moved = true
				}
			}
		}
		if !moved {
			break
		}
	}
	return c, s, c.Err(), s.Err()
}

func TestFromConfigCarriesSettings(t *testing.T) {
	p := getPKI(t)
	var keyLog bytes.Buffer
	in := &tls.Config{
		Rand:                   rand.Reader,
		Time:                   timeNow,
		Certificates:           []tls.Certificate{p.server},
		RootCAs:                p.roots,
		ClientCAs:              p.roots,
		ServerName:             "server.test",
		NextProtos:             []string{"h3"},
		InsecureSkipVerify:     true,
		VerifyPeerCertificate:  func([][]byte, [][]*x509.Certificate) error { return nil },
		KeyLogWriter:           &keyLog,
		CurvePreferences:       []tls.CurveID{tls.X25519MLKEM768, tls.CurveP256},
		CipherSuites:           []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384},
		SessionTicketsDisabled: true,
		//lint:ignore SA1019 the conversion must carry it
		SessionTicketKey: [32]byte{9},
		MinVersion:       tls.VersionTLS12,
		MaxVersion:       tls.VersionTLS13,
	}
	out, err := tlsconv.FromConfig(in)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case out.Rand != in.Rand || out.Time == nil || out.RootCAs != p.roots || out.ClientCAs != p.roots:
		t.Error("Rand, Time or pools not carried")
	case out.ServerName != "server.test" || len(out.NextProtos) != 1 || !out.InsecureSkipVerify:
		t.Error("ServerName, NextProtos or InsecureSkipVerify not carried")
	case out.VerifyPeerCertificate == nil || out.KeyLogWriter != &keyLog || !out.SessionTicketsDisabled:
		t.Error("hook, key log or SessionTicketsDisabled not carried")
	case len(out.CurvePreferences) != 2 || out.CurvePreferences[0] != tls13.X25519MLKEM768 || out.CurvePreferences[1] != tls13.CurveP256:
		t.Errorf("CurvePreferences %v", out.CurvePreferences)
	case len(out.SessionTicketKeys) != 1 || out.SessionTicketKeys[0] != [32]byte{9}:
		t.Error("SessionTicketKey not carried")
	case len(out.CipherSuites) != 0:
		t.Errorf("CipherSuites %v: crypto/tls ignores the list for TLS 1.3, so must we", out.CipherSuites)
	case len(out.Certificates) != 1 || out.Certificates[0].Leaf == nil:
		t.Error("Certificates not carried")
	}
	for _, pair := range []struct {
		in  tls.ClientAuthType
		out tls13.ClientAuthType
	}{
		{tls.NoClientCert, tls13.NoClientCert}, {tls.RequestClientCert, tls13.RequestClientCert},
		{tls.RequireAnyClientCert, tls13.RequireAnyClientCert}, {tls.VerifyClientCertIfGiven, tls13.VerifyClientCertIfGiven},
		{tls.RequireAndVerifyClientCert, tls13.RequireAndVerifyClientCert},
	} {
		out, err := tlsconv.FromConfig(&tls.Config{ClientAuth: pair.in})
		if err != nil || out.ClientAuth != pair.out {
			t.Errorf("ClientAuth %v -> %v, %v", pair.in, out.ClientAuth, err)
		}
	}
}

// TestFromConfigRejects: what tls13 cannot honour fails loudly, naming the
// field, instead of being dropped.
func TestFromConfigRejects(t *testing.T) {
	p := getPKI(t)
	stapled := p.server
	stapled.OCSPStaple = []byte{1}
	cases := map[string]func(*tls.Config){
		"MaxVersion":         func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 },
		"MinVersion":         func(c *tls.Config) { c.MinVersion = 0x0305 },
		"Renegotiation":      func(c *tls.Config) { c.Renegotiation = tls.RenegotiateOnceAsClient },
		"ClientSessionCache": func(c *tls.Config) { c.ClientSessionCache = tls.NewLRUClientSessionCache(1) },
		"WrapSession": func(c *tls.Config) {
			c.WrapSession = func(tls.ConnectionState, *tls.SessionState) ([]byte, error) { return nil, nil }
		},
		"GetConfigForClient": func(c *tls.Config) {
			c.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) { return nil, nil }
		},
		"NameToCertificate": func(c *tls.Config) {
			//lint:ignore SA1019 the conversion must reject it
			c.NameToCertificate = map[string]*tls.Certificate{"x": &p.server}
		},
		"EncryptedClientHello": func(c *tls.Config) { c.EncryptedClientHelloConfigList = []byte{1} },
		"CurvePreferences[1]":  func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.X25519, 9999} },
		"Certificates[0]":      func(c *tls.Config) { c.Certificates = []tls.Certificate{stapled} },
		"ClientAuth":           func(c *tls.Config) { c.ClientAuth = 42 },
	}
	for field, edit := range cases {
		c := &tls.Config{ServerName: "server.test"}
		edit(c)
		out, err := tlsconv.FromConfig(c)
		if err == nil || out != nil || !strings.Contains(err.Error(), "tls.Config."+field) {
			t.Errorf("%s: got %v", field, err)
		}
	}
	_, err := tlsconv.FromConfig(&tls.Config{MaxVersion: tls.VersionTLS12, Renegotiation: tls.RenegotiateFreelyAsClient})
	if err == nil || !strings.Contains(err.Error(), "MaxVersion") || !strings.Contains(err.Error(), "Renegotiation") {
		t.Errorf("not every problem named: %v", err)
	}
	if _, err := tlsconv.FromConfig(nil); err == nil {
		t.Error("nil config accepted")
	}
}

func TestFromCertificate(t *testing.T) {
	p := getPKI(t)
	if _, err := tlsconv.FromCertificate(p.server); err != nil {
		t.Fatal(err)
	}
	mismatch := p.server
	mismatch.PrivateKey = p.client.PrivateKey
	bad := map[string]tls.Certificate{
		"does not match":               mismatch,
		"OCSPStaple":                   {Certificate: p.server.Certificate, PrivateKey: p.server.PrivateKey, OCSPStaple: []byte{1}},
		"SignedCertificateTimestamps":  {Certificate: p.server.Certificate, PrivateKey: p.server.PrivateKey, SignedCertificateTimestamps: [][]byte{{1}}},
		"SupportedSignatureAlgorithms": {Certificate: p.server.Certificate, PrivateKey: p.server.PrivateKey, SupportedSignatureAlgorithms: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256}},
		"empty":                        {},
	}
	for want, c := range bad {
		if _, err := tlsconv.FromCertificate(c); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
}

// TestConvertedHandshake: configs converted from crypto/tls, with their
// hooks, complete a handshake with client certificates, and the server's
// tls.ConnectionState names the client (issue 17: r.TLS.PeerCertificates).
func TestConvertedHandshake(t *testing.T) {
	p := getPKI(t)
	var sawHello *tls.ClientHelloInfo
	var clientState tls.ConnectionState
	scfg, err := tlsconv.FromConfig(&tls.Config{
		Time: timeNow,
		GetCertificate: func(info *tls.ClientHelloInfo) (*tls.Certificate, error) {
			sawHello = info
			if err := info.SupportsCertificate(&p.server); err != nil {
				return nil, err
			}
			return &p.server, nil
		},
		ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs:  p.roots,
		NextProtos: []string{"h3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ccfg, err := tlsconv.FromConfig(&tls.Config{
		Time:         timeNow,
		RootCAs:      p.roots,
		ServerName:   "server.test",
		NextProtos:   []string{"h3"},
		Certificates: []tls.Certificate{p.client},
		VerifyConnection: func(cs tls.ConnectionState) error {
			clientState = cs
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, s, cerr, serr := handshake(t, ccfg, scfg)
	if cerr != nil || serr != nil {
		t.Fatalf("client %v, server %v", cerr, serr)
	}
	if sawHello == nil || sawHello.ServerName != "server.test" || len(sawHello.SupportedVersions) != 1 || len(sawHello.SupportedCurves) == 0 {
		t.Errorf("GetCertificate saw %+v", sawHello)
	}
	if clientState.Version != tls.VersionTLS13 || clientState.NegotiatedProtocol != "h3" || len(clientState.PeerCertificates) != 1 {
		t.Errorf("VerifyConnection saw %+v", clientState)
	}
	st := tlsconv.ToConnectionState(s.ConnectionState())
	if !st.HandshakeComplete || st.Version != tls.VersionTLS13 || st.CipherSuite != tls.TLS_AES_128_GCM_SHA256 ||
		st.CurveID != tls.X25519MLKEM768 || st.ServerName != "server.test" || st.NegotiatedProtocol != "h3" ||
		len(st.PeerCertificates) != 1 || st.PeerCertificates[0].Subject.CommonName != "client.test" || len(st.VerifiedChains) != 1 {
		t.Errorf("server state %+v", st)
	}

	// A hook's error is kept, and the alert too.
	sentinel := errors.New("refused by policy")
	ccfg.VerifyConnection = func(tls13.ConnectionState) error { return sentinel }
	_, _, cerr, _ = handshake(t, ccfg, scfg)
	var alert tls13.AlertError
	if !errors.Is(cerr, sentinel) || !errors.As(cerr, &alert) || alert != tls13.AlertBadCertificate {
		t.Errorf("client error %v", cerr)
	}
}

// TestGetClientCertificateEmpty: crypto/tls's way of declining (an empty
// tls.Certificate) sends no certificate, and a server that requires one
// says certificate_required (RFC 8446 §4.4.2.4).
func TestGetClientCertificateEmpty(t *testing.T) {
	p := getPKI(t)
	scfg, err := tlsconv.FromConfig(&tls.Config{Time: timeNow, Certificates: []tls.Certificate{p.server}, ClientAuth: tls.RequireAnyClientCert, NextProtos: []string{"h3"}})
	if err != nil {
		t.Fatal(err)
	}
	asked := false
	ccfg, err := tlsconv.FromConfig(&tls.Config{
		Time: timeNow, RootCAs: p.roots, ServerName: "server.test", NextProtos: []string{"h3"},
		GetClientCertificate: func(info *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			asked = info.Version == tls.VersionTLS13 && len(info.SignatureSchemes) > 0
			return &tls.Certificate{}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, serr := handshake(t, ccfg, scfg)
	var alert tls13.AlertError
	if !asked || !errors.As(serr, &alert) || alert != tls13.AlertCertificateRequired {
		t.Errorf("asked %v, server error %v", asked, serr)
	}
}
