package tls13

// EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify,
// Finished and NewSessionTicket (RFC 8446 §4.3 - §4.6).

type encryptedExtensionsMsg struct {
	alpnProtocol  string
	quicParams    []byte
	hasQUICParams bool
	earlyData     bool
}

func (m *encryptedExtensionsMsg) marshal() []byte {
	return m.appendTo(make([]byte, 0, m.sizeHint()))
}

// sizeHint is about the length of the marshaled message.
func (m *encryptedExtensionsMsg) sizeHint() int {
	return 32 + len(m.quicParams) + len(m.alpnProtocol)
}

// appendTo appends the marshaled message to b.
func (m *encryptedExtensionsMsg) appendTo(b []byte) []byte {
	b = append(b, typeEncryptedExtensions)
	b, msgStart := beginVec(b, 3)
	b, extStart := beginVec(b, 2)
	if m.alpnProtocol != "" {
		b = appendALPN(b, []string{m.alpnProtocol})
	}
	if m.earlyData {
		b = appendU16(b, extEarlyData)
		b = appendU16(b, 0)
	}
	if m.hasQUICParams {
		b = appendU16(b, extQUICTransportParameters)
		b = appendVec16(b, m.quicParams)
	}
	b = endVec(b, extStart, 2)
	return endVec(b, msgStart, 3)
}

func parseEncryptedExtensions(body []byte) (*encryptedExtensionsMsg, error) {
	m := &encryptedExtensionsMsg{}
	r := newReader(body)
	exts := newReader(r.vec16())
	if !r.ok || !r.empty() {
		return nil, alertf(AlertDecodeError, "malformed EncryptedExtensions")
	}
	var seen extensionSet
	for !exts.empty() {
		typ, data, err := exts.nextExtension(&seen)
		if err != nil {
			return nil, err
		}
		d := newReader(data)
		switch typ {
		case extALPN:
			protos, ok := parseALPN(&d)
			// RFC 7301 §3.1: the server's list holds exactly one name.
			if !ok || len(protos) != 1 {
				return nil, alertf(AlertDecodeError, "malformed ALPN")
			}
			m.alpnProtocol = protos[0]
		case extQUICTransportParameters:
			m.quicParams = data
			m.hasQUICParams = true
			d.b = nil
		case extEarlyData:
			m.earlyData = true
		case extServerName, extSupportedGroups:
			// Allowed in EncryptedExtensions and carrying nothing we use.
			d.b = nil
		default:
			// RFC 8446 §4.2: extensions not allowed here (or never
			// offered) are fatal.
			return nil, alertf(AlertUnsupportedExtension, "unexpected EncryptedExtensions extension")
		}
		if !d.ok || !d.empty() {
			return nil, alertf(AlertDecodeError, "malformed EncryptedExtensions extension")
		}
	}
	return m, nil
}

type certificateRequestMsg struct {
	context                 []byte
	signatureAlgorithms     []uint16
	signatureAlgorithmsCert []uint16
}

func (m *certificateRequestMsg) marshal() []byte {
	return m.appendTo(make([]byte, 0, 64))
}

// appendTo appends the marshaled message to b.
func (m *certificateRequestMsg) appendTo(b []byte) []byte {
	b = append(b, typeCertificateRequest)
	b, msgStart := beginVec(b, 3)
	b = appendVec8(b, m.context)
	b, extStart := beginVec(b, 2)
	b = appendU16List(b, extSignatureAlgorithms, m.signatureAlgorithms)
	if len(m.signatureAlgorithmsCert) > 0 {
		b = appendU16List(b, extSignatureAlgorithmsCert, m.signatureAlgorithmsCert)
	}
	b = endVec(b, extStart, 2)
	return endVec(b, msgStart, 3)
}

func parseCertificateRequest(body []byte) (*certificateRequestMsg, error) {
	m := &certificateRequestMsg{}
	r := newReader(body)
	m.context = r.vec8()
	exts := newReader(r.vec16())
	if !r.ok || !r.empty() {
		return nil, alertf(AlertDecodeError, "malformed CertificateRequest")
	}
	var seen extensionSet
	for !exts.empty() {
		typ, data, err := exts.nextExtension(&seen)
		if err != nil {
			return nil, err
		}
		d := newReader(data)
		var ok = true
		switch typ {
		case extSignatureAlgorithms:
			m.signatureAlgorithms, ok = parseU16List(&d)
		case extSignatureAlgorithmsCert:
			m.signatureAlgorithmsCert, ok = parseU16List(&d)
		default:
			d.b = nil // certificate_authorities, oid_filters, unknown: ignored
		}
		if !ok || !d.ok || !d.empty() {
			return nil, alertf(AlertDecodeError, "malformed CertificateRequest extension")
		}
	}
	// RFC 8446 §4.3.2: signature_algorithms MUST be specified.
	if len(m.signatureAlgorithms) == 0 {
		return nil, alertf(AlertMissingExtension, "CertificateRequest without signature_algorithms")
	}
	return m, nil
}

type certificateMsg struct {
	context      []byte
	certificates [][]byte // DER, leaf first
}

