package conn

import (
	"testing"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// RFC 9000 §4.1: stream data beyond MAX_DATA, summed over streams, is a
// FLOW_CONTROL_ERROR even when each stream stays within its own limit.
func TestFlowControlConnectionLimitExceeded(t *testing.T) {
	cc, sc := cheapConfigs(t)
	sc.InitialConnectionWindow, sc.InitialStreamWindow = 20000, 64<<10
	p := newTestPairWith(t, cc, sc)
	p.handshake()
	p.clientSends(recovery.SpaceAppData, streamFrame(0, 19999, []byte("x"), false), 0)
	if p.server.closing.state != stateOpen {
		t.Fatalf("closed at exactly MAX_DATA: %+v", p.server.closing.frame)
	}
	p.clientSends(recovery.SpaceAppData, streamFrame(4, 0, []byte("y"), false), 0)
	p.expectClose(p.server, wire.FlowControlError, 0, false)
}

// RFC 9000 §4.1, §4.5: data past MAX_STREAM_DATA is a FLOW_CONTROL_ERROR,
// and so is a RESET_STREAM whose final size is past it; data up to the
// limit is fine.
func TestFlowControlStreamLimitExceeded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"stream", streamFrame(0, defaultStreamWindow-1, []byte("xy"), false)},
		{"reset", appendFrame(&wire.ResetStreamFrame{StreamID: 0, ErrorCode: 1, FinalSize: defaultStreamWindow + 1})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := h3specPair(t)
			p.handshake()
			p.clientSends(recovery.SpaceAppData, streamFrame(0, defaultStreamWindow-1, []byte("x"), false), 0)
			if p.server.closing.state != stateOpen {
				t.Fatalf("closed at exactly MAX_STREAM_DATA: %+v", p.server.closing.frame)
			}
			p.clientSends(recovery.SpaceAppData, tc.frame, 0)
			p.expectClose(p.server, wire.FlowControlError, 0, false)
		})
	}
}
