package conn

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/skiffnet/skiff/quic/internal/protect"
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/streambuf"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// HandleDatagram processes one received UDP datagram from a peer address,
// on the current path's local socket; see HandleDatagramOn.
func (c *Conn) HandleDatagram(nowT time.Time, b []byte, from netip.AddrPort, ecn uint8) {
	c.HandleDatagramOn(nowT, b, Path{Local: c.path.cur.addr.Local, Remote: from}, ecn)
}

// HandleDatagramOn processes one UDP datagram received on path, with the
// ECN codepoint of its IP header: each QUIC packet coalesced in it (RFC
// 9000 §12.2), in order. It keeps no reference to b.
func (c *Conn) HandleDatagramOn(nowT time.Time, b []byte, path Path, ecn uint8) {
	c.HandleDatagramHeld(nowT, b, &path, ecn, nil)
}

// HandleDatagramHeld is HandleDatagramOn for a datagram lying in h's
// memory (nil: none). Stream data in it may be kept there, with a
// reference to h (streambuf.Holder), until the application reads it: the
// bytes are copied once, not into the stream's buffer first. b is
// decrypted in place and must not change while h is held. path is read,
// not kept: the driver passes the one of a whole GRO run, so that no
// Path is copied through the stack for each datagram (a copy that
// stalled on store forwarding).
func (c *Conn) HandleDatagramHeld(nowT time.Time, b []byte, path *Path, ecn uint8, h streambuf.Holder) {
	now := c.mono(nowT)
	if c.closing.state >= stateDraining {
		return
	}
	if !c.path.beginDatagram(path, len(b)) {
		return // RFC 9000 §9: a client drops what unknown server addresses send
	}
	c.stats.DatagramsReceived++
	c.stats.BytesReceived += uint64(len(b))
	if !c.path.curValidated() {
		// RFC 9002 Appendix A.6: more received bytes may unblock a
		// server at its amplification limit.
		c.loss.SetAmplificationBlocked(c.path.allowance(c.path.cur) == 0)
	}
	if c.closing.state == stateClosing {
		// RFC 9000 §10.2.1: in the closing state, answer with the
		// CONNECTION_CLOSE again, at a limited rate; process nothing.
		c.closing.onPacketWhileClosing()
		return
	}
	first := true
	for len(b) > 0 {
		n := c.handlePacket(now, b, ecn, first, h)
		if n <= 0 {
			break // the rest of the datagram cannot be parsed
		}
		b = b[n:]
		first = false
		if c.closing.state != stateOpen {
			return
		}
	}
	if c.completionDue {
		c.afterCompletion(now)
	}
	c.updateAckPolicy()
}