func (m *certificateMsg) marshal() []byte {
	return m.appendTo(make([]byte, 0, m.sizeHint()))
}

// sizeHint is about the length of the marshaled message.
func (m *certificateMsg) sizeHint() int {
	n := 16 + len(m.context)
	for _, c := range m.certificates {
		n += 5 + len(c)
	}
	return n
}

// appendTo appends the marshaled message to b.
func (m *certificateMsg) appendTo(b []byte) []byte {
	b = append(b, typeCertificate)
	b, msgStart := beginVec(b, 3)
	b = appendVec8(b, m.context)
	b, listStart := beginVec(b, 3)
	for _, c := range m.certificates {
		b = appendVec24(b, c)
		b = appendU16(b, 0) // no per-certificate extensions
	}
	b = endVec(b, listStart, 3)
	return endVec(b, msgStart, 3)
}

// parseCertificate parses a Certificate message, refusing chains longer than
// maxCerts.
func parseCertificate(body []byte, maxCerts int) (*certificateMsg, error) {
	m := &certificateMsg{}
	r := newReader(body)
	m.context = r.vec8()
	list := newReader(r.vec24())
	if !r.ok || !r.empty() {
		return nil, alertf(AlertDecodeError, "malformed Certificate")
	}
	for !list.empty() {
		cert := list.vec24()
		list.vec16() // extensions (status_request, SCT): not used
		if !list.ok || len(cert) == 0 {
			return nil, alertf(AlertDecodeError, "malformed CertificateEntry")
		}
		if len(m.certificates) >= maxCerts {
			return nil, alertf(AlertBadCertificate, "certificate chain too long")
		}
		m.certificates = append(m.certificates, cert)
	}
	return m, nil
}

type certificateVerifyMsg struct {
	scheme    uint16
	signature []byte
}

func (m *certificateVerifyMsg) marshal() []byte {
	return m.appendTo(make([]byte, 0, 8+len(m.signature)))
}

// appendTo appends the marshaled message to b.
func (m *certificateVerifyMsg) appendTo(b []byte) []byte {
	b = append(b, typeCertificateVerify)
	b = appendU24(b, 4+len(m.signature))
	b = appendU16(b, m.scheme)
	return appendVec16(b, m.signature)
}

func parseCertificateVerify(body []byte) (*certificateVerifyMsg, error) {
	r := newReader(body)
	m := &certificateVerifyMsg{scheme: r.u16(), signature: r.vec16()}
	if !r.ok || !r.empty() || len(m.signature) == 0 {
		return nil, alertf(AlertDecodeError, "malformed CertificateVerify")
	}
	return m, nil
}

func marshalFinished(verifyData []byte) []byte {
	return appendFinished(make([]byte, 0, 4+len(verifyData)), verifyData)
}

// appendFinished appends a Finished message to b.
func appendFinished(b, verifyData []byte) []byte {
	b = append(b, typeFinished)
	return appendVec24(b, verifyData)
}

type newSessionTicketMsg struct {
	lifetime     uint32
	ageAdd       uint32
	nonce        []byte
	ticket       []byte
	maxEarlyData uint32
	hasEarlyData bool
}

func (m *newSessionTicketMsg) marshal() []byte {
	b := make([]byte, 0, 32+len(m.nonce)+len(m.ticket))
	b = append(b, typeNewSessionTicket)
	b, msgStart := beginVec(b, 3)
	b = appendU32(b, m.lifetime)
	b = appendU32(b, m.ageAdd)
	b = appendVec8(b, m.nonce)
	b = appendVec16(b, m.ticket)
	b, extStart := beginVec(b, 2)
	if m.hasEarlyData {
		b = appendU16(b, extEarlyData)
		b = appendU16(b, 4)
		b = appendU32(b, m.maxEarlyData)
	}
	b = endVec(b, extStart, 2)
	return endVec(b, msgStart, 3)
}

func parseNewSessionTicket(body []byte) (*newSessionTicketMsg, error) {
	m := &newSessionTicketMsg{}
	r := newReader(body)
	m.lifetime = r.u32()
	m.ageAdd = r.u32()
	m.nonce = r.vec8()
	m.ticket = r.vec16()
	exts := newReader(r.vec16())
	if !r.ok || !r.empty() || len(m.ticket) == 0 {
		return nil, alertf(AlertDecodeError, "malformed NewSessionTicket")
	}
	var seen extensionSet
	for !exts.empty() {
		typ, data, err := exts.nextExtension(&seen)
		if err != nil {
			return nil, err
		}
		d := newReader(data)
		if typ == extEarlyData {
			m.hasEarlyData = true
			m.maxEarlyData = d.u32()
		} else {
			d.b = nil
		}
		if !d.ok || !d.empty() {
			return nil, alertf(AlertDecodeError, "malformed NewSessionTicket extension")
		}
	}
	// RFC 8446 §4.6.1: lifetime MUST NOT exceed seven days.
	if m.lifetime > maxTicketLifetime {
		return nil, alertf(AlertIllegalParameter, "ticket lifetime over seven days")
	}
	return m, nil
}
