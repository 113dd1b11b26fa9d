package tls13

import (
	"crypto"
	"crypto/hmac"
	"crypto/x509"
	"io"
	"net/netip"
	"strings"
)

// clientHandshake is the client's state, one method per step in the order
// of RFC 8446 §2: ClientHello, ServerHello (or HelloRetryRequest),
// EncryptedExtensions, [CertificateRequest], Certificate, CertificateVerify,
// Finished, then our [Certificate, CertificateVerify,] Finished.
type clientHandshake struct {
	c     *Conn
	hello *clientHelloMsg
	// helloRaw is the ClientHello we sent last.
	helloRaw []byte
	shares   []*clientKeyShare

	// session is the ticket offered for resumption, if any; earlySecret
	// is derived from it before the ServerHello fixes the suite.
	session      *ClientSession
	sessionSuite *cipherSuite
	earlyOffered bool
	retried      bool // a HelloRetryRequest was received

	suite       *cipherSuite
	transcript  transcript
	earlySecret []byte
	hsSecret    []byte
	clientHS    []byte
	serverHS    []byte
	master      []byte
	// secrets holds the secrets above from the handshake secret on
	// (allocated apart: the handshake state outlives release).
	secrets *secretSpace

	certRequest *certificateRequestMsg
	peerCerts   []*x509.Certificate
	// hrrPrefix is message_hash(ClientHello1) | HelloRetryRequest, the
	// start of the transcript the second binder covers.
	hrrPrefix []byte
	// step handles the next message: a method expression, not a method
	// value, which would allocate a closure at every step.
	step func(hs *clientHandshake, level Level, msg []byte) error

	// Room for the ClientHello's random and key shares, which the
	// handshake state holds anyway: three allocations fewer.
	random       [32]byte
	sharesBuf    [2]*clientKeyShare
	keySharesBuf [2]keyShare
}

func (hs *clientHandshake) handleMessage(level Level, msg []byte) error {
	if hs.step == nil {
		return alertf(AlertUnexpectedMessage, "message after the handshake")
	}
	return hs.step(hs, level, msg)
}

func (hs *clientHandshake) start() error {
	c := hs.c
	cfg := c.config
	m := &clientHelloMsg{
		random:              hs.random[:],
		cipherSuites:        cfg.cipherSuites(),
		serverName:          serverNameForSNI(cfg.ServerName),
		signatureAlgorithms: supportedSignatureSchemes,
		// RFC 8446 §4.2.3: signature_algorithms_cert lets a server with a
		// PKCS #1 v1.5-signed chain know it may send it.
		signatureAlgorithmsCert: supportedCertSignatureSchemes,
		alpnProtocols:           cfg.NextProtos,
		supportedVersions:       []uint16{versionTLS13},
		quicParams:              c.localParams,
		hasQUICParams:           !c.omitTransportParams,
	}
	if _, err := io.ReadFull(cfg.rand(), m.random); err != nil {
		return alertCause(AlertInternalError, "random", err)
	}
	m.supportedGroups = make([]uint16, 0, len(cfg.curves()))
	for _, g := range cfg.curves() {
		m.supportedGroups = append(m.supportedGroups, uint16(g))
	}
	// One key share for the most preferred group, plus X25519 when that
	// group is the X25519 hybrid, so that a server without ML-KEM needs no
	// HelloRetryRequest. The X25519 share reuses the hybrid's X25519 key:
	// only one of the two can be used.
	first := cfg.curves()[0]
	ks, err := newClientKeyShare(first, cfg.rand())
	if err != nil {
		return alertCause(AlertInternalError, "key generation", err)
	}
	// Room for the X25519 share below.
	hs.shares = append(hs.sharesBuf[:0], ks)
	m.keyShares = append(hs.keySharesBuf[:0], ks.share)
	if first == X25519MLKEM768 && containsCurve(cfg.curves(), X25519) {
		// The hybrid's second part is the X25519 public key.
		plain := &clientKeyShare{group: X25519, ecdh: ks.ecdh, share: keyShare{group: uint16(X25519), data: ks.share.tail}}
		hs.shares = append(hs.shares, plain)
		m.keyShares = append(m.keyShares, plain.share)
	}
	if !cfg.SessionTicketsDisabled {
		m.pskModes = []uint8{pskModeDHE}
	}
	hs.hello = m
	hs.loadSession()
	if err := hs.sendHello(); err != nil {
		return err
	}
	if hs.earlyOffered {
		// RFC 8446 §7.1: client_early_traffic_secret over ClientHello.
		s := hs.sessionSuite
		secret := s.deriveSecret(hs.earlySecret, labelClientEarly, s.transcriptHashOf(hs.helloRaw))
		c.keyLog(keyLogClientEarly, m.random, secret)
		c.setWriteSecret(LevelEarly, s, secret)
	}
	hs.step = (*clientHandshake).readServerHello
	return nil
}

