package tls13

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"io"
	"time"
)

// serverHandshake is the server's state, one method per step in the order
// of RFC 8446 §2: ClientHello (answered by a HelloRetryRequest or by
// ServerHello, EncryptedExtensions, [CertificateRequest, Certificate,
// CertificateVerify,] Finished), then the client's [Certificate,
// CertificateVerify,] Finished.
type serverHandshake struct {
	c     *Conn
	hello *clientHelloMsg

	suite      *cipherSuite
	group      CurveID
	transcript transcript
	// hrrSent records that a HelloRetryRequest asked for group.
	hrrSent   bool
	hrrPrefix []byte
	cookie    []byte

	selectedIdentity uint16

	session     *sessionState // the accepted ticket, if resuming
	earlySecret []byte
	hsSecret    []byte
	clientHS    []byte
	master      []byte
	clientAP    []byte

	certRequested bool
	peerCerts     []*x509.Certificate
	// step handles the next message: a method expression, not a method
	// value, which would allocate a closure at every step.
	step func(hs *serverHandshake, level Level, msg []byte) error

	random [32]byte // the ServerHello's
	// secrets holds the secrets from the handshake secret on; the
	// handshake state goes at completion (Conn.server).
	secrets secretSpace
}

func (hs *serverHandshake) handleMessage(level Level, msg []byte) error {
	if hs.step == nil {
		hs.step = (*serverHandshake).readClientHello
	}
	return hs.step(hs, level, msg)
}

func (hs *serverHandshake) readClientHello(level Level, msg []byte) error {
	if msg[0] != typeClientHello {
		return alertf(AlertUnexpectedMessage, "expected ClientHello")
	}
	ch, err := parseClientHello(msg[4:])
	if err != nil {
		return err
	}
	c := hs.c
	if hs.hrrSent {
		if err := hs.checkSecondHello(ch); err != nil {
			return err
		}
	}
	// RFC 8446 §4.2.1: TLS 1.3 is negotiated only by supported_versions.
	if !containsU16(ch.supportedVersions, versionTLS13) {
		return alertf(AlertProtocolVersion, "client does not offer TLS 1.3")
	}
	// RFC 9001 §8.4: a QUIC client's legacy_session_id is empty.
	if len(ch.sessionID) != 0 {
		return alertf(AlertIllegalParameter, "non-empty legacy_session_id in QUIC")
	}
	// RFC 9001 §8.2: the extension is mandatory.
	if !ch.hasQUICParams {
		return alertf(AlertMissingExtension, "no quic_transport_parameters")
	}
	// RFC 8446 §9.2: key_share requires supported_groups and vice versa.
	if len(ch.supportedGroups) == 0 || len(ch.signatureAlgorithms) == 0 {
		return alertf(AlertMissingExtension, "ClientHello lacks supported_groups or signature_algorithms")
	}
	// RFC 8446 §4.2.9: pre_shared_key requires psk_key_exchange_modes.
	if len(ch.pskIdentities) > 0 && len(ch.pskModes) == 0 {
		return alertf(AlertMissingExtension, "pre_shared_key without psk_key_exchange_modes")
	}
	hs.hello = ch

	suite := hs.chooseSuite(ch)
	if suite == nil {
		return alertf(AlertHandshakeFailure, "no common cipher suite")
	}
	if hs.hrrSent && suite != hs.suite {
		return alertf(AlertIllegalParameter, "cipher suite changed after HelloRetryRequest")
	}
	hs.suite = suite
	alpn, err := hs.chooseALPN(ch)
	if err != nil {
		return err
	}
	group, share, err := hs.chooseGroup(ch)
	if err != nil {
		return err
	}
	if share == nil {
		return hs.sendHelloRetryRequest(msg, group)
	}
	hs.group = group
	if !hs.hrrSent {
		hs.transcript.h = suite.newHash()
	}

	// Reported once, from the ClientHello the handshake goes on with.
	c.peerParams = append([]byte(nil), ch.quicParams...)
	c.emit(Event{Kind: EventTransportParameters, Data: c.peerParams})
	if err := c.applyParamsFunc(c.peerParams); err != nil {
		return err
	}
	c.state.Version = versionTLS13
	c.state.CipherSuite = suite.id
	c.state.Group = group
	c.state.ServerName = ch.serverName
	c.state.NegotiatedProtocol = alpn

	earlyAccepted, err := hs.checkPSK(ch, msg)
	if err != nil {
		return err
	}
	if hs.session == nil {
		hs.earlySecret = suite.earlySecret(nil)
	}
	if earlyAccepted {
		// RFC 8446 §7.1: client_early_traffic_secret over ClientHello.
		secret := suite.deriveSecret(hs.earlySecret, labelClientEarly, suite.transcriptHashOf(msg))
		c.keyLog(keyLogClientEarly, ch.random, secret)
		c.setReadSecret(LevelEarly, suite, secret)
		c.state.EarlyDataAccepted = true
	}

	serverHS, err := hs.sendServerHello(msg, share)
	if err != nil {
		return err
	}
	return hs.sendServerParameters(alpn, earlyAccepted, serverHS)
}

