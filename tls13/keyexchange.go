package tls13

import (
	"crypto/ecdh"
	"crypto/mlkem"
	"io"
)

// CurveID is a TLS NamedGroup (RFC 8446 §4.2.7): an elliptic curve or a
// hybrid post-quantum key exchange.
type CurveID uint16

const (
	CurveP256          CurveID = 23
	CurveP384          CurveID = 24
	CurveP521          CurveID = 25
	X25519             CurveID = 29
	SecP256r1MLKEM768  CurveID = 0x11EB
	X25519MLKEM768     CurveID = 0x11EC
	SecP384r1MLKEM1024 CurveID = 0x11ED
)

// defaultCurvePreferences is used when Config.CurvePreferences is empty.
var defaultCurvePreferences = []CurveID{
	X25519MLKEM768, X25519, CurveP256, CurveP384, CurveP521,
	SecP256r1MLKEM768, SecP384r1MLKEM1024,
}

func (c CurveID) String() string {
	switch c {
	case CurveP256:
		return "P-256"
	case CurveP384:
		return "P-384"
	case CurveP521:
		return "P-521"
	case X25519:
		return "X25519"
	case SecP256r1MLKEM768:
		return "SecP256r1MLKEM768"
	case X25519MLKEM768:
		return "X25519MLKEM768"
	case SecP384r1MLKEM1024:
		return "SecP384r1MLKEM1024"
	}
	return "CurveID(unknown)"
}

func isSupportedGroup(c CurveID) bool { return c.ecdhCurve() != nil }

// ecdhCurve is the elliptic curve part of a group.
func (c CurveID) ecdhCurve() ecdh.Curve {
	switch c {
	case CurveP256, SecP256r1MLKEM768:
		return ecdh.P256()
	case CurveP384, SecP384r1MLKEM1024:
		return ecdh.P384()
	case CurveP521:
		return ecdh.P521()
	case X25519, X25519MLKEM768:
		return ecdh.X25519()
	}
	return nil
}

// Hybrid groups (draft-ietf-tls-ecdhe-mlkem): the shares and secret are the
// concatenation of an ML-KEM part and an ECDH part. X25519MLKEM768 puts
// ML-KEM first; the SecP groups put ECDH first.
func (c CurveID) mlkemFirst() bool { return c == X25519MLKEM768 }

// ecdhShareLen is the length of the curve's public key encoding.
func ecdhShareLen(c ecdh.Curve) int {
	switch c {
	case ecdh.X25519():
		return 32
	case ecdh.P256():
		return 65
	case ecdh.P384():
		return 97
	}
	return 133
}

// clientKeyShare is the private half of a key share the client sent.
type clientKeyShare struct {
	group  CurveID
	ecdh   *ecdh.PrivateKey
	kem768 *mlkem.DecapsulationKey768
	kem1k  *mlkem.DecapsulationKey1024
	// share is what the ClientHello's key_share carries: a hybrid's in
	// two parts (keyShare.tail), the group's order.
	share keyShare
}

// newClientKeyShare makes a key share for group. A hybrid's two key
// generations run one after the other, as do the halves of sharedSecret
// and serverKeyExchange, although they are independent. Run side by side,
// the ECDH half on a goroutine of its own (branch exp/par9-forkjoin), they made
// sequential handshakes 8 % slower and 10 % dearer in CPU on a 2-vCPU
// machine: a new goroutine waits in its creator's runnext slot, which the
// idle processor's thread, once woken, takes only after a usleep(3) that
// lasted ~60 µs there, so the caller's ML-KEM half always finished first
// and the wake-ups were pure cost.
func newClientKeyShare(group CurveID, rand io.Reader) (*clientKeyShare, error) {
	curve := group.ecdhCurve()
	priv, err := curve.GenerateKey(rand)
	if err != nil {
		return nil, err
	}
	ks := &clientKeyShare{group: group, ecdh: priv, share: keyShare{group: uint16(group)}}
	pub := priv.PublicKey().Bytes()
	var kemPub []byte
	switch group {
	case X25519MLKEM768, SecP256r1MLKEM768:
		if ks.kem768, err = mlkem.GenerateKey768(); err != nil {
			return nil, err
		}
		kemPub = encapsulationKey768(ks.kem768)
	case SecP384r1MLKEM1024:
		if ks.kem1k, err = mlkem.GenerateKey1024(); err != nil {
			return nil, err
		}
		kemPub = encapsulationKey1024(ks.kem1k)
	default:
		ks.share.data = pub
		return ks, nil
	}
	if group.mlkemFirst() {
		ks.share.data, ks.share.tail = kemPub, pub
	} else {
		ks.share.data, ks.share.tail = pub, kemPub
	}
	return ks, nil
}

// encapsulationKey768 and encapsulationKey1024 encode a decapsulation
// key's encapsulation key, for the key_share. They stay out of line:
// EncapsulationKey returns a copy of the expanded key (6 KB for ML-KEM-768,
// 10 KB for ML-KEM-1024), which, inlined, sat in newClientKeyShare's
// frame (16.6 KB for the two) below the key generation's own 12.6 KB
// frame; Dial's goroutine then outgrew a 32 KB stack inside the key
// generation, and the runtime copied it to a 64 KB one there after every
// garbage collection had shrunk it (4–6 µs a handshake on the client at
// 32 dials at a time).
//
//go:noinline
func encapsulationKey768(dk *mlkem.DecapsulationKey768) []byte {
	return dk.EncapsulationKey().Bytes()
}

