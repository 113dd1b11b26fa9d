package conn

import "github.com/skiffnet/skiff/quic/internal/wire"

// NEW_TOKEN (RFC 9000 §8.1.3, §19.7). The server's owner makes the tokens
// (they are sealed with an endpoint's key, which the connection does not
// know) and queues them with QueueNewToken once the handshake completes;
// the connection sends each in a NEW_TOKEN frame until it is acknowledged.
// A client reports each token it receives (EventNewToken) for its owner to
// keep for the next connection to the server, which sends it in its
// Initials (Params.Token).

// tokenState holds a server's NEW_TOKEN tokens, or counts a client's.
type tokenState struct {
	// issued are the server's tokens, nil once acknowledged; queue holds
	// the indexes of those to send (again).
	issued [][]byte
	queue  []int
	// received counts the tokens a client reported.
	received int
}

// maxNewTokens bounds the tokens a server sends and a client reports per
// connection: one is all the next connection needs.
const maxNewTokens = 4

// QueueNewToken queues a token to send in a NEW_TOKEN frame; servers only,
// after the handshake (RFC 9000 §19.7: 1-RTT packets only). The
// connection keeps token, which the caller must not change: the endpoint
// hands over the token it just sealed, not a buffer it reuses.
func (c *Conn) QueueNewToken(token []byte) {
	t := &c.tokens
	if c.isClient || len(token) == 0 || len(t.issued) >= maxNewTokens {
		return
	}
	t.issued = append(t.issued, token)
	t.queue = append(t.queue, len(t.issued)-1)
	c.mb.Wake()
}

// pending reports whether a NEW_TOKEN frame waits to be sent.
func (t *tokenState) pending() bool { return len(t.queue) > 0 }

// appendFrames appends the queued NEW_TOKEN frames that fit.
func (t *tokenState) appendFrames(f *frameWriter) {
	for len(t.queue) > 0 {
		i := t.queue[0]
		fr := wire.NewTokenFrame{Token: t.issued[i]}
		if f.room() < fr.Len() {
			return
		}
		f.buf = fr.Append(f.buf)
		f.record(sentNewToken, uint64(i), 0, 0, false)
		t.queue = t.queue[1:]
	}
}

// onAcked and onLost settle a NEW_TOKEN frame: acknowledged, the token is
// forgotten; lost, it is sent again (RFC 9000 §13.3).
func (t *tokenState) onAcked(i uint64) {
	if i < uint64(len(t.issued)) {
		t.issued[i] = nil
	}
}

func (t *tokenState) onLost(i uint64) {
	if i < uint64(len(t.issued)) && t.issued[i] != nil {
		t.queue = append(t.queue, int(i))
	}
}

// onNewToken reports a token from the server (the frame is checked to be
// in a 1-RTT packet from a server), up to maxNewTokens per connection.
func (c *Conn) onNewToken(token []byte) {
	if c.tokens.received >= maxNewTokens {
		return
	}
	c.tokens.received++
	c.events.add(Event{Kind: EventNewToken, Data: append([]byte(nil), token...)})
}