// handlePacket processes the first packet in b and returns its length, or
// -1 when the rest of the datagram must be dropped.
func (c *Conn) handlePacket(now time.Duration, b []byte, ecn uint8, firstInDatagram bool, h streambuf.Holder) int {
	var hdr wire.Header
	if err := wire.ParseHeaderInto(&hdr, b, ConnIDLen, false); err != nil {
		// A short header that does not parse may still be a stateless
		// reset (RFC 9000 §10.3.1).
		c.checkStatelessReset(b)
		return -1
	}
	pkt := b[:hdr.PacketLen]
	switch hdr.Type {
	case wire.PacketVersionNegotiation:
		if firstInDatagram {
			c.handleVersionNegotiation(now, &hdr)
		}
		return -1
	case wire.PacketRetry:
		c.handleRetry(now, &hdr, pkt)
		return -1
	}
	if hdr.Type != wire.Packet1RTT && !c.acceptVersion(&hdr) {
		return hdr.PacketLen // RFC 9000 §12.2: not ours; skip it
	}
	var space recovery.Space
	switch hdr.Type {
	case wire.PacketInitial:
		space = recovery.SpaceInitial
		// RFC 9000 §14.1: a server drops client Initials in datagrams
		// smaller than 1200 bytes.
		if !c.isClient && firstInDatagram && len(b) < InitialMaxDatagramSize && c.path.cur.recvd == uint64(len(b)) {
			return -1
		}
	case wire.PacketHandshake:
		space = recovery.SpaceHandshake
	case wire.Packet0RTT:
		// RFC 9001 §4.6: a server that accepted 0-RTT has its keys;
		// otherwise the packet is dropped and the client resends its
		// frames in 1-RTT. Later long header packets must carry the
		// client's Source Connection ID (RFC 9000 §7.2).
		if c.keys0RTT == nil || !c.ids.peerSCIDKnown || hdr.SCID != c.ids.peerInitialSCID {
			return hdr.PacketLen
		}
		space = recovery.SpaceAppData
	default:
		space = recovery.SpaceAppData
	}
	sp := &c.spaces[space]
	keys := sp.readKeys
	switch hdr.Type {
	case wire.Packet0RTT:
		keys = c.keys0RTT
	case wire.PacketInitial:
		keys = c.initialReadKeys(hdr.Version)
	}
	if sp.discarded || keys == nil {
		return hdr.PacketLen
	}
	truncated, pnLen, err := keys.UnprotectHeader(pkt, hdr.PacketNumberOffset)
	if err != nil {
		// RFC 9000 §10.3.1: every 1-RTT packet that cannot be processed
		// may be a stateless reset, whatever its random bytes decode to.
		if hdr.Type == wire.Packet1RTT {
			c.checkStatelessReset(b)
		}
		return hdr.PacketLen
	}
	pn := protect.DecodePacketNumber(sp.largestRecv, truncated, pnLen)
	if sp.received.IsDuplicate(pn) {
		if hdr.Type == wire.Packet1RTT {
			c.checkStatelessReset(b)
		}
		return hdr.PacketLen
	}
	if hdr.Type == wire.Packet1RTT {
		keys = c.keys1RTT.readKeysFor(wire.KeyPhase(pkt[0]), pn)
		if keys == nil {
			c.checkStatelessReset(b)
			return hdr.PacketLen
		}
	}
	payload, err := keys.Open(pkt, hdr.PacketNumberOffset+pnLen, pn)
	if err != nil {
		if hdr.Type == wire.Packet1RTT {
			c.checkStatelessReset(b)
		}
		return hdr.PacketLen
	}
	if hdr.Type == wire.Packet1RTT {
		c.keys1RTT.onPacketOpened(wire.KeyPhase(pkt[0]), pn, keys)
	}
	// RFC 9000 §17.2, §17.3.1: reserved bits are checked only after
	// header protection is removed, and non-zero is PROTOCOL_VIOLATION.
	if err := wire.CheckReservedBits(pkt[0]); err != nil {
		c.abort(now, asTransportError(err))
		return -1
	}
	if int64(pn) > sp.largestRecv {
		sp.largestRecv = int64(pn)
	}
	c.stats.PacketsReceived++

	if hdr.Type == wire.PacketInitial || hdr.Type == wire.PacketHandshake {
		if !c.onLongHeaderPacket(now, &hdr) {
			return -1
		}
	}
	c.path.rx.nonProbing = false
	if hdr.Type == wire.Packet1RTT {
		// The path's record, made now for a new peer address: the packet
		// is authentic (path.go).
		c.path.rxPathRecord(now, &hdr.DCID)
	}
	c.early.receiving = hdr.Type == wire.Packet0RTT
	ackEliciting, err := c.handleFrames(now, space, hdr.Type, payload, h)
	c.early.receiving = false
	if err != nil {
		c.abort(now, asTransportError(err))
		return -1
	}
	if !sp.discarded {
		// (Processing the packet may have discarded its space: the
		// server's handshake confirmed by the client's Finished.)
		sp.received.OnPacketReceived(pn, ackEliciting, ecn, now)
	}
	c.idle.onPacketReceived(now)
	c.onPathPacket(now, hdr.Type == wire.Packet1RTT, pn == uint64(sp.largestRecv))
	c.tracePacketReceived(hdr.Type, pn, len(pkt), payload)

	if !c.isClient && hdr.Type == wire.PacketHandshake {
		// RFC 9001 §4.9.1: a server drops Initial keys when it first
		// processes a Handshake packet; RFC 9000 §8.1: the packet also
		// validates the client's address.
		c.path.cur.validated = true
		c.loss.SetAmplificationBlocked(false)
		c.discardSpace(recovery.SpaceInitial)
	}
	return hdr.PacketLen
}

