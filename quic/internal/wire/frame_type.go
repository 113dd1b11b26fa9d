package wire

import "fmt"

// FrameType is the type of a QUIC frame (RFC 9000 §12.4, Table 3; RFC 9221
// §4 for DATAGRAM; draft-ietf-quic-ack-frequency-14 §4, §5 for
// ACK_FREQUENCY and IMMEDIATE_ACK, provisional types).
type FrameType uint64

// Frame types. STREAM frames use FrameTypeStream plus the StreamFlag* bits.
const (
	FrameTypePadding            FrameType = 0x00
	FrameTypePing               FrameType = 0x01
	FrameTypeAck                FrameType = 0x02
	FrameTypeAckECN             FrameType = 0x03
	FrameTypeResetStream        FrameType = 0x04
	FrameTypeStopSending        FrameType = 0x05
	FrameTypeCrypto             FrameType = 0x06
	FrameTypeNewToken           FrameType = 0x07
	FrameTypeStream             FrameType = 0x08 // through 0x0f
	FrameTypeMaxData            FrameType = 0x10
	FrameTypeMaxStreamData      FrameType = 0x11
	FrameTypeMaxStreamsBidi     FrameType = 0x12
	FrameTypeMaxStreamsUni      FrameType = 0x13
	FrameTypeDataBlocked        FrameType = 0x14
	FrameTypeStreamDataBlocked  FrameType = 0x15
	FrameTypeStreamsBlockedBidi FrameType = 0x16
	FrameTypeStreamsBlockedUni  FrameType = 0x17
	FrameTypeNewConnectionID    FrameType = 0x18
	FrameTypeRetireConnectionID FrameType = 0x19
	FrameTypePathChallenge      FrameType = 0x1a
	FrameTypePathResponse       FrameType = 0x1b
	FrameTypeConnectionClose    FrameType = 0x1c // transport error
	FrameTypeConnectionCloseApp FrameType = 0x1d // application error
	FrameTypeHandshakeDone      FrameType = 0x1e
	FrameTypeImmediateAck       FrameType = 0x1f
	FrameTypeDatagram           FrameType = 0x30 // data to the end of the packet
	FrameTypeDatagramLen        FrameType = 0x31 // with a Length field
	FrameTypeAckFrequency       FrameType = 0xaf // a two-byte varint
)

// STREAM frame type bits (RFC 9000 §19.8).
const (
	StreamFlagFin FrameType = 0x01
	StreamFlagLen FrameType = 0x02
	StreamFlagOff FrameType = 0x04
)

// IsStream reports whether t is one of the STREAM frame types 0x08-0x0f.
func (t FrameType) IsStream() bool { return t&^7 == FrameTypeStream }

// IsAckEliciting reports whether a packet holding a frame of type t must be
// acknowledged: every frame but ACK, PADDING and CONNECTION_CLOSE is
// (RFC 9000 §13.2, the "N" marking of Table 3).
func (t FrameType) IsAckEliciting() bool {
	switch t {
	case FrameTypePadding, FrameTypeAck, FrameTypeAckECN,
		FrameTypeConnectionClose, FrameTypeConnectionCloseApp:
		return false
	}
	return true
}

// IsProbing reports whether t is a probing frame, which may be sent on a
// path being validated (RFC 9000 §9.1, the "P" marking of Table 3).
func (t FrameType) IsProbing() bool {
	switch t {
	case FrameTypePadding, FrameTypeNewConnectionID,
		FrameTypePathChallenge, FrameTypePathResponse:
		return true
	}
	return false
}

var frameTypeNames = [...]string{
	"PADDING", "PING", "ACK", "ACK_ECN", "RESET_STREAM", "STOP_SENDING",
	"CRYPTO", "NEW_TOKEN", "STREAM", "STREAM", "STREAM", "STREAM", "STREAM",
	"STREAM", "STREAM", "STREAM", "MAX_DATA", "MAX_STREAM_DATA",
	"MAX_STREAMS", "MAX_STREAMS", "DATA_BLOCKED", "STREAM_DATA_BLOCKED",
	"STREAMS_BLOCKED", "STREAMS_BLOCKED", "NEW_CONNECTION_ID",
	"RETIRE_CONNECTION_ID", "PATH_CHALLENGE", "PATH_RESPONSE",
	"CONNECTION_CLOSE", "CONNECTION_CLOSE", "HANDSHAKE_DONE", "IMMEDIATE_ACK",
}

