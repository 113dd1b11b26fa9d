package protect

import (
	"crypto/hkdf"
	"hash"
)

// hkdfExpandLabel is HKDF-Expand-Label of RFC 8446 §7.1 with an empty
// context, which is all QUIC uses (RFC 9001 §5.1):
//
//	HKDF-Expand-Label(Secret, Label, "", Length) =
//	    HKDF-Expand(Secret, HkdfLabel, Length)
//
//	struct {
//	    uint16 length = Length;
//	    opaque label<7..255> = "tls13 " + Label;
//	    opaque context<0..255> = "";
//	} HkdfLabel;
//
// It runs only when keys are made, never per packet. The error comes from
// crypto/hkdf, which refuses some lengths in FIPS 140-only mode.
func hkdfExpandLabel(newHash func() hash.Hash, secret []byte, label string, length int) ([]byte, error) {
	return hkdf.Expand(newHash, secret, string(hkdfLabel(label, length)), length)
}

// hkdfLabel encodes the HkdfLabel structure with an empty context. Labels
// are package constants, far below the 255-byte limit of the label field.
func hkdfLabel(label string, length int) []byte {
	const prefix = "tls13 "
	b := make([]byte, 0, 2+1+len(prefix)+len(label)+1)
	b = append(b, byte(length>>8), byte(length))
	b = append(b, byte(len(prefix)+len(label)))
	b = append(b, prefix...)
	b = append(b, label...)
	return append(b, 0) // empty context
}
