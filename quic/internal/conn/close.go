package conn

import (
	"time"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// Connection lifecycle states (RFC 9000 §10.2).
const (
	stateOpen     = iota
	stateClosing  // we sent CONNECTION_CLOSE; we repeat it to late packets
	stateDraining // the peer closed, or we went silent; we send nothing
	stateClosed
)

// closeState tracks closing and draining.
type closeState struct {
	state int32
	// sendClose: a CONNECTION_CLOSE is due. received counts packets that
	// arrived while closing, to answer at an exponentially falling rate.
	sendClose bool
	received  int
	deadline  time.Duration // when closing or draining ends
	// frame is the CONNECTION_CLOSE we send while closing, with its own
	// copy of the reason phrase; made when the connection starts to
	// close, so that an open one keeps a pointer, not the frame.
	frame  *wire.ConnectionCloseFrame
	reason *Reason // why the connection ends, once it does
}

// Close closes the connection with an application error code and reason
// (CONNECTION_CLOSE of type 0x1d, RFC 9000 §19.19): the closing state
// starts (§10.2.1).
func (c *Conn) Close(now time.Time, code uint64, reason string) {
	c.startClosing(c.mono(now), &wire.ConnectionCloseFrame{Application: true, ErrorCode: code, ReasonPhrase: []byte(reason)},
		&Reason{Kind: ReasonApplication, Code: code, Text: reason})
}

// CloseNow sends CONNECTION_CLOSE (application code 0) and ends the
// connection without the closing period: its endpoint is going away. The
// deadline is now, so HandleTimer after AppendBurst ends it.
func (c *Conn) CloseNow(now time.Time) {
	c.startClosing(c.mono(now), &wire.ConnectionCloseFrame{Application: true}, &Reason{Kind: ReasonEndpointClosed})
	c.closing.deadline = c.mono(now)
}

// Closing reports whether the connection is ending (closing, draining or
// closed); Closed whether it has ended.
func (c *Conn) Closing() bool { return c.closing.state != stateOpen }
func (c *Conn) Closed() bool  { return c.closing.state == stateClosed }

// Draining reports whether the connection is in the draining state (RFC
// 9000 §10.2.2): it sends nothing more, and its period ends at Deadline.
// A closing one (Closing and not Draining) answers late packets with its
// CONNECTION_CLOSE until then.
func (c *Conn) Draining() bool { return c.closing.state == stateDraining }

// abort closes the connection because of an error we detected.
func (c *Conn) abort(now time.Duration, err *wire.TransportError) {
	if c.closing.state != stateOpen {
		return
	}
	f := wire.ConnectionCloseFrame{ErrorCode: uint64(err.Code), FrameType: err.FrameType, ReasonPhrase: []byte(err.Reason)}
	c.startClosing(now, &f, transportReason(err, false))
}

// startClosing enters the closing state (RFC 9000 §10.2.1): send
// CONNECTION_CLOSE, then wait three PTOs, answering late packets with it.
func (c *Conn) startClosing(now time.Duration, f *wire.ConnectionCloseFrame, r *Reason) {
	if c.closing.state != stateOpen {
		return
	}
	if len(f.ReasonPhrase) > 256 {
		f.ReasonPhrase = f.ReasonPhrase[:256]
	}
	frame := *f
	frame.ReasonPhrase = append([]byte(nil), f.ReasonPhrase...)
	c.closing.frame = &frame
	c.closing.state = stateClosing
	c.closing.sendClose = true
	c.closing.deadline = now + 3*c.rtt.PTO(true)
	c.setReason(r)
}

// onPeerClose handles the peer's CONNECTION_CLOSE: we enter draining
// (RFC 9000 §10.2.2) and report the peer's error.
func (c *Conn) onPeerClose(now time.Duration, f *wire.ConnectionCloseFrame) {
	r := &Reason{Kind: ReasonTransport, Code: f.ErrorCode, FrameType: uint64(f.FrameType), Text: string(f.ReasonPhrase), Remote: true}
	if f.Application {
		r.Kind, r.FrameType = ReasonApplication, 0
	}
	c.enterDraining(now, r, false)
}

// enterDraining stops all sending. silent (idle timeout, stateless reset)
// skips the draining period: the peer sent nothing to drain.
func (c *Conn) enterDraining(now time.Duration, r *Reason, silent bool) {
	if c.closing.state >= stateDraining {
		return
	}
	c.setReason(r)
	c.closing.state = stateDraining
	c.closing.sendClose = false
	c.closing.deadline = now + 3*c.rtt.PTO(true)
	if silent {
		c.closing.deadline = now
	}
}

// onPacketWhileClosing answers late packets with CONNECTION_CLOSE, on the
// 1st, 2nd, 4th, 8th… of them (RFC 9000 §10.2.1 asks for a limited rate).
func (cs *closeState) onPacketWhileClosing() {
	cs.received++
	if cs.received&(cs.received-1) == 0 {
		cs.sendClose = true
	}
}

// onTimer ends the closing or draining period.
func (cs *closeState) onTimer(c *Conn, now time.Duration) {
	// A CONNECTION_CLOSE still to be sent goes first (CloseNow's deadline
	// is the moment it is called): the next AppendBurst sends it, and the
	// timer fires again after that.
	if cs.state == stateClosing && cs.sendClose {
		return
	}
	if now >= cs.deadline && cs.state != stateClosed {
		cs.state = stateClosed
		c.finish()
	}
}

// appendClose writes a datagram with CONNECTION_CLOSE in every space we
// still have keys for: before the handshake is confirmed the peer may not
// have 1-RTT keys (RFC 9000 §10.2.3).
func (c *Conn) appendClose(now time.Duration, buf []byte) []byte {
	if c.closing.state != stateClosing || !c.closing.sendClose {
		return buf
	}
	c.closing.sendClose = false
	start := len(buf)
	limit := min(c.pmtu.mtu, c.path.allowance(c.path.cur))
	// The application closed as soon as the handshake completed, before
	// the driver sent our Finished: it goes first, in this datagram, so
	// that the server completes the handshake (RFC 9001 §4.1.2) and then
	// reads the close, as it would had the close come a moment later,
	// and one datagram carries both. The server, which sent us Handshake
	// packets, reads the close in a Handshake packet; an Initial one
	// would be moot (a client that sends a Handshake packet drops its
	// Initial keys, RFC 9001 §4.9.1) and cost the datagram its padding.
	hs := &c.spaces[recovery.SpaceHandshake]
	finished := c.isClient && c.handshakeComplete && !hs.discarded && hs.writeKeys != nil && hs.cryptoPending()
	for s := range c.spaces {
		space := recovery.Space(s)
		sp := &c.spaces[s]
		if sp.discarded || sp.writeKeys == nil || (finished && space == recovery.SpaceInitial) {
			continue
		}
		if space == recovery.SpaceAppData && !c.handshakeComplete && !c.isClient {
			continue // the client may not have 1-RTT keys yet
		}
		if finished && space == recovery.SpaceHandshake {
			ctx := sendContext{now: now, ackElicitingAllowed: true}
			buf = c.appendPacket(&ctx, buf, space, start+limit, 0)
		}
		f := *c.closing.frame
		if f.Application && space != recovery.SpaceAppData {
			// RFC 9000 §10.2.3: an application close in Initial or
			// Handshake packets becomes APPLICATION_ERROR, without the
			// reason, which could reveal application state.
			f = wire.ConnectionCloseFrame{ErrorCode: uint64(wire.ApplicationError)}
		}
		buf = c.appendClosePacket(now, buf, space, &f, start+limit)
	}
	return buf
}

// appendClosePacket writes one packet holding just CONNECTION_CLOSE.
func (c *Conn) appendClosePacket(now time.Duration, buf []byte, space recovery.Space, f *wire.ConnectionCloseFrame, end int) []byte {
	ctx := sendContext{now: now}
	start := len(buf)
	pad := 0
	if space == recovery.SpaceInitial && c.isClient {
		pad = start + InitialMaxDatagramSize
	}
	c.closeFrameToSend = f
	buf = c.appendPacket(&ctx, buf, space, end, pad)
	c.closeFrameToSend = nil
	return buf
}

// finish ends the connection for good: the owner drops it.
func (c *Conn) finish() {
	c.events.add(Event{Kind: EventClosed})
}

// Refuse closes the connection with CONNECTION_REFUSED: nobody accepts it.
func (c *Conn) Refuse() {
	c.abort(c.idle.lastNow, localError(wire.ConnectionRefused, 0, "accept queue full"))
}
