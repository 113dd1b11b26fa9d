package h3

import (
	"context"
	"sync"
)

// connPool holds the HTTP/3 connections, one per route (origin and the
// address dialed for it), shared by all requests along that route. A
// connection coalesced onto another origin (RFC 9114 §3.3) is pooled under
// both routes.
//
//   - get returns the route's connection, dialing one if there is none;
//     concurrent callers share a single dial.
//   - start does the same without waiting: the race waits on the dial
//     beside its TCP attempt, then leaves it (leave).
//   - A dial runs while a request waits for it: when the last one stops
//     waiting because its context ended, the dial is canceled. A dial whose
//     waiter went on without it (a race TCP won) goes on, so that its
//     connection serves the next requests, until closeIdle cancels it.
//   - markGoAway takes a connection out of service for new requests (the
//     server sent GOAWAY) while its requests in flight finish.
//   - markBroken forgets a connection that failed or closed.
type connPool struct {
	dial func(ctx context.Context, rt route) (*clientConn, error)

	mu      sync.Mutex
	conns   map[routeKey]*clientConn
	dialing map[routeKey]*dialCall
}

// dialCall is one dial in progress, waited for by every request that
// needs the route meanwhile.
type dialCall struct {
	done chan struct{}
	cc   *clientConn
	err  error

	// Guarded by connPool.mu.
	waiters  int                // requests waiting for it
	cancel   context.CancelFunc // cancels the dial
	canceled bool               // cancel was called: its connection, if any, is closed
}

func newConnPool(dial func(ctx context.Context, rt route) (*clientConn, error)) *connPool {
	return &connPool{dial: dial, conns: map[routeKey]*clientConn{}, dialing: map[routeKey]*dialCall{}}
}

// get returns a usable connection for rt, dialing if needed. When ctx ends
// first, this caller stops waiting, and the dial is canceled unless another
// request waits for it.
func (p *connPool) get(ctx context.Context, rt route) (*clientConn, error) {
	cc, call, err := p.start(ctx, rt)
	if cc != nil || err != nil {
		return cc, err
	}
	select {
	case <-call.done:
		p.leave(call, false)
		return call.cc, call.err
	case <-ctx.Done():
		p.leave(call, true)
		return nil, ctx.Err()
	}
}

// start returns the pooled connection for rt, or else the dial that will
// provide one, starting it if none is in progress, with the caller counted
// as waiting for it until it calls leave. The dial runs with ctx's values
// but not its cancellation. A caller whose ctx has already ended gets its
// error, and starts nothing.
func (p *connPool) start(ctx context.Context, rt route) (*clientConn, *dialCall, error) {
	key := rt.poolKey()
	p.mu.Lock()
	defer p.mu.Unlock()
	if cc, ok := p.conns[key]; ok && cc.usable() {
		return cc, nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	call, ok := p.dialing[key]
	if !ok || call.canceled {
		// A canceled dial is not joined: it fails, or its connection is
		// closed, whatever happens now.
		dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		call = &dialCall{done: make(chan struct{}), cancel: cancel}
		p.dialing[key] = call
		go p.runDial(dctx, rt, call)
	}
	call.waiters++
	return nil, call, nil
}

// leave ends a caller's wait for call. If the caller gave up (its context
// ended) and was the last one waiting, the dial is canceled.
func (p *connPool) leave(call *dialCall, gaveUp bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	call.waiters--
	if gaveUp && call.waiters == 0 {
		p.cancelLocked(call)
	}
}

// cancelLocked cancels a dial in progress that nobody waits for.
func (p *connPool) cancelLocked(call *dialCall) {
	select {
	case <-call.done:
		return
	default:
	}
	call.canceled = true
	call.cancel()
}

// cancelIdleDials cancels the dials no request waits for (those that lost
// a race): with CloseIdleConnections, no connection appears afterwards
// that nobody asked for.
func (p *connPool) cancelIdleDials() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, call := range p.dialing {
		if call.waiters == 0 {
			p.cancelLocked(call)
		}
	}
}

// pooled returns rt's usable pooled connection, or nil.
func (p *connPool) pooled(rt route) *clientConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cc, ok := p.conns[rt.poolKey()]; ok && cc.usable() {
		return cc
	}
	return nil
}

// dialInProgress reports whether a dial for rt is in progress.
func (p *connPool) dialInProgress(rt route) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dialing[rt.poolKey()] != nil
}

func (p *connPool) runDial(ctx context.Context, rt route, call *dialCall) {
	cc, err := p.dial(ctx, rt)
	key := rt.poolKey()
	p.mu.Lock()
	if p.dialing[key] == call {
		delete(p.dialing, key)
	}
	call.cancel() // releases the context's resources
	if err == nil && call.canceled {
		// Canceled as the handshake completed: nobody wants it.
		if len(cc.keys) == 0 {
			cc.qc.CloseWithError(uint64(ErrCodeNoError), "")
		}
		cc, err = nil, context.Canceled
	}
	if err == nil {
		p.conns[key] = cc
		cc.keys = append(cc.keys, key)
		// Forgotten when it ends. Started here, not when the connection
		// is made, so that it reads the pool it was given (a connection
		// that ended before then is forgotten at once).
		go func() {
			<-cc.qc.Context().Done()
			p.markBroken(cc)
		}()
	}
	p.mu.Unlock()
	call.cc, call.err = cc, err
	close(call.done)
}

// markGoAway stops handing cc to new requests.
func (p *connPool) markGoAway(cc *clientConn) { p.remove(cc) }

// markBroken forgets cc, which failed or closed.
func (p *connPool) markBroken(cc *clientConn) { p.remove(cc) }

func (p *connPool) remove(cc *clientConn) {
	p.mu.Lock()
	for _, k := range cc.keys {
		if p.conns[k] == cc {
			delete(p.conns, k)
		}
	}
	p.mu.Unlock()
}

// all returns the pooled connections, each once.
func (p *connPool) all() []*clientConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*clientConn, 0, len(p.conns))
	seen := make(map[*clientConn]bool, len(p.conns))
	for _, cc := range p.conns {
		if !seen[cc] {
			seen[cc] = true
			out = append(out, cc)
		}
	}
	return out
}

// find returns a usable pooled connection that match accepts.
func (p *connPool) find(match func(*clientConn) bool) *clientConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cc := range p.conns {
		if cc.usable() && match(cc) {
			return cc
		}
	}
	return nil
}
