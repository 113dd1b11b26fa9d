package conn

import (
	"time"

	"github.com/skiffnet/skiff/quic/internal/recovery"
)

// The quiet probe: a client expecting response data sends a PING when the
// server goes quiet (RFC 9000 §10.1.2: "An endpoint might need to send
// ack-eliciting packets to avoid an idle timeout if it is expecting
// response data but does not have or is unable to send application
// data").
//
// Why: a client's NAT rebinds while it only receives. The server follows
// the client's next packet to the new address, but may send there only
// three times what it received from it (§8.1, §9.3.1), often a single
// ACK: if the new mapping drops the server's first datagrams, the server
// has a challenge or two left to send (path.go keeps them), and the
// client, which receives nothing, has nothing to acknowledge and sends
// nothing more. Its PING, and the PTO probes that repeat it while no
// acknowledgment comes back (RFC 9002 §6.2.4), give the server bytes to
// answer with and a new occasion to challenge the path (onPathDatagram).
// When the new mapping drops the client's packets too for a while, the
// server does not even learn the new address until one of those gets
// through.
//
// The probe goes once per silence, two PTOs after the last ack-eliciting
// packet from the server (a server's own loss recovery needs one PTO),
// when the client has nothing ack-eliciting in flight (its PTO covers
// that case) and a request stream whose response is not finished. The
// server's acknowledgment of the PING is not ack-eliciting and starts no
// new silence, so an idle connection stays idle.

// quietProbeFactor is how many PTOs of silence the probe waits for.
const quietProbeFactor = 2

// onQuietReceipt notes a 1-RTT packet from the peer, after its frames:
// an ack-eliciting one (the count of them moved; pathState keeps its low
// 32 bits) starts a new silence.
func (c *Conn) onQuietReceipt(now time.Duration) {
	ps := &c.path
	if !c.isClient {
		return
	}
	if n := uint32(c.spaces[recovery.SpaceAppData].received.AckElicitingReceived()); n != ps.quietHeard {
		ps.quietHeard, ps.quietHeardAt, ps.quietProbed = n, now, false
	}
}

// quietDeadline is when the probe of the current silence is due.
func (c *Conn) quietDeadline() (time.Duration, bool) {
	ps := &c.path
	if !c.isClient || ps.quietProbed || ps.quietHeardAt == 0 || !c.handshakeConfirmed {
		return 0, false
	}
	return ps.quietHeardAt + quietProbeFactor*c.rtt.PTO(true), true
}

// onQuietTimer queues the probe if it is due and wanted.
func (c *Conn) onQuietTimer(now time.Duration) {
	if t, ok := c.quietDeadline(); !ok || now < t {
		return
	}
	c.path.quietProbed = true
	if !c.loss.HasAckElicitingInFlight(recovery.SpaceAppData) && c.awaitingResponse() {
		c.pendingPing = true
	}
}

// awaitingResponse reports whether a bidirectional stream the client
// opened still expects data from the server: its final size is unknown and
// the application neither stopped reading nor saw a reset.
func (c *Conn) awaitingResponse() bool {
	for id, s := range c.streams.m {
		if id&0x3 == 0 && s.hasRecv && s.recv.WantsCredit() {
			return true
		}
	}
	return false
}