//go:noinline
func encapsulationKey1024(dk *mlkem.DecapsulationKey1024) []byte {
	return dk.EncapsulationKey().Bytes()
}

// sharedSecret completes the exchange with the server's key_share. A share
// that does not decode is illegal_parameter (RFC 8446 §4.2.8.1, §4.2.8.2).
func (ks *clientKeyShare) sharedSecret(serverShare []byte) ([]byte, error) {
	group := ks.group
	curve := group.ecdhCurve()
	n := ecdhShareLen(curve)
	var ct []byte
	ecPart := serverShare
	switch group {
	case X25519MLKEM768, SecP256r1MLKEM768:
		if len(serverShare) != n+mlkem.CiphertextSize768 {
			return nil, alertf(AlertIllegalParameter, "bad hybrid key share length")
		}
	case SecP384r1MLKEM1024:
		if len(serverShare) != n+mlkem.CiphertextSize1024 {
			return nil, alertf(AlertIllegalParameter, "bad hybrid key share length")
		}
	}
	if ks.kem768 != nil || ks.kem1k != nil {
		if group.mlkemFirst() {
			ct, ecPart = serverShare[:len(serverShare)-n], serverShare[len(serverShare)-n:]
		} else {
			ecPart, ct = serverShare[:n], serverShare[n:]
		}
	}
	peer, err := curve.NewPublicKey(ecPart)
	if err != nil {
		return nil, alertf(AlertIllegalParameter, "bad key share")
	}
	ecSecret, err := ks.ecdh.ECDH(peer)
	if err != nil {
		return nil, alertf(AlertIllegalParameter, "bad key share")
	}
	var kemSecret []byte
	switch {
	case ks.kem768 != nil:
		kemSecret, err = ks.kem768.Decapsulate(ct)
	case ks.kem1k != nil:
		kemSecret, err = ks.kem1k.Decapsulate(ct)
	default:
		return ecSecret, nil
	}
	if err != nil {
		return nil, alertf(AlertIllegalParameter, "bad ML-KEM ciphertext")
	}
	if group.mlkemFirst() {
		return append(kemSecret, ecSecret...), nil
	}
	return append(ecSecret, kemSecret...), nil
}

// serverKeyExchange answers a client's key_share: it returns the server's
// share, in two parts for a hybrid group (the ML-KEM ciphertext and the
// ECDH share, in the group's order; shareTail is nil otherwise), which
// ServerHello carries one after the other rather than joined in a copy,
// and the shared secret.
func serverKeyExchange(group CurveID, clientShare []byte, rand io.Reader) (share, shareTail, secret []byte, err error) {
	curve := group.ecdhCurve()
	n := ecdhShareLen(curve)
	ecPart := clientShare
	var kemPart []byte
	switch group {
	case X25519MLKEM768, SecP256r1MLKEM768:
		if len(clientShare) != n+mlkem.EncapsulationKeySize768 {
			return nil, nil, nil, alertf(AlertIllegalParameter, "bad hybrid key share length")
		}
	case SecP384r1MLKEM1024:
		if len(clientShare) != n+mlkem.EncapsulationKeySize1024 {
			return nil, nil, nil, alertf(AlertIllegalParameter, "bad hybrid key share length")
		}
	}
	hybrid := group != X25519 && group != CurveP256 && group != CurveP384 && group != CurveP521
	if hybrid {
		if group.mlkemFirst() {
			kemPart, ecPart = clientShare[:len(clientShare)-n], clientShare[len(clientShare)-n:]
		} else {
			ecPart, kemPart = clientShare[:n], clientShare[n:]
		}
	}
	peer, err := curve.NewPublicKey(ecPart)
	if err != nil {
		return nil, nil, nil, alertf(AlertIllegalParameter, "bad key share")
	}
	priv, err := curve.GenerateKey(rand)
	if err != nil {
		return nil, nil, nil, err
	}
	ecSecret, err := priv.ECDH(peer)
	if err != nil {
		return nil, nil, nil, alertf(AlertIllegalParameter, "bad key share")
	}
	pub := priv.PublicKey().Bytes()
	if !hybrid {
		return pub, nil, ecSecret, nil
	}
	var kemSecret, ct []byte
	if group == SecP384r1MLKEM1024 {
		ek, err := mlkem.NewEncapsulationKey1024(kemPart)
		if err != nil {
			return nil, nil, nil, alertf(AlertIllegalParameter, "bad ML-KEM key")
		}
		kemSecret, ct = ek.Encapsulate()
	} else {
		ek, err := mlkem.NewEncapsulationKey768(kemPart)
		if err != nil {
			return nil, nil, nil, alertf(AlertIllegalParameter, "bad ML-KEM key")
		}
		kemSecret, ct = ek.Encapsulate()
	}
	if group.mlkemFirst() {
		return ct, pub, append(kemSecret, ecSecret...), nil
	}
	return pub, ct, append(ecSecret, kemSecret...), nil
}
