package tls13

import (
	"crypto"
	"crypto/subtle"
	"hash"

	"github.com/skiffnet/skiff/internal/hkdf"
)

// TLS 1.3 cipher suites (RFC 8446 §B.4). All three are usable with QUIC
// (RFC 9001 §5.3); TLS_AES_128_CCM_SHA256 is not offered.
const (
	TLS_AES_128_GCM_SHA256       uint16 = 0x1301
	TLS_AES_256_GCM_SHA384       uint16 = 0x1302
	TLS_CHACHA20_POLY1305_SHA256 uint16 = 0x1303
)

type cipherSuite struct {
	id      uint16
	hash    crypto.Hash
	newHash func() hash.Hash
	size    int // Hash.length
	// emptyHash is Transcript-Hash("") for Derive-Secret(., "derived", "").
	emptyHash []byte
	// kdf does HMAC and HKDF with pooled hash states.
	kdf *hkdf.Hash
	// noPSKEarly and noPSKDerived are the Early Secret without a PSK,
	// HKDF-Extract(0, 0), and Derive-Secret(it, "derived", ""): constants
	// of the suite (RFC 8446 §7.1), which every full handshake would
	// otherwise compute again, two HMACs a side.
	noPSKEarly, noPSKDerived []byte
}

var (
	suiteAES128 = newCipherSuite(TLS_AES_128_GCM_SHA256, crypto.SHA256, hkdf.SHA256)
	suiteAES256 = newCipherSuite(TLS_AES_256_GCM_SHA384, crypto.SHA384, hkdf.SHA384)
	suiteChaCha = newCipherSuite(TLS_CHACHA20_POLY1305_SHA256, crypto.SHA256, hkdf.SHA256)
)

// defaultCipherSuites is the order a client offers when Config.CipherSuites
// is empty.
var defaultCipherSuites = []uint16{TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256}

func newCipherSuite(id uint16, h crypto.Hash, kdf *hkdf.Hash) *cipherSuite {
	s := &cipherSuite{id: id, hash: h, newHash: kdf.New, size: h.Size(), emptyHash: kdf.New().Sum(nil), kdf: kdf}
	s.noPSKEarly = s.extract(nil, nil)
	s.noPSKDerived = s.deriveSecret(s.noPSKEarly, "derived", nil)
	return s
}

func cipherSuiteByID(id uint16) *cipherSuite {
	switch id {
	case TLS_AES_128_GCM_SHA256:
		return suiteAES128
	case TLS_AES_256_GCM_SHA384:
		return suiteAES256
	case TLS_CHACHA20_POLY1305_SHA256:
		return suiteChaCha
	}
	return nil
}

// CipherSuiteName returns the IANA name of a TLS 1.3 cipher suite.
func CipherSuiteName(id uint16) string {
	switch id {
	case TLS_AES_128_GCM_SHA256:
		return "TLS_AES_128_GCM_SHA256"
	case TLS_AES_256_GCM_SHA384:
		return "TLS_AES_256_GCM_SHA384"
	case TLS_CHACHA20_POLY1305_SHA256:
		return "TLS_CHACHA20_POLY1305_SHA256"
	}
	return "unknown"
}

// zeroSecret is the all-zero input of HKDF-Extract where the key schedule
// has no PSK or no (EC)DHE secret (RFC 8446 §7.1).
var zeroSecret [64]byte

// extract is HKDF-Extract(salt, IKM) (RFC 5869 §2.2). A nil salt or IKM is
// the string of Hash.length zero bytes the key schedule asks for.
func (s *cipherSuite) extract(ikm, salt []byte) []byte {
	if ikm == nil {
		ikm = zeroSecret[:s.size]
	}
	return s.kdf.Extract(salt, ikm)
}

// expandLabel is HKDF-Expand-Label (RFC 8446 §7.1).
func (s *cipherSuite) expandLabel(secret []byte, label string, context []byte, length int) []byte {
	return s.kdf.ExpandLabel(secret, label, context, length)
}

// deriveSecret is Derive-Secret(Secret, Label, Messages) (RFC 8446 §7.1)
// given Transcript-Hash(Messages).
func (s *cipherSuite) deriveSecret(secret []byte, label string, transcriptHash []byte) []byte {
	return s.deriveSecretIn(nil, secret, label, transcriptHash)
}

// deriveSecretIn is deriveSecret with the result in sp (nil: allocated).
func (s *cipherSuite) deriveSecretIn(sp *secretSpace, secret []byte, label string, transcriptHash []byte) []byte {
	if transcriptHash == nil {
		transcriptHash = s.emptyHash
	}
	return s.kdf.AppendExpandLabel(sp.next(s.size), secret, label, transcriptHash, s.size)
}

// secretSpace is room for the secrets of one handshake (handshake secret,
// traffic secrets, master secret): one allocation rather than one per
// secret. A slot once handed out is never written again, so that secrets
// passed on in Events stay valid, as Event promises.
type secretSpace struct {
	b [6 * 48]byte // six secrets; SHA-384's are the longest
	n int
}

