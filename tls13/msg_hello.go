package tls13

// ClientHello and ServerHello / HelloRetryRequest (RFC 8446 §4.1.2, §4.1.3)
// with the extensions TLS 1.3 over QUIC uses (RFC 8446 §4.2, RFC 9001 §8.2).

type keyShare struct {
	group uint16
	data  []byte
	// tail continues data when marshaling: a hybrid share in its two
	// parts (newClientKeyShare, serverKeyExchange), sent one after the
	// other rather than joined in a copy. Parsing leaves it nil.
	tail []byte
}

type pskIdentity struct {
	identity            []byte
	obfuscatedTicketAge uint32
}

type clientHelloMsg struct {
	random                  []byte
	sessionID               []byte
	cipherSuites            []uint16
	serverName              string
	supportedGroups         []uint16
	signatureAlgorithms     []uint16
	signatureAlgorithmsCert []uint16
	alpnProtocols           []string
	supportedVersions       []uint16
	pskModes                []uint8
	keyShares               []keyShare
	earlyData               bool
	cookie                  []byte
	quicParams              []byte
	hasQUICParams           bool
	pskIdentities           []pskIdentity
	pskBinders              [][]byte

	// A parsed ClientHello's lists of uint16 (cipher suites, groups,
	// signature schemes, versions) and its key shares are carved from
	// these while they fit: a few allocations fewer per handshake on a
	// server. A ClientHello with longer lists allocates the rest.
	u16s      [48]uint16
	u16sUsed  int
	sharesBuf [2]keyShare
}

// u16List returns a list of n uint16 for m's parser, from m.u16s while
// they last.
func (m *clientHelloMsg) u16List(n int) []uint16 {
	if m.u16sUsed+n > len(m.u16s) {
		return make([]uint16, n)
	}
	l := m.u16s[m.u16sUsed : m.u16sUsed+n : m.u16sUsed+n]
	m.u16sUsed += n
	return l
}

// marshal returns the whole handshake message including its 4-byte header.
// Binders, if any, are written as given; see bindersLen for recomputing them.
func (m *clientHelloMsg) marshal() []byte {
	b := make([]byte, 0, 512+len(m.quicParams)+keySharesLen(m.keyShares))
	b = append(b, typeClientHello)
	b, msgStart := beginVec(b, 3)
	b = appendU16(b, versionTLS12)
	b = append(b, m.random...)
	b = appendVec8(b, m.sessionID)
	b = appendU16(b, uint16(2*len(m.cipherSuites)))
	for _, s := range m.cipherSuites {
		b = appendU16(b, s)
	}
	b = append(b, 1, 0) // legacy_compression_methods: null only
	b, extStart := beginVec(b, 2)
	if m.serverName != "" {
		b = appendU16(b, extServerName)
		b = appendU16(b, uint16(len(m.serverName)+5))
		b = appendU16(b, uint16(len(m.serverName)+3))
		b = append(b, 0) // host_name
		b = appendVec16(b, []byte(m.serverName))
	}
	if len(m.supportedGroups) > 0 {
		b = appendU16List(b, extSupportedGroups, m.supportedGroups)
	}
	if len(m.signatureAlgorithms) > 0 {
		b = appendU16List(b, extSignatureAlgorithms, m.signatureAlgorithms)
	}
	if len(m.signatureAlgorithmsCert) > 0 {
		b = appendU16List(b, extSignatureAlgorithmsCert, m.signatureAlgorithmsCert)
	}
	if len(m.alpnProtocols) > 0 {
		b = appendALPN(b, m.alpnProtocols)
	}
	if len(m.supportedVersions) > 0 {
		b = appendU16(b, extSupportedVersions)
		b = appendU16(b, uint16(1+2*len(m.supportedVersions)))
		b = append(b, byte(2*len(m.supportedVersions)))
		for _, v := range m.supportedVersions {
			b = appendU16(b, v)
		}
	}
	if len(m.cookie) > 0 {
		b = appendU16(b, extCookie)
		b = appendU16(b, uint16(2+len(m.cookie)))
		b = appendVec16(b, m.cookie)
	}
	b = appendU16(b, extKeyShare)
	b, ksStart := beginVec(b, 2)
	b, listStart := beginVec(b, 2)
	for _, ks := range m.keyShares {
		b = appendU16(b, ks.group)
		b = appendU16(b, uint16(len(ks.data)+len(ks.tail)))
		b = append(append(b, ks.data...), ks.tail...)
	}
	b = endVec(b, listStart, 2)
	b = endVec(b, ksStart, 2)
	if m.hasQUICParams {
		b = appendU16(b, extQUICTransportParameters)
		b = appendVec16(b, m.quicParams)
	}
	if len(m.pskModes) > 0 {
		b = appendU16(b, extPSKKeyExchangeModes)
		b = appendU16(b, uint16(1+len(m.pskModes)))
		b = appendVec8(b, m.pskModes)
	}
	if m.earlyData {
		b = appendU16(b, extEarlyData)
		b = appendU16(b, 0)
	}
	// RFC 8446 §4.2.11: pre_shared_key MUST be the last extension.
	if len(m.pskIdentities) > 0 {
		var pskStart, idStart, bindStart int
		b = appendU16(b, extPreSharedKey)
		b, pskStart = beginVec(b, 2)
		b, idStart = beginVec(b, 2)
		for _, id := range m.pskIdentities {
			b = appendVec16(b, id.identity)
			b = appendU32(b, id.obfuscatedTicketAge)
		}
		b = endVec(b, idStart, 2)
		b, bindStart = beginVec(b, 2)
		for _, binder := range m.pskBinders {
			b = appendVec8(b, binder)
		}
		b = endVec(b, bindStart, 2)
		b = endVec(b, pskStart, 2)
	}
	b = endVec(b, extStart, 2)
	return endVec(b, msgStart, 3)
}

