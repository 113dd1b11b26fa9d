package wire

import "errors"

// PacketNumber is a full QUIC packet number, 0 to 2^62-1 (RFC 9000 §12.3).
// It is signed so that NoPacketNumber can stand for "none yet".
type PacketNumber int64

// NoPacketNumber means that no packet number is known, e.g. no packet has
// been acknowledged yet in a packet number space.
const NoPacketNumber PacketNumber = -1

// MaxPacketNumber is the largest packet number (RFC 9000 §12.3).
const MaxPacketNumber PacketNumber = 1<<62 - 1

// ErrTruncatedPacketNumber is returned when a packet ends inside its packet
// number field.
var ErrTruncatedPacketNumber = errors.New("wire: packet number field truncated")

// PacketNumberLen returns the number of bytes (1 to 4) to encode pn with,
// given the largest packet number the peer acknowledged in the same packet
// number space (NoPacketNumber if none). RFC 9000 §17.1 and Appendix A.2:
// the encoding must cover at least twice the number of packets in flight,
// so that the receiver recovers pn unambiguously.
func PacketNumberLen(pn, largestAcked PacketNumber) int {
	// numUnacked counts the packets in the window, including pn itself.
	numUnacked := uint64(pn - largestAcked)
	if largestAcked == NoPacketNumber {
		numUnacked = uint64(pn) + 1
	}
	switch {
	case numUnacked < 1<<7:
		return 1
	case numUnacked < 1<<15:
		return 2
	case numUnacked < 1<<23:
		return 3
	default:
		return 4
	}
}

// AppendPacketNumber appends the n least significant bytes of pn (n from 1
// to 4), as the Packet Number field of a header.
func AppendPacketNumber(b []byte, pn PacketNumber, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(pn>>(8*i)))
	}
	return b
}

// ReadPacketNumber reads an n-byte truncated packet number from the start
// of b.
func ReadPacketNumber(b []byte, n int) (uint64, error) {
	if n < 1 || n > 4 || len(b) < n {
		return 0, ErrTruncatedPacketNumber
	}
	var v uint64
	for _, c := range b[:n] {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// DecodePacketNumber recovers a full packet number from the n-byte
// truncated value received, given the largest packet number successfully
// processed in the same space (NoPacketNumber if none). It follows RFC 9000
// Appendix A.3: the result is the value closest to largest+1 whose n low
// bytes equal truncated.
func DecodePacketNumber(largest PacketNumber, truncated uint64, n int) PacketNumber {
	expected := largest + 1
	win := PacketNumber(1) << (8 * n)
	hwin := win / 2
	mask := win - 1
	candidate := (expected &^ mask) | PacketNumber(truncated)&mask
	// The extra bounds keep the result within 0..2^62-1.
	if candidate <= expected-hwin && candidate < (1<<62)-win {
		return candidate + win
	}
	// The second test also covers largest = 2^62-1, where the candidate
	// itself can land one window above the packet number space.
	if (candidate > expected+hwin || candidate > MaxPacketNumber) && candidate >= win {
		return candidate - win
	}
	return candidate
}