// next returns an empty slice with room for size bytes, from sp while it
// lasts; a nil sp allocates.
func (sp *secretSpace) next(size int) []byte {
	if sp == nil || sp.n+size > len(sp.b) {
		return make([]byte, 0, size)
	}
	b := sp.b[sp.n : sp.n : sp.n+size]
	sp.n += size
	return b
}

// finishedMAC appends verify_data (RFC 8446 §4.4.4) to dst. The finished
// key is made and used on the stack, and with room in dst (a caller's
// [64]byte) nothing is allocated.
func (s *cipherSuite) finishedMAC(dst, baseKey, transcriptHash []byte) []byte {
	var fk [64]byte
	finishedKey := s.kdf.AppendExpandLabel(fk[:0], baseKey, "finished", nil, s.size)
	return s.kdf.AppendMAC(dst, finishedKey, transcriptHash)
}

// earlySecret is the first stage of the key schedule (RFC 8446 §7.1); psk is
// nil without resumption. The result must not be modified.
func (s *cipherSuite) earlySecret(psk []byte) []byte {
	if psk == nil {
		return s.noPSKEarly
	}
	return s.extract(psk, nil)
}

// handshakeSecret derives the Handshake Secret, in sp (nil: allocated),
// from the Early Secret and the (EC)DHE shared secret. Without a PSK the
// "derived" secret is the suite's constant: it depends on the Early
// Secret's bytes alone, so equal bytes (compared in constant time, as a
// PSK's Early Secret is secret) mean the same result.
func (s *cipherSuite) handshakeSecret(sp *secretSpace, early, sharedSecret []byte) []byte {
	derived := s.noPSKDerived
	if subtle.ConstantTimeCompare(early, s.noPSKEarly) != 1 {
		var d [64]byte
		derived = s.kdf.AppendExpandLabel(d[:0], early, "derived", s.emptyHash, s.size)
	}
	return s.kdf.AppendMAC(sp.next(s.size), derived, sharedSecret)
}

// masterSecret derives the Master Secret, in sp (nil: allocated), from the
// Handshake Secret.
func (s *cipherSuite) masterSecret(sp *secretSpace, hs []byte) []byte {
	var d [64]byte
	derived := s.kdf.AppendExpandLabel(d[:0], hs, "derived", s.emptyHash, s.size)
	return s.kdf.AppendMAC(sp.next(s.size), derived, zeroSecret[:s.size])
}

// resumptionPSK is the PSK of a ticket (RFC 8446 §4.6.1).
func (s *cipherSuite) resumptionPSK(resumptionMasterSecret, nonce []byte) []byte {
	return s.expandLabel(resumptionMasterSecret, "resumption", nonce, s.size)
}

// Key schedule labels (RFC 8446 §7.1).
const (
	labelExtBinder   = "ext binder"
	labelResBinder   = "res binder"
	labelClientEarly = "c e traffic"
	labelClientHS    = "c hs traffic"
	labelServerHS    = "s hs traffic"
	labelClientAP    = "c ap traffic"
	labelServerAP    = "s ap traffic"
	labelResumption  = "res master"
)

// transcriptHashOf hashes a sequence of handshake messages.
func (s *cipherSuite) transcriptHashOf(msgs ...[]byte) []byte {
	h := s.newHash()
	for _, m := range msgs {
		h.Write(m)
	}
	return h.Sum(nil)
}

// messageHash replaces ClientHello1 in the transcript after a
// HelloRetryRequest (RFC 8446 §4.4.1).
func (s *cipherSuite) messageHash(clientHello1 []byte) []byte {
	h := s.newHash()
	h.Write(clientHello1)
	b := make([]byte, 4, 4+s.size)
	b[0] = typeMessageHash
	b[3] = byte(s.size)
	return h.Sum(b)
}

// ExpandLabel is HKDF-Expand-Label (RFC 8446 §7.1) with the hash of a TLS
// 1.3 cipher suite. QUIC derives its packet protection keys with it
// ("quic key", "quic iv", "quic hp", and "quic ku" for key updates;
// RFC 9001 §5.1, §6.1). It panics on an unknown suite.
func ExpandLabel(suite uint16, secret []byte, label string, context []byte, length int) []byte {
	s := cipherSuiteByID(suite)
	if s == nil {
		panic("tls13: ExpandLabel with an unknown cipher suite")
	}
	return s.expandLabel(secret, label, context, length)
}

// Extract is HKDF-Extract (RFC 5869 §2.2) with the hash of a TLS 1.3
// cipher suite; QUIC derives its Initial secret with it (RFC 9001 §5.2).
// It panics on an unknown suite.
func Extract(suite uint16, secret, salt []byte) []byte {
	s := cipherSuiteByID(suite)
	if s == nil {
		panic("tls13: Extract with an unknown cipher suite")
	}
	return s.extract(secret, salt)
}
