package conn

import (
	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// appDataPending reports whether the application data space has
// ack-eliciting frames to send.
func (c *Conn) appDataPending() bool {
	ss := &c.streams
	// Stream data first: a bulk sender asks for every datagram, and the
	// other checks (connection IDs walk lists) need not run then.
	return ss.sched.next() != nil ||
		c.handshakeDoneQueued || c.pendingPing || c.flow.wantMaxData() || c.flow.blockedPending || c.ackFreq.pending ||
		c.ids.framesPending() || c.dgrams.pending() ||
		ss.ctrl.head != nil ||
		ss.maxStreamsDue[0] || ss.maxStreamsDue[1] || ss.blockedQueued[0] || ss.blockedQueued[1] ||
		c.tokens.pending()
}

// appendAppFrames appends the frames of a 1-RTT packet, most urgent first:
// connection control frames, then datagrams, then stream control frames
// and stream data by priority. A client's 0-RTT packet carries those a
// 0-RTT packet may and a client has before the handshake (RFC 9000 §12.5,
// §17.2.3: no ACK, CRYPTO, HANDSHAKE_DONE, NEW_TOKEN, PATH_RESPONSE or
// RETIRE_CONNECTION_ID; connection IDs and ACK_FREQUENCY wait for 1-RTT).
func (c *Conn) appendAppFrames(ctx *sendContext, f *frameWriter) {
	if c.handshakeDoneQueued && f.room() >= 1 && !ctx.zeroRTT {
		f.buf = append(f.buf, byte(wire.FrameTypeHandshakeDone))
		f.record(sentHandshakeDone, 0, 0, 0, false)
		c.handshakeDoneQueued = false
	}
	if !ctx.zeroRTT {
		c.tokens.appendFrames(f)
	}
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
	if !ctx.zeroRTT {
		c.appendAckFrequency(ctx, f)
	}
	c.appendStreamLimitFrames(f)
	if !ctx.zeroRTT {
		c.ids.appendFrames(f)
	}
	if c.pendingPing && f.room() >= 1 {
		f.appendPing()
		c.pendingPing = false
	}
	c.dgrams.appendFrames(f)
	c.appendStreamControlFrames(ctx, f)
	c.appendStreamFrames(ctx, f)
}

// appendStreamLimitFrames appends MAX_STREAMS and STREAMS_BLOCKED frames.
func (c *Conn) appendStreamLimitFrames(f *frameWriter) {
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

// maxTwoByteVarint is the largest value a 2-byte varint holds.
const maxTwoByteVarint = 1<<14 - 1

// appendStreamControlFrames appends the streams' control frames, in the
// order the streams asked, as many as fit.
func (c *Conn) appendStreamControlFrames(ctx *sendContext, f *frameWriter) {
	q := &c.streams.ctrl
	for q.head != nil {
		s := q.head
		if !c.appendControlOf(ctx, f, s) {
			return // out of room; the rest waits for the next packet
		}
		q.pop()
	}
}

// appendStreamFrames appends STREAM frames of the streams with data, in
// the order the scheduler gives (sched.go), until the packet is full.
func (c *Conn) appendStreamFrames(ctx *sendContext, f *frameWriter) {
	sc := &c.streams.sched
	for f.room() >= minStreamFrameRoom {
		s := sc.next()
		if s == nil {
			return
		}
		before := len(f.buf)
		c.appendDataOf(f, s)
		if c.streamHasData(s) {
			sc.served(s)
		} else {
			sc.remove(s)
		}
		if len(f.buf) == before {
			// s waits for connection credit (it stays queued so that
			// MAX_DATA finds it); so does everything after it.
			return
		}
	}
}

// streamSendLimit is the offset below which s may send new data now:
// its own limit and the connection's remaining credit.
func (c *Conn) streamSendLimit(s *Stream) uint64 {
	return min(s.sendMax, s.out.Unsent()+c.flow.sendCredit())
}

// connBlocked reports whether s has new data that its own limit allows but
// the connection's does not: it stays queued so that MAX_DATA finds it.
func (c *Conn) connBlocked(s *Stream) bool {
	return s.out.Unsent() < s.out.Written() && s.out.Unsent() < s.sendMax && c.flow.sendCredit() == 0
}

// streamHasData reports whether s has stream data to send, or waits only
// for connection credit.
func (c *Conn) streamHasData(s *Stream) bool {
	return s.hasSend && !s.resetSent && !s.resetPending && (s.out.HasData(c.streamSendLimit(s)) || c.connBlocked(s))
}

// appendControlOf appends the control frames s has to send, and reports
// whether all of them fit.
func (c *Conn) appendControlOf(ctx *sendContext, f *frameWriter, s *Stream) bool {
	if s.stopPending {
		if f.room() < 17 {
			return false
		}
		fr := wire.StopSendingFrame{StreamID: s.id, ErrorCode: s.stopCode}
		f.buf = fr.Append(f.buf)
		f.record(sentStopSending, s.id, 0, 0, false)
		s.stopPending = false
	}
	if s.maxDataPending {
		if f.room() < 17 {
			return false
		}
		s.maxDataPending = false
		if s.recv.WantsCredit() {
			fr := wire.MaxStreamDataFrame{StreamID: s.id, MaximumStreamData: c.nextStreamMaxData(s, ctx.now)}
			f.buf = fr.Append(f.buf)
			f.record(sentMaxStreamData, s.id, 0, 0, false)
		}
	}
	if s.resetPending {
		if f.room() < 25 {
			return false
		}
		// RFC 9000 §19.4: the final size is what flow control counted.
		fr := wire.ResetStreamFrame{StreamID: s.id, ErrorCode: s.resetCode, FinalSize: s.out.Unsent()}
		f.buf = fr.Append(f.buf)
		f.record(sentResetStream, s.id, 0, 0, false)
		s.resetPending, s.resetSent = false, true
	}
	if s.blockedPending {
		if f.room() < 17 {
			return false
		}
		fr := wire.StreamDataBlockedFrame{StreamID: s.id, MaximumStreamData: s.blockedAt}
		f.buf = fr.Append(f.buf)
		f.record(sentStreamDataBlocked, s.id, 0, 0, false)
		s.blockedPending = false
	}
	return true
}

// appendDataOf appends STREAM frames of s while they fit.
func (c *Conn) appendDataOf(f *frameWriter, s *Stream) {
	// The STREAM frame header: type, stream ID, an offset no larger than
	// what was written, and a 2-byte length; sized exactly so that frames
	// fill the packet.
	hdrLen := 1 + wire.VarintLen(s.id) + wire.VarintLen(s.out.Written()) + 2
	for {
		limit := c.streamSendLimit(s)
		// A 2-byte Length holds up to 16383: a larger datagram
		// (MaxDatagramSize) takes several frames.
		room := min(f.room()-hdrLen, maxTwoByteVarint)
		if room < 1 && !(room >= 0 && s.out.HasData(limit)) {
			break
		}
		unsentBefore := s.out.Unsent()
		off, n, fin, ok := s.out.Next(max(room, 0), limit)
		if !ok {
			break
		}
		fr := wire.StreamFrame{StreamID: s.id, Offset: off, Fin: fin}
		end, closed := f.appendStreamData(&fr, s, n)
		f.record(sentStream, s.id, off, uint64(n), fin)
		c.flow.sent += s.out.Unsent() - unsentBefore
		// What the application wrote meanwhile goes in the next frame.
		s.out.Extend(end, closed)
	}
	// RFC 9000 §4.1: say when flow control blocks us.
	if s.out.Unsent() < s.out.Written() {
		if s.out.Unsent() >= s.sendMax && s.blockedAt != s.sendMax {
			s.blockedAt = s.sendMax
			s.blockedPending = true
			c.streams.ctrl.push(s)
		}
		if c.flow.sendCredit() == 0 && c.flow.blockedAt != c.flow.sendMax {
			c.flow.blockedAt = c.flow.sendMax
			c.flow.blockedPending = true
		}
	}
}

// onResolved acts on what loss recovery decided: the frames of
// acknowledged packets are delivered, those of lost packets sent again.
func (c *Conn) onResolved(res *recovery.Resolved) {
	c.checkBlackHole(res)
	for _, p := range res.Acked {
		c.onPacketAcked(res.Space, p)
	}
	// Storage is released once per stream and ACK frame, not per frame.
	for s := c.streams.releaseHead; s != nil; {
		next := s.releaseNext
		s.releaseNext, s.releasePending = nil, false
		if s.send.Acked(s.out.AckedBelow()) {
			c.events.add(Event{Kind: EventStreamWritable, Stream: s})
		}
		c.checkStreamFinished(s)
		s = next
	}
	c.streams.releaseHead = nil
	c.traceLost(res)
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
			if rt := c.spaces[space].received; rt != nil {
				rt.OnAckOfAckReceived(fr.ID)
			}
		case sentCrypto:
			if cs := c.spaces[space].crypto; cs != nil {
				cs.send.OnAck(fr.Offset, fr.Length, false)
			}
		case sentStream:
			if s := c.streams.get(fr.ID); s != nil {
				if s.out.OnAck(fr.Offset, fr.Length, fr.Fin) || fr.Fin {
					c.streams.toRelease(s)
				}
			}
		case sentResetStream:
			if s := c.streams.get(fr.ID); s != nil {
				s.resetAcked = true
				c.checkStreamFinished(s)
			}
		case sentNewConnectionID, sentRetireConnectionID:
			c.ids.onFrameAcked(fr.Kind, fr.ID)
		case sentAckFrequency:
			c.onAckFrequencyAcked(fr.ID)
		case sentMTUProbe:
			c.onProbeAcked(int(fr.ID))
		case sentNewToken:
			c.tokens.onAcked(fr.ID)
		}
	}
}

