package protect

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"

	"github.com/skiffnet/skiff/internal/hkdf"
	"golang.org/x/crypto/chacha20poly1305"
)

const (
	// TagLen is the length of the AEAD authentication tag of every suite
	// QUIC uses: sealing a packet makes it TagLen bytes longer.
	TagLen = 16
	// SampleLen is the length of the ciphertext sample used for header
	// protection (RFC 9001 §5.4.2).
	SampleLen = 16
	// MaxConnectionIDLen is the longest connection ID of QUIC versions 1
	// and 2 (RFC 9000 §17.2).
	MaxConnectionIDLen = 20

	// nonceLen is the AEAD nonce length, N_MIN = N_MAX = 12 for the three
	// AEADs (RFC 5116 §5.1, RFC 8439 §2.8); the IV has the same length
	// (RFC 9001 §5.1).
	nonceLen = 12
)

// Keys protects the packets sent in one direction at one encryption level:
// the AEAD key and IV of RFC 9001 §5.3 and the header protection key of
// §5.4. An endpoint holds one Keys for sending and one for receiving.
//
// Keys keeps its per-packet scratch (the nonce, the header protection mask)
// inside itself so that protecting a packet never allocates; a Keys must
// therefore not be used by two goroutines at once. The connection that owns
// it uses it from its own goroutine only. Keys are made by NewKeys,
// InitialKeys or NextGeneration; the zero value is not usable.
//
// Keys start without their cipher states, as after Rest: the first packet
// sealed or opened makes them (the AEAD's, and the header protection
// cipher's). Keys that protect no packet cost no cipher: a server's 1-RTT
// keys when the client's CONNECTION_CLOSE comes with its Finished, a
// client's 1-RTT read keys when it closes before the server sends any.
type Keys struct {
	params *versionParams
	suite  Suite
	nonce  [nonceLen]byte // nonce[:4] is the IV's first 4 bytes, fixed
	aead   cipher.AEAD
	// ivLow holds the last 8 bytes of the IV; the packet number, at most
	// 62 bits, only ever changes those (RFC 9001 §5.3).
	ivLow uint64
	hp    headerProtection
	// secret is the traffic secret the keys came from, kept for the key
	// update (RFC 9001 §6.1).
	secret    [sha512.Size384]byte
	secretLen int
}

// NewKeys derives the packet protection keys of a QUIC version from a TLS
// traffic secret negotiated with the given cipher suite (RFC 9001 §5.1):
//
//	key = HKDF-Expand-Label(secret, "quic key", "", key length)
//	iv  = HKDF-Expand-Label(secret, "quic iv", "", 12)
//	hp  = HKDF-Expand-Label(secret, "quic hp", "", key length)
//
// with the "quicv2 …" labels for Version2 (RFC 9369 §3.3.2). The secret must
// be as long as the suite's hash output.
func NewKeys(version uint32, suite Suite, secret []byte) (*Keys, error) {
	p, err := paramsFor(version)
	if err != nil {
		return nil, err
	}
	if !suite.Supported() {
		return nil, ErrUnsupportedSuite
	}
	if len(secret) != suite.secretLen() {
		return nil, ErrSecretLength
	}
	var hpKey [32]byte
	suite.kdf().AppendExpandLabel(hpKey[:0], secret, p.labelHP, nil, suite.keyLen())
	return newKeys(p, suite, secret, newHeaderProtection(suite, hpKey[:suite.keyLen()])), nil
}

// newKeys makes Keys from a traffic secret and a header protection key,
// which a key update carries over from the previous generation. It
// derives the IV; the AEAD key waits for the first packet (wake), derived
// and used on the stack, so that no copy of it outlives its cipher.
func newKeys(p *versionParams, suite Suite, secret []byte, hp headerProtection) *Keys {
	k := &Keys{params: p, suite: suite, hp: hp}
	var iv [nonceLen]byte
	suite.kdf().AppendExpandLabel(iv[:0], secret, p.labelIV, nil, nonceLen)
	copy(k.nonce[:4], iv[:4])
	k.ivLow = binary.BigEndian.Uint64(iv[4:])
	k.secretLen = copy(k.secret[:], secret)
	return k
}

