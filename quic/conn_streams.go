package quic

import (
	"context"
	"runtime"
)

// OpenStream opens a bidirectional stream, waiting while the peer's
// stream limit is reached (a STREAMS_BLOCKED frame tells it so).
func (c *Conn) OpenStream(ctx context.Context) (*Stream, error) {
	return c.openStream(ctx, false)
}

// OpenUniStream opens a unidirectional (send-only) stream.
func (c *Conn) OpenUniStream(ctx context.Context) (*Stream, error) {
	return c.openStream(ctx, true)
}

func (c *Conn) openStream(ctx context.Context, uni bool) (*Stream, error) {
	if !c.handshakeOK.Load() {
		// A stream opened after the handshake, as all but a
		// connection's first are, skips this select: it locks its
		// three channels, and the latch's channel costs a lock more.
		select {
		case <-c.openReady(): // early.go: before the handshake's end with 0-RTT
		case <-ctxDone(ctx):
			return nil, ctx.Err()
		case <-c.closed:
			return nil, c.closeError()
		}
	}
	var changed <-chan struct{}
	for {
		select {
		case <-c.closed:
			return nil, c.closeError()
		default:
		}
		if st, ok := c.mb.OpenStream(uni, nil); ok {
			return streamOf(st), nil // made by allocStream
		}
		if changed == nil {
			// The channel is taken after a failed try and before the
			// next, so that a limit raised (or the connection ended)
			// after that try closes the channel we wait on; a stream
			// opened at the first try costs no channel.
			changed = c.streamChanged.wait()
			continue
		}
		c.mb.OpenBlocked(uni)
		// The end of the connection fires changed too (setCloseError):
		// a goroutine blocked here waits on two channels, not three.
		select {
		case <-changed:
			changed = nil
		case <-ctxDone(ctx):
			return nil, ctx.Err()
		}
	}
}

// AcceptStream waits for the peer to open a bidirectional stream.
func (c *Conn) AcceptStream(ctx context.Context) (*Stream, error) {
	return c.acceptStream(ctx, 0)
}

// AcceptUniStream waits for the peer to open a unidirectional stream.
func (c *Conn) AcceptUniStream(ctx context.Context) (*Stream, error) {
	return c.acceptStream(ctx, 1)
}

func (c *Conn) acceptStream(ctx context.Context, kind int) (*Stream, error) {
	var changed <-chan struct{}
	for {
		c.acceptMu.Lock()
		if q := c.accept[kind]; len(q) > 0 {
			s := q[0]
			q[0] = nil
			if len(q) == 1 {
				q = q[:0] // empty: the next stream goes at the start again
			} else {
				q = q[1:]
			}
			c.accept[kind] = q
			c.acceptMu.Unlock()
			return s, nil
		}
		c.acceptMu.Unlock()
		if changed == nil {
			// Taken after a failed look and before the next, as in
			// openStream.
			changed = c.streamChanged.wait()
			continue
		}
		select {
		case <-c.closed:
			return nil, c.closeError()
		default:
		}
		// The end of the connection fires changed too (setCloseError).
		select {
		case <-changed:
			changed = nil
		case <-ctxDone(ctx):
			return nil, ctx.Err()
		}
	}
}

// cork lets the other runnable goroutines run before the driver takes its
// work, when an application goroutine just wrote to a stream or ended it
// (conn.Mailbox.TakeSendWork): with many requests or responses in flight,
// their goroutines then write theirs too, and one turn sends them all in
// full datagrams with one system call. Without it, the goroutine that
// woke the driver hands it its processor as soon as it waits (or the
// other processor takes it), and every message costs a turn, a datagram
// and a system call of its own: 1.1 of each per request on an HTTP/3
// client with 100 requests in flight, 0.25, 0.8 and 0.1 with it. A driver
// alone costs one runtime.Gosched, under a microsecond; a bulk sender's
// driver yields to the writer, which only fills the buffer it sends.
func (c *Conn) cork() {
	if c.mb.TakeSendWork() {
		runtime.Gosched()
	}
}
