package quic

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/udpio"
)

// filterSocket is a simSocket whose outgoing datagrams pass through see
// first, which may drop them.
type filterSocket struct {
	simSocket
	see func(datagram []byte) (drop bool)
}

func (s filterSocket) WriteBatch(msgs []udpio.Message) (int, error) {
	for i := range msgs {
		for d := range msgs[i].Datagrams {
			if !s.see(d) {
				s.c.WriteToUDPAddrPort(d, msgs[i].Addr)
			}
		}
	}
	return len(msgs), nil
}

// clientHellos counts the client's Initial packets that carry the start
// of the ClientHello (a CRYPTO frame at offset 0), as the interop
// runner's longrtt test does. The client's first Initial gives the
// Destination Connection ID the Initial keys come from (RFC 9001 §5.2).
type clientHellos struct {
	keys *protect.Keys
	n    int
}

func (c *clientHellos) see(t *testing.T, datagram []byte) {
	b := append([]byte(nil), datagram...)
	for len(b) > 0 && b[0]&0x80 != 0 {
		hdr, err := wire.ParseHeader(b, 8, false)
		if err != nil {
			t.Errorf("client datagram: %v", err)
			return
		}
		pkt := b[:hdr.PacketLen]
		b = b[hdr.PacketLen:]
		if hdr.Type != wire.PacketInitial {
			continue
		}
		if c.keys == nil {
			c.keys, _, err = protect.InitialKeys(uint32(hdr.Version), hdr.DCID.Bytes())
			if err != nil {
				t.Fatal(err)
			}
		}
		truncated, pnLen, err := c.keys.UnprotectHeader(pkt, hdr.PacketNumberOffset)
		if err != nil {
			t.Fatal(err)
		}
		payload, err := c.keys.Open(pkt, hdr.PacketNumberOffset+pnLen, protect.DecodePacketNumber(-1, truncated, pnLen))
		if err != nil {
			t.Fatal(err)
		}
		for len(payload) > 0 {
			ft, n, err := wire.ParseFrameType(payload)
			if err != nil {
				t.Fatal(err)
			}
			payload = payload[n:]
			switch ft {
			case wire.FrameTypePadding:
				n = wire.PaddingLen(payload)
			case wire.FrameTypePing:
				n = 0
			case wire.FrameTypeAck, wire.FrameTypeAckECN:
				_, n, err = wire.ParseAckFrame(ft, payload, nil)
			case wire.FrameTypeCrypto:
				var f wire.CryptoFrame
				f, n, err = wire.ParseCryptoFrame(payload)
				if f.Offset == 0 {
					c.n++
				}
			default:
				t.Fatalf("frame %v in a client Initial", ft)
			}
			if err != nil {
				t.Fatal(err)
			}
			payload = payload[n:]
		}
	}
}

// TestSimLongRTTHandshake: on a path with 750 ms of delay each way (the
// interop runner's longrtt), the client's PTO (about 1 s before any RTT
// sample) fires before the server's answer can arrive, and its probe
// carries the ClientHello again (RFC 9002 §6.2.4; the runner wants it
// sent at least twice). When the first ClientHello is lost on that path,
// the probe's copy is the one that gets through: the handshake takes one
// PTO more than without loss, not the further round trip a PING's
// acknowledgment would need to reveal the loss, nor a second PTO.
func TestSimLongRTTHandshake(t *testing.T) {
	imp := netsim.Impairment{Delay: 750 * time.Millisecond, RateBitsPerSec: 10e6, QueueBytes: 64 << 10}
	for _, tc := range []struct {
		name     string
		loseCH   bool
		maxTime  time.Duration
		minHello int
	}{
		// 1.5 s RTT: the ClientHello arrives at 0.75 s; the handshake
		// completes at the client at 2.25 s (RTT and a half).
		{"no loss", false, 2300 * time.Millisecond, 2},
		// The probe leaves at 1 s: 1 s more.
		{"first ClientHello lost", true, 3300 * time.Millisecond, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
				defer cancel()
				var hellos clientHellos
				start := time.Now()
				sock := func(c *netsim.Conn) packetConn {
					if c.LocalAddrPort() != clientAddr {
						return simSocket{c}
					}
					return filterSocket{simSocket{c}, func(d []byte) bool {
						hellos.see(t, d)
						return tc.loseCH && time.Now().Equal(start)
					}}
				}
				cc, sc := cheapConfigs(t)
				sn := newSimNetSockets(t, imp, 3, cc, sc, sock)
				client, _ := sn.connect(t, ctx)
				el := time.Since(start)
				t.Logf("handshake in %v, ClientHello sent %d times, %d PTOs", el, hellos.n, client.Stats().PTOCount)
				if hellos.n < tc.minHello {
					t.Errorf("the ClientHello was sent %d times, want at least %d", hellos.n, tc.minHello)
				}
				if el > tc.maxTime {
					t.Errorf("handshake took %v, want at most %v", el, tc.maxTime)
				}
				client.Close()
			})
		})
	}
}
