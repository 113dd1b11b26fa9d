package tls13

import (
	"errors"
	"fmt"
	"hash"
)

// EventKind says what an Event carries.
type EventKind uint8

const (
	// EventNone: no event is pending.
	EventNone EventKind = iota
	// EventWriteData: send Data in CRYPTO frames at Level.
	EventWriteData
	// EventSetReadSecret: install Secret (in Data) for reading at Level,
	// with the packet protection of Suite (RFC 9001 §5.1).
	EventSetReadSecret
	// EventSetWriteSecret: install Data as the write secret at Level.
	EventSetWriteSecret
	// EventTransportParameters: Data holds the peer's QUIC transport
	// parameters.
	EventTransportParameters
	// EventRejectedEarlyData: the server refused 0-RTT (client only); any
	// 0-RTT data must be resent in 1-RTT packets.
	EventRejectedEarlyData
	// EventHandshakeDone: the handshake completed.
	EventHandshakeDone
)

// Event is an instruction for the QUIC connection. Data stays valid after
// later calls but must not be modified: the handshake may still use it.
type Event struct {
	Kind  EventKind
	Level Level
	Suite uint16
	Data  []byte
}

// Conn is the handshake of one QUIC connection, either role. It does no
// I/O: bytes from CRYPTO frames go in through HandleData, and what QUIC must
// do comes out of NextEvent. Methods are not safe for concurrent use.
type Conn struct {
	config      *Config
	isClient    bool
	localParams []byte

	events    []Event
	nextEvent int

	// in holds handshake bytes received at each level that do not yet
	// form a whole message.
	in [4][]byte
	// readLevel is the only level the peer may send at next.
	readLevel Level
	started   bool
	err       error

	client *clientHandshake
	server *serverHandshake

	state ConnectionState

	// After the handshake.
	suite            *cipherSuite
	resumptionSecret []byte
	peerParams       []byte
	ticketAppData    []byte
	ticketAppDataSet bool
	ticketsSent      int
	// ticketPSKDHE: the client offered psk_dhe_ke (RFC 8446 §4.2.9), kept
	// from the ClientHello for the tickets a server sends after the
	// handshake, when the rest of the handshake state is gone.
	ticketPSKDHE bool

	// Client sessions: the cache key (Config.ServerName unless set), the
	// application's data for sessions, the ticket of the last session
	// stored (which identifies it in the cache), the session offered for
	// 0-RTT.
	sessionKey     string
	sessionKeySet  bool
	sessionAppData []byte
	lastTicket     []byte
	earlySession   *ClientSession

	// Server hooks (serverhooks.go).
	paramsFunc func(clientParams []byte) ([]byte, error)
	ticketFunc func(ticketAppData []byte) (resume, early bool)

	// omitTransportParams leaves out quic_transport_parameters, for tests
	// of the missing_extension alert.
	omitTransportParams bool
}

// Client returns a client handshake sending the given QUIC transport
// parameters.
func Client(config *Config, transportParams []byte) *Conn {
	return &Conn{config: config, isClient: true, localParams: transportParams}
}

// Server returns a server handshake sending the given QUIC transport
// parameters.
func Server(config *Config, transportParams []byte) *Conn {
	return &Conn{config: config, localParams: transportParams}
}

// Start begins the handshake; a client queues its ClientHello.
func (c *Conn) Start() error {
	if c.started {
		return errors.New("tls13: Start called twice")
	}
	c.started = true
	if err := c.config.check(!c.isClient, false); err != nil {
		c.err = err
		return err
	}
	if c.isClient {
		c.client = &clientHandshake{c: c}
		return c.fail(c.client.start())
	}
	c.server = &serverHandshake{c: c}
	return nil
}

// NextEvent returns the next pending event, or an Event of kind EventNone.
func (c *Conn) NextEvent() Event {
	if c.nextEvent >= len(c.events) {
		c.events = c.events[:0]
		if c.state.HandshakeComplete {
			// Few events follow the handshake (tickets): do not keep
			// the handshake's queue allocated on an idle connection.
			c.events = nil
		}
		c.nextEvent = 0
		return Event{}
	}
	e := c.events[c.nextEvent]
	c.events[c.nextEvent] = Event{}
	c.nextEvent++
	return e
}