func keySharesLen(ks []keyShare) int {
	n := 0
	for _, k := range ks {
		n += 4 + len(k.data) + len(k.tail)
	}
	return n
}

// bindersLen is the length of the binders list at the end of a ClientHello,
// which the binders do not cover (RFC 8446 §4.2.11.2).
func bindersLen(binders [][]byte) int {
	n := 2
	for _, b := range binders {
		n += 1 + len(b)
	}
	return n
}

func appendU16List(b []byte, ext uint16, list []uint16) []byte {
	b = appendU16(b, ext)
	b = appendU16(b, uint16(2+2*len(list)))
	b = appendU16(b, uint16(2*len(list)))
	for _, v := range list {
		b = appendU16(b, v)
	}
	return b
}

func appendALPN(b []byte, protos []string) []byte {
	b = appendU16(b, extALPN)
	b, extStart := beginVec(b, 2)
	b, listStart := beginVec(b, 2)
	for _, p := range protos {
		b = append(b, byte(len(p)))
		b = append(b, p...)
	}
	b = endVec(b, listStart, 2)
	return endVec(b, extStart, 2)
}

// parseU16List reads a non-empty vector of uint16 with a 2-byte length.
func parseU16List(r *reader) ([]uint16, bool) {
	l, ok := u16Vector(r)
	if !ok {
		return nil, false
	}
	return decodeU16s(make([]uint16, len(l)/2), l), true
}

// parseU16List is parseU16List into a list from m.
func (m *clientHelloMsg) parseU16List(r *reader) ([]uint16, bool) {
	l, ok := u16Vector(r)
	if !ok {
		return nil, false
	}
	return m.u16sOf(l), true
}

// u16Vector reads the bytes of a non-empty vector of uint16 with a 2-byte
// length.
func u16Vector(r *reader) ([]byte, bool) {
	l := r.vec16()
	return l, r.ok && len(l) > 0 && len(l)%2 == 0
}

// u16sOf decodes big-endian uint16s (len(b) even) into a list from m.
func (m *clientHelloMsg) u16sOf(b []byte) []uint16 {
	return decodeU16s(m.u16List(len(b)/2), b)
}

