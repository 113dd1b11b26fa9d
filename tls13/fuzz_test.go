package tls13

import (
	"errors"
	"testing"
)

// Fuzz targets: every handshake message parser, the ticket plaintext
// parser, and whole handshakes fed fuzzed peer messages. None may panic;
// every handshake error must carry an alert.

func seedMessages(f *testing.F, typ uint8) {
	for _, m := range recordedMessages(f) {
		if m[0] == typ {
			f.Add(m[4:])
		}
	}
}

// recordedMessages returns the messages of one handshake between our client
// and server with client authentication, plus a ticket.
func recordedMessages(tb testing.TB) [][]byte {
	cert := testLeaf(leafOpts{key: "p256"})
	scfg := baseServerConfig(cert)
	scfg.ClientAuth = RequestClientCert
	ccfg := baseClientConfig()
	ccfg.Certificates = []Certificate{testLeaf(leafOpts{key: "p256", client: true})}
	c := newOurClient(tb, ccfg, clientParams)
	s := newOurServer(tb, scfg, serverParams)
	var msgs [][]byte
	collect := func(e endpoint, to endpoint) {
		for ev := e.next(); ev.kind != EventNone; ev = e.next() {
			if ev.kind == EventWriteData {
				for b := ev.data; len(b) >= 4; {
					n := 4 + (int(b[1])<<16 | int(b[2])<<8 | int(b[3]))
					msgs = append(msgs, b[:n])
					b = b[n:]
				}
				_ = to.handle(ev.level, ev.data)
			}
		}
	}
	for i := 0; i < 4; i++ {
		collect(ourEndpoint{c}, ourEndpoint{s})
		collect(ourEndpoint{s}, ourEndpoint{c})
	}
	if s.HandleData(LevelApplication, nil) == nil && s.ConnectionState().HandshakeComplete {
		_ = s.SendSessionTicket(true)
		collect(ourEndpoint{s}, ourEndpoint{c})
	}
	return msgs
}

func FuzzClientHelloMsg(f *testing.F) {
	seedMessages(f, typeClientHello)
	v := loadRFC8448Vectors(f)
	f.Add(v["s3_client_hello"][4:])
	f.Add(v["s4_client_hello"][4:])
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseClientHello(body)
		if err != nil || len(body) > 60000 {
			return
		}
		if _, err := parseClientHello(m.marshal()[4:]); err != nil {
			t.Fatalf("re-parse of marshalled ClientHello: %v", err)
		}
	})
}

func FuzzServerHelloMsg(f *testing.F) {
	seedMessages(f, typeServerHello)
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseServerHello(body)
		if err != nil {
			return
		}
		_ = m.isHelloRetryRequest()
	})
}

func FuzzEncryptedExtensionsMsg(f *testing.F) {
	seedMessages(f, typeEncryptedExtensions)
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseEncryptedExtensions(body)
		if err != nil {
			return
		}
		if _, err := parseEncryptedExtensions(m.marshal()[4:]); err != nil {
			t.Fatalf("re-parse: %v", err)
		}
	})
}

func FuzzCertificateMsg(f *testing.F) {
	seedMessages(f, typeCertificate)
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseCertificate(body, 10)
		if err != nil {
			return
		}
		if len(m.certificates) > 10 {
			t.Fatal("chain limit not enforced")
		}
	})
}

func FuzzCertificateRequestMsg(f *testing.F) {
	seedMessages(f, typeCertificateRequest)
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = parseCertificateRequest(body)
	})
}

func FuzzCertificateVerifyMsg(f *testing.F) {
	seedMessages(f, typeCertificateVerify)
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = parseCertificateVerify(body)
	})
}

func FuzzNewSessionTicketMsg(f *testing.F) {
	seedMessages(f, typeNewSessionTicket)
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseNewSessionTicket(body)
		if err != nil {
			return
		}
		if _, err := parseNewSessionTicket(m.marshal()[4:]); err != nil {
			t.Fatalf("re-parse: %v", err)
		}
	})
}

