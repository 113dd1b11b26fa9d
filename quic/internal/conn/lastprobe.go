package conn

import (
	"time"

	"github.com/skiffnet/skiff/quic/internal/recovery"
)

// The last probe: an endpoint that hears nothing from its peer while it
// waits for an acknowledgment (ack-eliciting packets in flight) sends one
// probe shortly before the idle timeout would close the connection, when
// no PTO comes before then. A client waiting for a response with nothing
// in flight sent its quiet probe (quiet.go) long before, which its PTO
// repeats while unacknowledged; once the server acknowledged it, the
// server is there and merely quiet, and the idle timeout may end the
// wait: probing then would keep the connection open for as long as the
// server answers PINGs, a keep-alive nobody asked for.
//
// Why: the PTO backs off exponentially (RFC 9002 §6.2.1, a MUST), so
// after a long silence in both directions its probes come farther and
// farther apart: dark for 20 s with a 30 s idle timeout, a client probes
// at about 4.4, 8.8 and 17.6 s into the silence and would next at 35 s,
// after the idle timeout. If the path clears at 20 s, nothing crosses it
// before both ends give up, the server hearing nothing it could answer.
// An endpoint "might need to send ack-eliciting packets to avoid an idle
// timeout if it is expecting response data" (RFC 9000 §10.1.2): this is
// that packet, sent at the last moment that lets it and its answer
// arrive in time, and only if the path came back by then.
//
// When: margin before the idle timeout counted from the last receipt
// (lastReceipt), margin being the larger of two PTOs (without backoff)
// and an eighth of the idle timeout. Counted from the receipt, not from
// this endpoint's own timer: that one may have restarted later, on the
// first ack-eliciting packet sent after the receipt (§10.1), which the
// peer may never have received. One PTO is for the probe's round trip
// and the peer's acknowledgment delay (RFC 9002 §6.2.1), so the answer
// arrives before this endpoint times out. The other is for the peer's
// timer, which last restarted when it last heard from this endpoint,
// not later than the packet this endpoint last received and, as its
// acknowledgments go within max_ack_delay, rarely more than a PTO before
// it: the probe arrives before the peer times out. The eighth covers
// round-trip estimates that the silence made stale (a path that came
// back may be slower) and the difference of the two timers' starts.
//
// The probe is a probe packet (sendContext.probe): it carries what a PTO
// probe would put first (an ACK, new data if any), a PING when nothing
// else elicits an acknowledgment, and IMMEDIATE_ACK when the peer
// supports it; it goes at 1200 bytes and past a full congestion window,
// as a PTO probe does (RFC 9002 §7.5: "Probe packets MUST NOT be blocked
// by the congestion controller"; counted in flight all the same): the
// window is full of packets the silence lost but no acknowledgment
// declared lost yet, and a PING that waited for it would never go. It is
// not a PTO: the backoff (pto_count) does not move, and the loss
// detection timer goes on as it was. The anti-amplification limit
// still binds it (appendDatagram). Once per silence: a receipt from the
// peer starts a new one (idleState.onPacketReceived). Nothing happens
// when a PTO fires first (its probes do the work, and the next PTO is
// planned again), on a connection closing or draining (HandleTimer does
// not get here, Deadline does not ask), before the handshake is
// confirmed, or without an idle timeout.

// lastProbeMarginDivisor: the margin is at least the idle timeout
// divided by this.
const lastProbeMarginDivisor = 8

// lastProbeDeadline is when the last probe of the current silence is
// due. It does not look at what waits for an answer (onLastProbeTimer
// does, once): an idle connection wakes once for nothing.
func (c *Conn) lastProbeDeadline() (time.Duration, bool) {
	s := &c.idle
	if s.timeout <= 0 || s.lastProbed || !c.handshakeConfirmed {
		return 0, false
	}
	pto := c.rtt.PTO(true)
	idle := s.idleTimeout(pto)
	margin := max(2*pto, idle/lastProbeMarginDivisor)
	return s.lastReceipt() + idle - margin, true
}

// onLastProbeTimer queues the last probe if it is due and wanted: no PTO
// fires at or before now, and ack-eliciting packets wait for an
// acknowledgment.
func (c *Conn) onLastProbeTimer(now time.Duration) {
	if t, ok := c.lastProbeDeadline(); !ok || now < t {
		return
	}
	c.idle.lastProbed = true
	if t, ok := c.loss.LossDetectionDeadline(); (ok && t <= now) || c.probes > 0 {
		return // a PTO fired now: its probes go instead
	}
	if c.loss.HasAckElicitingInFlight(recovery.SpaceAppData) {
		c.probeSpace, c.probes = recovery.SpaceAppData, 1
	}
}