func (c *Conn) emit(e Event) {
	if c.events == nil {
		// A flight's events (its messages and its secrets) come
		// together: room for them at once rather than growing 1, 2, 4.
		c.events = make([]Event, 0, 8)
	}
	c.events = append(c.events, e)
}

func (c *Conn) writeData(l Level, data []byte) {
	c.emit(Event{Kind: EventWriteData, Level: l, Data: data})
}

func (c *Conn) setReadSecret(l Level, s *cipherSuite, secret []byte) {
	c.emit(Event{Kind: EventSetReadSecret, Level: l, Suite: s.id, Data: secret})
}

func (c *Conn) setWriteSecret(l Level, s *cipherSuite, secret []byte) {
	c.emit(Event{Kind: EventSetWriteSecret, Level: l, Suite: s.id, Data: secret})
}

// ConnectionState describes the handshake so far.
func (c *Conn) ConnectionState() ConnectionState { return c.state }

// Err returns the error that ended the handshake, if any.
func (c *Conn) Err() error { return c.err }

// fail records the first fatal error; the connection is unusable after it.
func (c *Conn) fail(err error) error {
	if err != nil && c.err == nil {
		c.err = err
	}
	return err
}

// HandleData processes handshake bytes received in CRYPTO frames at level.
// It keeps no reference to data (what it needs later it copies), so the
// caller may hand it bytes that live in its own buffers.
// It returns an error wrapping an AlertError on a fatal problem; QUIC then
// closes the connection with CRYPTO_ERROR (Alert.QUICErrorCode).
func (c *Conn) HandleData(level Level, data []byte) error {
	if c.err != nil {
		return c.err
	}
	if !c.started {
		return errors.New("tls13: HandleData before Start")
	}
	if len(data) == 0 {
		return nil
	}
	// RFC 9001 §4.1.3: handshake bytes must arrive at the level the
	// handshake expects; CRYPTO frames are never sent in 0-RTT.
	if level != c.readLevel || level == LevelEarly {
		return c.fail(alertf(AlertUnexpectedMessage, fmt.Sprintf("handshake data at %v level, expected %v", level, c.readLevel)))
	}
	// Messages alias c.in, so a buffer handed to the handshake is never
	// reused: the tail of an incomplete message is completed beyond the
	// messages handed out, in place when the buffer has room for it,
	// else copied out. A new buffer gets that room at once, so that a
	// message split across packets (a ClientHello with a post-quantum
	// key share, a server's flight) is copied once.
	max := c.config.maxMessageSize()
	buf := c.in[level]
	if buf == nil {
		buf = make([]byte, 0, len(data)+tailRoom(data, max))
	}
	buf = append(buf, data...)
	c.in[level] = nil
	for len(buf) >= 4 {
		n := int(buf[1])<<16 | int(buf[2])<<8 | int(buf[3])
		if n > max {
			return c.fail(alertf(AlertUnexpectedMessage, "handshake message too large"))
		}
		if len(buf) < 4+n {
			break
		}
		msg := buf[: 4+n : 4+n]
		buf = buf[4+n:]
		if err := c.handleMessage(level, msg); err != nil {
			return c.fail(err)
		}
		// RFC 9001 §4.1.3: a key change must fall on a message
		// boundary; data left at the old level is a protocol error.
		if c.readLevel != level && len(buf) > 0 {
			return c.fail(alertf(AlertUnexpectedMessage, "handshake data after a key change"))
		}
	}
	if len(buf) > 0 {
		if len(buf) >= 4 {
			n := int(buf[1])<<16 | int(buf[2])<<8 | int(buf[3])
			if cap(buf) >= 4+n {
				// Completed in place: the rest of the message goes
				// after every message handed out (their capacity ends
				// where they do).
				c.in[level] = buf
				return nil
			}
			c.in[level] = make([]byte, len(buf), 4+n)
		} else {
			c.in[level] = make([]byte, len(buf), 64)
		}
		copy(c.in[level], buf)
	}
	return nil
}