// sendServerHello completes the key exchange, answers with ServerHello at
// the Initial level and installs the handshake secrets (RFC 8446 §7.1). It
// returns the server handshake traffic secret.
func (hs *serverHandshake) sendServerHello(clientHello, clientShare []byte) ([]byte, error) {
	c := hs.c
	suite := hs.suite
	random := hs.hello.random
	serverShare, serverShareTail, shared, err := serverKeyExchange(hs.group, clientShare, c.config.rand())
	if err != nil {
		return nil, err
	}
	sh := &serverHelloMsg{
		random:           hs.random[:],
		cipherSuite:      suite.id,
		supportedVersion: versionTLS13,
		keyShare:         keyShare{uint16(hs.group), serverShare, serverShareTail},
		hasPSK:           hs.session != nil,
		selectedIdentity: hs.selectedIdentity,
	}
	if _, err := io.ReadFull(c.config.rand(), sh.random); err != nil {
		return nil, alertCause(AlertInternalError, "random", err)
	}
	shRaw := sh.marshal()
	hs.transcript.add(clientHello, shRaw)
	c.writeData(LevelInitial, shRaw)

	th := hs.transcript.sum()
	hs.hsSecret = suite.handshakeSecret(&hs.secrets, hs.earlySecret, shared)
	hs.clientHS = suite.deriveSecretIn(&hs.secrets, hs.hsSecret, labelClientHS, th)
	serverHS := suite.deriveSecretIn(&hs.secrets, hs.hsSecret, labelServerHS, th)
	c.keyLog(keyLogClientHS, random, hs.clientHS)
	c.keyLog(keyLogServerHS, random, serverHS)
	c.setWriteSecret(LevelHandshake, suite, serverHS)
	c.setReadSecret(LevelHandshake, suite, hs.clientHS)
	return serverHS, nil
}

// sendServerParameters sends EncryptedExtensions through Finished at the
// Handshake level and installs the 1-RTT write secret.
func (hs *serverHandshake) sendServerParameters(alpn string, earlyAccepted bool, serverHS []byte) error {
	c := hs.c
	suite := hs.suite
	flight, err := hs.serverFlight(alpn, earlyAccepted, serverHS)
	if err != nil {
		return err
	}
	c.writeData(LevelHandshake, flight)

	hs.master = suite.masterSecret(&hs.secrets, hs.hsSecret)
	th := hs.transcript.sum()
	hs.clientAP = suite.deriveSecretIn(&hs.secrets, hs.master, labelClientAP, th)
	serverAP := suite.deriveSecretIn(&hs.secrets, hs.master, labelServerAP, th)
	c.keyLog(keyLogClientAP, hs.hello.random, hs.clientAP)
	c.keyLog(keyLogServerAP, hs.hello.random, serverAP)
	// RFC 9001 §4.1.1: the server may send 1-RTT data (0.5-RTT) now.
	c.setWriteSecret(LevelApplication, suite, serverAP)

	c.readLevel = LevelHandshake
	if hs.certRequested {
		hs.step = (*serverHandshake).readClientCertificate
	} else {
		hs.step = (*serverHandshake).readClientFinished
	}
	return nil
}