// onLongHeaderPacket learns the peer's connection ID from its first long
// header packet (RFC 9000 §7.2). It reports false for a packet to drop.
func (c *Conn) onLongHeaderPacket(now time.Duration, hdr *wire.Header) bool {
	if !c.ids.peerSCIDKnown {
		c.ids.peerSCIDKnown = true
		c.ids.peerInitialSCID = hdr.SCID
		// The server answers to the client's Source Connection ID; the
		// client switches from its random first ID to the server's.
		c.ids.setHandshakePeerID(hdr.SCID)
		return true
	}
	// Later long header packets must carry the same Source Connection ID;
	// others are dropped (RFC 9000 §7.2).
	return bytes.Equal(hdr.SCID.Bytes(), c.ids.peerInitialSCID.Bytes())
}

// handleFrames processes the frames of one packet's payload, which lies in
// h's memory (nil: none), and reports whether any was ack-eliciting.
func (c *Conn) handleFrames(now time.Duration, space recovery.Space, pt wire.PacketType, p []byte, h streambuf.Holder) (ackEliciting bool, err error) {
	if len(p) == 0 {
		// RFC 9000 §12.4: a packet with no frames is a PROTOCOL_VIOLATION.
		return false, localError(wire.ProtocolViolation, 0, "packet without frames")
	}
	peer := c.peerRole()
	for len(p) > 0 {
		t, n, err := wire.ParseFrameType(p)
		if err != nil {
			return false, err
		}
		if err := wire.CheckReceivedFrame(t, pt, peer); err != nil {
			return false, err
		}
		p = p[n:]
		if t.IsAckEliciting() {
			ackEliciting = true
		}
		if !t.IsProbing() {
			c.path.rx.nonProbing = true // RFC 9000 §9.1
		}
		n, err = c.handleFrame(now, space, t, p, h)
		if err != nil {
			return false, err
		}
		p = p[n:]
	}
	return ackEliciting, nil
}

