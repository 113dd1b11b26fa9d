package conn

import (
	"testing"

	"github.com/skiffnet/skiff/quic/internal/streambuf"

	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// sniffedFrame is a frame seen on the harness's wire: its type and, for
// the frames tests look at, the value they carry.
type sniffedFrame struct {
	typ   wire.FrameType
	value uint64 // MAX_STREAMS / STREAMS_BLOCKED count, MAX_DATA limit, STREAM's stream ID
}

// sniff1RTT decrypts a copy of a datagram's 1-RTT packet with the keys of
// its receiver (before the receiver sees it) and lists its frames. It
// returns nil for datagrams it cannot read (long headers, other key
// phases).
func sniff1RTT(receiver *Conn, datagram []byte) []sniffedFrame {
	b := append([]byte(nil), datagram...)
	if len(b) == 0 || b[0]&0x80 != 0 {
		return nil
	}
	hdr, err := wire.ParseHeader(b, connIDLen, false)
	if err != nil {
		return nil
	}
	keys := receiver.keys1RTT.read
	if keys == nil {
		return nil
	}
	// Header protection uses only the key and the packet's sample, so the
	// receiver's keys can remove it from a copy.
	truncated, pnLen, err := keys.UnprotectHeader(b, hdr.PacketNumberOffset)
	if err != nil || wire.KeyPhase(b[0]) != receiver.keys1RTT.readPhase {
		return nil
	}
	pn := protect.DecodePacketNumber(receiver.spaces[recovery.SpaceAppData].largestRecv, truncated, pnLen)
	payload, err := keys.Open(b, hdr.PacketNumberOffset+pnLen, pn)
	if err != nil {
		return nil
	}
	var out []sniffedFrame
	for len(payload) > 0 {
		t, n, err := wire.ParseFrameType(payload)
		if err != nil {
			return out
		}
		payload = payload[n:]
		f := sniffedFrame{typ: t}
		switch {
		case t == wire.FrameTypePadding:
			n = wire.PaddingLen(payload)
		case t == wire.FrameTypePing, t == wire.FrameTypeHandshakeDone:
			n = 0
		case t == wire.FrameTypeAck || t == wire.FrameTypeAckECN:
			_, n, err = wire.ParseAckFrame(t, payload, nil)
		case t.IsStream():
			var fr wire.StreamFrame
			fr, n, err = wire.ParseStreamFrame(t, payload)
			f.value = fr.StreamID
		case t == wire.FrameTypeMaxStreamsBidi || t == wire.FrameTypeMaxStreamsUni:
			var fr wire.MaxStreamsFrame
			fr, n, err = wire.ParseMaxStreamsFrame(t, payload)
			f.value = fr.MaximumStreams
		case t == wire.FrameTypeStreamsBlockedBidi || t == wire.FrameTypeStreamsBlockedUni:
			var fr wire.StreamsBlockedFrame
			fr, n, err = wire.ParseStreamsBlockedFrame(t, payload)
			f.value = fr.MaximumStreams
		case t == wire.FrameTypeMaxData:
			var fr wire.MaxDataFrame
			fr, n, err = wire.ParseMaxDataFrame(payload)
			f.value = fr.MaximumData
		case t == wire.FrameTypeMaxStreamData:
			_, n, err = wire.ParseMaxStreamDataFrame(payload)
		case t == wire.FrameTypeDataBlocked:
			_, n, err = wire.ParseDataBlockedFrame(payload)
		case t == wire.FrameTypeStreamDataBlocked:
			_, n, err = wire.ParseStreamDataBlockedFrame(payload)
		case t == wire.FrameTypeNewConnectionID:
			_, n, err = wire.ParseNewConnectionIDFrame(payload)
		case t == wire.FrameTypeRetireConnectionID:
			_, n, err = wire.ParseRetireConnectionIDFrame(payload)
		case t == wire.FrameTypeResetStream:
			_, n, err = wire.ParseResetStreamFrame(payload)
		case t == wire.FrameTypeStopSending:
			_, n, err = wire.ParseStopSendingFrame(payload)
		case t == wire.FrameTypeNewToken:
			_, n, err = wire.ParseNewTokenFrame(payload)
		case t == wire.FrameTypePathChallenge:
			_, n, err = wire.ParsePathChallengeFrame(payload)
		case t == wire.FrameTypePathResponse:
			_, n, err = wire.ParsePathResponseFrame(payload)
		case t == wire.FrameTypeCrypto:
			_, n, err = wire.ParseCryptoFrame(payload)
		case t == wire.FrameTypeConnectionClose || t == wire.FrameTypeConnectionCloseApp:
			_, n, err = wire.ParseConnectionCloseFrame(t, payload)
		case t == wire.FrameTypeDatagram || t == wire.FrameTypeDatagramLen:
			_, n, err = wire.ParseDatagramFrame(t, payload)
		case t == wire.FrameTypeAckFrequency:
			var fr wire.AckFrequencyFrame
			fr, n, err = wire.ParseAckFrequencyFrame(payload)
			f.value = fr.AckElicitingThreshold
		case t == wire.FrameTypeImmediateAck:
			n = 0
		default:
			return out
		}
		if err != nil {
			return out
		}
		payload = payload[n:]
		out = append(out, f)
	}
	return out
}

// sniffer records the frames of one direction of the harness.
type sniffer struct{ frames []sniffedFrame }

func (p *testPair) sniff(out *pipe, receiver func() *Conn) *sniffer {
	s := &sniffer{}
	out.drop = func(_ int, b []byte) bool {
		if r := receiver(); r != nil {
			s.frames = append(s.frames, sniff1RTT(r, b)...)
		}
		return false
	}
	return s
}

func (s *sniffer) find(t wire.FrameType) []sniffedFrame {
	var out []sniffedFrame
	for _, f := range s.frames {
		if f.typ == t {
			out = append(out, f)
		}
	}
	return out
}

// RFC 9000 §4.6, §19.11, §19.14 on the wire: a client at the server's
// stream limit (2) sends STREAMS_BLOCKED(2); once the server's
// application is done with the streams, the server sends MAX_STREAMS with
// a higher limit and the client opens the next stream.
func TestStreamsBlockedAndMaxStreamsOnTheWire(t *testing.T) {
	cc, sc := cheapConfigs(t)
	sc.MaxBidiStreams = 2
	p := newTestPairWith(t, cc, sc)
	up := p.sniff(&p.c2s, func() *Conn { return p.server })
	down := p.sniff(&p.s2c, func() *Conn { return p.client })
	p.handshake()
	for range 2 {
		s := p.openStream(p.client, false)
		s.Write([]byte("hi"))
		s.CloseWrite()
	}
	// A third stream is beyond the limit: the application is told so, and
	// says it is blocked.
	if _, ok := p.client.mb.OpenStream(false, nil); ok {
		t.Fatal("a third stream opened beyond the limit of 2")
	}
	p.client.mb.OpenBlocked(false)
	p.runUntil("STREAMS_BLOCKED(2) on the wire", func() bool {
		for _, f := range up.find(wire.FrameTypeStreamsBlockedBidi) {
			if f.value == 2 {
				return true
			}
		}
		return false
	})
	// The server's application reads both streams to the end and closes
	// its sides.
	done := 0
	p.runUntil("server read both streams to the end", func() bool {
		for _, ss := range p.accepted[1] {
			buf := make([]byte, 10)
			for {
				n, st, _ := ss.Read(buf)
				if st == streambuf.EOF {
					if st, _ := ss.CloseWrite(); st == streambuf.OK {
						done++
					}
					break
				}
				if n == 0 {
					break
				}
			}
		}
		return done == 2
	})
	p.runUntil("MAX_STREAMS above 2 on the wire", func() bool {
		for _, f := range down.find(wire.FrameTypeMaxStreamsBidi) {
			if f.value > 2 {
				return true
			}
		}
		return false
	})
	// The third stream opens now.
	if s, ok := p.client.mb.OpenStream(false, nil); !ok || s.ID() != streamID(2, false, false) {
		t.Fatalf("third stream: %v, %v", s, ok)
	}
}
