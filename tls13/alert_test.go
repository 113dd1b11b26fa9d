package tls13

import (
	"errors"
	"testing"
)

// Trace-style tests: the peer sends this; we must fail with that alert.

func wantAlert(t *testing.T, err error, want AlertError) {
	t.Helper()
	var a AlertError
	if !errors.As(err, &a) || a != want {
		t.Fatalf("got %v, want alert %v", err, want)
	}
}

// validClientHello is a ClientHello our server accepts.
func validClientHello(t *testing.T) *clientHelloMsg {
	t.Helper()
	ks, err := newClientKeyShare(X25519, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &clientHelloMsg{
		random:              make([]byte, 32),
		cipherSuites:        []uint16{TLS_AES_128_GCM_SHA256},
		serverName:          testServerName,
		supportedGroups:     []uint16{uint16(X25519)},
		signatureAlgorithms: supportedSignatureSchemes,
		alpnProtocols:       []string{"h3"},
		supportedVersions:   []uint16{versionTLS13},
		keyShares:           []keyShare{ks.share},
		quicParams:          clientParams,
		hasQUICParams:       true,
		pskModes:            []uint8{pskModeDHE},
	}
}

func newTestServer(t *testing.T) *Conn {
	return newOurServer(t, baseServerConfig(testLeaf(leafOpts{key: "p256"})), serverParams)
}

func TestServerAlerts(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(m *clientHelloMsg)
		raw    func(b []byte) []byte
		want   AlertError
	}{
		{"valid", func(*clientHelloMsg) {}, nil, 0},
		{"noSupportedVersions", func(m *clientHelloMsg) { m.supportedVersions = []uint16{versionTLS12} }, nil, AlertProtocolVersion},
		{"sessionID", func(m *clientHelloMsg) { m.sessionID = []byte{1, 2, 3} }, nil, AlertIllegalParameter},
		{"noCommonSuite", func(m *clientHelloMsg) { m.cipherSuites = []uint16{0x1304} }, nil, AlertHandshakeFailure},
		{"noCommonGroup", func(m *clientHelloMsg) {
			m.supportedGroups = []uint16{0x9999}
			m.keyShares = []keyShare{{group: 0x9999, data: []byte{1}}}
		}, nil, AlertHandshakeFailure},
		{"shareOutsideSupportedGroups", func(m *clientHelloMsg) { m.supportedGroups = []uint16{uint16(CurveP256)} }, nil, AlertIllegalParameter},
		{"twoSharesOneGroup", func(m *clientHelloMsg) { m.keyShares = append(m.keyShares, m.keyShares[0]) }, nil, AlertIllegalParameter},
		{"lowOrderX25519", func(m *clientHelloMsg) { m.keyShares[0].data = make([]byte, 32) }, nil, AlertIllegalParameter},
		{"shortX25519", func(m *clientHelloMsg) { m.keyShares[0].data = []byte{1, 2, 3} }, nil, AlertIllegalParameter},
		{"noTransportParameters", func(m *clientHelloMsg) { m.hasQUICParams = false }, nil, AlertMissingExtension},
		{"alpnMismatch", func(m *clientHelloMsg) { m.alpnProtocols = []string{"h2"} }, nil, AlertNoApplicationProtocol},
		{"noSignatureAlgorithms", func(m *clientHelloMsg) { m.signatureAlgorithms = []uint16{0x0201} }, nil, AlertHandshakeFailure},
		{"pskWithoutModes", func(m *clientHelloMsg) {
			m.pskModes = nil
			m.pskIdentities = []pskIdentity{{identity: []byte("ticket")}}
			m.pskBinders = [][]byte{make([]byte, 32)}
		}, nil, AlertMissingExtension},
		{"noKeyShareNoGroups", func(m *clientHelloMsg) {
			m.supportedGroups = nil
			m.keyShares = nil
		}, nil, AlertMissingExtension},
		{"unknownTicket", func(m *clientHelloMsg) {
			// A ticket we cannot open means a full handshake.
			m.pskIdentities = []pskIdentity{{identity: []byte("not a ticket of ours")}}
			m.pskBinders = [][]byte{make([]byte, 32)}
		}, nil, 0},
		{"truncated", func(*clientHelloMsg) {}, func(b []byte) []byte {
			b = b[:len(b)-3]
			b[3] -= 3 // keep the message header consistent
			return b
		}, AlertDecodeError},
		{"compression", func(*clientHelloMsg) {}, func(b []byte) []byte {
			// legacy_compression_methods follows the suites: 01 00 -> 01 01.
			i := 4 + 2 + 32 + 1 + 2 + 2
			b[i+1] = 1
			return b
		}, AlertIllegalParameter},
		{"duplicateExtension", func(m *clientHelloMsg) { m.signatureAlgorithmsCert = m.signatureAlgorithms }, func(b []byte) []byte {
			// Rename signature_algorithms_cert (50) to signature_algorithms (13).
			for i := 0; i+4 < len(b); i++ {
				if b[i] == 0 && b[i+1] == 50 && b[i+2] == 0 && int(b[i+3]) == 2+2*len(supportedSignatureSchemes) {
					b[i+1] = 13
					break
				}
			}
			return b
		}, AlertIllegalParameter},
		{"keyUpdate", nil, func([]byte) []byte { return []byte{typeKeyUpdate, 0, 0, 1, 0} }, AlertUnexpectedMessage},
		{"finishedFirst", nil, func([]byte) []byte { return []byte{typeFinished, 0, 0, 1, 0} }, AlertUnexpectedMessage},
		{"oversized", nil, func([]byte) []byte { return []byte{typeClientHello, 0x10, 0, 0} }, AlertUnexpectedMessage},
		{"trailingDataAtInitial", func(*clientHelloMsg) {}, func(b []byte) []byte { return append(b, typeClientHello, 0) }, AlertUnexpectedMessage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b []byte
			if tc.mutate != nil {
				m := validClientHello(t)
				tc.mutate(m)
				b = m.marshal()
			}
			if tc.raw != nil {
				b = tc.raw(b)
			}
			s := newTestServer(t)
			err := s.HandleData(LevelInitial, b)
			if tc.want == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantAlert(t, err, tc.want)
			// The error sticks.
			wantAlert(t, s.HandleData(LevelInitial, []byte{1}), tc.want)
		})
	}
}

