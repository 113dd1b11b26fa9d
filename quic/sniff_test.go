package quic

import (
	"context"
	"runtime"
	"testing"

	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// sniffedFrame is a frame seen on the harness's wire: its type and, for
// the frames tests look at, the value they carry.
type sniffedFrame struct {
	typ   wire.FrameType
	value uint64 // MAX_STREAMS / STREAMS_BLOCKED count, MAX_DATA limit
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
			_, n, err = wire.ParseStreamFrame(t, payload)
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
	var streams []*Stream
	for range 2 {
		s, err := p.client.OpenStream(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		s.Write([]byte("hi"))
		s.Close()
		streams = append(streams, s)
	}
	// The third OpenStream blocks, in an application goroutine as it
	// would for real.
	third := make(chan *Stream, 1)
	go func() {
		s, err := p.client.OpenStream(context.Background())
		if err != nil {
			t.Error(err)
		}
		third <- s
	}()
	// Wait, without moving the harness's clock, until it is blocked: it
	// records the limit it is blocked at before it waits.
	for i := 0; ; i++ {
		p.client.mu.Lock()
		blocked := p.client.streams.blockedAt[kindBidi] == 2
		p.client.mu.Unlock()
		if blocked {
			break
		}
		if i > 1e7 {
			t.Fatal("OpenStream never blocked")
		}
		runtime.Gosched()
	}
	select {
	case <-third:
		t.Fatal("a third stream opened beyond the limit of 2")
	default:
	}
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
	p.runUntil("server has both streams' FIN", func() bool {
		for _, s := range streams {
			ss := p.server.streamByID(s.ID())
			if ss == nil {
				return false
			}
			ss.mu.Lock()
			_, fin := ss.recv.FinalSize()
			ss.mu.Unlock()
			if !fin {
				return false
			}
		}
		return true
	})
	for _, s := range streams {
		ss := p.server.streamByID(s.ID())
		buf := make([]byte, 10)
		for {
			_, err := ss.Read(buf)
			if err != nil {
				break
			}
		}
		ss.Close()
	}
	p.runUntil("MAX_STREAMS above 2 on the wire", func() bool {
		for _, f := range down.find(wire.FrameTypeMaxStreamsBidi) {
			if f.value > 2 {
				return true
			}
		}
		return false
	})
	// The blocked OpenStream returns the third stream.
	if s := <-third; s == nil || s.ID() != streamID(2, false, false) {
		t.Fatalf("third stream: %v", s)
	}
}
