package conn

import (
	"bytes"
	"testing"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// serverStream returns the server's stream id once the client opened it.
func serverStream(t *testing.T, p *testPair, id uint64) *Stream {
	t.Helper()
	s := p.server.streams.get(id)
	if s == nil {
		t.Fatalf("server has no stream %d", id)
	}
	return s
}

// RFC 9000 §4.5: data past the final size, a final size that changes and a
// final size below data already received are FINAL_SIZE_ERRORs.
func TestFinalSizeErrors(t *testing.T) {
	data := bytes.Repeat([]byte("d"), 100)
	for _, tc := range []struct {
		name          string
		first, second []byte
	}{
		{"data-past-fin", streamFrame(0, 0, data, true), streamFrame(0, 100, []byte("x"), false)},
		{"fin-moves", streamFrame(0, 0, data, true), streamFrame(0, 0, data[:50], true)},
		{"fin-below-received", streamFrame(0, 0, data, false), streamFrame(0, 0, data[:50], true)},
		{"reset-below-received", streamFrame(0, 0, data, false), appendFrame(&wire.ResetStreamFrame{StreamID: 0, FinalSize: 50})},
		{"reset-changes-fin", streamFrame(0, 0, data, true), appendFrame(&wire.ResetStreamFrame{StreamID: 0, FinalSize: 101})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := h3specPair(t)
			p.handshake()
			p.clientSends(recovery.SpaceAppData, tc.first, 0)
			if p.server.closing.state != stateOpen {
				t.Fatalf("closed on the first frame: %+v", p.server.closing.frame)
			}
			p.clientSends(recovery.SpaceAppData, tc.second, 0)
			p.expectClose(p.server, wire.FinalSizeError, 0, false)
		})
	}
}

// After CloseRead (RFC 9000 §3.5) the data still arriving is dropped but
// counted exactly once for connection flow control (§4.5), and the final
// size rules still apply to it: frames in flight, repeated or overlapping,
// are no error, and the connection window is not consumed twice.
func TestStreamFramesAfterCloseRead(t *testing.T) {
	p := h3specPair(t)
	p.handshake()
	data := bytes.Repeat([]byte("z"), 1000)
	p.clientSends(recovery.SpaceAppData, streamFrame(0, 0, data, false), 0)
	ss := serverStream(t, p, 0)
	ss.CloseRead(5)
	p.owner(p.server)
	for _, fr := range [][]byte{
		streamFrame(0, 2000, data, true), // FIN at 3000, out of order
		streamFrame(0, 1000, data, false),
		streamFrame(0, 1500, data[:500], false), // a retransmission
		streamFrame(0, 2000, data, true),        // and again
	} {
		p.clientSends(recovery.SpaceAppData, fr, 0)
		if p.server.closing.state != stateOpen {
			t.Fatalf("server closed: %+v", p.server.closing.frame)
		}
	}
	if got := p.server.flow.received; got != 3000 {
		t.Errorf("connection flow control counted %d bytes, want 3000", got)
	}
	p.clientSends(recovery.SpaceAppData, streamFrame(0, 3000, []byte("x"), false), 0)
	p.expectClose(p.server, wire.FinalSizeError, 0, false)
}