// chooseSuite takes the client's most preferred suite that we allow.
func (hs *serverHandshake) chooseSuite(ch *clientHelloMsg) *cipherSuite {
	ours := hs.c.config.cipherSuites()
	for _, id := range ch.cipherSuites {
		if containsU16(ours, id) {
			return cipherSuiteByID(id)
		}
	}
	return nil
}

// chooseALPN takes our most preferred protocol the client offers
// (RFC 7301 §3.2); none in common is no_application_protocol.
func (hs *serverHandshake) chooseALPN(ch *clientHelloMsg) (string, error) {
	ours := hs.c.config.NextProtos
	if len(ours) == 0 {
		return "", nil
	}
	for _, p := range ours {
		if containsString(ch.alpnProtocols, p) {
			return p, nil
		}
	}
	// RFC 9001 §8.1: QUIC requires an application protocol.
	return "", alertf(AlertNoApplicationProtocol, "no common ALPN protocol")
}

// chooseGroup picks the key exchange. Our most preferred group the client
// sent a share for wins; otherwise our most preferred group the client
// supports, via HelloRetryRequest (share nil).
func (hs *serverHandshake) chooseGroup(ch *clientHelloMsg) (CurveID, []byte, error) {
	// RFC 8446 §4.2.8: each share must be for an offered group, at most
	// once per group.
	for i, ks := range ch.keyShares {
		if !containsU16(ch.supportedGroups, ks.group) {
			return 0, nil, alertf(AlertIllegalParameter, "key_share for a group not in supported_groups")
		}
		for _, prev := range ch.keyShares[:i] {
			if prev.group == ks.group {
				return 0, nil, alertf(AlertIllegalParameter, "two key_shares for one group")
			}
		}
	}
	prefs := hs.c.config.curves()
	for _, g := range prefs {
		for _, ks := range ch.keyShares {
			if ks.group == uint16(g) {
				return g, ks.data, nil
			}
		}
	}
	for _, g := range prefs {
		if containsU16(ch.supportedGroups, uint16(g)) {
			if hs.hrrSent {
				// RFC 8446 §4.1.2: the retried ClientHello must
				// carry the share the HelloRetryRequest asked for.
				return 0, nil, alertf(AlertIllegalParameter, "second ClientHello lacks the requested key_share")
			}
			return g, nil, nil
		}
	}
	return 0, nil, alertf(AlertHandshakeFailure, "no common key exchange group")
}

// sendHelloRetryRequest asks for a share of group (RFC 8446 §4.1.4) and
// restarts the transcript with message_hash (§4.4.1).
func (hs *serverHandshake) sendHelloRetryRequest(ch1 []byte, group CurveID) error {
	s := hs.suite
	if hs.c.config.HelloRetryCookie && hs.cookie == nil {
		hs.cookie = make([]byte, 16)
		if _, err := io.ReadFull(hs.c.config.rand(), hs.cookie); err != nil {
			return alertCause(AlertInternalError, "random", err)
		}
	}
	hrr := &serverHelloMsg{
		random:           helloRetryRequestRandom[:],
		cipherSuite:      s.id,
		supportedVersion: versionTLS13,
		selectedGroup:    uint16(group),
		cookie:           hs.cookie,
	}
	raw := hrr.marshal()
	hs.hrrPrefix = append(s.messageHash(ch1), raw...)
	hs.transcript.h = s.newHash()
	hs.transcript.add(hs.hrrPrefix)
	hs.hrrSent = true
	hs.c.state.HelloRetryRequest = true
	hs.group = group
	hs.c.writeData(LevelInitial, raw)
	return nil
}

