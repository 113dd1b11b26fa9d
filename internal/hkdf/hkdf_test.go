package hkdf

import (
	"bytes"
	stdhkdf "crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"math/rand/v2"
	"testing"
)

func hashes() []struct {
	name string
	h    *Hash
	std  func() hash.Hash
} {
	return []struct {
		name string
		h    *Hash
		std  func() hash.Hash
	}{{"SHA-256", SHA256, sha256.New}, {"SHA-384", SHA384, sha512.New384}}
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestAgainstStdlib compares MAC, Extract and ExpandLabel with crypto/hmac
// and crypto/hkdf over keys shorter and longer than the hash block, empty
// and full contexts, and outputs of one and several hash blocks.
func TestAgainstStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, hh := range hashes() {
		t.Run(hh.name, func(t *testing.T) {
			for _, keyLen := range []int{0, 1, 32, 48, 64, 127, 128, 129, 200} {
				key := randBytes(r, keyLen)
				msg := randBytes(r, r.IntN(300))
				std := hmac.New(hh.std, key)
				std.Write(msg)
				if got, want := hh.h.MAC(key, msg), std.Sum(nil); !bytes.Equal(got, want) {
					t.Fatalf("MAC key %d: got %x, want %x", keyLen, got, want)
				}
				if keyLen <= MaxAppendSecret {
					if got, want := hh.h.AppendMAC([]byte("x"), key, msg), std.Sum([]byte("x")); !bytes.Equal(got, want) {
						t.Fatalf("AppendMAC key %d: got %x, want %x", keyLen, got, want)
					}
				}
				want, err := stdhkdf.Extract(hh.std, msg, key)
				if err != nil {
					t.Fatal(err)
				}
				if got := hh.h.Extract(key, msg); !bytes.Equal(got, want) {
					t.Fatalf("Extract salt %d: got %x, want %x", keyLen, got, want)
				}
			}
			secret := randBytes(r, hh.h.Size())
			for _, ctxLen := range []int{0, 32, 255} {
				context := randBytes(r, ctxLen)
				for _, length := range []int{1, 12, 16, 32, 48, 64, 100, 255} {
					info := AppendLabel(nil, length, "some label", context)
					want, err := stdhkdf.Expand(hh.std, secret, string(info), length)
					if err != nil {
						t.Fatal(err)
					}
					if got := hh.h.ExpandLabel(secret, "some label", context, length); !bytes.Equal(got, want) {
						t.Fatalf("ExpandLabel context %d length %d: got %x, want %x", ctxLen, length, got, want)
					}
					prefix := []byte("prefix")
					if got := hh.h.AppendExpandLabel(prefix, secret, "some label", context, length); !bytes.Equal(got[len(prefix):], want) || string(got[:len(prefix)]) != "prefix" {
						t.Fatalf("AppendExpandLabel context %d length %d: got %x, want prefix and %x", ctxLen, length, got, want)
					}
				}
			}
		})
	}
}

// TestAppendMACTooLong checks that AppendMAC refuses a key or message it
// cannot copy whole rather than MAC a part of it.
func TestAppendMACTooLong(t *testing.T) {
	for _, tc := range []struct{ key, msg int }{{0, MaxAppendMAC + 1}, {MaxAppendSecret + 1, 0}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AppendMAC of a %d-byte key and a %d-byte message did not panic", tc.key, tc.msg)
				}
			}()
			SHA256.AppendMAC(nil, make([]byte, tc.key), make([]byte, tc.msg))
		}()
	}
}

// TestAppendExpandLabelTooLong checks that AppendExpandLabel refuses a
// secret it cannot copy whole.
func TestAppendExpandLabelTooLong(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("AppendExpandLabel of a secret over MaxAppendSecret bytes did not panic")
		}
	}()
	SHA256.AppendExpandLabel(nil, make([]byte, MaxAppendSecret+1), "x", nil, 16)
}

// TestAppendLabel checks the HkdfLabel encoding of RFC 8446 §7.1 on the
// "client in" label of RFC 9001 Appendix A.1.
func TestAppendLabel(t *testing.T) {
	got := AppendLabel([]byte{0xff}, 32, "client in", nil)
	want, _ := hex.DecodeString("ff00200f746c73313320636c69656e7420696e00")
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
}

// TestRFC5869 is test case 1 of RFC 5869 Appendix A (SHA-256 Extract).
func TestRFC5869(t *testing.T) {
	ikm, _ := hex.DecodeString("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b")
	salt, _ := hex.DecodeString("000102030405060708090a0b0c")
	want, _ := hex.DecodeString("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
	if got := SHA256.Extract(salt, ikm); !bytes.Equal(got, want) {
		t.Fatalf("PRK: got %x, want %x", got, want)
	}
}

func BenchmarkExpandLabel(b *testing.B) {
	secret := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		SHA256.ExpandLabel(secret, "quic key", nil, 16)
	}
}

// TestPooledStateWiped checks that a state goes back to the pool with
// nothing of the last key or output in it.
func TestPooledStateWiped(t *testing.T) {
	key := bytes.Repeat([]byte{0x5a}, 200) // longer than a block: hashed first
	SHA256.MAC(key, []byte("message"))
	SHA256.AppendExpandLabel(nil, key[:32], "label", nil, 16)
	m := SHA256.get()
	defer SHA256.put(m)
	var zero [128]byte
	if !bytes.Equal(m.pad[:], zero[:]) || !bytes.Equal(m.innerSum[:], zero[:64]) ||
		!bytes.Equal(m.block[:], zero[:64]) || !bytes.Equal(m.key[:], zero[:]) {
		t.Error("a pooled state keeps key or output bytes")
	}
	empty := sha256.Sum256(nil)
	if !bytes.Equal(m.inner.Sum(nil), empty[:]) || !bytes.Equal(m.outer.Sum(nil), empty[:]) {
		t.Error("a pooled state's hashes are not reset")
	}
}
