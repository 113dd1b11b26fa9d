package conn

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// FuzzServerDatagrams feeds a server connection, right after a real
// handshake on the sans-I/O harness, arbitrary input: as a raw datagram
// (mode 0), as frames sealed in a valid 1-RTT packet from the client, so
// that the fuzzer gets past decryption (mode 1), or as several such
// packets, split by length bytes (mode 2); the mode is the low two bits
// of the mode byte (3 counts as 0). With bit 2 set, the datagrams come
// with Holders, so that stream data may be held in them
// (HandleDatagramHeld), and mode 2's packets come as one GRO run in one
// buffer, from the address bits 3 and 4 choose (runSource). Nothing may
// panic, and after each input and a few rounds of exchanges the server's
// state stays within the protocol's limits, and no datagram is released
// more often than it was held.
func FuzzServerDatagrams(f *testing.F) {
	seedFrames := [][]byte{
		{byte(wire.FrameTypePing)},
		streamFrame(0, 0, []byte("hello"), true),
		streamFrame(0, 100, []byte("out of order"), false),
		streamFrame(2, 0, []byte("uni"), false),
		appendFrame(&wire.ResetStreamFrame{StreamID: 0, ErrorCode: 3, FinalSize: 10}),
		appendFrame(&wire.StopSendingFrame{StreamID: 0, ErrorCode: 3}),
		appendFrame(&wire.MaxDataFrame{MaximumData: 1 << 40}),
		appendFrame(&wire.MaxStreamDataFrame{StreamID: 0, MaximumStreamData: 1 << 30}),
		appendFrame(&wire.MaxStreamsFrame{MaximumStreams: 1000}),
		appendFrame(&wire.CryptoFrame{Offset: 0, Data: []byte{4, 0, 0, 1, 0}}),
		appendFrame(&wire.PathChallengeFrame{Data: [8]byte{1}}),
		appendFrame(&wire.RetireConnectionIDFrame{SequenceNumber: 1}),
		newConnectionIDFrame(4, 3, []byte{1, 2, 3, 4}),
		appendFrame(&wire.NewTokenFrame{Token: []byte("t")}),
		{byte(wire.FrameTypeConnectionClose), 0x0a, 0, 0},
		{0x02, 0x05, 0x00, 0x00, 0x03}, // ACK
		streamFrame(4*99, 0, nil, true),
		appendFrame(&wire.AckFrequencyFrame{SequenceNumber: 1, AckElicitingThreshold: 10, RequestedMaxAckDelay: 5 * time.Millisecond, ReorderingThreshold: 3}),
		{byte(wire.FrameTypeImmediateAck)},
	}
	for _, fr := range seedFrames {
		f.Add(byte(1), fr)
		f.Add(byte(1|4), fr)
	}
	f.Add(byte(0), []byte{0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22})
	f.Add(byte(0), []byte{0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0})
	f.Add(byte(2), append([]byte{byte(len(seedFrames[1]))}, append(seedFrames[1], append([]byte{byte(len(seedFrames[4]))}, seedFrames[4]...)...)...))
	// GRO runs of packets with STREAM frames in order, from the client's
	// address, its IPv4-mapped form and a new address.
	run := groRunSeed(0, 4)
	for _, src := range []byte{0, 8, 16} {
		f.Add(2|4|src, run)
	}

	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		p := h3specPair(t)
		p.handshake()
		if mode&4 != 0 {
			p.held = &heldDatagrams{}
		}
		s := p.server
		// The low two bits choose the mode (3 is 0), so that the higher
		// bits are flags of any mode.
		switch (mode & 3) % 3 {
		case 0:
			// A copy: the datagram is decrypted in place, and overwritten
			// once released.
			p.handOver(s, flight{b: bytes.Clone(data)}, clientAddr, true)
		case 1:
			p.clientSends(recovery.SpaceAppData, data[:min(len(data), 1400)], 0)
		case 2:
			var run [][]byte
			for _, frames := range splitPackets(data) {
				if p.held == nil {
					p.clientSends(recovery.SpaceAppData, frames, 0)
				} else {
					run = append(run, sealedPacket(t, p.client, recovery.SpaceAppData, frames, 0, nil, false))
				}
			}
			if run != nil {
				p.handOverRun(s, run, runSource(mode))
			}
		}
		if err := serverWithinLimits(s); err != nil {
			t.Fatal(err)
		}
		for range 20 {
			if !p.step() {
				break
			}
			if err := serverWithinLimits(s); err != nil {
				t.Fatal(err)
			}
		}
		if p.held != nil {
			for i, d := range p.held.all {
				if d.refs < 0 || d.overReleased {
					t.Fatalf("datagram %d released more often than held", i)
				}
			}
		}
	})
}

// runSource is where a GRO run of FuzzServerDatagrams comes from: the
// client's address, the same in IPv4-mapped IPv6 form (which the
// connection unmaps), or a new address (a migration).
func runSource(mode byte) netip.AddrPort {
	switch mode >> 3 & 3 {
	case 1:
		return netip.AddrPortFrom(netip.AddrFrom16(clientAddr.Addr().As16()), clientAddr.Port())
	case 2:
		return netip.MustParseAddrPort("198.18.0.3:40001")
	}
	return clientAddr
}