// toRelease queues s for the release of acknowledged storage after the
// ACK frame.
func (ss *streamsState) toRelease(s *Stream) {
	if s.releasePending {
		return
	}
	s.releasePending = true
	s.releaseNext = ss.releaseHead
	ss.releaseHead = s
}

// dataLost queues the bytes of a CRYPTO or STREAM frame to be sent again,
// unless the stream was reset meanwhile.
func (c *Conn) dataLost(space recovery.Space, fr *recovery.SentFrame) {
	switch fr.Kind {
	case sentCrypto:
		if cs := c.spaces[space].crypto; cs != nil {
			cs.send.OnLost(fr.Offset, fr.Length, false)
		}
	case sentStream:
		if s := c.streams.get(fr.ID); s != nil && !s.resetPending && !s.resetSent {
			s.out.OnLost(fr.Offset, fr.Length, fr.Fin)
			c.scheduleStream(s)
		}
	}
}

// onPacketLost sends again what a lost packet carried, if it still
// matters, with current values (RFC 9000 §13.3).
func (c *Conn) onPacketLost(space recovery.Space, p *recovery.SentPacket) {
	ss := &c.streams
	for i := range p.Frames {
		fr := &p.Frames[i]
		switch fr.Kind {
		case sentCrypto, sentStream:
			c.dataLost(space, fr)
		case sentMaxData:
			c.flow.maxDataDue = true
		case sentMaxStreamData:
			if s := ss.get(fr.ID); s != nil && s.recv.WantsCredit() {
				s.maxDataPending = true
				ss.ctrl.push(s)
			}
		case sentMaxStreamsBidi, sentMaxStreamsUni:
			ss.maxStreamsDue[fr.Kind-sentMaxStreamsBidi] = true
		case sentResetStream:
			if s := ss.get(fr.ID); s != nil && !s.resetAcked {
				s.resetPending, s.resetSent = true, false
				ss.ctrl.push(s)
			}
		case sentStopSending:
			if s := ss.get(fr.ID); s != nil && s.recv.StopStillWanted() {
				s.stopPending = true
				ss.ctrl.push(s)
			}
		case sentNewConnectionID, sentRetireConnectionID:
			c.ids.onFrameLost(fr.Kind, fr.ID)
		case sentHandshakeDone:
			c.handshakeDoneQueued = true
		case sentAckFrequency:
			c.onAckFrequencyLost(fr.ID)
		case sentMTUProbe:
			c.onProbeLost(int(fr.ID))
		case sentNewToken:
			c.tokens.onLost(fr.ID)
		}
	}
}
