package protect

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/chacha20"
)

// TestChaCha20Block compares the block function with the key stream of
// golang.org/x/crypto/chacha20 for random keys, counters and nonces,
// including the largest counter.
func TestChaCha20Block(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		var key [32]byte
		var nonce [12]byte
		for j := range key {
			key[j] = byte(rng.Uint32())
		}
		for j := range nonce {
			nonce[j] = byte(rng.Uint32())
		}
		counter := rng.Uint32()
		if i == 0 {
			counter = 0xffffffff
		}
		ref, err := chacha20.NewUnauthenticatedCipher(key[:], nonce[:])
		if err != nil {
			t.Fatal(err)
		}
		ref.SetCounter(counter)
		want := make([]byte, 64)
		ref.XORKeyStream(want, want)

		var keyWords [8]uint32
		for j := range keyWords {
			keyWords[j] = binary.LittleEndian.Uint32(key[4*j:])
		}
		words := chacha20Block(&keyWords, counter,
			binary.LittleEndian.Uint32(nonce[0:]),
			binary.LittleEndian.Uint32(nonce[4:]),
			binary.LittleEndian.Uint32(nonce[8:]))
		got := make([]byte, 64)
		for j, w := range words {
			binary.LittleEndian.PutUint32(got[4*j:], w)
		}
		if string(got) != string(want) {
			t.Fatalf("key %x counter %#x nonce %x:\n got %x\nwant %x", key, counter, nonce, got, want)
		}
	}
}

// TestChaCha20HeaderMask checks the header protection mask of RFC 9001
// §5.4.4 against the same computation with x/crypto's stream cipher.
func TestChaCha20HeaderMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	secret := testSecret(TLS_CHACHA20_POLY1305_SHA256, 9)
	p, _ := paramsFor(Version1)
	m := deriveKeyMaterial(p, TLS_CHACHA20_POLY1305_SHA256, secret, true)
	k, err := NewKeys(Version1, TLS_CHACHA20_POLY1305_SHA256, secret)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		sample := make([]byte, SampleLen)
		for j := range sample {
			sample[j] = byte(rng.Uint32())
		}
		ref, err := chacha20.NewUnauthenticatedCipher(m.hp, sample[4:])
		if err != nil {
			t.Fatal(err)
		}
		ref.SetCounter(binary.LittleEndian.Uint32(sample[:4]))
		want := make([]byte, 5)
		ref.XORKeyStream(want, want)
		k.hp.computeMask(sample)
		checkBytes(t, "mask", k.hp.mask[:5], want)
	}
}