func FuzzSessionStateBlob(f *testing.F) {
	f.Add((&sessionState{suite: TLS_AES_128_GCM_SHA256, psk: make([]byte, 32), alpn: "h3", appData: []byte("tp"), peerCertsDER: [][]byte{{1, 2}}}).marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseSessionState(b)
	})
}

// splitFlight separates a fuzz input into data for two levels: a 2-byte
// length, that many bytes for the first level, the rest for the second.
func splitFlight(b []byte) (first, second []byte) {
	if len(b) < 2 {
		return b, nil
	}
	n := int(b[0])<<8 | int(b[1])
	b = b[2:]
	if n > len(b) {
		n = len(b)
	}
	return b[:n], b[n:]
}

func joinFlight(first, second []byte) []byte {
	out := []byte{byte(len(first) >> 8), byte(len(first))}
	return append(append(out, first...), second...)
}

func requireAlert(t *testing.T, err error) {
	t.Helper()
	var a AlertError
	if err != nil && !errors.As(err, &a) {
		t.Fatalf("error without an alert: %v", err)
	}
}

// recordedClientFlight returns the recorded ClientHello, and the client's
// Certificate, CertificateVerify and Finished one after another.
func recordedClientFlight(f *testing.F) (ch, flight []byte) {
	for _, m := range recordedMessages(f) {
		switch m[0] {
		case typeClientHello:
			ch = m
		case typeCertificate, typeCertificateVerify, typeFinished:
			flight = append(flight, m...)
		}
	}
	return ch, flight
}

// FuzzDriveServer feeds a server a fuzzed ClientHello (Initial) and fuzzed
// client flight (Handshake).
func FuzzDriveServer(f *testing.F) {
	ch, flight := recordedClientFlight(f)
	f.Add(joinFlight(ch, flight))
	f.Add(joinFlight(ch, nil))
	cert := testLeaf(leafOpts{key: "p256"})
	scfg := baseServerConfig(cert)
	scfg.ClientAuth = VerifyClientCertIfGiven
	scfg.ClientCAs = getPKI().roots
	// A ClientHello resuming a ticket of this server, with 0-RTT, so the
	// fuzzer reaches ticket decryption, binders and the replay filter.
	ccfg := baseClientConfig()
	ccfg.ClientSessionCache = NewLRUClientSessionCache(1)
	resumeOurs(f, ccfg, scfg, true)
	resuming := newOurClient(f, ccfg, clientParams)
	f.Add(joinFlight(resuming.NextEvent().Data, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		first, second := splitFlight(b)
		s := Server(scfg, serverParams)
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		err := s.HandleData(LevelInitial, first)
		requireAlert(t, err)
		if err == nil {
			requireAlert(t, s.HandleData(LevelHandshake, second))
		}
		for ev := s.NextEvent(); ev.Kind != EventNone; ev = s.NextEvent() {
		}
	})
}

// FuzzDriveClient feeds a client a fuzzed ServerHello (Initial) and fuzzed
// server flight (Handshake). Handshake messages are not encrypted here, so
// they are parsed whatever the keys.
func FuzzDriveClient(f *testing.F) {
	msgs := recordedMessages(f)
	var sh, flight []byte
	for _, m := range msgs {
		switch m[0] {
		case typeServerHello:
			sh = m
		case typeEncryptedExtensions, typeCertificateRequest, typeCertificate, typeCertificateVerify:
			flight = append(flight, m...)
		}
	}
	f.Add(joinFlight(sh, flight))
	ccfg := baseClientConfig()
	ccfg.InsecureSkipVerify = true
	f.Fuzz(func(t *testing.T, b []byte) {
		first, second := splitFlight(b)
		c := Client(ccfg, clientParams)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		err := c.HandleData(LevelInitial, first)
		requireAlert(t, err)
		if err == nil {
			requireAlert(t, c.HandleData(LevelHandshake, second))
		}
		for ev := c.NextEvent(); ev.Kind != EventNone; ev = c.NextEvent() {
		}
	})
}
