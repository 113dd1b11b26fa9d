package tls13

import (
	"testing"
)

func TestCertificateSelection(t *testing.T) {
	a := testLeaf(leafOpts{key: "p256", dnsName: "a.skiff.test"})
	b := testLeaf(leafOpts{key: "ed25519", dnsName: testServerName})
	t.Run("byServerName", func(t *testing.T) {
		scfg := baseServerConfig(a)
		scfg.Certificates = append(scfg.Certificates, b)
		h, c, _ := ourClientOurServer(t, baseClientConfig(), scfg)
		h.check(t)
		if c.ConnectionState().PeerCertificates[0].DNSNames[0] != testServerName {
			t.Errorf("server presented %v", c.ConnectionState().PeerCertificates[0].DNSNames)
		}
	})
	t.Run("GetCertificate", func(t *testing.T) {
		scfg := baseServerConfig(a)
		scfg.Certificates = nil
		var info *ClientHelloInfo
		scfg.GetCertificate = func(i *ClientHelloInfo) (*Certificate, error) {
			info = i
			return &b, nil
		}
		h, _, _ := ourClientOurServer(t, baseClientConfig(), scfg)
		h.check(t)
		if info == nil || info.ServerName != testServerName || len(info.SupportedProtos) != 1 || len(info.SignatureSchemes) == 0 {
			t.Errorf("hook saw %+v", info)
		}
	})
	t.Run("GetClientCertificate", func(t *testing.T) {
		scfg := baseServerConfig(b)
		scfg.ClientAuth = RequireAndVerifyClientCert
		scfg.ClientCAs = getPKI().roots
		ccfg := baseClientConfig()
		clientCert := testLeaf(leafOpts{key: "p256", client: true, dnsName: "client.test"})
		called := false
		ccfg.GetClientCertificate = func(i *CertificateRequestInfo) (*Certificate, error) {
			called = len(i.SignatureSchemes) > 0
			return &clientCert, nil
		}
		h, _, s := ourClientOurServer(t, ccfg, scfg)
		h.check(t)
		if !called || len(s.ConnectionState().VerifiedChains) != 1 {
			t.Error("client certificate hook not used")
		}
	})
	t.Run("noCommonScheme", func(t *testing.T) {
		m := validClientHello(t)
		m.signatureAlgorithms = []uint16{uint16(Ed25519)}
		s := newOurServer(t, baseServerConfig(a), serverParams)
		wantAlert(t, s.HandleData(LevelInitial, m.marshal()), AlertHandshakeFailure)
	})
}

func TestTicketAppData(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	scfg := baseServerConfig(cert)
	var seen []byte
	scfg.AcceptEarlyData = func(d []byte) bool { seen = d; return true }
	ccfg := baseClientConfig()
	ccfg.ClientSessionCache = NewLRUClientSessionCache(4)
	h, c, s := ourClientOurServer(t, ccfg, scfg)
	h.check(t)
	s.SetTicketAppData([]byte("remembered settings"))
	if err := s.SendSessionTicket(true); err != nil {
		t.Fatal(err)
	}
	run(ourEndpoint{c}, ourEndpoint{s}, h.cr, h.sr)
	// The client is done: anything more from it is unexpected.
	wantAlert(t, s.HandleData(LevelApplication, marshalFinished(make([]byte, 32))), AlertUnexpectedMessage)
	if s.Err() == nil {
		t.Error("Err() lost the failure")
	}
	h, _, s = ourClientOurServer(t, ccfg, scfg)
	h.check(t, LevelEarly, LevelHandshake, LevelApplication)
	if string(seen) != "remembered settings" || !s.ConnectionState().EarlyDataAccepted {
		t.Errorf("hook saw %q", seen)
	}
}

func TestLRUClientSessionCache(t *testing.T) {
	c := NewLRUClientSessionCache(2)
	s1, s2, s3 := &ClientSession{}, &ClientSession{}, &ClientSession{}
	c.Put("a", s1)
	c.Put("b", s2)
	c.Get("a") // a is now the most recent
	c.Put("c", s3)
	if _, ok := c.Get("b"); ok {
		t.Error("least recently used entry kept")
	}
	if got, ok := c.Get("a"); !ok || got != s1 {
		t.Error("recent entry evicted")
	}
	c.Put("a", s2)
	if got, _ := c.Get("a"); got != s2 {
		t.Error("entry not replaced")
	}
	c.Put("a", nil)
	if _, ok := c.Get("a"); ok {
		t.Error("Put(nil) did not remove")
	}
	c.Put("x", nil)
	if _, ok := c.Get("x"); ok {
		t.Error("Put(nil) added an entry")
	}
}

func TestConfigClone(t *testing.T) {
	c := baseClientConfig()
	c.CipherSuites = []uint16{TLS_CHACHA20_POLY1305_SHA256}
	c.HelloRetryCookie = true
	c.MaxCertificateChainLength = 3
	c.VerifyConnection = func(ConnectionState) error { return nil }
	c.ReplayFilter = NewReplayFilter(1)
	d := c.Clone()
	if d.ServerName != c.ServerName || d.RootCAs != c.RootCAs || len(d.CipherSuites) != 1 ||
		!d.HelloRetryCookie || d.MaxCertificateChainLength != 3 || d.Time == nil ||
		d.VerifyConnection == nil || d.ReplayFilter != c.ReplayFilter {
		t.Errorf("clone lost settings: %+v", d)
	}
}

// TestConnectionState: what both sides report after a handshake, with and
// without a HelloRetryRequest.
func TestConnectionState(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	for _, hrr := range []bool{false, true} {
		scfg := baseServerConfig(cert)
		want := X25519MLKEM768
		if hrr {
			scfg.CurvePreferences = []CurveID{CurveP256}
			want = CurveP256
		}
		h, c, s := ourClientOurServer(t, baseClientConfig(), scfg)
		h.check(t)
		for side, cs := range map[string]ConnectionState{"client": c.ConnectionState(), "server": s.ConnectionState()} {
			if cs.Version != 0x0304 || !cs.HandshakeComplete || cs.CipherSuite != TLS_AES_128_GCM_SHA256 ||
				cs.Group != want || cs.NegotiatedProtocol != "h3" || cs.ServerName != testServerName ||
				cs.HelloRetryRequest != hrr || cs.DidResume || cs.EarlyDataAccepted {
				t.Errorf("hrr=%v %s: %+v", hrr, side, cs)
			}
		}
		if cs := c.ConnectionState(); len(cs.PeerCertificates) != 1 || len(cs.VerifiedChains) != 1 {
			t.Errorf("client certificates %d, chains %d", len(cs.PeerCertificates), len(cs.VerifiedChains))
		}
	}
}
