package conn

import (
	"bytes"
	"testing"

	"github.com/skiffnet/skiff/quic/internal/wire"
)

// RFC 9002 §6.2.4 in the application data space: a request whose only
// packet is lost, with nothing sent after it, goes again in the probes of
// every PTO, not a bare PING (the interop runner's handshakecorruption,
// where the client's request and every probe after it were corrupted and
// the connection idled out).
func TestPTOProbeResendsStreamData(t *testing.T) {
	cc, sc := cheapConfigs(t)
	p := newTestPairWith(t, cc, sc)
	p.handshake()
	// Let the handshake's last acknowledgments settle: the request is then
	// the only ack-eliciting packet in flight.
	p.runUntil("nothing in flight", func() bool { return p.client.cc.BytesInFlight() == 0 })
	var streamFrames, datagrams int
	p.c2s.drop = func(_ int, b []byte) bool {
		datagrams++
		for _, f := range sniff1RTT(p.server, b) {
			if f.typ.IsStream() {
				streamFrames++
			}
		}
		return true // every client datagram is lost
	}
	s := p.openStream(p.client, false)
	if n, _, _ := s.Write([]byte("GET /index.html\r\n")); n == 0 {
		t.Fatal("write took nothing")
	}
	s.CloseWrite()
	p.runUntil("the request sent three times", func() bool { return streamFrames >= 3 })
	if n := p.client.loss.PTOCount(); n < 1 {
		t.Fatalf("PTO count %d", n)
	}
	t.Logf("STREAM frame sent %d times in %d datagrams, %d PTOs", streamFrames, datagrams, p.client.loss.PTOCount())
}

// A transfer in chunks, each written when the previous one was
// acknowledged, whose last acknowledgments are lost: the PTO fires with
// nothing new to send, so the probes send again data whose packets stay
// in flight, and both copies are acknowledged. The transfer completes and
// the stream lets go of its storage: a second acknowledgment of the same
// bytes once stopped the stream's acknowledged prefix for good, its
// storage was never released, and a writer waiting for room (a bulk
// download at MTU 9000 in TestVethPMTUDiscovery) or for its data to be
// acknowledged (here) waited until the idle timeout.
func TestPTOProbeResendsDuringBulkTransfer(t *testing.T) {
	cc, sc := cheapConfigs(t)
	p := newTestPairWith(t, cc, sc)
	p.handshake()
	var ptos uint64
	var dataProbes int
	p.c2s.drop = func(_ int, b []byte) bool {
		if n := p.client.LossStats().PTOs; n > ptos {
			// The first datagram after a PTO: its probe.
			ptos = n
			for _, f := range sniff1RTT(p.server, b) {
				if f.typ.IsStream() {
					dataProbes++
					break
				}
			}
		}
		return false
	}
	s := p.openStream(p.client, true)
	// The server's acknowledgments are lost, up to three in a row, while
	// the client has nothing new to send; its other frames (flow control
	// credit) go through.
	run := 0
	p.s2c.drop = func(_ int, b []byte) bool {
		if run < 3 && !p.client.appDataPending() && onlyAcks(sniff1RTT(p.client, b)) {
			run++
			return true
		}
		run = 0
		return false
	}
	const chunk = 64 << 10
	data := bytes.Repeat([]byte("skiff chunked data "), 100_000)
	p.transfer(t, s, data, chunk)
	p.runUntil("the stream finished on the client", s.Finished)
	if dataProbes < len(data)/chunk/2 {
		t.Fatalf("%d PTOs, %d of whose probes carried STREAM data", ptos, dataProbes)
	}
	if send, _ := s.StreamStorage(); send != 0 {
		t.Fatalf("the finished stream holds %d bytes to send", send)
	}
	t.Logf("%d bytes in %v of synthetic time; %d PTOs, %d probes with STREAM data", len(data), p.now.Sub(p.client.epoch), ptos, dataProbes)
}

// onlyAcks reports whether frames (a 1-RTT packet's) are ACK and padding
// only.
func onlyAcks(frames []sniffedFrame) bool {
	for _, f := range frames {
		switch f.typ {
		case wire.FrameTypeAck, wire.FrameTypeAckECN, wire.FrameTypePadding:
		default:
			return false
		}
	}
	return len(frames) > 0
}

// RFC 9002 §6.2.4 for a sender blocked by the peer's flow control, of the
// connection or of the stream: the client writes more than the server's
// window, and from then on every datagram of the client's is lost. Its
// stream stays queued for MAX_DATA, which made the probe think it had new
// data and go as a bare PING; the probes carry the oldest data in flight
// again, and the blocked frame of the limit (RFC 9000 §4.1, §13.3).
func TestPTOProbeWhenFlowControlBlocked(t *testing.T) {
	for _, tc := range []struct {
		name    string
		limit   func(*Config)
		blocked wire.FrameType
	}{
		{"connection", func(c *Config) { c.InitialConnectionWindow, c.MaxConnectionWindow = 8<<10, 8<<10 }, wire.FrameTypeDataBlocked},
		{"stream", func(c *Config) { c.InitialStreamWindow, c.MaxStreamWindow = 8<<10, 8<<10 }, wire.FrameTypeStreamDataBlocked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc, sc := cheapConfigs(t)
			tc.limit(sc)
			p := newTestPairWith(t, cc, sc)
			p.handshake()
			p.runUntil("nothing in flight", func() bool { return p.client.cc.BytesInFlight() == 0 })
			var ptos uint64
			var probes, withData, withBlocked int
			p.c2s.drop = func(_ int, b []byte) bool {
				if n := p.client.LossStats().PTOs; n > ptos {
					ptos = n
					probes++
					data, blocked := false, false
					for _, f := range sniff1RTT(p.server, b) {
						data = data || f.typ.IsStream()
						blocked = blocked || f.typ == tc.blocked
					}
					if data {
						withData++
					}
					if blocked {
						withBlocked++
					}
				}
				return true
			}
			s := p.openStream(p.client, false)
			if n, _, _ := s.Write(make([]byte, 64<<10)); n == 0 {
				t.Fatal("write took nothing")
			}
			p.runUntil("three PTOs", func() bool { return probes >= 3 })
			if withData != probes || withBlocked != probes {
				t.Fatalf("of %d probes, %d carried STREAM data and %d %v, want all", probes, withData, withBlocked, tc.blocked)
			}
		})
	}
}
