package protect

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

var allSuites = []Suite{TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256}

// testSecret returns a deterministic traffic secret of the suite's length.
func testSecret(suite Suite, seed byte) []byte {
	s := make([]byte, suite.secretLen())
	for i := range s {
		s[i] = seed + byte(i)*7
	}
	return s
}

// handExpandLabel computes HKDF-Expand-Label with the HkdfLabel bytes laid
// out by hand (RFC 8446 §7.1), independently of hkdfLabel.
func handExpandLabel(t *testing.T, newHash func() hash.Hash, secret []byte, label string, length int) []byte {
	t.Helper()
	info := []byte{0, byte(length), byte(6 + len(label))}
	info = append(info, "tls13 "+label...)
	info = append(info, 0)
	out, err := hkdf.Expand(newHash, secret, string(info), length)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKeyUpdate checks NextGeneration (RFC 9001 §6.1) for every suite and
// both versions: the new secret and AEAD key and IV follow a hand
// computation with HKDF-Expand-Label, while the header protection key stays
// the same. A packet sealed by the next generation has its header protection
// removed by the old generation, and its payload opens with an AEAD built
// from the hand-computed key and IV.
func TestKeyUpdate(t *testing.T) {
	for _, version := range []uint32{Version1, Version2} {
		p, _ := paramsFor(version)
		for _, suite := range allSuites {
			t.Run(p.labelKU+"/"+suite.String(), func(t *testing.T) {
				newHash := sha256.New
				if suite == TLS_AES_256_GCM_SHA384 {
					newHash = sha512.New384
				}
				secret := testSecret(suite, 1)
				k, err := NewKeys(version, suite, secret)
				if err != nil {
					t.Fatal(err)
				}
				next, err := k.NextGeneration()
				if err != nil {
					t.Fatal(err)
				}
				wantSecret := handExpandLabel(t, newHash, secret, p.labelKU, len(secret))
				checkBytes(t, "next secret", next.secret[:next.secretLen], wantSecret)
				wantKey := handExpandLabel(t, newHash, wantSecret, p.labelKey, suite.keyLen())
				wantIV := handExpandLabel(t, newHash, wantSecret, p.labelIV, 12)
				next.setNonce(0)
				checkBytes(t, "next iv", next.nonce[:], wantIV)
				if next.hp.block != k.hp.block || next.hp.key != k.hp.key {
					t.Error("header protection key changed with the key update")
				}

				// Seal a short-header packet with the next generation.
				header := []byte{0x41 | 0x04, 0xaa, 0xbb, 0x12, 0x34} // key phase 1, 2-byte pn
				plaintext := []byte("an application payload of some bytes")
				const pnOffset, pn = 3, 0x11234
				buf := append(append(make([]byte, 0, 64), header...), plaintext...)
				sealed, err := next.SealPacket(buf, pnOffset, pn)
				if err != nil {
					t.Fatal(err)
				}
				// The old generation removes header protection.
				truncated, pnLen, err := k.UnprotectHeader(sealed, pnOffset)
				if err != nil {
					t.Fatal(err)
				}
				if truncated != 0x1234 || pnLen != 2 {
					t.Fatalf("truncated pn %#x len %d, want 0x1234 len 2", truncated, pnLen)
				}
				checkBytes(t, "header", sealed[:len(header)], header)
				// An AEAD made from the hand-computed key opens it.
				aead := referenceAEAD(t, suite, wantKey)
				nonce := bytes.Clone(wantIV)
				binary.BigEndian.PutUint64(nonce[4:], binary.BigEndian.Uint64(nonce[4:])^pn)
				got, err := aead.Open(nil, nonce, sealed[len(header):], sealed[:len(header)])
				if err != nil {
					t.Fatalf("hand-made AEAD: %v", err)
				}
				checkBytes(t, "payload", got, plaintext)

				// Two updates chain the secrets; the old keys still work.
				next2, err := next.NextGeneration()
				if err != nil {
					t.Fatal(err)
				}
				checkBytes(t, "third secret", next2.secret[:next2.secretLen],
					handExpandLabel(t, newHash, wantSecret, p.labelKU, len(secret)))
				roundTrip(t, k, k)
				roundTrip(t, next2, next2)
			})
		}
	}
}

func referenceAEAD(t *testing.T, suite Suite, key []byte) cipher.AEAD {
	t.Helper()
	if suite == TLS_CHACHA20_POLY1305_SHA256 {
		aead, err := chacha20poly1305.New(key)
		if err != nil {
			t.Fatal(err)
		}
		return aead
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead
}

// roundTrip seals a long-header packet with sender and opens it with
// receiver.
func roundTrip(t *testing.T, sender, receiver *Keys) {
	t.Helper()
	header := []byte{0xc0 | 0x03, 0, 0, 0, 1, 0, 0, 0x40, 0x20, 0, 0, 0, 7}
	payload := []byte("PING and PADDING, nothing more")
	buf := append(append(make([]byte, 0, 128), header...), payload...)
	sealed, err := sender.SealPacket(buf, 9, 7)
	if err != nil {
		t.Fatal(err)
	}
	got, pn, err := receiver.OpenPacket(sealed, 9, 6)
	if err != nil {
		t.Fatalf("OpenPacket: %v", err)
	}
	if pn != 7 {
		t.Errorf("pn = %d, want 7", pn)
	}
	checkBytes(t, "round trip payload", got, payload)
}

func TestKeysPerSuite(t *testing.T) {
	for _, suite := range allSuites {
		t.Run(suite.String(), func(t *testing.T) {
			p, _ := paramsFor(Version1)
			m := deriveKeyMaterial(p, suite, testSecret(suite, 3), true)
			wantLen := map[Suite]int{TLS_AES_128_GCM_SHA256: 16, TLS_AES_256_GCM_SHA384: 32, TLS_CHACHA20_POLY1305_SHA256: 32}[suite]
			if len(m.key) != wantLen || len(m.hp) != wantLen || len(m.iv) != 12 {
				t.Errorf("key %d, hp %d, iv %d bytes; want %d, %d, 12", len(m.key), len(m.hp), len(m.iv), wantLen, wantLen)
			}
			k, err := NewKeys(Version1, suite, testSecret(suite, 3))
			if err != nil {
				t.Fatal(err)
			}
			if k.Suite() != suite {
				t.Errorf("Suite() = %v", k.Suite())
			}
			if k.aead != nil || k.hp.block != nil {
				t.Error("new keys made cipher states before their first packet")
			}
			// A receiver with its own Keys from the same secret opens
			// what the sender seals; one from another secret does not.
			recv, _ := NewKeys(Version1, suite, testSecret(suite, 3))
			roundTrip(t, k, recv)
			if k.aead == nil || (k.hp.block == nil) != (suite == TLS_CHACHA20_POLY1305_SHA256) {
				t.Error("wrong cipher states for the suite after a packet")
			}
			wrong, _ := NewKeys(Version1, suite, testSecret(suite, 4))
			buf := append(make([]byte, 0, 64), 0x40, 1, 2, 3, 4, 5, 6, 7)
			sealed, _ := k.SealPacket(buf, 1, 0)
			if _, _, err := wrong.OpenPacket(sealed, 1, -1); err != ErrAuthentication {
				t.Errorf("open with the wrong keys: err = %v, want ErrAuthentication", err)
			}
		})
	}
}

func TestNewKeysErrors(t *testing.T) {
	good := testSecret(TLS_AES_128_GCM_SHA256, 0)
	if _, err := NewKeys(0xff00001d, TLS_AES_128_GCM_SHA256, good); err != ErrUnsupportedVersion {
		t.Errorf("draft version: %v", err)
	}
	if _, err := NewKeys(Version1, 0x1304, good); err != ErrUnsupportedSuite {
		t.Errorf("TLS_AES_128_CCM_SHA256: %v", err)
	}
	if _, err := NewKeys(Version1, TLS_AES_256_GCM_SHA384, good); err != ErrSecretLength {
		t.Errorf("32-byte secret for SHA-384: %v", err)
	}
	if _, err := NewKeys(Version1, TLS_CHACHA20_POLY1305_SHA256, nil); err != ErrSecretLength {
		t.Errorf("empty secret: %v", err)
	}
	if _, _, err := InitialKeys(0, appendixDCID); err != ErrUnsupportedVersion {
		t.Errorf("InitialKeys, version 0: %v", err)
	}
	// Any connection ID length gives Initial keys; the wire format
	// enforces the limits.
	if _, _, err := InitialKeys(Version2, nil); err != nil {
		t.Errorf("InitialKeys, empty DCID: %v", err)
	}
}

func TestLimits(t *testing.T) {
	// RFC 9001 §6.6.
	for _, tc := range []struct {
		suite                      Suite
		confidentiality, integrity uint64
	}{
		{TLS_AES_128_GCM_SHA256, 1 << 23, 1 << 52},
		{TLS_AES_256_GCM_SHA384, 1 << 23, 1 << 52},
		{TLS_CHACHA20_POLY1305_SHA256, 1 << 62, 1 << 36},
		{0x1304, 0, 0},
	} {
		if got := tc.suite.ConfidentialityLimit(); got != tc.confidentiality {
			t.Errorf("%v confidentiality limit = %d, want %d", tc.suite, got, tc.confidentiality)
		}
		if got := tc.suite.IntegrityLimit(); got != tc.integrity {
			t.Errorf("%v integrity limit = %d, want %d", tc.suite, got, tc.integrity)
		}
	}
	if Suite(0x1304).Supported() || Suite(0x1304).String() != "unknown suite" {
		t.Error("0x1304 reported as supported")
	}
}

// TestRetryKeysDerivation checks the fixed Retry keys and nonces against
// their derivation from the published secrets (RFC 9001 §5.8, RFC 9369
// §3.3.3).
func TestRetryKeysDerivation(t *testing.T) {
	for _, tc := range []struct {
		version uint32
		secret  string
	}{
		{Version1, "d9c9943e6101fd200021506bcc02814c73030f25c79d71ce876eca876e6fca8e"},
		{Version2, "c4dd2484d681aefa4ff4d69c2c20299984a765a5d3c31982f38fc74162155e9f"},
	} {
		p, _ := paramsFor(tc.version)
		secret := appendixA{"s": tc.secret}.hex(t, "s")
		checkBytes(t, "retry key", p.retryKey[:], handExpandLabel(t, sha256.New, secret, p.labelKey, 16))
		checkBytes(t, "retry nonce", p.retryNonce[:], handExpandLabel(t, sha256.New, secret, p.labelIV, 12))
	}
}

func TestRetryErrors(t *testing.T) {
	packet := make([]byte, 40)
	if err := VerifyRetryIntegrity(0xff00001d, appendixDCID, packet); err != ErrUnsupportedVersion {
		t.Errorf("draft version: %v", err)
	}
	if _, err := RetryIntegrityTag(Version2, make([]byte, 21), packet); err != ErrConnectionIDLength {
		t.Errorf("21-byte ODCID: %v", err)
	}
	if err := VerifyRetryIntegrity(Version1, appendixDCID, packet[:TagLen-1]); err != ErrShortPacket {
		t.Errorf("packet shorter than a tag: %v", err)
	}
	// A Retry larger than the pooled buffers still gets its tag.
	big := make([]byte, 2*maxPooledPseudoPacket)
	tag, err := RetryIntegrityTag(Version1, appendixDCID, big)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyRetryIntegrity(Version1, appendixDCID, append(big, tag[:]...)); err != nil {
		t.Errorf("large Retry: %v", err)
	}
	if got := ErrAuthentication.Error(); got != "protect: packet authentication failed" {
		t.Errorf("error text %q", got)
	}
}

// TestRest checks that keys that rested (Rest) seal and open exactly as
// before: the same sealed bytes for the same packet, for every suite and
// for a next generation, whose header protection key is its parent's.
func TestRest(t *testing.T) {
	seal := func(k *Keys) []byte {
		t.Helper()
		header, payload := oneRTTPacket()
		buf := append(append(make([]byte, 0, 1500), header...), payload...)
		sealed, err := k.SealPacket(buf, len(header)-2, 0x1234)
		if err != nil {
			t.Fatal(err)
		}
		return sealed
	}
	for _, suite := range allSuites {
		t.Run(suite.String(), func(t *testing.T) {
			k, err := NewKeys(Version1, suite, testSecret(suite, 3))
			if err != nil {
				t.Fatal(err)
			}
			next, err := k.NextGeneration()
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []*Keys{k, next} {
				before := seal(k)
				k.Rest()
				if k.aead != nil || k.hp.block != nil {
					t.Fatal("Rest kept the cipher states")
				}
				checkBytes(t, "sealed after a rest", seal(k), before)
				k.Rest()
				receiver, _ := NewKeys(Version1, suite, k.secret[:k.secretLen])
				receiver.hp = k.hp
				receiver.Rest()
				roundTrip(t, k, receiver)
			}
		})
	}
}

// derivedKeys is the key material of RFC 9001 §5.1 that Keys derive
// from a secret (the key in wake, the IV in newKeys, the header
// protection key in NewKeys), for tests to compare with vectors.
type derivedKeys struct{ key, iv, hp []byte }

func deriveKeyMaterial(p *versionParams, suite Suite, secret []byte, withHP bool) derivedKeys {
	kdf := suite.kdf()
	d := derivedKeys{
		key: kdf.ExpandLabel(secret, p.labelKey, nil, suite.keyLen()),
		iv:  kdf.ExpandLabel(secret, p.labelIV, nil, nonceLen),
	}
	if withHP {
		d.hp = kdf.ExpandLabel(secret, p.labelHP, nil, suite.keyLen())
	}
	return d
}

// initialSecrets returns the three secrets of RFC 9001 §5.2 as slices, for
// tests to compare with vectors.
func initialSecrets(version uint32, dcid []byte) (initial, client, server []byte, err error) {
	s := new(initialSecretSet)
	err = s.derive(version, dcid)
	return s.initial[:], s.client[:], s.server[:], err
}