// known reports whether t is a frame type this package parses.
func (t FrameType) known() bool {
	return t < FrameType(len(frameTypeNames)) || t == FrameTypeDatagram || t == FrameTypeDatagramLen || t == FrameTypeAckFrequency
}

func (t FrameType) String() string {
	switch {
	case t < FrameType(len(frameTypeNames)):
		return fmt.Sprintf("%s(%#x)", frameTypeNames[t], uint64(t))
	case t == FrameTypeDatagram || t == FrameTypeDatagramLen:
		return fmt.Sprintf("DATAGRAM(%#x)", uint64(t))
	case t == FrameTypeAckFrequency:
		return fmt.Sprintf("ACK_FREQUENCY(%#x)", uint64(t))
	}
	return fmt.Sprintf("UNKNOWN(%#x)", uint64(t))
}

// ParseFrameType reads the type of the frame at the start of b and returns
// it with its encoded length. RFC 9000 §12.4: an unknown type is a
// FRAME_ENCODING_ERROR; a type not encoded on the fewest bytes is a
// PROTOCOL_VIOLATION.
func ParseFrameType(b []byte) (FrameType, int, error) {
	if len(b) > 0 && b[0] < 0x40 {
		// Fast path: every known type is a one-byte varint.
		t := FrameType(b[0])
		if !t.known() {
			return t, 1, frameError(t, "unknown frame type")
		}
		return t, 1, nil
	}
	v, n, err := ParseVarint(b)
	if err != nil {
		return 0, 0, frameError(0, "truncated frame type")
	}
	t := FrameType(v)
	if VarintLen(v) != n {
		return t, n, protocolViolation(t, "frame type not minimally encoded")
	}
	if !t.known() {
		return t, n, frameError(t, "unknown frame type")
	}
	return t, n, nil
}

// Role says which endpoint sent something: frames and transport parameters
// have rules that depend on it.
type Role uint8

// The two roles.
const (
	RoleClient Role = iota
	RoleServer
)

func (r Role) String() string {
	if r == RoleServer {
		return "server"
	}
	return "client"
}

// FrameAllowedIn reports whether a frame of type t may be carried in a
// packet of type pt (RFC 9000 §12.4 Table 3 and §12.5; RFC 9221 §4;
// draft-ietf-quic-ack-frequency-14 §3: ACK_FREQUENCY and IMMEDIATE_ACK not
// in 0-RTT). For 0-RTT it follows §12.5, which also excludes
// RETIRE_CONNECTION_ID.
func FrameAllowedIn(t FrameType, pt PacketType) bool {
	switch pt {
	case PacketInitial, PacketHandshake:
		switch t {
		case FrameTypePadding, FrameTypePing, FrameTypeAck, FrameTypeAckECN,
			FrameTypeCrypto, FrameTypeConnectionClose:
			return true
		}
		return false
	case Packet0RTT:
		switch t {
		case FrameTypeAck, FrameTypeAckECN, FrameTypeCrypto, FrameTypeHandshakeDone,
			FrameTypeNewToken, FrameTypePathResponse, FrameTypeRetireConnectionID,
			FrameTypeAckFrequency, FrameTypeImmediateAck:
			return false
		}
		return t.known()
	case Packet1RTT:
		return t.known()
	}
	return false
}

// CheckReceivedFrame returns a PROTOCOL_VIOLATION if a frame of type t,
// received in a packet of type pt sent by sender, breaks the packet type
// rules of RFC 9000 §12.4 or the sender rules: only a server sends
// NEW_TOKEN (§19.7) and HANDSHAKE_DONE (§19.20), and only a client sends
// 0-RTT packets (§17.2.3).
func CheckReceivedFrame(t FrameType, pt PacketType, sender Role) error {
	if !FrameAllowedIn(t, pt) {
		return protocolViolation(t, "frame not allowed in "+pt.String()+" packet")
	}
	if sender == RoleClient {
		if t == FrameTypeNewToken || t == FrameTypeHandshakeDone {
			return protocolViolation(t, "frame sent by a client")
		}
	} else if pt == Packet0RTT {
		return protocolViolation(t, "0-RTT packet sent by a server")
	}
	return nil
}
