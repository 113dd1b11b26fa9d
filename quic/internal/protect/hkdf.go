package protect

import (
	"github.com/skiffnet/skiff/internal/hkdf"
)

// hkdfExpandLabel is HKDF-Expand-Label of RFC 8446 §7.1 with an empty
// context, which is all QUIC uses (RFC 9001 §5.1):
//
//	HKDF-Expand-Label(Secret, Label, "", Length) =
//	    HKDF-Expand(Secret, HkdfLabel, Length)
//
// It runs only when keys are made, never per packet, and allocates only its
// output: a handshake makes keys for three encryption levels and two
// directions, and a resting connection remakes them when it wakes.
func hkdfExpandLabel(kdf *hkdf.Hash, secret []byte, label string, length int) []byte {
	return kdf.ExpandLabel(secret, label, nil, length)
}