// handleFrame processes one frame whose type t has been read; p starts at
// its body, in h's memory (nil: none). It returns the body's length.
func (c *Conn) handleFrame(now time.Duration, space recovery.Space, t wire.FrameType, p []byte, h streambuf.Holder) (int, error) {
	switch {
	case t == wire.FrameTypePadding:
		return wire.PaddingLen(p), nil
	case t == wire.FrameTypePing:
		return 0, nil
	case t == wire.FrameTypeAck || t == wire.FrameTypeAckECN:
		f, n, err := wire.ParseAckFrame(t, p, c.work().ackRanges[:0])
		if err != nil {
			return 0, err
		}
		c.work().ackRanges = f.Ranges[:0]
		return n, c.handleAck(now, space, &f)
	case t == wire.FrameTypeCrypto:
		f, n, err := wire.ParseCryptoFrame(p)
		if err != nil {
			return 0, err
		}
		return n, c.handleCryptoData(now, space, &f)
	case t.IsStream():
		var f wire.StreamFrame
		n, err := wire.ParseStreamFrameInto(&f, t, p)
		if err != nil {
			return 0, err
		}
		return n, c.handleStreamFrame(&f, h)
	case t == wire.FrameTypeResetStream:
		f, n, err := wire.ParseResetStreamFrame(p)
		if err != nil {
			return 0, err
		}
		return n, c.handleResetStream(&f)
	case t == wire.FrameTypeStopSending:
		f, n, err := wire.ParseStopSendingFrame(p)
		if err != nil {
			return 0, err
		}
		return n, c.handleStopSending(&f)
	case t == wire.FrameTypeMaxData:
		f, n, err := wire.ParseMaxDataFrame(p)
		if err != nil {
			return 0, err
		}
		c.flow.onMaxData(f.MaximumData)
		return n, nil
	case t == wire.FrameTypeMaxStreamData:
		f, n, err := wire.ParseMaxStreamDataFrame(p)
		if err != nil {
			return 0, err
		}
		return n, c.handleMaxStreamData(&f)
	case t == wire.FrameTypeMaxStreamsBidi || t == wire.FrameTypeMaxStreamsUni:
		f, n, err := wire.ParseMaxStreamsFrame(t, p)
		if err != nil {
			return 0, err
		}
		c.streams.onMaxStreams(&f)
		return n, nil
	case t == wire.FrameTypeDataBlocked:
		_, n, err := wire.ParseDataBlockedFrame(p)
		return n, err
	case t == wire.FrameTypeStreamDataBlocked:
		f, n, err := wire.ParseStreamDataBlockedFrame(p)
		if err != nil {
			return 0, err
		}
		return n, c.handleStreamDataBlocked(&f)
	case t == wire.FrameTypeStreamsBlockedBidi || t == wire.FrameTypeStreamsBlockedUni:
		_, n, err := wire.ParseStreamsBlockedFrame(t, p)
		return n, err
	case t == wire.FrameTypeNewConnectionID:
		f, n, err := wire.ParseNewConnectionIDFrame(p)
		if err != nil {
			return 0, err
		}
		return n, c.ids.onNewConnectionID(&f)
	case t == wire.FrameTypeRetireConnectionID:
		f, n, err := wire.ParseRetireConnectionIDFrame(p)
		if err != nil {
			return 0, err
		}
		return n, c.ids.onRetireConnectionID(&f)
	case t == wire.FrameTypePathChallenge:
		f, n, err := wire.ParsePathChallengeFrame(p)
		if err != nil {
			return 0, err
		}
		c.onPathChallenge(f.Data)
		return n, nil
	case t == wire.FrameTypePathResponse:
		f, n, err := wire.ParsePathResponseFrame(p)
		if err != nil {
			return 0, err
		}
		c.onPathResponse(now, f.Data)
		return n, nil
	case t == wire.FrameTypeNewToken:
		f, n, err := wire.ParseNewTokenFrame(p)
		if err != nil {
			return 0, err
		}
		c.onNewToken(f.Token)
		return n, nil
	case t == wire.FrameTypeConnectionClose || t == wire.FrameTypeConnectionCloseApp:
		f, n, err := wire.ParseConnectionCloseFrame(t, p)
		if err != nil {
			return 0, err
		}
		c.onPeerClose(now, &f)
		return n, nil
	case t == wire.FrameTypeHandshakeDone:
		// RFC 9001 §4.1.2: the client's handshake is confirmed when
		// HANDSHAKE_DONE arrives.
		c.confirmHandshake(now)
		return 0, nil
	case t == wire.FrameTypeAckFrequency:
		f, n, err := wire.ParseAckFrequencyFrame(p)
		if err != nil {
			return 0, err
		}
		return n, c.onAckFrequency(&f)
	case t == wire.FrameTypeImmediateAck:
		// draft-ietf-quic-ack-frequency-14 §5 (1-RTT packets only).
		c.spaces[space].received.RequestImmediate()
		return 0, nil
	case t == wire.FrameTypeDatagram || t == wire.FrameTypeDatagramLen:
		f, n, err := wire.ParseDatagramFrame(t, p)
		if err != nil {
			return 0, err
		}
		return n, c.onDatagram(f.Data)
	}
	// RFC 9000 §12.4: an unknown frame type is a FRAME_ENCODING_ERROR.
	return 0, localError(wire.FrameEncodingError, t, "unknown frame type")
}

// handleAck processes an ACK frame.
func (c *Conn) handleAck(now time.Duration, space recovery.Space, f *wire.AckFrame) error {
	var ackDelay time.Duration
	if space == recovery.SpaceAppData {
		// RFC 9000 §19.3: ACK Delay is scaled by 2^ack_delay_exponent
		// microseconds. Guard the shift against an absurd value.
		exp := c.peerAckDelayExponent
		if !c.peerParamsSet {
			exp = wire.DefaultAckDelayExponent
		}
		if f.AckDelay < 1<<40 {
			ackDelay = time.Duration(f.AckDelay<<exp) * time.Microsecond
		} else {
			ackDelay = time.Hour
		}
	}
	res := &c.work().resolved
	err := c.loss.OnAckReceived(space, f, ackDelay, now, res)
	c.onResolved(res)
	c.traceRecovery(len(res.Lost) > 0)
	return err
}

// peerCompletedAddressValidation is RFC 9002 Appendix A.6's
// PeerCompletedAddressValidation: a client assumes the server validated its
// address once the handshake is confirmed or a Handshake packet was acked.
func (c *Conn) peerCompletedAddressValidation() bool {
	if !c.isClient {
		return true
	}
	if c.handshakeConfirmed {
		return true
	}
	_, ok := c.loss.LargestAcked(recovery.SpaceHandshake)
	return ok
}
