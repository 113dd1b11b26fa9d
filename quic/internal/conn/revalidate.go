package conn

import "time"

// Validating again a path the server returned from (RFC 9000 §8.2.4,
// §9.3, §9.3.2).
//
// A server follows a client's non-probing packet to a new address and
// validates it; if no PATH_RESPONSE comes within the validation timeout,
// it MUST return to the last validated address (§9.3.2): a spurious
// migration, an attacker's copy of a packet sent from a victim's address,
// ends there. But after a NAT rebinding whose new mapping drops what the
// server sends for longer than that timeout, the last validated address
// is the client's old one, which no longer reaches it, and the client
// keeps sending from the new one. §9.3 has the server move there again on
// each of those packets that carries the largest packet number so far; a
// client that only waits for a response sends few, though: its probes
// come at PTO intervals that double (RFC 9002 §6.2.1), and within seconds
// the next one comes after the idle timeout. A server that gave the new
// address up at each timeout, and started each validation over, spent its
// anti-amplification allowance there (§8.1) on challenges a PTO apart
// while the path was still dark, and had none left when it cleared: the
// connection, on the dead address, waited for the idle timeout.
//
// So the server keeps validating the address it returned from, in the
// background, for as long as the peer's latest non-probing packet came
// from there, up to an idle timeout: its challenges go on at intervals
// that keep doubling (§9.4: a timer as RFC 9002 §6.2.1's, no more
// aggressive), and within three times what arrived from the address,
// which keeps its counters (§8.1, §9.3.1). When an answer comes, the
// server moves there (§9.3: the address of the highest-numbered
// non-probing packet); when the peer's next non-probing packet comes, it
// moves there at once and the 3-PTO timeout of §9.3.2 runs again, the
// challenges' intervals going on from where they were. A non-probing
// packet with a larger packet number from another address ends the
// retry (§9.3.2: "receipt of packets with higher packet numbers from the
// legitimate peer address will trigger another connection migration.
// This will cause the validation of the address of the spurious
// migration to be abandoned").

// retryWindowNoIdle is how long a retry lasts on a connection without an
// idle timeout.
const retryWindowNoIdle = 30 * time.Second

// retryPathValidation goes on validating p, the path the server just
// returned from after its validation timed out, in the background.
func (c *Conn) retryPathValidation(now time.Duration, p *netPath) {
	p.validating, p.retry, p.switchOnValid = true, true, true
	window := retryWindowNoIdle
	if c.idle.timeout > 0 {
		window = c.idle.idleTimeout(c.rtt.PTO(true))
	}
	p.retryUntil = now + window
	p.abandonAt = p.retryUntil
	p.challengeLimit = p.nChallenges + maxChallenges
	if p.nChallenges == 0 {
		// The limit left no room for a challenge yet: one as soon as
		// the peer's next datagram brings some.
		p.challengeDue, p.retransmitAt = true, now
	} else {
		c.planChallengeTimer(p)
	}
	c.challengeReserve(p)
	c.tracer.migrationState("probing_started", p.addr)
}

// resumePathValidation runs when the peer's non-probing packet makes p,
// a path being validated again after the server returned from it,
// current once more: the timeout after which the server returns again
// starts over (§9.3.2), the challenges' timer goes on (§9.4).
func (c *Conn) resumePathValidation(now time.Duration, p *netPath) {
	p.retry = false
	p.abandonAt = now + c.validationTimeout()
	p.round, p.challengeLimit = p.nChallenges, p.nChallenges+maxChallenges
	p.challengePTO = c.rtt.PTO(true)
	p.challengeDue, p.retransmitAt = true, now
	c.challengeReserve(p)
}

// endRetries abandons the background validations of paths other than p,
// on which a non-probing packet with the largest packet number so far
// arrived (§9.3.2).
func (c *Conn) endRetries(now time.Duration, p *netPath) {
	ps := &c.path
	for i := 0; i < len(ps.paths); i++ {
		if q := ps.paths[i]; q != p && q.retry && c.pathFailed(now, q) {
			i--
		}
	}
}