// checkSecondHello enforces what RFC 8446 §4.1.2 allows to change in the
// ClientHello after a HelloRetryRequest.
func (hs *serverHandshake) checkSecondHello(ch *clientHelloMsg) error {
	if ch.earlyData {
		return alertf(AlertIllegalParameter, "early_data after HelloRetryRequest")
	}
	if string(ch.cookie) != string(hs.cookie) {
		return alertf(AlertIllegalParameter, "cookie not echoed")
	}
	if len(ch.keyShares) != 1 || ch.keyShares[0].group != uint16(hs.group) {
		return alertf(AlertIllegalParameter, "second ClientHello lacks the requested key_share")
	}
	if string(ch.random) != string(hs.hello.random) {
		return alertf(AlertIllegalParameter, "ClientHello random changed after HelloRetryRequest")
	}
	return nil
}

// checkPSK looks for a usable ticket among the offered identities
// (RFC 8446 §4.2.11) and decides whether 0-RTT is accepted (§4.2.10).
func (hs *serverHandshake) checkPSK(ch *clientHelloMsg, raw []byte) (earlyAccepted bool, err error) {
	c := hs.c
	cfg := c.config
	if len(ch.pskIdentities) == 0 || cfg.SessionTicketsDisabled {
		return false, nil
	}
	// RFC 8446 §4.2.9: without psk_key_exchange_modes the PSK is unusable;
	// we only do psk_dhe_ke.
	if !containsU8(ch.pskModes, pskModeDHE) {
		return false, nil
	}
	keys, err := cfg.ticketKeys()
	if err != nil {
		return false, alertCause(AlertInternalError, "session ticket keys", err)
	}
	now := cfg.now()
	const maxTried = 4 // bound the work a ClientHello can cause
	for i, id := range ch.pskIdentities {
		if i >= maxTried {
			break
		}
		sess, ok := openTicket(keys, id.identity)
		if !ok {
			continue
		}
		created := int64(sess.createdAt)
		ageMS := now.UnixMilli() - created
		if ageMS < 0 || ageMS > int64(sess.lifetime)*1000 {
			continue
		}
		if cipherSuiteByID(sess.suite).hash != hs.suite.hash {
			continue
		}
		// The session's client certificate, when the policy needs one.
		if (cfg.ClientAuth == RequireAnyClientCert || cfg.ClientAuth == RequireAndVerifyClientCert) && len(sess.peerCertsDER) == 0 {
			continue
		}
		resume, earlyOK := c.checkTicket(sess.appData)
		if !resume {
			continue
		}
		s := hs.suite
		early := s.earlySecret(sess.psk)
		binderKey := s.deriveSecret(early, labelResBinder, nil)
		truncated := raw[:len(raw)-bindersLen(ch.pskBinders)]
		h := s.newHash()
		if hs.hrrSent {
			// The transcript so far: message_hash | HelloRetryRequest.
			h.Write(hs.hrrPrefix)
		}
		h.Write(truncated)
		var buf [64]byte
		want := s.finishedMAC(buf[:0], binderKey, h.Sum(nil))
		// RFC 8446 §4.2.11.2: a binder that does not verify aborts.
		if !hmac.Equal(want, ch.pskBinders[i]) {
			return false, alertf(AlertDecryptError, "PSK binder does not verify")
		}
		var certs []*x509.Certificate
		if len(sess.peerCertsDER) > 0 {
			if certs, err = parseChain(sess.peerCertsDER); err != nil {
				return false, alertf(AlertInternalError, "ticket holds a bad certificate")
			}
			// A client certificate that expired since does not
			// authenticate a resumed session.
			if cfg.ClientAuth >= VerifyClientCertIfGiven && now.After(certs[0].NotAfter) {
				continue
			}
		}
		hs.session = sess
		hs.earlySecret = early
		hs.selectedIdentity = uint16(i)
		c.state.DidResume = true
		c.state.PeerCertificates = certs
		hs.peerCerts = certs
		return earlyOK && hs.acceptEarlyData(ch, sess, i, id.obfuscatedTicketAge, now), nil
	}
	return false, nil
}