// tailRoom is how many bytes beyond data the message data ends in still
// needs: 0 when data ends on a message boundary, inside a message header,
// or in a message over max (which HandleData refuses).
func tailRoom(data []byte, max int) int {
	for len(data) >= 4 {
		n := int(data[1])<<16 | int(data[2])<<8 | int(data[3])
		if n > max {
			return 0
		}
		if len(data) < 4+n {
			return 4 + n - len(data)
		}
		data = data[4+n:]
	}
	return 0
}

func (c *Conn) handleMessage(level Level, msg []byte) error {
	typ := msg[0]
	// RFC 9001 §6: QUIC replaces KeyUpdate; RFC 9001 §8.3: clients MUST NOT
	// send EndOfEarlyData. Either is a protocol violation.
	if typ == typeKeyUpdate || typ == typeEndOfEarlyData {
		return alertf(AlertUnexpectedMessage, "KeyUpdate or EndOfEarlyData in QUIC")
	}
	if c.isClient {
		return c.client.handleMessage(level, msg)
	}
	if c.server == nil {
		// Released at completion: a client sends no handshake messages
		// after Finished in QUIC (no post-handshake authentication, no
		// KeyUpdate).
		return alertf(AlertUnexpectedMessage, "client message after the handshake")
	}
	return c.server.handleMessage(level, msg)
}

// transcript accumulates the handshake transcript (RFC 8446 §4.4.1).
type transcript struct {
	h hash.Hash
	// sumBuf holds the last sum, which every caller uses at once (a
	// secret derived from it, a signature, a Finished MAC) before the
	// next: a handshake takes some seven sums a side.
	sumBuf [64]byte
}

func (t *transcript) add(msgs ...[]byte) {
	for _, m := range msgs {
		t.h.Write(m)
	}
}

// sum returns the transcript hash so far, valid until the next call.
func (t *transcript) sum() []byte { return t.h.Sum(t.sumBuf[:0]) }

// EarlyTransportParameters returns, on a client attempting 0-RTT, the
// server transport parameters remembered with the ticket; 0-RTT packets
// must respect them (RFC 9000 §7.4.1). It is nil when 0-RTT is not
// attempted.
func (c *Conn) EarlyTransportParameters() []byte {
	if c.earlySession == nil {
		return nil
	}
	return c.earlySession.TransportParameters
}

// EarlySession returns, on a client attempting 0-RTT (known once Start
// returns), the session it resumes: its TransportParameters and AppData are
// what 0-RTT must respect (RFC 9000 §7.4.1, RFC 9114 §7.2.4.2). It is nil
// when 0-RTT is not attempted. Whether the server accepted 0-RTT is
// ConnectionState().EarlyDataAccepted, or EventRejectedEarlyData.
func (c *Conn) EarlySession() *ClientSession { return c.earlySession }

// SetSessionCacheKey sets, on a client, the key under which it looks up
// and stores sessions in Config.ClientSessionCache; Config.ServerName
// when not called. QUIC may prefer "host:port", so that two servers on one
// host keep their own sessions. Call it before Start.
func (c *Conn) SetSessionCacheKey(key string) {
	c.sessionKey = key
	c.sessionKeySet = true
}

func (c *Conn) cacheKey() string {
	if c.sessionKeySet {
		return c.sessionKey
	}
	return c.config.ServerName
}

// SetSessionAppData sets, on a client, opaque data kept with the sessions
// this connection stores (ClientSession.AppData): an HTTP/3 client keeps
// the server's SETTINGS there (RFC 9114 §7.2.4.2). Sessions arrive when the
// server sends tickets, before or after the application learns what to
// keep, so both orders work: tickets received later carry data, and the
// session this connection stored last, if still in the cache unused, is
// stored again with it.
func (c *Conn) SetSessionAppData(data []byte) {
	c.sessionAppData = append([]byte(nil), data...)
	cache := c.config.ClientSessionCache
	if !c.isClient || c.lastTicket == nil || cache == nil {
		return
	}
	key := c.cacheKey()
	// A session restored from storage is another object: compare tickets.
	if cur, ok := cache.Get(key); ok && cur != nil && string(cur.ticket) == string(c.lastTicket) {
		cache.Put(key, cur.withAppData(c.sessionAppData))
	}
}
