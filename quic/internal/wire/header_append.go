package wire

import "errors"

// LongHeaderLengthFieldLen is the width of the Length field that
// AppendLongHeader reserves, and MaxLongHeaderLength the largest value it
// can then hold. Long header packets travel during the handshake, before any
// path MTU above the initial datagram size is validated, so they are far
// below this bound.
const (
	LongHeaderLengthFieldLen = 2
	MaxLongHeaderLength      = 1<<14 - 1
)

// ErrLengthTooLarge is returned by PutLongHeaderLength for a length that
// does not fit the reserved field.
var ErrLengthTooLarge = errors.New("wire: long header Length does not fit its 2-byte field")

// AppendLongHeader appends the header of an Initial, 0-RTT or Handshake
// packet of version h.Version, from h.Type, h.DCID, h.SCID and (Initial
// only) h.Token, up to and including the pnLen-byte Packet Number field
// holding pn. The reserved bits are zero (RFC 9000 §17.2).
//
// The Length field is reserved with LongHeaderLengthFieldLen bytes at
// lengthOffset in out; fill it with PutLongHeaderLength once the payload
// size is known. pnOffset is the offset of the Packet Number field, which
// header protection needs.
func AppendLongHeader(b []byte, h *Header, pn PacketNumber, pnLen int) (out []byte, lengthOffset, pnOffset int) {
	start := len(b)
	b = append(b, headerFormLong|fixedBit|longTypeBits(h.Version, h.Type)|byte(pnLen-1))
	b = append(b, byte(h.Version>>24), byte(h.Version>>16), byte(h.Version>>8), byte(h.Version))
	b = append(b, byte(h.DCID.Len()))
	b = append(b, h.DCID.Bytes()...)
	b = append(b, byte(h.SCID.Len()))
	b = append(b, h.SCID.Bytes()...)
	if h.Type == PacketInitial {
		b = AppendVarint(b, uint64(len(h.Token)))
		b = append(b, h.Token...)
	}
	lengthOffset = len(b) - start
	b = append(b, 0x40, 0) // 2-byte varint placeholder
	pnOffset = len(b) - start
	b = AppendPacketNumber(b, pn, pnLen)
	return b, lengthOffset, pnOffset
}

// PutLongHeaderLength writes the Length field reserved by AppendLongHeader:
// length counts every byte after the field, that is the Packet Number field,
// the payload and the AEAD tag (RFC 9000 §17.2). packet starts at the first
// byte of the header.
func PutLongHeaderLength(packet []byte, lengthOffset, length int) error {
	if length < 0 || length > MaxLongHeaderLength {
		return ErrLengthTooLarge
	}
	if lengthOffset < 0 || lengthOffset+LongHeaderLengthFieldLen > len(packet) {
		return ErrTruncatedHeader
	}
	packet[lengthOffset] = 0x40 | byte(length>>8)
	packet[lengthOffset+1] = byte(length)
	return nil
}

// AppendShortHeader appends a 1-RTT packet header (RFC 9000 §17.3.1) up to
// and including the pnLen-byte Packet Number field holding pn. The
// packet number field starts at offset 1+dcid.Len().
func AppendShortHeader(b []byte, dcid *ConnectionID, pn PacketNumber, pnLen int, keyPhase, spin bool) []byte {
	first := byte(fixedBit) | byte(pnLen-1)
	if keyPhase {
		first |= keyPhaseBit
	}
	if spin {
		first |= spinBit
	}
	b = append(b, first)
	b = append(b, dcid.Bytes()...)
	return AppendPacketNumber(b, pn, pnLen)
}

// AppendRetry appends a Retry packet of the given version without its
// Retry Integrity Tag, which the packet protection layer computes over the
// result and appends (RFC 9001 §5.8). token must not be empty.
func AppendRetry(b []byte, v Version, dcid, scid ConnectionID, token []byte) []byte {
	// The four Unused bits are set, as in the RFC 9001 and RFC 9369
	// Appendix A examples, so that those vectors can be rebuilt.
	b = append(b, headerFormLong|fixedBit|longTypeBits(v, PacketRetry)|0x0f)
	b = append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	b = append(b, byte(dcid.Len()))
	b = append(b, dcid.Bytes()...)
	b = append(b, byte(scid.Len()))
	b = append(b, scid.Bytes()...)
	return append(b, token...)
}
