package conn

import "github.com/skiffnet/skiff/quic/internal/wire"

// EventKind says what happened.
type EventKind uint8

// The events a connection reports to its owner.
const (
	// EventHandshakeComplete: the TLS handshake completed (RFC 9001
	// §4.1.1); a server connection can be accepted, a Dial returns.
	EventHandshakeComplete EventKind = iota + 1
	// EventStreamOpened: the peer opened Stream; the application may
	// accept it.
	EventStreamOpened
	// EventStreamReadable: a Read of Stream that found nothing may now
	// find data, the end of the stream or a reset.
	EventStreamReadable
	// EventStreamWritable: a Write of Stream that found no room may now
	// find some, or the sending part ended.
	EventStreamWritable
	// EventStreamsAvailable: the peer raised a stream limit (RFC 9000
	// §4.6): an OpenStream waiting for it may try again.
	EventStreamsAvailable
	// EventConnIDIssued and EventConnIDRetired: datagrams to ConnID are for
	// this connection from now on, or no longer (RFC 9000 §5.1).
	EventConnIDIssued
	EventConnIDRetired
	// EventResetTokenAdded and EventResetTokenRemoved: a stateless reset
	// of the peer's ends with the token in Data (RFC 9000 §10.3.1), or no
	// longer.
	EventResetTokenAdded
	EventResetTokenRemoved
	// EventDatagram: the payload of a DATAGRAM frame (RFC 9221), in Data,
	// which the owner now owns.
	EventDatagram
	// EventPathChanged: non-probing packets go on another path from now
	// on (Path, CurrentPath): the peer's address changed, or a client
	// migrated.
	EventPathChanged
	// EventPathValidated and EventPathAbandoned: the validation of Path
	// succeeded, or failed and the path was given up (RFC 9000 §8.2).
	EventPathValidated
	EventPathAbandoned
	// EventClosing: the connection ends, for Reason: closing or draining
	// starts (RFC 9000 §10.2). Blocked application calls should return now.
	EventClosing
	// EventClosed: the closing or draining period is over: the connection
	// sends and receives nothing more, and the owner drops it.
	EventClosed
	// EventEarlyDataAccepted: a server accepted 0-RTT; the connection
	// may be accepted before its handshake completes (zerortt.go).
	EventEarlyDataAccepted
	// EventEarlyDataRejected: the server refused a client's 0-RTT; its
	// data goes again in 1-RTT packets.
	EventEarlyDataRejected
	// EventNewToken: a client received a NEW_TOKEN token (Data, which
	// the owner now owns) for its next connection to the server.
	EventNewToken
	// EventStreamAborted: the peer reset Stream (RESET_STREAM, before its
	// FIN was read) or stopped it (STOP_SENDING): Stream.PeerReset and
	// Stream.PeerStopped say which, with the code.
	EventStreamAborted
	// EventStreamFinished: both parts of Stream are finished and the
	// connection forgot it.
	EventStreamFinished
)

// Event is one thing a connection reports; which fields are set depends
// on Kind.
type Event struct {
	Kind   EventKind
	ConnID wire.ConnectionID
	Stream *Stream
	Data   []byte
	Reason *Reason
	Path   Path
}

// eventQueue holds the events since the owner last took them. Its storage
// is reused, so that taking events allocates nothing in steady state (a
// connection serving one request at a time has turns with events and turns
// without, and dropping the storage on the latter cost three allocations a
// request), and dropped by Trim, so that an idle connection does not keep
// what its handshake needed.
type eventQueue struct {
	q     []Event
	stale int // entries of q handed out by the last Events
}

func (e *eventQueue) add(ev Event) {
	e.reuse()
	if e.q == nil {
		// A handshake's turns bring several events at once (keys,
		// parameters, its completion): room for them at the start
		// rather than growing 1, 2, 4, four allocations a connection.
		e.q = make([]Event, 0, 8)
	}
	e.q = append(e.q, ev)
}

// trim drops the storage of an empty queue.
func (e *eventQueue) trim() {
	e.reuse()
	if len(e.q) == 0 {
		e.q = nil
	}
}

// reuse forgets what the last Events handed out.
func (e *eventQueue) reuse() {
	if e.stale > 0 {
		clear(e.q[:e.stale])
		e.q, e.stale = e.q[:0], 0
	}
}

// Events returns what happened since the last call, in order. The slice
// is valid until the next call into the Conn.
func (c *Conn) Events() []Event {
	e := &c.events
	e.reuse()
	if len(e.q) == 0 {
		return nil
	}
	e.stale = len(e.q)
	return e.q
}

// ReasonKind classifies why a connection ended.
type ReasonKind uint8

// Why connections end.
const (
	// ReasonTransport: a transport error (Code, FrameType, Text), ours or
	// the peer's (Remote).
	ReasonTransport ReasonKind = iota + 1
	// ReasonApplication: an application closed with Code and Text
	// (CONNECTION_CLOSE of type 0x1d, RFC 9000 §19.19).
	ReasonApplication
	// ReasonIdleTimeout: idle for the idle timeout (RFC 9000 §10.1).
	ReasonIdleTimeout
	// ReasonHandshakeTimeout: the handshake did not finish in time.
	ReasonHandshakeTimeout
	// ReasonStatelessReset: the peer sent a stateless reset (§10.3).
	ReasonStatelessReset
	// ReasonNoCompatibleVersion: version negotiation failed (§6.2).
	ReasonNoCompatibleVersion
	// ReasonEndpointClosed: the owner closed the connection with its
	// endpoint.
	ReasonEndpointClosed
)

// Reason says why a connection ended.
type Reason struct {
	Kind      ReasonKind
	Code      uint64
	FrameType uint64
	Text      string
	Remote    bool
	// Err is the local error behind a transport error, when another layer
	// raised it (tls13, with its x509 cause).
	Err error
}

// closeReason is set once, when the connection starts to end.
func (c *Conn) setReason(r *Reason) {
	if c.closing.reason != nil {
		return
	}
	c.closing.reason = r
	c.events.add(Event{Kind: EventClosing, Reason: r})
}

// transportReason describes a transport error.
func transportReason(err *wire.TransportError, remote bool) *Reason {
	return &Reason{Kind: ReasonTransport, Code: uint64(err.Code), FrameType: uint64(err.FrameType), Text: err.Reason, Remote: remote, Err: err.Err}
}
