package quichooks

// StreamWatcher is told when a stream is over for the peer, at the moments
// that end the stream's Context (quic.Stream.Context): the peer reset or
// stopped it (cause a *quic.StreamError with Remote set), the connection
// ended (the connection's error), or both directions finished
// (quic.ErrStreamClosed). It is told once, on the connection's goroutine,
// and must not block.
//
// A watcher costs a stream no allocation, where a Context and a
// context.AfterFunc on it cost eight: h3's server watches every request
// stream this way.
type StreamWatcher interface {
	StreamEnded(cause error)
}

// WatchStream has w told when stream, a *quic.Stream, is over for the peer
// (at once, from the calling goroutine, when it already is). A stream has
// at most one watcher; a second registration replaces the first.
var WatchStream func(stream any, w StreamWatcher)

// PeerBidiStreamLimit returns how many bidirectional streams the peer of
// conn, a *quic.Conn, may open: the limit we advertised last
// (initial_max_streams_bidi, then MAX_STREAMS, RFC 9000 §4.6), which
// only grows. It asks the connection's goroutine; a connection that has
// ended reports no limit (the largest uint64).
var PeerBidiStreamLimit func(conn any) uint64

// WriteNoWait writes to stream, a *quic.Stream, what it takes at once and
// returns how much that was, where Write would wait for the peer's credit
// for the rest: h3 writes its QPACK decoder stream, an instruction for
// nearly every request, with it, rather than setting a write deadline in
// the past and clearing it again around each Write.
var WriteNoWait func(stream any, b []byte) (int, error)

// ReadNoWait reads from stream, a *quic.Stream, what it holds now, and
// returns 0 and no error where Read would wait for the peer (p must not be
// empty): h3's server reads a request's header section with it first, and
// starts Server.ReadHeaderTimeout's deadline only when it would wait.
var ReadNoWait func(stream any, p []byte) (int, error)
