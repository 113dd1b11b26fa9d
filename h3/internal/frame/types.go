package frame

// Type is an HTTP/3 frame type, RFC 9114 §7.2 and §11.2.1.
type Type uint64

// Frame types, RFC 9114 §7.2.
const (
	TypeData        Type = 0x00
	TypeHeaders     Type = 0x01
	TypeCancelPush  Type = 0x03
	TypeSettings    Type = 0x04
	TypePushPromise Type = 0x05
	TypeGoAway      Type = 0x07
	TypeMaxPushID   Type = 0x0d

	// PRIORITY_UPDATE for a request stream and for a push stream, RFC
	// 9218 §7.2.
	TypePriorityUpdate     Type = 0xf0700
	TypePriorityUpdatePush Type = 0xf0701
)

// isHTTP2Type reports the frame types reserved because HTTP/2 used them
// (PRIORITY 0x02, PING 0x06, WINDOW_UPDATE 0x08, CONTINUATION 0x09).
// RFC 9114 §7.2.8: their receipt MUST be treated as a connection error of
// type H3_FRAME_UNEXPECTED.
func isHTTP2Type(t Type) bool {
	return t == 0x02 || t == 0x06 || t == 0x08 || t == 0x09
}

// known reports whether t is a frame type this package parses.
func (t Type) known() bool {
	switch t {
	case TypeData, TypeHeaders, TypeCancelPush, TypeSettings, TypePushPromise, TypeGoAway, TypeMaxPushID,
		TypePriorityUpdate, TypePriorityUpdatePush:
		return true
	}
	return false
}

func (t Type) String() string {
	switch t {
	case TypeData:
		return "DATA"
	case TypeHeaders:
		return "HEADERS"
	case TypeCancelPush:
		return "CANCEL_PUSH"
	case TypeSettings:
		return "SETTINGS"
	case TypePushPromise:
		return "PUSH_PROMISE"
	case TypeGoAway:
		return "GOAWAY"
	case TypeMaxPushID:
		return "MAX_PUSH_ID"
	case TypePriorityUpdate:
		return "PRIORITY_UPDATE"
	case TypePriorityUpdatePush:
		return "PRIORITY_UPDATE_PUSH"
	}
	if isHTTP2Type(t) {
		return "RESERVED_HTTP2"
	}
	if IsReserved(uint64(t)) {
		return "RESERVED"
	}
	return "UNKNOWN"
}

// StreamType is the type at the start of a unidirectional stream, RFC 9114
// §6.2 and RFC 9204 §4.2.
type StreamType uint64

// Unidirectional stream types.
const (
	StreamTypeControl      StreamType = 0x00 // RFC 9114 §6.2.1
	StreamTypePush         StreamType = 0x01 // RFC 9114 §6.2.2
	StreamTypeQPACKEncoder StreamType = 0x02 // RFC 9204 §4.2
	StreamTypeQPACKDecoder StreamType = 0x03 // RFC 9204 §4.2
)

func (t StreamType) String() string {
	switch t {
	case StreamTypeControl:
		return "control"
	case StreamTypePush:
		return "push"
	case StreamTypeQPACKEncoder:
		return "qpack-encoder"
	case StreamTypeQPACKDecoder:
		return "qpack-decoder"
	}
	if IsReserved(uint64(t)) {
		return "reserved"
	}
	return "unknown"
}

// IsReserved reports whether v has the form 0x1f*N + 0x21, the values that
// RFC 9114 reserves for greasing in the frame type (§7.2.8), stream type
// (§6.2.3), setting (§7.2.4.1) and error code (§8.1) spaces.
func IsReserved(v uint64) bool {
	return v >= 0x21 && (v-0x21)%0x1f == 0
}

// Reserved returns the n-th reserved value, 0x1f*n + 0x21. n must be at most
// MaxReservedN.
func Reserved(n uint64) uint64 { return 0x1f*n + 0x21 }

// MaxReservedN is the largest n for which Reserved(n) fits in a varint.
const MaxReservedN = (MaxVarint - 0x21) / 0x1f
