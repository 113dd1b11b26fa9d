package conn

import (
	"math"
	"time"

	"github.com/skiffnet/skiff/congestion"
)

// idleState implements the idle timeout (RFC 9000 §10.1), keep-alives and
// the handshake timeout.
type idleState struct {
	timeout      time.Duration // our max_idle_timeout, then the smaller of both
	keepAlive    time.Duration
	handshakeEnd time.Duration // when an unfinished handshake gives up
	lastActivity time.Duration
	sentSinceRx  bool // an ack-eliciting packet went out since the last receipt
	// lastProbed: the last probe of this silence went (lastprobe.go).
	lastProbed bool
	// rxLagMs: with sentSinceRx, how long after the last receipt
	// lastActivity moved, in milliseconds rounded up; a uint32 in the
	// room after the flags keeps Conn within its size class.
	rxLagMs  uint32
	pingedAt time.Duration
	lastNow  time.Duration // the latest time the connection saw
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
	s.sentSinceRx, s.lastProbed = false, false
	s.lastNow = max(s.lastNow, now)
}

// onAckElicitingSent restarts the timer on the first ack-eliciting packet
// sent after a receipt (RFC 9000 §10.1).
func (s *idleState) onAckElicitingSent(now time.Duration) {
	if !s.sentSinceRx {
		lag := (max(now-s.lastActivity, 0) + time.Millisecond - 1) / time.Millisecond
		s.sentSinceRx, s.rxLagMs = true, uint32(min(lag, math.MaxUint32))
		s.lastActivity = now
	}
	s.lastNow = max(s.lastNow, now)
}

// lastReceipt is when the last packet from the peer was received (or the
// connection started), at most a millisecond early.
func (s *idleState) lastReceipt() time.Duration {
	if !s.sentSinceRx {
		return s.lastActivity
	}
	return s.lastActivity - time.Duration(s.rxLagMs)*time.Millisecond
}

// idleTimeout is the timeout in force, never below three PTOs so that
// loss recovery gets its chance (RFC 9000 §10.1).
func (s *idleState) idleTimeout(pto time.Duration) time.Duration {
	return max(s.timeout, 3*pto)
}

// expired reports whether the idle timeout passed, pto being the current
// probe timeout.
func (s *idleState) expired(now, pto time.Duration) bool {
	return s.timeout > 0 && now >= s.lastActivity+s.idleTimeout(pto)
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

// deadline is the next idle-related timer, pto being the current probe
// timeout.
func (s *idleState) deadline(pto time.Duration) (time.Duration, bool) {
	d := congestion.Never
	if s.timeout > 0 {
		d = s.lastActivity + s.idleTimeout(pto)
	}
	if s.keepAlive > 0 && s.pingedAt < s.lastActivity {
		d = min(d, s.lastActivity+s.keepAlive)
	}
	return min(d, s.handshakeEnd), true
}