// newAEAD returns the suite's AEAD (RFC 9001 §5.3): AEAD_AES_128_GCM,
// AEAD_AES_256_GCM or AEAD_CHACHA20_POLY1305.
func newAEAD(suite Suite, key []byte) (cipher.AEAD, error) {
	if suite == TLS_CHACHA20_POLY1305_SHA256 {
		return chacha20poly1305.New(key)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// InitialKeys derives the keys protecting Initial packets from the
// Destination Connection ID of the client's first Initial packet
// (RFC 9001 §5.2; RFC 9369 §3.3.1 for the version 2 salt):
//
//	initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id)
//	client_initial_secret = HKDF-Expand-Label(initial_secret, "client in", "", 32)
//	server_initial_secret = HKDF-Expand-Label(initial_secret, "server in", "", 32)
//
// Initial packets use TLS_AES_128_GCM_SHA256. A client seals with client
// and opens with server; a server does the opposite.
func InitialKeys(version uint32, dcid []byte) (client, server *Keys, err error) {
	var s initialSecretSet
	if err := s.derive(version, dcid); err != nil {
		return nil, nil, err
	}
	if client, err = NewKeys(version, TLS_AES_128_GCM_SHA256, s.client[:]); err != nil {
		return nil, nil, err
	}
	if server, err = NewKeys(version, TLS_AES_128_GCM_SHA256, s.server[:]); err != nil {
		return nil, nil, err
	}
	return client, server, nil
}

// initialSecretSet is the three secrets of RFC 9001 §5.2, made on the
// caller's stack: nothing of them outlives the Keys made from them.
type initialSecretSet struct {
	initial, client, server [sha256.Size]byte
}

func (s *initialSecretSet) derive(version uint32, dcid []byte) error {
	p, err := paramsFor(version)
	if err != nil {
		return err
	}
	if len(dcid) > MaxConnectionIDLen {
		// RFC 9000 §17.2: a version 1 or 2 connection ID is at most 20
		// bytes (the endpoint drops longer ones before this).
		return ErrConnectionIDLength
	}
	hkdf.SHA256.AppendMAC(s.initial[:0], p.initialSalt, dcid) // HKDF-Extract
	hkdf.SHA256.AppendExpandLabel(s.client[:0], s.initial[:], "client in", nil, sha256.Size)
	hkdf.SHA256.AppendExpandLabel(s.server[:0], s.initial[:], "server in", nil, sha256.Size)
	return nil
}

// NextGeneration returns the keys of the next key phase (RFC 9001 §6.1):
//
//	secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku", "", hash length)
//
// ("quicv2 ku" for Version2), with a new AEAD key and IV derived from it as
// in NewKeys. The header protection key is not updated: the new Keys shares
// it with k. k stays usable, as the previous generation is needed for a while
// after an update (RFC 9001 §6.5).
func (k *Keys) NextGeneration() (*Keys, error) {
	var next [sha512.Size384]byte
	k.suite.kdf().AppendExpandLabel(next[:0], k.secret[:k.secretLen], k.params.labelKU, nil, k.secretLen)
	return newKeys(k.params, k.suite, next[:k.secretLen], k.hp), nil
}

// Rest lets go of the cipher states, the larger part of Keys (about 1.3
// KB for AES-GCM: the AEAD's expanded key and tables and the header
// protection cipher), and keeps what makes them: the secret, the IV and
// the header protection key. The next packet sealed or opened makes them
// again, which allocates and costs about a microsecond; a connection rests
// its keys when it goes idle, so a connection that is busy never pays.
func (k *Keys) Rest() {
	k.aead = nil
	k.hp.block = nil
}

// wake makes the AEAD, for the first packet or after Rest (the header
// protection cipher wakes itself, headerProtection.computeMask): key =
// HKDF-Expand-Label(secret, "quic key", "", key length) (RFC 9001 §5.1).
func (k *Keys) wake() error {
	var key [32]byte
	k.suite.kdf().AppendExpandLabel(key[:0], k.secret[:k.secretLen], k.params.labelKey, nil, k.suite.keyLen())
	var err error
	k.aead, err = newAEAD(k.suite, key[:k.suite.keyLen()])
	return err
}

// Suite returns the cipher suite the keys were derived for; its
// ConfidentialityLimit and IntegrityLimit apply to them (RFC 9001 §6.6).
func (k *Keys) Suite() Suite { return k.suite }

// setNonce forms the AEAD nonce of packet number pn (RFC 9001 §5.3): the
// packet number, left-padded with zeros to the IV length, XORed with the IV.
func (k *Keys) setNonce(pn uint64) {
	binary.BigEndian.PutUint64(k.nonce[4:], k.ivLow^pn)
}
