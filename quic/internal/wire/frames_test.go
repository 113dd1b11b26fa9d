package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

func sampleFrames() []any {
	cid, _ := MakeConnectionID([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	data := []byte("hello, stream")
	return []any{
		paddingFrame{},
		pingFrame{},
		AckFrame{Ranges: []AckRange{{5, 5}}, AckDelay: 0},
		AckFrame{Ranges: []AckRange{{100, 120}, {90, 97}, {3, 80}, {0, 0}}, AckDelay: 1234},
		AckFrame{Ranges: []AckRange{{1 << 40, 1<<40 + 5}, {7, 1 << 30}}, AckDelay: 1, HasECN: true, ECN: ECNCounts{ECT0: 10, ECT1: 1 << 20, CE: 3}},
		ResetStreamFrame{StreamID: 4, ErrorCode: 0x10c, FinalSize: 1 << 33},
		StopSendingFrame{StreamID: 1<<62 - 1, ErrorCode: 7},
		CryptoFrame{Offset: 0, Data: []byte("ClientHello")},
		CryptoFrame{Offset: 1 << 20, Data: []byte{}},
		NewTokenFrame{Token: []byte("a token for later")},
		// The eight STREAM types 0x08-0x0f.
		StreamFrame{StreamID: 0, Data: data, NoLength: true},
		StreamFrame{StreamID: 0, Data: data, NoLength: true, Fin: true},
		StreamFrame{StreamID: 8, Data: data},
		StreamFrame{StreamID: 8, Data: []byte{}, Fin: true},
		StreamFrame{StreamID: 3, Offset: 1, Data: data, NoLength: true},
		StreamFrame{StreamID: 3, Offset: 1 << 40, Data: data, NoLength: true, Fin: true},
		StreamFrame{StreamID: 1 << 40, Offset: 77, Data: data},
		StreamFrame{StreamID: 2, Offset: MaxVarint - 13, Data: data, Fin: true},
		MaxDataFrame{MaximumData: 1 << 50},
		MaxStreamDataFrame{StreamID: 6, MaximumStreamData: 65536},
		MaxStreamsFrame{MaximumStreams: 100},
		MaxStreamsFrame{Uni: true, MaximumStreams: MaxStreamCount},
		DataBlockedFrame{MaximumData: 9},
		StreamDataBlockedFrame{StreamID: 10, MaximumStreamData: 1 << 14},
		StreamsBlockedFrame{MaximumStreams: 0},
		StreamsBlockedFrame{Uni: true, MaximumStreams: 1 << 60},
		NewConnectionIDFrame{SequenceNumber: 3, RetirePriorTo: 2, ConnectionID: cid, StatelessResetToken: [16]byte{1, 2, 3, 15: 16}},
		RetireConnectionIDFrame{SequenceNumber: 1 << 21},
		PathChallengeFrame{Data: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}},
		PathResponseFrame{Data: [8]byte{8, 7, 6, 5, 4, 3, 2, 1}},
		ConnectionCloseFrame{ErrorCode: uint64(FrameEncodingError), FrameType: FrameTypeStream | StreamFlagLen, ReasonPhrase: []byte("bad frame")},
		ConnectionCloseFrame{Application: true, ErrorCode: 0x100, ReasonPhrase: []byte{}},
		handshakeDoneFrame{},
		DatagramFrame{Data: []byte("unreliable")},
		DatagramFrame{Data: []byte("to the end"), NoLength: true},
		// draft-ietf-quic-ack-frequency-14 §4, §5.
		AckFrequencyFrame{SequenceNumber: 0, AckElicitingThreshold: 1, RequestedMaxAckDelay: 25 * time.Millisecond, ReorderingThreshold: 1},
		AckFrequencyFrame{SequenceNumber: 1 << 40, AckElicitingThreshold: 1 << 30, RequestedMaxAckDelay: 0, ReorderingThreshold: 0},
		immediateAckFrame{},
	}
}

func TestFrameRoundTrip(t *testing.T) {
	seen := map[FrameType]bool{}
	for _, in := range sampleFrames() {
		enc, n := appendAnyFrame([]byte{0xff}, in)
		enc = enc[1:]
		if n != len(enc) {
			t.Errorf("%T %+v: Len %d, encoded %d bytes", in, in, n, len(enc))
		}
		out, m, err := parseAnyFrame(enc, make([]AckRange, 0, 8))
		if err != nil {
			t.Errorf("%T %+v: parse: %v", in, in, err)
			continue
		}
		if m != len(enc) {
			t.Errorf("%T: parse used %d of %d bytes", in, m, len(enc))
		}
		if !reflect.DeepEqual(in, out) {
			t.Errorf("round trip:\n in  %+v\n out %+v", in, out)
		}
		seen[FrameType(enc[0])] = true
	}
	// Every frame type of RFC 9000 §19 and RFC 9221 was exercised.
	for ft := FrameTypePadding; ft <= FrameTypeHandshakeDone; ft++ {
		if !seen[ft] {
			t.Errorf("no sample of frame type %v", ft)
		}
	}
	if !seen[FrameTypeDatagram] || !seen[FrameTypeDatagramLen] {
		t.Error("no DATAGRAM sample")
	}
}

// Every frame cut short is a FRAME_ENCODING_ERROR naming its type, except
// where a shorter frame is still a valid one (data to the end of the
// packet).
func TestFrameTruncated(t *testing.T) {
	for _, in := range sampleFrames() {
		enc, _ := appendAnyFrame(nil, in)
		ft, tn, _ := ParseFrameType(enc)
		for i := tn; i < len(enc); i++ {
			_, _, err := parseAnyFrame(enc[:i], nil)
			if err == nil {
				if ft.IsStream() && ft&StreamFlagLen == 0 || ft == FrameTypeDatagram {
					continue
				}
				t.Errorf("%v cut to %d bytes: no error", ft, i)
				continue
			}
			var te *TransportError
			if !errors.As(err, &te) || te.Code != FrameEncodingError || te.FrameType != ft {
				t.Errorf("%v cut to %d bytes: %v", ft, i, err)
			}
		}
	}
}

func TestFrameInvalidValues(t *testing.T) {
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	v := func(x uint64) []byte { return AppendVarint(nil, x) }
	ty := func(t FrameType) []byte { return []byte{byte(t)} }
	token := make([]byte, 16)
	for _, c := range []struct {
		name string
		b    []byte
		code TransportErrorCode
	}{
		{"unknown type 0x2f", []byte{0x2f}, FrameEncodingError},
		{"ACK_FREQUENCY on four bytes", []byte{0x80, 0, 0, 0xaf}, ProtocolViolation},
		{"unknown two-byte type", v(0x3ff), FrameEncodingError},
		{"PING on two bytes", []byte{0x40, 0x01}, ProtocolViolation},
		{"ACK first range below 0", cat(ty(FrameTypeAck), v(5), v(0), v(0), v(6)), FrameEncodingError},
		{"ACK gap below 0", cat(ty(FrameTypeAck), v(10), v(0), v(1), v(2), v(7), v(0)), FrameEncodingError},
		{"ACK range below 0", cat(ty(FrameTypeAck), v(10), v(0), v(1), v(2), v(5), v(2)), FrameEncodingError},
		{"ACK huge range count", cat(ty(FrameTypeAck), v(10), v(0), v(MaxVarint), v(0), v(0), v(0)), FrameEncodingError},
		{"ACK_ECN without counts", cat(ty(FrameTypeAckECN), v(10), v(0), v(0), v(0)), FrameEncodingError},
		{"STREAM beyond 2^62-1", cat(ty(FrameTypeStream|StreamFlagOff), v(0), v(MaxVarint), []byte{1}), FrameEncodingError},
		{"STREAM length beyond packet", cat(ty(FrameTypeStream|StreamFlagLen), v(0), v(5), []byte{1}), FrameEncodingError},
		{"CRYPTO beyond 2^62-1", cat(ty(FrameTypeCrypto), v(MaxVarint-1), v(2), []byte{1, 2}), FrameEncodingError},
		{"empty NEW_TOKEN", cat(ty(FrameTypeNewToken), v(0)), FrameEncodingError},
		{"MAX_STREAMS above 2^60", cat(ty(FrameTypeMaxStreamsBidi), v(1<<60+1)), FrameEncodingError},
		{"MAX_STREAMS uni above 2^60", cat(ty(FrameTypeMaxStreamsUni), v(MaxVarint)), FrameEncodingError},
		{"STREAMS_BLOCKED above 2^60", cat(ty(FrameTypeStreamsBlockedUni), v(1<<60+1)), FrameEncodingError},
		{"NEW_CONNECTION_ID empty CID", cat(ty(FrameTypeNewConnectionID), v(1), v(0), []byte{0}, token), FrameEncodingError},
		{"NEW_CONNECTION_ID 21-byte CID", cat(ty(FrameTypeNewConnectionID), v(1), v(0), []byte{21}, make([]byte, 21), token), FrameEncodingError},
		{"NEW_CONNECTION_ID retire > sequence", cat(ty(FrameTypeNewConnectionID), v(1), v(2), []byte{1, 9}, token), FrameEncodingError},
		{"CONNECTION_CLOSE reason beyond packet", cat(ty(FrameTypeConnectionClose), v(1), v(0), v(10), []byte("abc")), FrameEncodingError},
		{"DATAGRAM length beyond packet", cat(ty(FrameTypeDatagramLen), v(3), []byte("ab")), FrameEncodingError},
	} {
		_, _, err := parseAnyFrame(c.b, nil)
		var te *TransportError
		if !errors.As(err, &te) || te.Code != c.code || !errors.Is(err, c.code) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.code)
			continue
		}
		if want, _, _ := ParseVarint(c.b); te.FrameType != FrameType(want) {
			t.Errorf("%s: error frame type %v, want %#x", c.name, te.FrameType, want)
		}
	}
}

