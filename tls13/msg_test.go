package tls13

import (
	"reflect"
	"testing"
)

func TestMessageRoundTrips(t *testing.T) {
	sh := &serverHelloMsg{random: make([]byte, 32), sessionID: []byte{}, cipherSuite: TLS_AES_256_GCM_SHA384, supportedVersion: versionTLS13,
		keyShare: keyShare{group: uint16(X25519), data: make([]byte, 32)}, hasPSK: true, selectedIdentity: 0}
	if got, err := parseServerHello(sh.marshal()[4:]); err != nil || !reflect.DeepEqual(got, sh) {
		t.Errorf("ServerHello: %v\n%+v\n%+v", err, got, sh)
	}
	hrr := &serverHelloMsg{random: helloRetryRequestRandom[:], sessionID: []byte{}, cipherSuite: TLS_AES_128_GCM_SHA256,
		supportedVersion: versionTLS13, selectedGroup: uint16(CurveP256), cookie: []byte("c")}
	got, err := parseServerHello(hrr.marshal()[4:])
	if err != nil || !got.isHelloRetryRequest() || got.selectedGroup != uint16(CurveP256) || string(got.cookie) != "c" {
		t.Errorf("HelloRetryRequest: %v %+v", err, got)
	}
	ee := &encryptedExtensionsMsg{alpnProtocol: "h3", quicParams: []byte{1, 2}, hasQUICParams: true, earlyData: true}
	if got, err := parseEncryptedExtensions(ee.marshal()[4:]); err != nil || !reflect.DeepEqual(got, ee) {
		t.Errorf("EncryptedExtensions: %v %+v", err, got)
	}
	cr := &certificateRequestMsg{context: []byte{}, signatureAlgorithms: []uint16{0x0403}, signatureAlgorithmsCert: []uint16{0x0401}}
	if got, err := parseCertificateRequest(cr.marshal()[4:]); err != nil || !reflect.DeepEqual(got, cr) {
		t.Errorf("CertificateRequest: %v %+v", err, got)
	}
	cm := &certificateMsg{context: []byte{}, certificates: [][]byte{{1}, {2, 3}}}
	if got, err := parseCertificate(cm.marshal()[4:], 2); err != nil || !reflect.DeepEqual(got, cm) {
		t.Errorf("Certificate: %v %+v", err, got)
	}
	wantAlert(t, func() error { _, err := parseCertificate(cm.marshal()[4:], 1); return err }(), AlertBadCertificate)
	cv := &certificateVerifyMsg{scheme: 0x0807, signature: []byte{9, 9}}
	if got, err := parseCertificateVerify(cv.marshal()[4:]); err != nil || !reflect.DeepEqual(got, cv) {
		t.Errorf("CertificateVerify: %v %+v", err, got)
	}
	nst := &newSessionTicketMsg{lifetime: 100, ageAdd: 7, nonce: []byte{0}, ticket: []byte{1, 2}, maxEarlyData: maxEarlyDataQUIC, hasEarlyData: true}
	if got, err := parseNewSessionTicket(nst.marshal()[4:]); err != nil || !reflect.DeepEqual(got, nst) {
		t.Errorf("NewSessionTicket: %v %+v", err, got)
	}
	nst.lifetime = maxTicketLifetime + 1
	wantAlert(t, func() error { _, err := parseNewSessionTicket(nst.marshal()[4:]); return err }(), AlertIllegalParameter)

	// RFC 8446 §4.2: a ServerHello extension the client never offers.
	raw := sh.marshal()
	raw = append(raw, 0, byte(extALPN), 0, 0)
	raw[3] += 4
	raw[4+2+32+1+2+1+1] += 4 // extensions length (low byte)
	wantAlert(t, func() error { _, err := parseServerHello(raw[4:]); return err }(), AlertUnsupportedExtension)
}

func TestSessionStateRoundTrip(t *testing.T) {
	s := &sessionState{suite: TLS_CHACHA20_POLY1305_SHA256, createdAt: 12345, ageAdd: 9, lifetime: 3600,
		psk: []byte{1, 2, 3}, alpn: "h3", earlyData: true, appData: []byte("tp"), peerCertsDER: [][]byte{{4}, {5, 6}}}
	got, ok := parseSessionState(s.marshal())
	if !ok || !reflect.DeepEqual(got, s) {
		t.Fatalf("%v %+v", ok, got)
	}
	keys := []ticketKey{}
	for _, k := range [][32]byte{{1}, {2}} {
		tk, err := newTicketKey(k)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tk)
	}
	ticket, err := sealTicket(keys, s, randReader{})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := openTicket(keys[1:], ticket); ok || got != nil {
		t.Error("opened with the wrong key")
	}
	if got, ok := openTicket(keys, ticket); !ok || !reflect.DeepEqual(got, s) {
		t.Error("round trip failed")
	}
	ticket[len(ticket)-1] ^= 1
	if _, ok := openTicket(keys, ticket); ok {
		t.Error("opened a forged ticket")
	}
}

type randReader struct{}

func (randReader) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(i)
	}
	return len(b), nil
}
