package quic

import "context"

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
	select {
	case <-c.openReady(): // early.go: before the handshake's end with 0-RTT
	case <-ctxDone(ctx):
		return nil, ctx.Err()
	case <-c.closed:
		return nil, c.closeError()
	}
	for {
		// The channel is taken before trying, so that a limit raised
		// (or the connection ended) after the try closes the channel we
		// wait on.
		changed := c.streamChanged.wait()
		select {
		case <-c.closed:
			return nil, c.closeError()
		default:
		}
		if st, ok := c.mb.OpenStream(uni, nil); ok {
			return streamOf(st), nil // made by allocStream
		}
		c.mb.OpenBlocked(uni)
		// The end of the connection fires changed too (setCloseError):
		// a goroutine blocked here waits on two channels, not three.
		select {
		case <-changed:
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
	for {
		changed := c.streamChanged.wait()
		c.acceptMu.Lock()
		if q := c.accept[kind]; len(q) > 0 {
			s := q[0]
			q[0] = nil
			c.accept[kind] = q[1:]
			c.acceptMu.Unlock()
			return s, nil
		}
		c.acceptMu.Unlock()
		select {
		case <-c.closed:
			return nil, c.closeError()
		default:
		}
		// The end of the connection fires changed too (setCloseError).
		select {
		case <-changed:
		case <-ctxDone(ctx):
			return nil, ctx.Err()
		}
	}
}
