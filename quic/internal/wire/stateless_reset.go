package wire

import "errors"

// MinStatelessResetLen is the smallest Stateless Reset: 5 bytes carrying the
// two fixed bits and 38 unpredictable bits, then the 16-byte token
// (RFC 9000 §10.3). Short header packets below this size are never valid.
const MinStatelessResetLen = 5 + StatelessResetTokenLen

// ErrStatelessResetTooShort is returned by AppendStatelessReset when given
// fewer than 5 unpredictable bytes.
var ErrStatelessResetTooShort = errors.New("wire: stateless reset needs at least 5 unpredictable bytes")

// AppendStatelessReset appends a Stateless Reset (RFC 9000 §10.3): it looks
// like a short header packet made of the unpredictable bytes (at least 5,
// random, the first one's top bits replaced by 0b01) and ends with token.
// To stay indistinguishable from the packets it answers, it should be no
// longer than they are (RFC 9000 §10.3.3).
func AppendStatelessReset(b, unpredictable []byte, token *[StatelessResetTokenLen]byte) ([]byte, error) {
	if len(unpredictable) < MinStatelessResetLen-StatelessResetTokenLen {
		return b, ErrStatelessResetTooShort
	}
	b = append(b, fixedBit|unpredictable[0]&0x3f)
	b = append(b, unpredictable[1:]...)
	return append(b, token[:]...), nil
}

// TrailingStatelessResetToken returns the last 16 bytes of a datagram, which
// RFC 9000 §10.3.1 compares with the stateless reset tokens of the
// connection when its packets cannot be processed; ok is false if the
// datagram is too short to be a Stateless Reset.
func TrailingStatelessResetToken(datagram []byte) (token [StatelessResetTokenLen]byte, ok bool) {
	if len(datagram) < MinStatelessResetLen {
		return token, false
	}
	copy(token[:], datagram[len(datagram)-StatelessResetTokenLen:])
	return token, true
}