// handOverRun gives c the packets of a GRO run, lying one after another
// in one buffer with one Holder, a datagram each with one Path, as the
// driver hands them over: streams hold runs of slices of the buffer with
// one reference each.
func (p *testPair) handOverRun(c *Conn, packets [][]byte, from netip.AddrPort) {
	var buf []byte
	for _, pkt := range packets {
		buf = append(buf, pkt...)
	}
	h := p.held.add(buf)
	path := Path{Local: c.path.cur.addr.Local, Remote: from}
	for _, pkt := range packets {
		c.HandleDatagramHeld(p.now, buf[:len(pkt):len(pkt)], &path, p.codepoint(true, false), h)
		buf = buf[len(pkt):]
	}
	h.drop()
}

// serverWithinLimits checks that a connection's memory is bounded by the
// protocol limits whatever its peer sent.
func serverWithinLimits(c *Conn) error {
	if r, m := c.flow.received, c.flow.recvMax; r > m {
		return fmt.Errorf("received %d stream bytes past MAX_DATA %d", r, m)
	}
	ss := &c.streams
	for k := range 2 {
		if ss.remoteOpened[k] > ss.localMax[k] {
			return fmt.Errorf("peer opened %d streams of kind %d, limit %d", ss.remoteOpened[k], k, ss.localMax[k])
		}
	}
	if n := len(ss.m); n > int(ss.maxLimit[0]+ss.maxLimit[1]) {
		return fmt.Errorf("%d streams tracked", n)
	}
	for _, s := range ss.m {
		h := s.recv.Highest()
		read, m, _ := s.recv.Window()
		buffered := h - read
		if s.hasRecv && (h > m || buffered > c.config.maxStreamWindow()) {
			return fmt.Errorf("stream %d holds up to %d (%d buffered), limit %d", s.id, h, buffered, m)
		}
	}
	for i := range c.spaces {
		if c.spaces[i].crypto == nil {
			continue
		}
		r := &c.spaces[i].crypto.recv
		if r.Highest() > r.ReadOffset()+maxCryptoBuffer {
			return fmt.Errorf("space %d buffers CRYPTO data up to %d, read %d", i, r.Highest(), r.ReadOffset())
		}
	}
	if n := len(c.path.paths); n > maxPaths {
		return fmt.Errorf("%d paths", n)
	}
	for _, p := range c.path.paths {
		if p.nResponses > maxPathResponses {
			return fmt.Errorf("%d PATH_RESPONSE frames queued", p.nResponses)
		}
	}
	if n := len(c.ids.peer); n > 3*activeConnectionIDLimit {
		return fmt.Errorf("%d peer connection IDs held", n)
	}
	if n := len(c.ids.local); n > activeConnectionIDLimit+1 {
		return fmt.Errorf("%d local connection IDs", n)
	}
	if n := len(c.dgrams.out); n > MaxQueuedDatagrams {
		return fmt.Errorf("%d datagrams queued", n)
	}
	if f := c.closing.frame; f != nil && len(f.ReasonPhrase) > 256 {
		return fmt.Errorf("close reason of %d bytes", len(f.ReasonPhrase))
	}
	return nil
}

// RFC 9000 §5.1.2: a peer that makes us retire connection IDs faster than
// it acknowledges our RETIRE_CONNECTION_ID frames cannot make us hold an
// unbounded number of them: past twice our active_connection_id_limit it
// is a CONNECTION_ID_LIMIT_ERROR.
func TestNewConnectionIDRetireFlood(t *testing.T) {
	p := h3specPair(t)
	p.handshake()
	var fr []byte
	for seq := uint64(4); seq < 40; seq++ {
		fr = append(fr, newConnectionIDFrame(seq, seq, []byte{byte(seq), 1, 2, 3, 4, 5, 6, 7})...)
	}
	p.clientSends(recovery.SpaceAppData, fr, 0)
	if n := len(p.server.ids.peer); n > 3*activeConnectionIDLimit {
		t.Errorf("server holds %d peer connection IDs", n)
	}
	p.expectClose(p.server, wire.ConnectionIDLimitError, wire.FrameTypeNewConnectionID, true)
}

// groRunSeed is a fuzz seed of four length-prefixed packets' frames for a
// GRO run (0xff, a 16-bit length, the frames): STREAM frames in order on
// stream a, the last with FIN, and on stream b.
func groRunSeed(a, b uint64) []byte {
	var run []byte
	for i := range 4 {
		fr := streamFrame(a, uint64(i*1100), bytes.Repeat([]byte{byte('a' + i)}, 1100), i == 3)
		fr = append(fr, streamFrame(b, uint64(i*100), bytes.Repeat([]byte{byte('A' + i)}, 100), false)...)
		run = append(run, 0xff, byte(len(fr)>>8), byte(len(fr)))
		run = append(run, fr...)
	}
	return run
}
