package conn

import (
	"testing"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// More trace-style checks of RFC 9000's frame rules beyond h3spec: the
// client sends one 1-RTT packet, the server must close with the error.
func TestFrameRules(t *testing.T) {
	ack := func(largest uint64) []byte {
		b := []byte{byte(wire.FrameTypeAck)}
		b = wire.AppendVarint(b, largest)
		return append(b, 0, 0, 0) // delay, range count, first range
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		code  TransportErrorCode
		ft    wire.FrameType
	}{
		// RFC 9221 §4: DATAGRAM without max_datagram_frame_size.
		{"datagram-not-enabled", appendFrame(&wire.DatagramFrame{Data: []byte("d")}), wire.ProtocolViolation, wire.FrameTypeDatagram},
		// RFC 9000 §7.5: CRYPTO data beyond what we buffer.
		{"crypto-buffer-exceeded", appendFrame(&wire.CryptoFrame{Offset: 1 << 20, Data: []byte("x")}), wire.CryptoBufferExceeded, wire.FrameTypeCrypto},
		// RFC 9000 §13.1: acknowledging a packet never sent.
		{"ack-of-unsent-packet", ack(1 << 20), wire.ProtocolViolation, wire.FrameTypeAck},
		// RFC 9000 §19.13: STREAM_DATA_BLOCKED for a send-only stream.
		{"stream-data-blocked-send-only", appendFrame(&wire.StreamDataBlockedFrame{StreamID: 3, MaximumStreamData: 10}), wire.StreamStateError, wire.FrameTypeStreamDataBlocked},
		// RFC 9000 §19.15: a sequence number reused for another ID.
		{"connection-id-seq-reused", newConnectionIDFrame(0, 0, []byte{7, 7, 7, 7, 7, 7, 7, 7}), wire.ProtocolViolation, wire.FrameTypeNewConnectionID},
		// RFC 9000 §12.4: a frame truncated by the end of the packet.
		{"truncated-frame", []byte{byte(wire.FrameTypeMaxStreamData), 0x40}, wire.FrameEncodingError, wire.FrameTypeMaxStreamData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h3spec1RTT(t, tc.frame, 0, tc.code, tc.ft)
		})
	}
}

// RFC 9000 §19.11, §19.9, §19.10: smaller MAX_STREAMS, MAX_DATA and
// MAX_STREAM_DATA values than before are no error and change nothing.
func TestLimitsNeverDecrease(t *testing.T) {
	p := h3specPair(t)
	p.handshake()
	c := p.server
	s := p.openStream(c, false)
	beforeStreams, beforeData, beforeStream := c.mb.peerMax[kindBidi].Load(), c.flow.sendMax, s.sendMax
	p.clientSends(recovery.SpaceAppData, frames(
		appendFrame(&wire.MaxStreamsFrame{MaximumStreams: 1}),
		appendFrame(&wire.MaxDataFrame{MaximumData: 1}),
		appendFrame(&wire.MaxStreamDataFrame{StreamID: s.ID(), MaximumStreamData: 1}),
	), 0)
	if c.closing.state != stateOpen {
		t.Fatalf("server closed: %+v", c.closing.frame)
	}
	if c.mb.peerMax[kindBidi].Load() != beforeStreams || c.flow.sendMax != beforeData || s.sendMax != beforeStream {
		t.Fatal("a smaller limit lowered what the server may send")
	}
}