func TestServerWrongLevel(t *testing.T) {
	s := newTestServer(t)
	wantAlert(t, s.HandleData(LevelHandshake, validClientHello(t).marshal()), AlertUnexpectedMessage)
	s = newTestServer(t)
	wantAlert(t, s.HandleData(LevelEarly, []byte{1}), AlertUnexpectedMessage)
}

// serverAfterHello returns a server that answered a ClientHello and awaits
// the client's Finished at the Handshake level.
func serverAfterHello(t *testing.T) *Conn {
	s := newTestServer(t)
	if err := s.HandleData(LevelInitial, validClientHello(t).marshal()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestServerAlertsAfterHello(t *testing.T) {
	t.Run("badFinished", func(t *testing.T) {
		wantAlert(t, serverAfterHello(t).HandleData(LevelHandshake, marshalFinished(make([]byte, 32))), AlertDecryptError)
	})
	t.Run("endOfEarlyData", func(t *testing.T) {
		// RFC 9001 §8.3: EndOfEarlyData is not used in QUIC.
		wantAlert(t, serverAfterHello(t).HandleData(LevelHandshake, []byte{typeEndOfEarlyData, 0, 0, 0}), AlertUnexpectedMessage)
	})
	t.Run("clientHelloAgain", func(t *testing.T) {
		wantAlert(t, serverAfterHello(t).HandleData(LevelInitial, validClientHello(t).marshal()), AlertUnexpectedMessage)
	})
	t.Run("certificateUnrequested", func(t *testing.T) {
		wantAlert(t, serverAfterHello(t).HandleData(LevelHandshake, (&certificateMsg{}).marshal()), AlertUnexpectedMessage)
	})
}

func TestPSKBinderMismatch(t *testing.T) {
	cert := testLeaf(leafOpts{key: "p256"})
	scfg := baseServerConfig(cert)
	ccfg := baseClientConfig()
	ccfg.ClientSessionCache = NewLRUClientSessionCache(4)
	resumeOurs(t, ccfg, scfg, false)
	c := newOurClient(t, ccfg, clientParams)
	ev := c.NextEvent()
	hello := append([]byte(nil), ev.Data...)
	hello[len(hello)-1] ^= 1 // the binder is the last byte of the ClientHello
	s := newOurServer(t, scfg, serverParams)
	wantAlert(t, s.HandleData(LevelInitial, hello), AlertDecryptError)
}

// clientAfterServerHello returns a client that processed a real
// ServerHello, and the server's Handshake-level flight.
func clientAfterServerHello(t *testing.T) (*Conn, []byte) {
	c := newOurClient(t, baseClientConfig(), clientParams)
	s := newTestServer(t)
	ch := c.NextEvent()
	if err := s.HandleData(LevelInitial, ch.Data); err != nil {
		t.Fatal(err)
	}
	var flight []byte
	for ev := s.NextEvent(); ev.Kind != EventNone; ev = s.NextEvent() {
		if ev.Kind != EventWriteData {
			continue
		}
		if ev.Level == LevelInitial {
			if err := c.HandleData(LevelInitial, ev.Data); err != nil {
				t.Fatal(err)
			}
		} else {
			flight = append(flight, ev.Data...)
		}
	}
	return c, flight
}

func TestClientAlerts(t *testing.T) {
	serverHello := func(t *testing.T, mutate func(*serverHelloMsg)) error {
		c := newOurClient(t, baseClientConfig(), clientParams)
		s := newTestServer(t)
		if err := s.HandleData(LevelInitial, c.NextEvent().Data); err != nil {
			t.Fatal(err)
		}
		ev := s.NextEvent()
		for ev.Kind != EventWriteData {
			ev = s.NextEvent()
		}
		sh, err := parseServerHello(ev.Data[4:])
		if err != nil {
			t.Fatal(err)
		}
		mutate(sh)
		return c.HandleData(LevelInitial, sh.marshal())
	}
	t.Run("suiteNotOffered", func(t *testing.T) {
		wantAlert(t, serverHello(t, func(m *serverHelloMsg) { m.cipherSuite = 0x1304 }), AlertIllegalParameter)
	})
	t.Run("tls12", func(t *testing.T) {
		wantAlert(t, serverHello(t, func(m *serverHelloMsg) { m.supportedVersion = versionTLS12 }), AlertProtocolVersion)
	})
	t.Run("groupNotSent", func(t *testing.T) {
		wantAlert(t, serverHello(t, func(m *serverHelloMsg) { m.keyShare.group = uint16(CurveP256) }), AlertIllegalParameter)
	})
	t.Run("unofferedPSK", func(t *testing.T) {
		wantAlert(t, serverHello(t, func(m *serverHelloMsg) { m.hasPSK = true }), AlertIllegalParameter)
	})
	t.Run("secondHelloRetryRequest", func(t *testing.T) {
		hrr := func(m *serverHelloMsg) {
			m.random = helloRetryRequestRandom[:]
			m.selectedGroup = uint16(CurveP256)
		}
		c := newOurClient(t, baseClientConfig(), clientParams)
		c.NextEvent()
		m := &serverHelloMsg{random: make([]byte, 32), cipherSuite: TLS_AES_128_GCM_SHA256, supportedVersion: versionTLS13}
		hrr(m)
		if err := c.HandleData(LevelInitial, m.marshal()); err != nil {
			t.Fatal(err)
		}
		m.selectedGroup = uint16(CurveP384)
		wantAlert(t, c.HandleData(LevelInitial, m.marshal()), AlertUnexpectedMessage)
	})
	t.Run("retryForSentGroup", func(t *testing.T) {
		c := newOurClient(t, baseClientConfig(), clientParams)
		c.NextEvent()
		m := &serverHelloMsg{random: helloRetryRequestRandom[:], cipherSuite: TLS_AES_128_GCM_SHA256, supportedVersion: versionTLS13, selectedGroup: uint16(X25519)}
		wantAlert(t, c.HandleData(LevelInitial, m.marshal()), AlertIllegalParameter)
	})
	t.Run("badServerFinished", func(t *testing.T) {
		c, flight := clientAfterServerHello(t)
		flight[len(flight)-1] ^= 1
		wantAlert(t, c.HandleData(LevelHandshake, flight), AlertDecryptError)
	})
	t.Run("unsolicitedEarlyData", func(t *testing.T) {
		c, _ := clientAfterServerHello(t)
		ee := (&encryptedExtensionsMsg{alpnProtocol: "h3", quicParams: serverParams, hasQUICParams: true, earlyData: true}).marshal()
		wantAlert(t, c.HandleData(LevelHandshake, ee), AlertUnsupportedExtension)
	})
	t.Run("unofferedALPN", func(t *testing.T) {
		c, _ := clientAfterServerHello(t)
		ee := (&encryptedExtensionsMsg{alpnProtocol: "h2", quicParams: serverParams, hasQUICParams: true}).marshal()
		wantAlert(t, c.HandleData(LevelHandshake, ee), AlertIllegalParameter)
	})
	t.Run("noALPN", func(t *testing.T) {
		c, _ := clientAfterServerHello(t)
		ee := (&encryptedExtensionsMsg{quicParams: serverParams, hasQUICParams: true}).marshal()
		wantAlert(t, c.HandleData(LevelHandshake, ee), AlertNoApplicationProtocol)
	})
	t.Run("emptyCertificate", func(t *testing.T) {
		c, flight := clientAfterServerHello(t)
		ee := flight[:4+int(flight[3])]
		if err := c.HandleData(LevelHandshake, ee); err != nil {
			t.Fatal(err)
		}
		wantAlert(t, c.HandleData(LevelHandshake, (&certificateMsg{}).marshal()), AlertDecodeError)
	})
	t.Run("afterHandshake", func(t *testing.T) {
		c, flight := clientAfterServerHello(t)
		if err := c.HandleData(LevelHandshake, flight); err != nil {
			t.Fatal(err)
		}
		nst := &newSessionTicketMsg{lifetime: 10, ticket: []byte{1}, hasEarlyData: true, maxEarlyData: 1000}
		wantAlert(t, c.HandleData(LevelApplication, nst.marshal()), AlertIllegalParameter)
	})
	t.Run("keyUpdate", func(t *testing.T) {
		c, flight := clientAfterServerHello(t)
		if err := c.HandleData(LevelHandshake, flight); err != nil {
			t.Fatal(err)
		}
		// RFC 9001 §6: QUIC forbids the TLS KeyUpdate message.
		wantAlert(t, c.HandleData(LevelApplication, []byte{typeKeyUpdate, 0, 0, 1, 0}), AlertUnexpectedMessage)
	})
	t.Run("byteAtATime", func(t *testing.T) {
		c, flight := clientAfterServerHello(t)
		for i := range flight {
			if err := c.HandleData(LevelHandshake, flight[i:i+1]); err != nil {
				t.Fatal(err)
			}
		}
		if !c.ConnectionState().HandshakeComplete {
			t.Fatal("handshake not complete")
		}
	})
}

func TestConnMisuse(t *testing.T) {
	c := Client(baseClientConfig(), clientParams)
	if err := c.HandleData(LevelInitial, []byte{1}); err == nil {
		t.Error("HandleData before Start succeeded")
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err == nil {
		t.Error("second Start succeeded")
	}
	if err := c.SendSessionTicket(false); err == nil {
		t.Error("a client sent a ticket")
	}
	bad := baseClientConfig()
	bad.ServerName = ""
	if err := Client(bad, nil).Start(); err == nil {
		t.Error("client without ServerName started")
	}
	bad = baseClientConfig()
	bad.CipherSuites = []uint16{0x1304}
	if err := Client(bad, nil).Start(); err == nil {
		t.Error("unsupported suite accepted")
	}
	if err := Server(&Config{}, nil).Start(); err == nil {
		t.Error("server without certificates started")
	}
	if AlertDecodeError.QUICErrorCode() != 0x132 {
		t.Errorf("CRYPTO_ERROR for decode_error = %#x", AlertDecodeError.QUICErrorCode())
	}
}

func TestLimits(t *testing.T) {
	chain, key := intermediateChain(t)
	cert := Certificate{Certificate: chain, PrivateKey: key}
	t.Run("chainLength", func(t *testing.T) {
		ccfg := baseClientConfig()
		ccfg.MaxCertificateChainLength = 1
		h, _, _ := ourClientOurServer(t, ccfg, baseServerConfig(cert))
		if a, _ := alertOf(h.cr.err); AlertError(a) != AlertBadCertificate {
			t.Errorf("client error %v, want bad_certificate", h.cr.err)
		}
	})
	t.Run("messageSize", func(t *testing.T) {
		ccfg := baseClientConfig()
		ccfg.MaxHandshakeMessageSize = 200 // smaller than the Certificate message
		h, _, _ := ourClientOurServer(t, ccfg, baseServerConfig(cert))
		if a, _ := alertOf(h.cr.err); AlertError(a) != AlertUnexpectedMessage {
			t.Errorf("client error %v, want unexpected_message", h.cr.err)
		}
	})
}

func TestServerNameForSNI(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":  "example.com",
		"example.com.": "example.com",
		"192.0.2.1":    "",
		"2001:db8::1":  "",
		"[::1]":        "",
		"fe80::1%eth0": "",
		"1.2.3":        "1.2.3", // not an address: a name
		"123":          "123",
		"localhost":    "localhost",
	} {
		if got := serverNameForSNI(in); got != want {
			t.Errorf("serverNameForSNI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestServerByteAtATime(t *testing.T) {
	s := newTestServer(t)
	ch := validClientHello(t).marshal()
	for i := range ch {
		if err := s.HandleData(LevelInitial, ch[i:i+1]); err != nil {
			t.Fatalf("byte %d: %v", i, err)
		}
	}
	if s.ConnectionState().CipherSuite != TLS_AES_128_GCM_SHA256 {
		t.Fatal("ClientHello not processed")
	}
}
