package quic

import (
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// appDataPending reports whether the application data space has
// ack-eliciting frames to send.
func (c *Conn) appDataPending() bool {
	if c.handshakeDoneQueued || c.pendingPing || c.flow.wantMaxData() || c.flow.blockedPending ||
		c.path.framesPending() || c.ids.framesPending() || c.dgrams.pending() {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ss := &c.streams
	return len(ss.sendQueue) > 0 || ss.maxStreamsDue[0] || ss.maxStreamsDue[1] ||
		ss.blockedQueued[0] || ss.blockedQueued[1]
}

// appendAppFrames appends the frames of a 1-RTT packet, most urgent first:
// connection control frames, then datagrams, then stream data in
// round-robin order.
func (c *Conn) appendAppFrames(ctx *sendContext, f *frameWriter) {
	if c.handshakeDoneQueued && f.room() >= 1 {
		f.buf = append(f.buf, byte(wire.FrameTypeHandshakeDone))
		f.record(sentHandshakeDone, 0, 0, 0, false)
		c.handshakeDoneQueued = false
	}
	c.path.appendFrames(f)
	if c.flow.wantMaxData() && f.room() >= 9 {
		fr := wire.MaxDataFrame{MaximumData: c.flow.nextMaxData(ctx.now, c.rtt.SmoothedRTT())}
		f.buf = fr.Append(f.buf)
		f.record(sentMaxData, 0, 0, 0, false)
	}
	if c.flow.blockedPending && f.room() >= 9 {
		fr := wire.DataBlockedFrame{MaximumData: c.flow.blockedAt}
		f.buf = fr.Append(f.buf)
		f.record(sentDataBlocked, 0, 0, 0, false)
		c.flow.blockedPending = false
	}
	c.appendStreamLimitFrames(f)
	c.ids.appendFrames(f)
	if c.pendingPing && f.room() >= 1 {
		f.appendPing()
		c.pendingPing = false
	}
	c.dgrams.appendFrames(f)
	c.appendStreamFrames(ctx, f)
}

// appendStreamLimitFrames appends MAX_STREAMS and STREAMS_BLOCKED frames.
func (c *Conn) appendStreamLimitFrames(f *frameWriter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ss := &c.streams
	for kind := range 2 {
		if ss.maxStreamsDue[kind] && f.room() >= 9 {
			ss.localMax[kind] = ss.remoteDone[kind] + ss.maxLimit[kind]
			fr := wire.MaxStreamsFrame{Uni: kind == kindUni, MaximumStreams: ss.localMax[kind]}
			f.buf = fr.Append(f.buf)
			f.record(sentMaxStreamsBidi+uint8(kind), 0, 0, 0, false)
			ss.maxStreamsDue[kind] = false
		}
		if ss.blockedQueued[kind] && f.room() >= 9 {
			fr := wire.StreamsBlockedFrame{Uni: kind == kindUni, MaximumStreams: ss.blockedAt[kind]}
			f.buf = fr.Append(f.buf)
			f.record(sentStreamsBlockedBidi+uint8(kind), 0, 0, 0, false)
			ss.blockedQueued[kind] = false
		}
	}
}

// minStreamFrameRoom is the least room worth starting a STREAM frame in.
const minStreamFrameRoom = 32

// appendStreamFrames appends frames of the streams in the send queue,
// taking streams in turn so that none starves the others.
//
// Only this goroutine removes streams from the queue (queueStream only
// appends), so the stream at its front stays there while its frames are
// written without c.mu held. A stream that still has work is rotated to the
// back in place: the queue's storage is reused, nothing is allocated per
// packet, and in steady state c.mu and s.mu are taken once each per stream
// visited.
func (c *Conn) appendStreamFrames(ctx *sendContext, f *frameWriter) {
	ss := &c.streams
	c.mu.Lock()
	n := len(ss.sendQueue)
	c.mu.Unlock()
	for ; n > 0 && f.room() >= minStreamFrameRoom; n-- {
		c.mu.Lock()
		if len(ss.sendQueue) == 0 {
			c.mu.Unlock()
			return
		}
		s := ss.sendQueue[0]
		c.mu.Unlock()

		s.mu.Lock()
		c.appendFramesOf(ctx, f, s)
		more := c.streamHasWork(s)
		finished := c.streamFinished(s)
		s.mu.Unlock()

		c.mu.Lock()
		if !more || finished {
			// An application goroutine may have given s more work since
			// (queueStream saw it queued and did nothing): look again
			// with both locks held before taking it off the queue.
			s.mu.Lock()
			more = c.streamHasWork(s)
			finished = c.streamFinished(s)
			s.mu.Unlock()
		}
		q := ss.sendQueue
		copy(q, q[1:])
		if more && !finished {
			q[len(q)-1] = s
		} else {
			q[len(q)-1] = nil
			ss.sendQueue = q[:len(q)-1]
			s.queued = false
		}
		if finished {
			c.forgetStreamLocked(s)
		}
		c.mu.Unlock()
		if c.flow.sendCredit() == 0 && f.room() >= minStreamFrameRoom {
			// Connection flow control stops new data for every stream;
			// control frames of the rest wait for the next packet.
			return
		}
	}
}

// streamSendLimit is the offset below which s may send new data now:
// its own limit and the connection's remaining credit. s.mu is held.
func (c *Conn) streamSendLimit(s *Stream) uint64 {
	return min(s.sendMax, s.send.Unsent()+c.flow.sendCredit())
}

// connBlocked reports whether s has new data that its own limit allows but
// the connection's does not: it stays queued so that MAX_DATA finds it.
// s.mu is held.
func (c *Conn) connBlocked(s *Stream) bool {
	return s.hasSend && !s.resetSent && !s.resetPending && s.send.Unsent() < s.send.Written() &&
		s.send.Unsent() < s.sendMax && c.flow.sendCredit() == 0
}

// streamHasWork reports whether s has frames to send, or waits only for
// connection credit. s.mu is held.
func (c *Conn) streamHasWork(s *Stream) bool {
	if s.stopPending || s.maxDataPending || s.resetPending || s.blockedPending {
		return true
	}
	return s.hasSend && !s.resetSent && (s.send.HasData(c.streamSendLimit(s)) || c.connBlocked(s))
}

// appendFramesOf appends the frames stream s has to send. s.mu is held.
func (c *Conn) appendFramesOf(ctx *sendContext, f *frameWriter, s *Stream) {
	if s.stopPending && f.room() >= 17 {
		fr := wire.StopSendingFrame{StreamID: s.id, ErrorCode: s.stopCode}
		f.buf = fr.Append(f.buf)
		f.record(sentStopSending, s.id, 0, 0, false)
		s.stopPending = false
	}
	if s.maxDataPending && f.room() >= 17 {
		s.maxDataPending = false
		if !s.readClosed && s.recvReset == nil {
			fr := wire.MaxStreamDataFrame{StreamID: s.id, MaximumStreamData: c.nextStreamMaxData(s, ctx.now)}
			f.buf = fr.Append(f.buf)
			f.record(sentMaxStreamData, s.id, 0, 0, false)
		}
	}
	if s.resetPending {
		if f.room() < 25 {
			return
		}
		// RFC 9000 §19.4: the final size is what flow control counted.
		fr := wire.ResetStreamFrame{StreamID: s.id, ErrorCode: s.resetCode, FinalSize: s.send.Unsent()}
		f.buf = fr.Append(f.buf)
		f.record(sentResetStream, s.id, 0, 0, false)
		s.resetPending, s.resetSent = false, true
		return
	}
	if !s.hasSend || s.resetSent {
		return
	}
	// The STREAM frame header: type, stream ID, an offset no larger than
	// what was written, and a 2-byte length; sized exactly so that frames
	// fill the packet.
	hdrLen := 1 + wire.VarintLen(s.id) + wire.VarintLen(s.send.Written()) + 2
	for {
		limit := c.streamSendLimit(s)
		room := f.room() - hdrLen
		if room < 1 && !(room >= 0 && s.send.HasData(limit)) {
			break
		}
		unsentBefore := s.send.Unsent()
		off, data, fin, ok := s.send.Next(max(room, 0), limit)
		if !ok {
			break
		}
		fr := wire.StreamFrame{StreamID: s.id, Offset: off, Data: data, Fin: fin}
		f.buf = fr.Append(f.buf)
		f.record(sentStream, s.id, off, uint64(len(data)), fin)
		c.flow.sent += s.send.Unsent() - unsentBefore
	}
	// RFC 9000 §4.1: say when flow control blocks us.
	if s.send.Unsent() < s.send.Written() {
		if s.send.Unsent() >= s.sendMax && s.blockedAt != s.sendMax {
			s.blockedAt = s.sendMax
			s.blockedPending = true
		}
		if c.flow.sendCredit() == 0 && c.flow.blockedAt != c.flow.sendMax {
			c.flow.blockedAt = c.flow.sendMax
			c.flow.blockedPending = true
		}
	}
	if s.blockedPending && f.room() >= 17 {
		fr := wire.StreamDataBlockedFrame{StreamID: s.id, MaximumStreamData: s.blockedAt}
		f.buf = fr.Append(f.buf)
		f.record(sentStreamDataBlocked, s.id, 0, 0, false)
		s.blockedPending = false
	}
}

// streamFinished reports whether both sides of s are done, so the
// connection can forget it (RFC 9000 §3: "Data Recvd"/"Reset Recvd" and
// "Data Read"/"Reset Read"). s.mu is held.
func (c *Conn) streamFinished(s *Stream) bool {
	sendDone := !s.hasSend || s.send.AllAcked() || s.resetAcked
	_, finKnown := s.recv.FinalSize()
	recvDone := !s.hasRecv || (finKnown && (s.recv.AllRead() || s.readClosed || s.recvReset != nil))
	return sendDone && recvDone
}

// forgetStreamLocked removes a finished stream and, for a peer's stream,
// lets the peer open another (MAX_STREAMS, RFC 9000 §4.6). c.mu is held.
func (c *Conn) forgetStreamLocked(s *Stream) {
	if s.done {
		return
	}
	s.done = true
	ss := &c.streams
	delete(ss.m, s.id)
	local := streamIsServer(s.id) == !c.isClient
	if local {
		return
	}
	kind := kindOf(s.id)
	ss.remoteDone[kind]++
	// Raise the limit once half of it has been used up, not per stream.
	if ss.remoteDone[kind]+ss.maxLimit[kind]-ss.localMax[kind] >= max(ss.maxLimit[kind]/2, 1) {
		ss.maxStreamsDue[kind] = true
	}
}

// checkStreamFinished forgets s if both its sides are done.
func (c *Conn) checkStreamFinished(s *Stream) {
	c.mu.Lock()
	s.mu.Lock()
	finished := c.streamFinished(s)
	s.mu.Unlock()
	if finished {
		c.forgetStreamLocked(s)
	}
	c.mu.Unlock()
}

// streamByID returns a stream the connection still tracks.
func (c *Conn) streamByID(id uint64) *Stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams.m[id]
}

// onResolved acts on what loss recovery decided: the frames of
// acknowledged packets are delivered, those of lost packets sent again.
func (c *Conn) onResolved(res *recovery.Resolved) {
	for _, p := range res.Acked {
		c.onPacketAcked(res.Space, p)
	}
	for _, p := range res.Lost {
		c.onPacketLost(res.Space, p)
	}
}

// onPacketAcked delivers the frames of an acknowledged packet.
func (c *Conn) onPacketAcked(space recovery.Space, p *recovery.SentPacket) {
	for i := range p.Frames {
		fr := &p.Frames[i]
		switch fr.Kind {
		case sentAck:
			// RFC 9000 §13.2.4: once our ACK is acknowledged, the ranges
			// below its largest need not be acknowledged again.
			c.spaces[space].received.OnAckOfAckReceived(fr.ID)
		case sentCrypto:
			if cs := c.spaces[space].crypto; cs != nil {
				cs.send.OnAck(fr.Offset, fr.Length, false)
			}
		case sentStream:
			if s := c.streamByID(fr.ID); s != nil {
				s.mu.Lock()
				s.send.OnAck(fr.Offset, fr.Length, fr.Fin)
				s.mu.Unlock()
				notify(s.writeReady)
				c.checkStreamFinished(s)
			}
		case sentResetStream:
			if s := c.streamByID(fr.ID); s != nil {
				s.mu.Lock()
				s.resetAcked = true
				s.mu.Unlock()
				c.checkStreamFinished(s)
			}
		case sentNewConnectionID, sentRetireConnectionID:
			c.ids.onFrameAcked(fr.Kind, fr.ID)
		case sentMTUProbe:
			// The path carries datagrams of the probe's size.
			c.path.mtu = max(c.path.mtu, c.path.probeSize)
			c.path.probeState = probeDone
			c.cc.SetMaxDatagramSize(c.path.mtu)
		}
	}
}

// onPacketLost sends again what a lost packet carried, if it still
// matters, with current values (RFC 9000 §13.3).
func (c *Conn) onPacketLost(space recovery.Space, p *recovery.SentPacket) {
	for i := range p.Frames {
		fr := &p.Frames[i]
		switch fr.Kind {
		case sentCrypto:
			if cs := c.spaces[space].crypto; cs != nil {
				cs.send.OnLost(fr.Offset, fr.Length, false)
			}
		case sentStream:
			if s := c.streamByID(fr.ID); s != nil {
				s.mu.Lock()
				if !s.resetPending && !s.resetSent {
					s.send.OnLost(fr.Offset, fr.Length, fr.Fin)
				}
				s.mu.Unlock()
				c.queueStream(s)
			}
		case sentMaxData:
			c.flow.maxDataDue = true
		case sentMaxStreamData:
			if s := c.streamByID(fr.ID); s != nil {
				s.mu.Lock()
				if _, fin := s.recv.FinalSize(); !fin && !s.readClosed {
					s.maxDataPending = true
				}
				s.mu.Unlock()
				c.queueStream(s)
			}
		case sentMaxStreamsBidi, sentMaxStreamsUni:
			c.mu.Lock()
			c.streams.maxStreamsDue[fr.Kind-sentMaxStreamsBidi] = true
			c.mu.Unlock()
		case sentResetStream:
			if s := c.streamByID(fr.ID); s != nil {
				s.mu.Lock()
				if !s.resetAcked {
					s.resetPending, s.resetSent = true, false
				}
				s.mu.Unlock()
				c.queueStream(s)
			}
		case sentStopSending:
			if s := c.streamByID(fr.ID); s != nil {
				s.mu.Lock()
				if _, fin := s.recv.FinalSize(); !fin && s.recvReset == nil {
					s.stopPending = true
				}
				s.mu.Unlock()
				c.queueStream(s)
			}
		case sentNewConnectionID, sentRetireConnectionID:
			c.ids.onFrameLost(fr.Kind, fr.ID)
		case sentHandshakeDone:
			c.handshakeDoneQueued = true
		case sentPathChallenge:
			if c.path.challengeWait {
				c.path.challengePending = true
			}
		case sentMTUProbe:
			// One probe size only: a lost probe means we stay at 1200
			// bytes (RFC 8899 allows a few tries; one keeps it simple).
			c.path.probeState = probeDone
		}
	}
}