// acceptEarlyData applies RFC 8446 §4.2.10 and §8 to a resumed ClientHello
// that offers 0-RTT.
func (hs *serverHandshake) acceptEarlyData(ch *clientHelloMsg, sess *sessionState, identity int, obfuscatedAge uint32, now time.Time) bool {
	cfg := hs.c.config
	if !ch.earlyData || hs.hrrSent || identity != 0 || !sess.earlyData {
		return false
	}
	if cipherSuiteByID(sess.suite) != hs.suite || sess.alpn != hs.c.state.NegotiatedProtocol {
		return false
	}
	// RFC 8446 §8.3: the client's view of the ticket age must match ours
	// within the window, so a ClientHello replayed later fails.
	clientAge := int64(obfuscatedAge - sess.ageAdd)
	serverAge := now.UnixMilli() - int64(sess.createdAt)
	if d := serverAge - clientAge; d > replayWindow.Milliseconds() || d < -replayWindow.Milliseconds() {
		return false
	}
	if cfg.AcceptEarlyData != nil && !cfg.AcceptEarlyData(sess.appData) {
		return false
	}
	filter, err := cfg.replayFilter()
	if err != nil {
		return false
	}
	// RFC 8446 §8.2: accept a given ClientHello's 0-RTT at most once. The
	// binder identifies the ClientHello: it is a MAC over all of it
	// (§4.2.11.2). A replay outside the window fails the age check above,
	// so the filter need only remember it for the window's length on each
	// side of now.
	return filter.Accept(sha256.Sum256(ch.pskBinders[identity]), now, now.Add(2*replayWindow))
}

func containsU8(list []uint8, v uint8) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// serverFlight builds EncryptedExtensions through Finished (RFC 8446 §2).
func (hs *serverHandshake) serverFlight(alpn string, earlyAccepted bool, serverHS []byte) ([]byte, error) {
	c := hs.c
	cfg := c.config
	s := hs.suite
	eeMsg := &encryptedExtensionsMsg{
		alpnProtocol:  alpn,
		quicParams:    c.localParams,
		hasQUICParams: !c.omitTransportParams,
		earlyData:     earlyAccepted,
	}
	// The flight is built in one buffer, room for all of it (a signature
	// of up to maxFlightSignature bytes) made at once: each message is
	// hashed into the transcript as soon as it is appended.
	n := eeMsg.sizeHint() + 4 + s.size
	var cm *certificateMsg
	var signer crypto.Signer
	var scheme SignatureScheme
	if hs.session == nil {
		cert, sg, sc, err := cfg.serverCertificate(hs.hello)
		if err != nil {
			return nil, err
		}
		signer, scheme = sg, sc
		cm = &certificateMsg{certificates: cert.Certificate}
		n += cm.sizeHint() + 8 + maxFlightSignature
		if cfg.ClientAuth != NoClientCert {
			n += 64
		}
	}
	flight := eeMsg.appendTo(make([]byte, 0, n))
	hs.transcript.add(flight)
	if cm != nil {
		if cfg.ClientAuth != NoClientCert {
			start := len(flight)
			flight = (&certificateRequestMsg{
				signatureAlgorithms:     supportedSignatureSchemes,
				signatureAlgorithmsCert: supportedCertSignatureSchemes,
			}).appendTo(flight)
			hs.transcript.add(flight[start:])
			hs.certRequested = true
		}
		start := len(flight)
		flight = cm.appendTo(flight)
		hs.transcript.add(flight[start:])
		sig, err := signContent(signer, scheme, cfg.rand(), newSignedContent(serverSignatureContext, hs.transcript.sum()))
		if err != nil {
			return nil, alertCause(AlertInternalError, "signing", err)
		}
		start = len(flight)
		flight = (&certificateVerifyMsg{scheme: uint16(scheme), signature: sig}).appendTo(flight)
		hs.transcript.add(flight[start:])
	}
	start := len(flight)
	var buf [64]byte
	flight = appendFinished(flight, s.finishedMAC(buf[:0], serverHS, hs.transcript.sum()))
	hs.transcript.add(flight[start:])
	return flight, nil
}

