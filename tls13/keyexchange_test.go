package tls13

import (
	"bytes"
	"crypto/mlkem"
	"errors"
	"slices"
	"testing"
)

// hybridGroups are the groups whose key exchange has an ML-KEM and an ECDH
// part (draft-ietf-tls-ecdhe-mlkem).
var hybridGroups = []CurveID{X25519MLKEM768, SecP256r1MLKEM768, SecP384r1MLKEM1024}

// TestKeyExchangeAgrees: for every supported group, the client's key share,
// the server's answer and the client's completion give both sides the same
// secret, of the group's length.
func TestKeyExchangeAgrees(t *testing.T) {
	for _, group := range defaultCurvePreferences {
		ks, err := newClientKeyShare(group, nil)
		if err != nil {
			t.Fatalf("%v: client share: %v", group, err)
		}
		share, tail, serverSecret, err := serverKeyExchange(group, joinShare(ks.share), nil)
		if err != nil {
			t.Fatalf("%v: server: %v", group, err)
		}
		clientSecret, err := ks.sharedSecret(append(share, tail...))
		if err != nil {
			t.Fatalf("%v: client secret: %v", group, err)
		}
		if !bytes.Equal(clientSecret, serverSecret) {
			t.Errorf("%v: secrets differ", group)
		}
		want := sharedSecretLen(group)
		if len(clientSecret) != want {
			t.Errorf("%v: secret of %d bytes, want %d", group, len(clientSecret), want)
		}
	}
}

// sharedSecretLen is the length of a group's shared secret: the ECDH
// secret (the x-coordinate, or X25519's 32 bytes) and, for a hybrid, the
// ML-KEM shared key.
func sharedSecretLen(g CurveID) int {
	n := map[CurveID]int{X25519: 32, X25519MLKEM768: 32, CurveP256: 32, SecP256r1MLKEM768: 32,
		CurveP384: 48, SecP384r1MLKEM1024: 48, CurveP521: 66}[g]
	if slices.Contains(hybridGroups, g) {
		n += mlkem.SharedKeySize
	}
	return n
}

// TestHybridKeyExchangeBadShares: a hybrid share whose ECDH part or ML-KEM
// part does not decode, or whose length is wrong, is illegal_parameter on
// either side (RFC 8446 §4.2.8.2; draft-ietf-tls-ecdhe-mlkem).
func TestHybridKeyExchangeBadShares(t *testing.T) {
	for _, group := range hybridGroups {
		ks, err := newClientKeyShare(group, nil)
		if err != nil {
			t.Fatal(err)
		}
		clientShare := joinShare(ks.share)
		share, tail, _, err := serverKeyExchange(group, clientShare, nil)
		if err != nil {
			t.Fatal(err)
		}
		serverShare := append(share, tail...)
		ecLen := ecdhShareLen(group.ecdhCurve())

		cases := []struct {
			name  string
			share []byte
			ecdh  bool // corrupt the ECDH part, else the ML-KEM part
		}{
			{name: "short", share: clientShare[:len(clientShare)-1]},
			{name: "bad ECDH part", ecdh: true},
			{name: "bad ML-KEM part"},
		}
		for _, c := range cases {
			for _, server := range []bool{true, false} {
				b := c.share
				if b == nil {
					if server {
						b = corruptHybrid(group, clientShare, ecLen, c.ecdh)
					} else {
						b = corruptHybrid(group, serverShare, ecLen, c.ecdh)
					}
				} else if !server {
					b = serverShare[:len(serverShare)-1]
				}
				if server {
					_, _, _, err = serverKeyExchange(group, b, nil)
				} else {
					_, err = ks.sharedSecret(b)
				}
				if !server && c.name == "bad ML-KEM part" {
					// ML-KEM decapsulation has implicit rejection: a
					// corrupted ciphertext gives a different secret, not
					// an error (FIPS 203 §6.3).
					if err != nil {
						t.Errorf("%v client %s: %v, want a (different) secret", group, c.name, err)
					}
					continue
				}
				var ae AlertError
				if !errors.As(err, &ae) || ae != AlertIllegalParameter {
					t.Errorf("%v server=%v %s: %v, want illegal_parameter", group, server, c.name, err)
				}
			}
		}
	}
}

// corruptHybrid returns a copy of a hybrid share with its ECDH part or its
// ML-KEM part replaced by bytes that do not decode: an X25519 point of small
// order (its shared secret is all zeros, which crypto/ecdh refuses) or a
// P-256/P-384 point not on the curve; an ML-KEM encapsulation key whose
// coefficients are not reduced (FIPS 203 §7.2's modulus check). An ML-KEM
// ciphertext has no invalid encoding; it gets the same treatment, which
// decapsulation answers with implicit rejection.
func corruptHybrid(group CurveID, share []byte, ecLen int, ecdhPart bool) []byte {
	b := bytes.Clone(share)
	var ec, kem []byte
	if group.mlkemFirst() {
		kem, ec = b[:len(b)-ecLen], b[len(b)-ecLen:]
	} else {
		ec, kem = b[:ecLen], b[ecLen:]
	}
	if ecdhPart {
		clear(ec)
		if group != X25519MLKEM768 {
			ec[0] = 4 // uncompressed, (0, 0): not on the curve
		}
		return b
	}
	for i := range kem {
		kem[i] = 0xff
	}
	return b
}

// joinShare is a key_share's data as the peer receives it.
func joinShare(k keyShare) []byte {
	return append(append([]byte(nil), k.data...), k.tail...)
}
