package conn

import (
	"fmt"
	"time"

	"github.com/skiffnet/skiff/quic/internal/recovery"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// What tests and debugging read of a connection, or make it do, beyond
// what the owner needs. Like every method, these run on the owner's
// goroutine.

// CheckFlowLimits returns an error when a flow-control limit was passed:
// what the peer sent is beyond what we advertised (RFC 9000 §4.1: the
// receiver's view), or what we sent beyond the peer's limits (the
// sender's view).
func (c *Conn) CheckFlowLimits() error {
	if r, m := c.flow.received, c.flow.recvMax; r > m {
		return fmt.Errorf("client=%v received %d bytes, MAX_DATA %d", c.isClient, r, m)
	}
	if c.flow.sent > c.flow.sendMax {
		return fmt.Errorf("client=%v sent %d bytes, peer's MAX_DATA %d", c.isClient, c.flow.sent, c.flow.sendMax)
	}
	for _, s := range c.streams.m {
		if s.hasRecv {
			h := s.recv.Highest()
			if _, m, _ := s.recv.Window(); h > m {
				return fmt.Errorf("client=%v stream %d: received up to %d, MAX_STREAM_DATA %d", c.isClient, s.id, h, m)
			}
		}
		if s.hasSend && s.out.Unsent() > s.sendMax {
			return fmt.Errorf("client=%v stream %d: sent up to %d, peer's MAX_STREAM_DATA %d", c.isClient, s.id, s.out.Unsent(), s.sendMax)
		}
	}
	return nil
}

// FlowBlocked returns the limit our last DATA_BLOCKED reported (0 for
// none) and the peer's MAX_DATA now.
func (c *Conn) FlowBlocked() (blockedAt, sendMax uint64) { return c.flow.blockedAt, c.flow.sendMax }

// KeyPhase returns the 1-RTT key phase of each direction and how many key
// updates completed (RFC 9001 §6).
func (c *Conn) KeyPhase() (write, read bool, updates uint64) {
	k := &c.keys1RTT
	return k.writePhase, k.readPhase, k.updates
}

// ForceKeyUpdate starts a key update with the next 1-RTT packet, when
// RFC 9001 §6.1 allows one.
func (c *Conn) ForceKeyUpdate() { c.keys1RTT.forceUpdate = true }

// ReceivedECN returns the ECN counts the next 1-RTT ACK frame reports,
// and whether any marked packet arrived (RFC 9000 §13.4.1).
func (c *Conn) ReceivedECN() (wire.ECNCounts, bool) {
	return c.spaces[recovery.SpaceAppData].received.ECNCounts()
}

// Abandon ends the connection silently, as an endpoint that crashed and
// forgot it would.
func (c *Conn) Abandon(now time.Time) {
	c.enterDraining(c.mono(now), &Reason{Kind: ReasonEndpointClosed}, true)
}

// RetryState returns the client's original Destination Connection ID,
// the Source Connection ID of the Retry when there was one, and whether
// the peer's address is validated (RFC 9000 §8.1).
func (c *Conn) RetryState() (odcid, retrySCID wire.ConnectionID, retried, validated bool) {
	if c.retrySCID != nil {
		retrySCID, retried = *c.retrySCID, true
	}
	return c.originalDCID, retrySCID, retried, c.path.cur.validated
}

// StreamLimits are a connection's stream limits of one kind (RFC 9000
// §4.6): the peer's limit on the streams we open and the last one our
// STREAMS_BLOCKED reported (still queued or not), the limit we advertised,
// how many streams the peer opened, and how many streams are live.
type StreamLimits struct {
	PeerMax, BlockedAt     uint64
	BlockedQueued          bool
	LocalMax, RemoteOpened uint64
	Live                   int
}

// Limits returns the stream limits of bidirectional (or unidirectional)
// streams.
func (c *Conn) Limits(uni bool) StreamLimits {
	kind := kindBidi
	if uni {
		kind = kindUni
	}
	ss := &c.streams
	return StreamLimits{
		PeerMax: c.mb.peerMax[kind].Load(), BlockedAt: ss.blockedAt[kind], BlockedQueued: ss.blockedQueued[kind],
		LocalMax: ss.localMax[kind], RemoteOpened: ss.remoteOpened[kind], Live: len(ss.m),
	}
}

// StreamStorage returns the bytes of storage s's sending and receiving
// parts hold (buffers, bitmaps), for tests that bound them. Unlike the
// methods above it only takes the parts' locks, so any goroutine may call
// it.
func (s *Stream) StreamStorage() (send, recv int) {
	return s.send.Held(), s.recv.Held()
}