// maxFlightSignature is the room serverFlight makes for the
// CertificateVerify signature: an ECDSA P-521 signature (at most 139 bytes
// in DER) or an RSA-2048 one (256); a longer one grows the buffer.
const maxFlightSignature = 256

func (hs *serverHandshake) readClientCertificate(level Level, msg []byte) error {
	if msg[0] != typeCertificate {
		return alertf(AlertUnexpectedMessage, "expected client Certificate")
	}
	c := hs.c
	cfg := c.config
	cm, err := parseCertificate(msg[4:], cfg.maxChain())
	if err != nil {
		return err
	}
	if len(cm.context) != 0 {
		return alertf(AlertIllegalParameter, "client Certificate with a context")
	}
	hs.transcript.add(msg)
	if len(cm.certificates) == 0 {
		// RFC 8446 §4.4.2.4: certificate_required when we need one.
		if cfg.ClientAuth == RequireAnyClientCert || cfg.ClientAuth == RequireAndVerifyClientCert {
			return alertf(AlertCertificateRequired, "client sent no certificate")
		}
		if err := cfg.runVerifyHook(nil, nil); err != nil {
			return err
		}
		hs.step = (*serverHandshake).readClientFinished
		return nil
	}
	certs, chains, err := cfg.peerChain(cm.certificates, cfg.ClientAuth >= VerifyClientCertIfGiven, cfg.ClientCAs, "", x509.ExtKeyUsageClientAuth)
	if err != nil {
		return err
	}
	if err := cfg.runVerifyHook(cm.certificates, chains); err != nil {
		return err
	}
	hs.peerCerts = certs
	c.state.PeerCertificates = certs
	c.state.VerifiedChains = chains
	hs.step = (*serverHandshake).readClientCertificateVerify
	return nil
}

func (hs *serverHandshake) readClientCertificateVerify(level Level, msg []byte) error {
	if msg[0] != typeCertificateVerify {
		return alertf(AlertUnexpectedMessage, "expected client CertificateVerify")
	}
	cv, err := parseCertificateVerify(msg[4:])
	if err != nil {
		return err
	}
	if !containsU16(supportedSignatureSchemes, cv.scheme) {
		return alertf(AlertIllegalParameter, "CertificateVerify scheme not offered")
	}
	content := newSignedContent(clientSignatureContext, hs.transcript.sum())
	if err := verifyContent(hs.peerCerts[0].PublicKey, SignatureScheme(cv.scheme), content, cv.signature); err != nil {
		return err
	}
	hs.transcript.add(msg)
	hs.step = (*serverHandshake).readClientFinished
	return nil
}

func (hs *serverHandshake) readClientFinished(level Level, msg []byte) error {
	if msg[0] != typeFinished {
		return alertf(AlertUnexpectedMessage, "expected client Finished")
	}
	s := hs.suite
	var buf [64]byte
	want := s.finishedMAC(buf[:0], hs.clientHS, hs.transcript.sum())
	if !hmac.Equal(want, msg[4:]) {
		return alertf(AlertDecryptError, "client Finished does not verify")
	}
	hs.transcript.add(msg)
	c := hs.c
	if err := c.config.runVerifyConnection(c.state); err != nil {
		return err
	}
	c.setReadSecret(LevelApplication, s, hs.clientAP)
	c.suite = s
	c.resumptionSecret = s.deriveSecret(hs.master, labelResumption, hs.transcript.sum())
	c.readLevel = LevelApplication
	c.state.HandshakeComplete = true
	c.emit(Event{Kind: EventHandshakeDone})
	// Drop the handshake state, so that an idle connection keeps little:
	// the parsed ClientHello (which aliases the received bytes), the
	// transcript, the accepted ticket, the intermediate secrets. Of the
	// ClientHello, SendSessionTicket needs only whether the client
	// offered psk_dhe_ke; Conn.handleMessage rejects what follows.
	c.ticketPSKDHE = containsU8(hs.hello.pskModes, pskModeDHE)
	c.server = nil
	// QUIC has read the client's transport parameters (the event); our
	// own stay, as the default ticket data (SendSessionTicket).
	c.peerParams = nil
	return nil
}