func TestPaddingLen(t *testing.T) {
	b := AppendPadding([]byte{}, 5)
	b = append(b, byte(FrameTypePing), 0)
	if n := PaddingLen(b); n != 5 {
		t.Errorf("PaddingLen = %d", n)
	}
	if n := PaddingLen(b[:3]); n != 3 {
		t.Errorf("PaddingLen of all padding = %d", n)
	}
}

func TestMaxStreamDataLen(t *testing.T) {
	for _, id := range []uint64{0, 100, 1 << 20} {
		for _, off := range []uint64{0, 60, 1 << 35} {
			for _, withLen := range []bool{false, true} {
				for space := 0; space < 17000; space++ {
					n := MaxStreamDataLen(id, off, space, withLen)
					fits := func(n int) bool {
						return n >= 0 && StreamFrameOverhead(id, off, n, withLen)+n <= space
					}
					if n > 0 && !fits(n) || fits(n+1) {
						t.Fatalf("MaxStreamDataLen(%d, %d, %d, %v) = %d", id, off, space, withLen, n)
					}
				}
			}
		}
	}
}

func TestFrameAllowedIn(t *testing.T) {
	for _, c := range []struct {
		t      FrameType
		pt     PacketType
		sender Role
		ok     bool
	}{
		{FrameTypeCrypto, PacketInitial, RoleClient, true},
		{FrameTypeAck, PacketHandshake, RoleServer, true},
		{FrameTypeConnectionClose, PacketInitial, RoleServer, true},
		{FrameTypeConnectionCloseApp, PacketInitial, RoleServer, false}, // RFC 9000 §12.5
		{FrameTypePathChallenge, PacketHandshake, RoleClient, false},    // h3spec: PATH_CHALLENGE in Handshake
		{FrameTypeStream | StreamFlagLen, PacketInitial, RoleClient, false},
		{FrameTypeStream, Packet0RTT, RoleClient, true},
		{FrameTypeCrypto, Packet0RTT, RoleClient, false}, // h3spec: CRYPTO in 0-RTT
		{FrameTypeAck, Packet0RTT, RoleClient, false},
		{FrameTypeRetireConnectionID, Packet0RTT, RoleClient, false},
		{FrameTypeDatagram, Packet0RTT, RoleClient, true},
		{FrameTypeDatagramLen, PacketHandshake, RoleClient, false},
		{FrameTypeNewToken, Packet1RTT, RoleServer, true},
		{FrameTypeNewToken, Packet1RTT, RoleClient, false},      // RFC 9000 §19.7
		{FrameTypeHandshakeDone, Packet1RTT, RoleClient, false}, // RFC 9000 §19.20
		{FrameTypeHandshakeDone, Packet1RTT, RoleServer, true},
		{FrameTypePing, Packet0RTT, RoleServer, false}, // servers send no 0-RTT
		{FrameTypePathResponse, Packet1RTT, RoleClient, true},
		{FrameTypeAckFrequency, Packet1RTT, RoleServer, true},
		{FrameTypeAckFrequency, Packet0RTT, RoleClient, false}, // ack-frequency §3
		{FrameTypeImmediateAck, Packet0RTT, RoleClient, false},
		{FrameTypeImmediateAck, PacketHandshake, RoleClient, false},
		{FrameTypeImmediateAck, Packet1RTT, RoleClient, true},
	} {
		err := CheckReceivedFrame(c.t, c.pt, c.sender)
		if (err == nil) != c.ok || err != nil && !errors.Is(err, ProtocolViolation) {
			t.Errorf("CheckReceivedFrame(%v, %v, %v) = %v, want ok=%v", c.t, c.pt, c.sender, err, c.ok)
		}
	}
	if !FrameTypeStream.IsAckEliciting() || FrameTypeAck.IsAckEliciting() || !FrameTypePathChallenge.IsProbing() ||
		!FrameTypeAckFrequency.IsAckEliciting() || !FrameTypeImmediateAck.IsAckEliciting() {
		t.Error("frame type properties")
	}
}

func TestTransportErrorCodes(t *testing.T) {
	if CryptoError(0x28) != 0x128 {
		t.Error("CryptoError")
	}
	if a, ok := TransportErrorCode(0x178).TLSAlert(); !ok || a != 0x78 {
		t.Error("TLSAlert")
	}
	if _, ok := ProtocolViolation.TLSAlert(); ok {
		t.Error("PROTOCOL_VIOLATION is not a CRYPTO_ERROR")
	}
	for code, name := range map[TransportErrorCode]string{
		NoError: "NO_ERROR", NoViablePath: "NO_VIABLE_PATH", TransportParameterError: "TRANSPORT_PARAMETER_ERROR",
		0x12a: "CRYPTO_ERROR(0x12a)", 0x999: "TRANSPORT_ERROR(0x999)",
	} {
		if code.String() != name {
			t.Errorf("%#x: %q, want %q", uint64(code), code.String(), name)
		}
	}
	err := error(&TransportError{Code: FrameEncodingError, FrameType: FrameTypeAck, Reason: "x"})
	if !errors.Is(err, FrameEncodingError) || errors.Is(err, ProtocolViolation) || err.Error() == "" {
		t.Error("TransportError matching")
	}
}
