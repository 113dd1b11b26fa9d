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
//     beside its TCP attempt.
//   - markGoAway takes a connection out of service for new requests (the
//     server sent GOAWAY) while its requests in flight finish.
//   - markBroken forgets a connection that failed or closed.
type connPool struct {
	dial func(ctx context.Context, rt route) (*clientConn, error)

	mu      sync.Mutex
	conns   map[string]*clientConn
	dialing map[string]*dialCall
}

// dialCall is one dial in progress, waited for by every request that
// needs the route meanwhile.
type dialCall struct {
	done chan struct{}
	cc   *clientConn
	err  error
}

func newConnPool(dial func(ctx context.Context, rt route) (*clientConn, error)) *connPool {
	return &connPool{dial: dial, conns: map[string]*clientConn{}, dialing: map[string]*dialCall{}}
}

// get returns a usable connection for rt, dialing if needed. The dial
// itself is not canceled by ctx (other requests may be waiting for it);
// ctx only stops this caller's wait.
func (p *connPool) get(ctx context.Context, rt route) (*clientConn, error) {
	cc, call := p.start(ctx, rt)
	if cc != nil {
		return cc, nil
	}
	select {
	case <-call.done:
		return call.cc, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// start returns the pooled connection for rt, or else the dial that will
// provide one, starting it if none is in progress. The dial runs with
// ctx's values but not its cancellation.
func (p *connPool) start(ctx context.Context, rt route) (*clientConn, *dialCall) {
	key := rt.key()
	p.mu.Lock()
	defer p.mu.Unlock()
	if cc, ok := p.conns[key]; ok && cc.usable() {
		return cc, nil
	}
	call, ok := p.dialing[key]
	if !ok {
		call = &dialCall{done: make(chan struct{})}
		p.dialing[key] = call
		go p.runDial(context.WithoutCancel(ctx), rt, call)
	}
	return nil, call
}

// pooled returns rt's usable pooled connection, or nil.
func (p *connPool) pooled(rt route) *clientConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cc, ok := p.conns[rt.key()]; ok && cc.usable() {
		return cc
	}
	return nil
}

// dialInProgress reports whether a dial for rt is in progress.
func (p *connPool) dialInProgress(rt route) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dialing[rt.key()] != nil
}

func (p *connPool) runDial(ctx context.Context, rt route, call *dialCall) {
	cc, err := p.dial(ctx, rt)
	key := rt.key()
	p.mu.Lock()
	delete(p.dialing, key)
	if err == nil {
		p.conns[key] = cc
		cc.pool = p
		cc.keys = append(cc.keys, key)
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
