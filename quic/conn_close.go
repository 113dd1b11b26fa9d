package quic

import (
	"time"

	"github.com/skiffnet/skiff/congestion"
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
	state    int
	deadline time.Duration // when closing or draining ends
	frame    wire.ConnectionCloseFrame
	reason   []byte // storage for frame.ReasonPhrase
	// sendClose: a CONNECTION_CLOSE is due. received counts packets that
	// arrived while closing, to answer at an exponentially falling rate.
	sendClose bool
	received  int
}

// CloseWithError closes the connection with an application error code and
// reason (CONNECTION_CLOSE of type 0x1d, RFC 9000 §19.19). It returns
// without waiting for the peer.
func (c *Conn) CloseWithError(code uint64, reason string) error {
	if !c.setCloseError(&ApplicationError{Code: code, Reason: reason}) {
		return nil
	}
	c.submit(func(now time.Time) {
		c.startClosing(c.mono(now), &wire.ConnectionCloseFrame{Application: true, ErrorCode: code, ReasonPhrase: []byte(reason)}, nil)
	})
	return nil
}

// Close closes the connection with application error code 0.
func (c *Conn) Close() error { return c.CloseWithError(0, "") }

// abort closes the connection because of an error we detected.
func (c *Conn) abort(now time.Duration, err *TransportError) {
	if c.closing.state != stateOpen {
		return
	}
	f := wire.ConnectionCloseFrame{ErrorCode: uint64(err.Code), FrameType: wire.FrameType(err.FrameType), ReasonPhrase: []byte(err.Reason)}
	c.startClosing(now, &f, err)
}

// startClosing enters the closing state (RFC 9000 §10.2.1): send
// CONNECTION_CLOSE, then wait three PTOs, answering late packets with it.
func (c *Conn) startClosing(now time.Duration, f *wire.ConnectionCloseFrame, err error) {
	if c.closing.state != stateOpen {
		return
	}
	if len(f.ReasonPhrase) > 256 {
		f.ReasonPhrase = f.ReasonPhrase[:256]
	}
	c.closing.reason = append(c.closing.reason[:0], f.ReasonPhrase...)
	c.closing.frame = *f
	c.closing.frame.ReasonPhrase = c.closing.reason
	c.closing.state = stateClosing
	c.closing.sendClose = true
	c.closing.deadline = now + 3*c.rtt.PTO(true)
	if err != nil {
		c.setCloseError(err)
	}
}

// onPeerClose handles the peer's CONNECTION_CLOSE: we enter draining
// (RFC 9000 §10.2.2) and report the peer's error.
func (c *Conn) onPeerClose(now time.Duration, f *wire.ConnectionCloseFrame) {
	var err error
	if f.Application {
		err = &ApplicationError{Code: f.ErrorCode, Reason: string(f.ReasonPhrase), Remote: true}
	} else {
		err = &TransportError{Code: TransportErrorCode(f.ErrorCode), FrameType: uint64(f.FrameType), Reason: string(f.ReasonPhrase), Remote: true}
	}
	c.enterDraining(now, err, false)
}

// enterDraining stops all sending. silent (idle timeout, stateless reset)
// skips the draining period: the peer sent nothing to drain.
func (c *Conn) enterDraining(now time.Duration, err error, silent bool) {
	if c.closing.state >= stateDraining {
		return
	}
	c.setCloseError(err)
	c.closing.state = stateDraining
	c.closing.sendClose = false
	c.closing.deadline = now + 3*c.rtt.PTO(true)
	if silent {
		c.closing.deadline = now
	}
}

// setCloseError records why the connection ended, if nothing did before,
// and reports whether it did. From then on blocked stream calls return and
// the Context is canceled: the application learns of the end when it
// happens, not when the closing or draining period is over.
func (c *Conn) setCloseError(err error) bool {
	c.mu.Lock()
	first := c.shared.closeErr == nil
	if first {
		c.shared.closeErr = err
		close(c.closed)
	}
	c.mu.Unlock()
	if first {
		c.stop()
	}
	return first
}