// decodeU16s decodes len(dst) big-endian uint16s from b into dst.
func decodeU16s(dst []uint16, b []byte) []uint16 {
	for i := range dst {
		dst[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return dst
}

func parseALPN(r *reader) ([]string, bool) {
	lr := newReader(r.vec16())
	if !r.ok || lr.empty() {
		return nil, false
	}
	var out []string
	for !lr.empty() {
		p := lr.vec8()
		if !lr.ok || len(p) == 0 {
			return nil, false
		}
		out = append(out, string(p))
	}
	return out, true
}

// extensionSet detects duplicate extensions (RFC 8446 §4.2: "There MUST NOT
// be more than one extension of the same type in a given extension block").
// Types below 64 are tracked in a bitmap; the rest in a short list.
type extensionSet struct {
	low  uint64
	high []uint16
}

// nextExtension reads one extension of an extension block (RFC 8446 §4.2):
// its type and data, with the alerts every block shares: decode_error for
// broken framing, illegal_parameter for a type seen before in the block.
func (r *reader) nextExtension(seen *extensionSet) (typ uint16, data []byte, err error) {
	typ = r.u16()
	data = r.vec16()
	if !r.ok {
		return 0, nil, alertf(AlertDecodeError, "malformed extension")
	}
	if !seen.add(typ) {
		return 0, nil, alertf(AlertIllegalParameter, "duplicate extension")
	}
	return typ, data, nil
}

func (s *extensionSet) add(t uint16) bool {
	if t < 64 {
		if s.low&(1<<t) != 0 {
			return false
		}
		s.low |= 1 << t
		return true
	}
	for _, h := range s.high {
		if h == t {
			return false
		}
	}
	s.high = append(s.high, t)
	return true
}

// parseClientHello parses a ClientHello body (without the message header).
func parseClientHello(body []byte) (*clientHelloMsg, error) {
	m := &clientHelloMsg{}
	r := newReader(body)
	r.u16() // legacy_version; negotiation uses supported_versions
	m.random = r.bytes(32)
	m.sessionID = r.vec8()
	suites := r.vec16()
	comp := r.vec8()
	if !r.ok || len(m.sessionID) > 32 || len(suites) == 0 || len(suites)%2 != 0 {
		return nil, alertf(AlertDecodeError, "malformed ClientHello")
	}
	m.cipherSuites = m.u16sOf(suites)
	// RFC 8446 §4.1.2: exactly one null compression method, else
	// illegal_parameter.
	if len(comp) != 1 || comp[0] != 0 {
		return nil, alertf(AlertIllegalParameter, "ClientHello compression methods")
	}
	if r.empty() {
		return m, nil
	}
	exts := newReader(r.vec16())
	if !r.ok || !r.empty() {
		return nil, alertf(AlertDecodeError, "malformed ClientHello extensions")
	}
	var seen extensionSet
	for !exts.empty() {
		typ, data, err := exts.nextExtension(&seen)
		if err != nil {
			return nil, err
		}
		if len(m.pskIdentities) > 0 {
			return nil, alertf(AlertIllegalParameter, "pre_shared_key is not the last extension")
		}
		if err := m.parseExtension(typ, data); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *clientHelloMsg) parseExtension(typ uint16, data []byte) error {
	r := newReader(data)
	ok := true
	switch typ {
	case extServerName:
		list := newReader(r.vec16())
		ok = r.ok && !list.empty()
		for ok && !list.empty() {
			nameType := list.u8()
			name := list.vec16()
			ok = list.ok
			if nameType == 0 && ok {
				if m.serverName != "" || len(name) == 0 {
					return alertf(AlertIllegalParameter, "bad server_name")
				}
				m.serverName = string(name)
			}
		}
	case extSupportedGroups:
		m.supportedGroups, ok = m.parseU16List(&r)
	case extSignatureAlgorithms:
		m.signatureAlgorithms, ok = m.parseU16List(&r)
	case extSignatureAlgorithmsCert:
		m.signatureAlgorithmsCert, ok = m.parseU16List(&r)
	case extALPN:
		m.alpnProtocols, ok = parseALPN(&r)
	case extSupportedVersions:
		l := r.vec8()
		ok = r.ok && len(l) >= 2 && len(l)%2 == 0
		if ok {
			m.supportedVersions = m.u16sOf(l)
		}
	case extCookie:
		m.cookie = r.vec16()
		ok = r.ok && len(m.cookie) > 0
	case extKeyShare:
		list := newReader(r.vec16())
		ok = r.ok
		m.keyShares = m.sharesBuf[:0]
		for ok && !list.empty() {
			g := list.u16()
			d := list.vec16()
			ok = list.ok && len(d) > 0
			m.keyShares = append(m.keyShares, keyShare{group: g, data: d})
		}
	case extQUICTransportParameters:
		m.quicParams = data
		m.hasQUICParams = true
		return nil
	case extPSKKeyExchangeModes:
		m.pskModes = r.vec8()
		ok = r.ok && len(m.pskModes) > 0
	case extEarlyData:
		m.earlyData = true
	case extPreSharedKey:
		ids := newReader(r.vec16())
		binders := newReader(r.vec16())
		ok = r.ok && !ids.empty() && !binders.empty()
		for ok && !ids.empty() {
			id := ids.vec16()
			age := ids.u32()
			ok = ids.ok && len(id) > 0
			m.pskIdentities = append(m.pskIdentities, pskIdentity{id, age})
		}
		for ok && !binders.empty() {
			b := binders.vec8()
			ok = binders.ok && len(b) >= 32
			m.pskBinders = append(m.pskBinders, b)
		}
		if ok && len(m.pskBinders) != len(m.pskIdentities) {
			return alertf(AlertIllegalParameter, "PSK identities and binders differ in number")
		}
	default:
		// RFC 8446 §4.2: unknown extensions are ignored.
		return nil
	}
	if !ok || !r.empty() {
		return alertf(AlertDecodeError, "malformed ClientHello extension")
	}
	return nil
}

// serverHelloMsg is a ServerHello or, when random equals
// helloRetryRequestRandom, a HelloRetryRequest.
type serverHelloMsg struct {
	random           []byte
	sessionID        []byte
	cipherSuite      uint16
	supportedVersion uint16
	keyShare         keyShare // ServerHello
	selectedGroup    uint16   // HelloRetryRequest
	hasPSK           bool
	selectedIdentity uint16
	cookie           []byte
}

func (m *serverHelloMsg) isHelloRetryRequest() bool {
	return string(m.random) == string(helloRetryRequestRandom[:])
}

func (m *serverHelloMsg) marshal() []byte {
	b := make([]byte, 0, 128+len(m.keyShare.data)+len(m.keyShare.tail))
	b = append(b, typeServerHello)
	b, msgStart := beginVec(b, 3)
	b = appendU16(b, versionTLS12)
	b = append(b, m.random...)
	b = appendVec8(b, m.sessionID)
	b = appendU16(b, m.cipherSuite)
	b = append(b, 0)
	b, extStart := beginVec(b, 2)
	b = appendU16(b, extSupportedVersions)
	b = appendU16(b, 2)
	b = appendU16(b, m.supportedVersion)
	if m.isHelloRetryRequest() {
		b = appendU16(b, extKeyShare)
		b = appendU16(b, 2)
		b = appendU16(b, m.selectedGroup)
		if len(m.cookie) > 0 {
			b = appendU16(b, extCookie)
			b = appendU16(b, uint16(2+len(m.cookie)))
			b = appendVec16(b, m.cookie)
		}
	} else {
		b = appendU16(b, extKeyShare)
		n := len(m.keyShare.data) + len(m.keyShare.tail)
		b = appendU16(b, uint16(4+n))
		b = appendU16(b, m.keyShare.group)
		b = appendU16(b, uint16(n))
		b = append(append(b, m.keyShare.data...), m.keyShare.tail...)
	}
	if m.hasPSK {
		b = appendU16(b, extPreSharedKey)
		b = appendU16(b, 2)
		b = appendU16(b, m.selectedIdentity)
	}
	b = endVec(b, extStart, 2)
	return endVec(b, msgStart, 3)
}

func parseServerHello(body []byte) (*serverHelloMsg, error) {
	m := &serverHelloMsg{}
	r := newReader(body)
	legacyVersion := r.u16()
	m.random = r.bytes(32)
	m.sessionID = r.vec8()
	m.cipherSuite = r.u16()
	comp := r.u8()
	exts := newReader(r.vec16())
	if !r.ok || !r.empty() || len(m.sessionID) > 32 {
		return nil, alertf(AlertDecodeError, "malformed ServerHello")
	}
	if legacyVersion != versionTLS12 || comp != 0 {
		return nil, alertf(AlertIllegalParameter, "ServerHello legacy fields")
	}
	hrr := m.isHelloRetryRequest()
	var seen extensionSet
	for !exts.empty() {
		typ, data, err := exts.nextExtension(&seen)
		if err != nil {
			return nil, err
		}
		d := newReader(data)
		switch {
		case typ == extSupportedVersions:
			m.supportedVersion = d.u16()
		case typ == extKeyShare && hrr:
			m.selectedGroup = d.u16()
		case typ == extKeyShare:
			m.keyShare.group = d.u16()
			m.keyShare.data = d.vec16()
			if d.ok && len(m.keyShare.data) == 0 {
				d.fail()
			}
		case typ == extCookie && hrr:
			m.cookie = d.vec16()
			if d.ok && len(m.cookie) == 0 {
				d.fail()
			}
		case typ == extPreSharedKey && !hrr:
			m.hasPSK = true
			m.selectedIdentity = d.u16()
		default:
			// RFC 8446 §4.1.3 / §4.2: an extension the client did not
			// offer, or one that does not belong here, is fatal.
			return nil, alertf(AlertUnsupportedExtension, "unexpected ServerHello extension")
		}
		if !d.ok || !d.empty() {
			return nil, alertf(AlertDecodeError, "malformed ServerHello extension")
		}
	}
	return m, nil
}