// serverNameForSNI drops IP literals, which RFC 6066 §3 forbids in SNI,
// and a trailing dot.
func serverNameForSNI(name string) string {
	if mayBeIPLiteral(name) {
		if _, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
			return ""
		}
	}
	return strings.TrimSuffix(name, ".")
}

// mayBeIPLiteral reports whether name could be an IP address that
// netip.ParseAddr accepts: an IPv6 one has a colon, an IPv4 one only
// digits and dots. Host names skip the parse, whose error allocates.
func mayBeIPLiteral(name string) bool {
	if strings.Contains(name, ":") {
		return true
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func containsCurve(list []CurveID, g CurveID) bool {
	for _, x := range list {
		if x == g {
			return true
		}
	}
	return false
}

func containsU16(list []uint16, v uint16) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// loadSession offers a cached ticket (RFC 8446 §4.2.11) if one is usable:
// unexpired, for a suite we still offer and, unless verification is off,
// for a server authenticated as ServerName whose certificate is still valid
// (a resumed session keeps the original authentication, RFC 8446 §4.6.1).
func (hs *clientHandshake) loadSession() {
	c := hs.c
	cfg := c.config
	key := c.cacheKey()
	if cfg.SessionTicketsDisabled || cfg.ClientSessionCache == nil || key == "" {
		return
	}
	cs, ok := cfg.ClientSessionCache.Get(key)
	if !ok || cs == nil {
		return
	}
	// RFC 8446 §C.4: a ticket is used once; the server sends new ones.
	cfg.ClientSessionCache.Put(key, nil)
	now := cfg.now()
	age := now.Sub(cs.receivedAt)
	if age < 0 || age.Seconds() >= float64(cs.lifetime) {
		return
	}
	if !cfg.InsecureSkipVerify {
		if len(cs.verifiedChains) == 0 || len(cs.serverCerts) == 0 {
			return
		}
		leaf := cs.serverCerts[0]
		if now.After(leaf.NotAfter) || leaf.VerifyHostname(cfg.ServerName) != nil {
			return
		}
	}
	suite := cipherSuiteByID(cs.suite)
	// The PSK is tied to its hash (RFC 8446 §4.2.11); some suite with
	// that hash must be offered.
	usable := false
	for _, id := range hs.hello.cipherSuites {
		if s := cipherSuiteByID(id); s != nil && s.hash == suite.hash {
			usable = true
		}
	}
	if !usable {
		return
	}
	hs.session = cs
	hs.sessionSuite = suite
	hs.earlySecret = suite.earlySecret(cs.psk)
	ageMS := uint32(age.Milliseconds())
	hs.hello.pskIdentities = []pskIdentity{{identity: cs.ticket, obfuscatedTicketAge: ageMS + cs.ageAdd}}
	hs.hello.pskBinders = [][]byte{make([]byte, suite.size)}
	// RFC 9001 §4.6.1: 0-RTT only with a ticket that allows it, and
	// RFC 8446 §4.2.10: only with the ALPN protocol of the session.
	if cs.maxEarlyData == maxEarlyDataQUIC && (cs.alpn == "" || containsString(cfg.NextProtos, cs.alpn)) {
		hs.hello.earlyData = true
		hs.earlyOffered = true
		c.earlySession = cs
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sendHello marshals the ClientHello, fills in the PSK binder
// (RFC 8446 §4.2.11.2) and queues it at the Initial level.
func (hs *clientHandshake) sendHello() error {
	raw := hs.hello.marshal()
	if hs.session != nil {
		s := hs.sessionSuite
		truncated := raw[:len(raw)-bindersLen(hs.hello.pskBinders)]
		h := s.newHash()
		if hs.retried {
			// After a HelloRetryRequest the binder covers
			// message_hash, the HelloRetryRequest and the new
			// truncated ClientHello.
			h.Write(hs.hrrPrefix)
		}
		h.Write(truncated)
		binderKey := s.deriveSecret(hs.earlySecret, labelResBinder, nil)
		binder := s.finishedMAC(nil, binderKey, h.Sum(nil))
		copy(raw[len(raw)-len(binder):], binder)
		hs.hello.pskBinders[0] = binder
	}
	hs.helloRaw = raw
	hs.c.writeData(LevelInitial, raw)
	return nil
}

func (hs *clientHandshake) readServerHello(level Level, msg []byte) error {
	if msg[0] != typeServerHello {
		return alertf(AlertUnexpectedMessage, "expected ServerHello")
	}
	sh, err := parseServerHello(msg[4:])
	if err != nil {
		return err
	}
	// RFC 8446 §4.1.3: a server negotiating TLS 1.3 sends supported_versions.
	if sh.supportedVersion != versionTLS13 {
		return alertf(AlertProtocolVersion, "server did not negotiate TLS 1.3")
	}
	if len(sh.sessionID) != 0 {
		return alertf(AlertIllegalParameter, "ServerHello legacy_session_id_echo mismatch")
	}
	if !containsU16(hs.hello.cipherSuites, sh.cipherSuite) {
		return alertf(AlertIllegalParameter, "server chose a cipher suite we did not offer")
	}
	if sh.isHelloRetryRequest() {
		return hs.processHelloRetryRequest(sh, msg)
	}
	suite := cipherSuiteByID(sh.cipherSuite)
	if hs.retried && suite != hs.suite {
		return alertf(AlertIllegalParameter, "ServerHello cipher suite differs from HelloRetryRequest")
	}
	var share *clientKeyShare
	for _, ks := range hs.shares {
		if uint16(ks.group) == sh.keyShare.group {
			share = ks
		}
	}
	if share == nil {
		return alertf(AlertIllegalParameter, "server key_share for a group we did not send")
	}
	if sh.hasPSK {
		if hs.session == nil || sh.selectedIdentity != 0 {
			return alertf(AlertIllegalParameter, "server selected a PSK we did not offer")
		}
		if suite.hash != hs.sessionSuite.hash {
			return alertf(AlertIllegalParameter, "PSK cipher suite hash mismatch")
		}
		hs.c.state.DidResume = true
	} else {
		hs.earlySecret = suite.earlySecret(nil)
	}
	hs.suite = suite
	if !hs.retried {
		hs.transcript.h = suite.newHash()
	}
	hs.transcript.add(hs.helloRaw, msg)

	shared, err := share.sharedSecret(sh.keyShare.data)
	if err != nil {
		return err
	}
	c := hs.c
	c.state.Version = versionTLS13
	c.state.CipherSuite = suite.id
	c.state.Group = share.group
	c.state.ServerName = c.config.ServerName
	th := hs.transcript.sum()
	hs.secrets = new(secretSpace)
	hs.hsSecret = suite.handshakeSecret(hs.secrets, hs.earlySecret, shared)
	hs.clientHS = suite.deriveSecretIn(hs.secrets, hs.hsSecret, labelClientHS, th)
	hs.serverHS = suite.deriveSecretIn(hs.secrets, hs.hsSecret, labelServerHS, th)
	c.keyLog(keyLogClientHS, hs.hello.random, hs.clientHS)
	c.keyLog(keyLogServerHS, hs.hello.random, hs.serverHS)
	c.setReadSecret(LevelHandshake, suite, hs.serverHS)
	c.setWriteSecret(LevelHandshake, suite, hs.clientHS)
	c.readLevel = LevelHandshake
	hs.shares = nil
	hs.step = (*clientHandshake).readEncryptedExtensions
	return nil
}

// processHelloRetryRequest answers a HelloRetryRequest with a second
// ClientHello (RFC 8446 §4.1.4).
func (hs *clientHandshake) processHelloRetryRequest(hrr *serverHelloMsg, msg []byte) error {
	if hs.retried {
		return alertf(AlertUnexpectedMessage, "second HelloRetryRequest")
	}
	hs.retried = true
	hs.c.state.HelloRetryRequest = true
	group := CurveID(hrr.selectedGroup)
	if hrr.selectedGroup != 0 {
		if !containsCurve(hs.c.config.curves(), group) {
			return alertf(AlertIllegalParameter, "HelloRetryRequest for a group we did not offer")
		}
		for _, ks := range hs.shares {
			if ks.group == group {
				return alertf(AlertIllegalParameter, "HelloRetryRequest for a group we already sent")
			}
		}
	} else if len(hrr.cookie) == 0 {
		// RFC 8446 §4.1.4: a HelloRetryRequest that would not change
		// the ClientHello is illegal_parameter.
		return alertf(AlertIllegalParameter, "HelloRetryRequest changes nothing")
	}
	suite := cipherSuiteByID(hrr.cipherSuite)
	hs.suite = suite
	hs.transcript.h = suite.newHash()
	prefix := append(suite.messageHash(hs.helloRaw), msg...)
	hs.transcript.add(prefix)
	hs.hrrPrefix = prefix

	if hrr.selectedGroup != 0 {
		ks, err := newClientKeyShare(group, hs.c.config.rand())
		if err != nil {
			return alertCause(AlertInternalError, "key generation", err)
		}
		hs.shares = []*clientKeyShare{ks}
		hs.hello.keyShares = []keyShare{ks.share}
	}
	hs.hello.cookie = hrr.cookie
	// RFC 8446 §4.1.2: no early_data after a HelloRetryRequest.
	hs.hello.earlyData = false
	if hs.session != nil && hs.sessionSuite.hash != suite.hash {
		hs.session = nil
		hs.hello.pskIdentities = nil
		hs.hello.pskBinders = nil
	}
	if err := hs.sendHello(); err != nil {
		return err
	}
	return nil
}

func (hs *clientHandshake) readEncryptedExtensions(level Level, msg []byte) error {
	if msg[0] != typeEncryptedExtensions {
		return alertf(AlertUnexpectedMessage, "expected EncryptedExtensions")
	}
	ee, err := parseEncryptedExtensions(msg[4:])
	if err != nil {
		return err
	}
	hs.transcript.add(msg)
	c := hs.c
	if ee.alpnProtocol != "" {
		if !containsString(c.config.NextProtos, ee.alpnProtocol) {
			return alertf(AlertIllegalParameter, "server selected an ALPN protocol we did not offer")
		}
		c.state.NegotiatedProtocol = ee.alpnProtocol
	} else if len(c.config.NextProtos) > 0 {
		// RFC 9001 §8.1: without an agreed application protocol the
		// connection closes with no_application_protocol.
		return alertf(AlertNoApplicationProtocol, "server selected no ALPN protocol")
	}
	// RFC 9001 §8.2: the extension is mandatory.
	if !ee.hasQUICParams {
		return alertf(AlertMissingExtension, "no quic_transport_parameters")
	}
	c.peerParams = append([]byte(nil), ee.quicParams...)
	c.emit(Event{Kind: EventTransportParameters, Data: c.peerParams})
	if ee.earlyData {
		// RFC 8446 §4.2.10: early_data in EncryptedExtensions only
		// when offered and the PSK was accepted with identity 0.
		if !hs.earlyOffered || hs.retried || !c.state.DidResume {
			return alertf(AlertUnsupportedExtension, "early_data accepted but not offered")
		}
		// RFC 8446 §4.2.10: 0-RTT is accepted only with the session's
		// cipher suite and ALPN protocol.
		if hs.session.alpn != c.state.NegotiatedProtocol || hs.session.suite != hs.suite.id {
			return alertf(AlertIllegalParameter, "0-RTT accepted with different session parameters")
		}
		c.state.EarlyDataAccepted = true
	} else if hs.earlyOffered {
		c.emit(Event{Kind: EventRejectedEarlyData})
	}
	if c.state.DidResume {
		c.state.PeerCertificates = hs.session.serverCerts
		c.state.VerifiedChains = hs.session.verifiedChains
		hs.step = (*clientHandshake).readFinished
		return nil
	}
	hs.step = (*clientHandshake).readCertificateOrRequest
	return nil
}

func (hs *clientHandshake) readCertificateOrRequest(level Level, msg []byte) error {
	if msg[0] != typeCertificateRequest {
		return hs.readCertificate(level, msg)
	}
	cr, err := parseCertificateRequest(msg[4:])
	if err != nil {
		return err
	}
	// RFC 8446 §4.3.2: empty context during the handshake.
	if len(cr.context) != 0 {
		return alertf(AlertIllegalParameter, "CertificateRequest with a context")
	}
	hs.transcript.add(msg)
	hs.certRequest = cr
	hs.step = (*clientHandshake).readCertificate
	return nil
}

func (hs *clientHandshake) readCertificate(level Level, msg []byte) error {
	if msg[0] != typeCertificate {
		return alertf(AlertUnexpectedMessage, "expected Certificate")
	}
	c := hs.c
	cm, err := parseCertificate(msg[4:], c.config.maxChain())
	if err != nil {
		return err
	}
	if len(cm.context) != 0 {
		return alertf(AlertIllegalParameter, "server Certificate with a context")
	}
	// RFC 8446 §4.4.2.4: a server must send a certificate.
	if len(cm.certificates) == 0 {
		return alertf(AlertDecodeError, "empty server Certificate")
	}
	hs.transcript.add(msg)
	cfg := c.config
	certs, chains, err := cfg.peerChain(cm.certificates, !cfg.InsecureSkipVerify, cfg.RootCAs, cfg.ServerName, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return err
	}
	if err := c.config.runVerifyHook(cm.certificates, chains); err != nil {
		return err
	}
	hs.peerCerts = certs
	c.state.PeerCertificates = certs
	c.state.VerifiedChains = chains
	hs.step = (*clientHandshake).readCertificateVerify
	return nil
}

func (hs *clientHandshake) readCertificateVerify(level Level, msg []byte) error {
	if msg[0] != typeCertificateVerify {
		return alertf(AlertUnexpectedMessage, "expected CertificateVerify")
	}
	cv, err := parseCertificateVerify(msg[4:])
	if err != nil {
		return err
	}
	// RFC 8446 §4.4.3: the scheme must be one we offered.
	if !containsU16(hs.hello.signatureAlgorithms, cv.scheme) {
		return alertf(AlertIllegalParameter, "CertificateVerify scheme not offered")
	}
	content := newSignedContent(serverSignatureContext, hs.transcript.sum())
	if err := verifyContent(hs.peerCerts[0].PublicKey, SignatureScheme(cv.scheme), content, cv.signature); err != nil {
		return err
	}
	hs.transcript.add(msg)
	hs.step = (*clientHandshake).readFinished
	return nil
}

func (hs *clientHandshake) readFinished(level Level, msg []byte) error {
	if msg[0] != typeFinished {
		return alertf(AlertUnexpectedMessage, "expected Finished")
	}
	s := hs.suite
	var buf [64]byte
	want := s.finishedMAC(buf[:0], hs.serverHS, hs.transcript.sum())
	// RFC 8446 §4.4.4: a wrong verify_data is decrypt_error.
	if !hmac.Equal(want, msg[4:]) {
		return alertf(AlertDecryptError, "server Finished does not verify")
	}
	hs.transcript.add(msg)
	c := hs.c
	if err := c.config.runVerifyConnection(c.state); err != nil {
		return err
	}
	hs.master = s.masterSecret(hs.secrets, hs.hsSecret)
	th := hs.transcript.sum()
	clientAP := s.deriveSecretIn(hs.secrets, hs.master, labelClientAP, th)
	serverAP := s.deriveSecretIn(hs.secrets, hs.master, labelServerAP, th)
	c.keyLog(keyLogClientAP, hs.hello.random, clientAP)
	c.keyLog(keyLogServerAP, hs.hello.random, serverAP)
	c.setReadSecret(LevelApplication, s, serverAP)

	flight, err := hs.clientAuthMessages()
	if err != nil {
		return err
	}
	out := appendFinished(flight, s.finishedMAC(buf[:0], hs.clientHS, hs.transcript.sum()))
	hs.transcript.add(out[len(flight):])
	c.writeData(LevelHandshake, out)
	c.setWriteSecret(LevelApplication, s, clientAP)

	c.suite = s
	if cfg := c.config; !cfg.SessionTicketsDisabled && cfg.ClientSessionCache != nil {
		// Only a session needs it (readNewSessionTicket): a client that
		// keeps none skips the HMAC.
		c.resumptionSecret = s.deriveSecret(hs.master, labelResumption, hs.transcript.sum())
	}
	c.readLevel = LevelApplication
	c.state.HandshakeComplete = true
	c.emit(Event{Kind: EventHandshakeDone})
	hs.step = (*clientHandshake).readNewSessionTicket
	hs.release()
	return nil
}

// release drops what only the handshake needed, so that an idle connection
// keeps little: the ClientHello (sent bytes and parsed form), the key shares
// with their private keys, the transcript, the intermediate secrets and the
// session offered. What stays serves NewSessionTicket after the handshake:
// the suite, and in Conn the resumption secret, the server's transport
// parameters and ConnectionState (whose certificates new sessions keep);
// Conn.EarlySession stays for the layers above, which compare it with what
// the server sends after the handshake.
func (hs *clientHandshake) release() {
	hs.hello, hs.helloRaw, hs.shares = nil, nil, nil
	// The arrays behind shares and the hello's key shares hold the
	// private keys (an ML-KEM-768 decapsulation key is kilobytes) and
	// the public shares: an idle connection keeps none of them.
	hs.sharesBuf, hs.keySharesBuf = [2]*clientKeyShare{}, [2]keyShare{}
	hs.transcript = transcript{}
	hs.earlySecret, hs.hsSecret, hs.clientHS, hs.serverHS, hs.master, hs.secrets = nil, nil, nil, nil, nil, nil
	hs.certRequest, hs.hrrPrefix = nil, nil
	hs.session, hs.sessionSuite, hs.peerCerts = nil, nil, nil
	// Our transport parameters went out in the ClientHello; the server's
	// stay (c.peerParams): tickets remember them for 0-RTT.
	hs.c.localParams = nil
}

// clientAuthMessages answers a CertificateRequest with Certificate and, for
// a non-empty chain, CertificateVerify (RFC 8446 §4.4.2, §4.4.3).
func (hs *clientHandshake) clientAuthMessages() ([]byte, error) {
	if hs.certRequest == nil {
		return nil, nil
	}
	cfg := hs.c.config
	var cert *Certificate
	if cfg.GetClientCertificate != nil {
		info := &CertificateRequestInfo{}
		for _, s := range hs.certRequest.signatureAlgorithms {
			info.SignatureSchemes = append(info.SignatureSchemes, SignatureScheme(s))
		}
		var err error
		if cert, err = cfg.GetClientCertificate(info); err != nil {
			return nil, alertCause(AlertInternalError, "GetClientCertificate", err)
		}
	} else {
		for i := range cfg.Certificates {
			if s, err := signerOf(&cfg.Certificates[i]); err == nil {
				if _, ok := chooseScheme(s, hs.certRequest.signatureAlgorithms); ok {
					cert = &cfg.Certificates[i]
					break
				}
			}
		}
	}
	var signer crypto.Signer
	var scheme SignatureScheme
	if cert != nil && len(cert.Certificate) > 0 {
		var err error
		if _, signer, scheme, err = pickScheme(cert, hs.certRequest.signatureAlgorithms); err != nil {
			signer = nil
		}
	}
	cm := &certificateMsg{}
	if signer != nil {
		cm.certificates = cert.Certificate
	}
	out := cm.marshal()
	hs.transcript.add(out)
	if signer == nil {
		return out, nil
	}
	content := newSignedContent(clientSignatureContext, hs.transcript.sum())
	sig, err := signContent(signer, scheme, cfg.rand(), content)
	if err != nil {
		return nil, alertCause(AlertInternalError, "signing", err)
	}
	cv := (&certificateVerifyMsg{scheme: uint16(scheme), signature: sig}).marshal()
	hs.transcript.add(cv)
	return append(out, cv...), nil
}

// readNewSessionTicket stores tickets the server sends after the handshake
// (RFC 8446 §4.6.1). Anything else at this point is unexpected.
func (hs *clientHandshake) readNewSessionTicket(level Level, msg []byte) error {
	if msg[0] != typeNewSessionTicket {
		return alertf(AlertUnexpectedMessage, "unexpected post-handshake message")
	}
	m, err := parseNewSessionTicket(msg[4:])
	if err != nil {
		return err
	}
	c := hs.c
	cfg := c.config
	// RFC 9001 §4.6.1: a max_early_data_size other than 0xffffffff is a
	// protocol violation.
	if m.hasEarlyData && m.maxEarlyData != maxEarlyDataQUIC {
		return alertf(AlertIllegalParameter, "max_early_data_size is not 0xffffffff")
	}
	key := c.cacheKey()
	if m.lifetime == 0 || cfg.SessionTicketsDisabled || cfg.ClientSessionCache == nil || key == "" || c.resumptionSecret == nil {
		return nil
	}
	cs := &ClientSession{
		suite:               hs.suite.id,
		ticket:              append([]byte(nil), m.ticket...),
		psk:                 hs.suite.resumptionPSK(c.resumptionSecret, m.nonce),
		ageAdd:              m.ageAdd,
		lifetime:            min(m.lifetime, maxTicketLifetime),
		receivedAt:          cfg.now(),
		alpn:                c.state.NegotiatedProtocol,
		serverCerts:         c.state.PeerCertificates,
		verifiedChains:      c.state.VerifiedChains,
		TransportParameters: c.peerParams,
		AppData:             c.sessionAppData,
	}
	if m.hasEarlyData {
		cs.maxEarlyData = m.maxEarlyData
	}
	cfg.ClientSessionCache.Put(key, cs)
	c.lastTicket = cs.ticket
	return nil
}