// closeError is why the connection ended.
func (c *Conn) closeError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shared.closeErr != nil {
		return c.shared.closeErr
	}
	return ErrConnectionClosed
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
	limit := min(c.path.maxDatagramSize(), c.path.amplificationAllowance())
	for s := range c.spaces {
		space := recovery.Space(s)
		sp := &c.spaces[s]
		if sp.discarded || sp.writeKeys == nil {
			continue
		}
		if space == recovery.SpaceAppData && !c.handshakeComplete && !c.isClient {
			continue // the client may not have 1-RTT keys yet
		}
		f := c.closing.frame
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
		pad = start + initialMaxDatagramSize
	}
	c.closeFrameToSend = f
	buf = c.appendPacket(&ctx, buf, space, end, pad)
	c.closeFrameToSend = nil
	return buf
}

// finish ends the connection for good: the driver stops and the endpoint
// forgets it.
func (c *Conn) finish() {
	c.setCloseError(ErrConnectionClosed)
	c.publishStats()
	// The tracer hears of the end before anyone waiting on done does, so
	// that a returned Close or Endpoint.Close means its trace is complete.
	c.tracer.closed(c)
	c.stop()
	select {
	case <-c.handshakeDone:
	default:
		close(c.handshakeDone)
	}
	close(c.done)
	if c.endpoint != nil {
		c.endpoint.forget(c)
	}
}

// idleState implements the idle timeout (RFC 9000 §10.1), keep-alives and
// the handshake timeout.
type idleState struct {
	timeout      time.Duration // our max_idle_timeout, then the smaller of both
	keepAlive    time.Duration
	handshakeEnd time.Duration // when an unfinished handshake gives up
	lastActivity time.Duration
	sentSinceRx  bool // an ack-eliciting packet went out since the last receipt
	pingedAt     time.Duration
	lastNow      time.Duration // the latest time the connection saw
	pto          func() time.Duration
}

func (s *idleState) init(config *Config, now time.Duration) {
	s.timeout = config.idleTimeout()
	s.keepAlive = config.KeepAlivePeriod
	s.handshakeEnd = now + config.handshakeTimeout()
	s.lastActivity = now
	s.lastNow = now
	s.pingedAt = now
}

// setPeerTimeout applies the peer's max_idle_timeout: the effective
// timeout is the smaller of the two (0 means none).
func (s *idleState) setPeerTimeout(d time.Duration) {
	if d > 0 && d < s.timeout {
		s.timeout = d
	}
	if s.keepAlive > 0 && s.keepAlive > s.timeout/2 {
		s.keepAlive = s.timeout / 2
	}
}

func (s *idleState) onPacketReceived(now time.Duration) {
	s.lastActivity = now
	s.sentSinceRx = false
	s.lastNow = max(s.lastNow, now)
}

// onAckElicitingSent restarts the timer on the first ack-eliciting packet
// sent after a receipt (RFC 9000 §10.1).
func (s *idleState) onAckElicitingSent(now time.Duration) {
	if !s.sentSinceRx {
		s.sentSinceRx = true
		s.lastActivity = now
	}
	s.lastNow = max(s.lastNow, now)
}

// idleTimeout is the timeout in force, never below three PTOs so that
// loss recovery gets its chance (RFC 9000 §10.1).
func (s *idleState) idleTimeout(pto time.Duration) time.Duration {
	return max(s.timeout, 3*pto)
}

func (s *idleState) expired(now time.Duration) bool {
	return s.timeout > 0 && now >= s.lastActivity+s.idleTimeout(s.ptoNow())
}

func (s *idleState) ptoNow() time.Duration {
	if s.pto == nil {
		return 0
	}
	return s.pto()
}

func (s *idleState) handshakeExpired(now time.Duration, complete bool) bool {
	return !complete && now >= s.handshakeEnd
}

func (s *idleState) keepAliveDue(now time.Duration) bool {
	if s.keepAlive <= 0 || now < s.lastActivity+s.keepAlive || s.pingedAt >= s.lastActivity {
		return false
	}
	s.pingedAt = now
	return true
}

// deadline is the next idle-related timer.
func (s *idleState) deadline() (time.Duration, bool) {
	d := congestion.Never
	if s.timeout > 0 {
		d = s.lastActivity + s.idleTimeout(s.ptoNow())
	}
	if s.keepAlive > 0 && s.pingedAt < s.lastActivity {
		d = min(d, s.lastActivity+s.keepAlive)
	}
	return min(d, s.handshakeEnd), true
}
