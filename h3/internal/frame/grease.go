package frame

import "math/rand/v2"

// Greasing, RFC 9114 §7.2.8, §6.2.3, §7.2.4.1 and §8.1: values of the form
// 0x1f*N + 0x21 exercise the peer's duty to ignore what it does not know.
// An endpoint SHOULD include at least one reserved setting.

func randomReserved() uint64 { return Reserved(rand.Uint64N(MaxReservedN + 1)) }

// GreaseFrameType returns a random reserved frame type.
func GreaseFrameType() Type { return Type(randomReserved()) }

// GreaseStreamType returns a random reserved stream type.
func GreaseStreamType() StreamType { return StreamType(randomReserved()) }

// GreaseErrorCode returns a random reserved error code; §8.1 suggests
// sending one now and then instead of H3_NO_ERROR.
func GreaseErrorCode() ErrCode { return ErrCode(randomReserved()) }

// GreaseSetting returns a reserved setting with a random value, to put in
// Settings.Extra.
func GreaseSetting() Setting {
	return Setting{ID: randomReserved(), Value: rand.Uint64N(MaxVarint + 1)}
}

// AppendGreaseFrame appends a reserved frame with a random payload of 0 to
// 7 bytes.
func AppendGreaseFrame(b []byte) []byte {
	var p [8]byte
	n := rand.IntN(8)
	for i := range n {
		p[i] = byte(rand.Uint32())
	}
	return AppendFrame(b, GreaseFrameType(), p[:n])
}
