package h3

import (
	"context"
	"sync"
)

// connPool holds the client connections, one per origin ("host:port"),
// shared by all requests to that origin. It is the seam for the layers
// above (Alt-Svc discovery, racing QUIC against TCP): they decide where to
// dial, the pool keeps and reuses what was dialed.
//
//   - get returns the origin's connection, dialing one if there is none;
//     concurrent callers share a single dial.
//   - markGoAway takes a connection out of service for new requests (the
//     server sent GOAWAY) while its requests in flight finish.
//   - markBroken forgets a connection that failed or closed.
type connPool struct {
	dial func(ctx context.Context, origin string) (*clientConn, error)

	mu      sync.Mutex
	conns   map[string]*clientConn
	dialing map[string]*dialCall
}

// dialCall is one dial in progress, waited for by every request that
// needs the origin meanwhile.
type dialCall struct {
	done chan struct{}
	cc   *clientConn
	err  error
}

func newConnPool(dial func(ctx context.Context, origin string) (*clientConn, error)) *connPool {
	return &connPool{dial: dial, conns: map[string]*clientConn{}, dialing: map[string]*dialCall{}}
}

// get returns a usable connection to origin, dialing if needed. The dial
// itself is not canceled by ctx (other requests may be waiting for it);
// ctx only stops this caller's wait.
func (p *connPool) get(ctx context.Context, origin string) (*clientConn, error) {
	p.mu.Lock()
	if cc, ok := p.conns[origin]; ok && cc.usable() {
		p.mu.Unlock()
		return cc, nil
	}
	call, ok := p.dialing[origin]
	if !ok {
		call = &dialCall{done: make(chan struct{})}
		p.dialing[origin] = call
		go p.runDial(context.WithoutCancel(ctx), origin, call)
	}
	p.mu.Unlock()
	select {
	case <-call.done:
		return call.cc, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *connPool) runDial(ctx context.Context, origin string, call *dialCall) {
	cc, err := p.dial(ctx, origin)
	p.mu.Lock()
	delete(p.dialing, origin)
	if err == nil {
		p.conns[origin] = cc
		cc.pool, cc.origin = p, origin
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
	if p.conns[cc.origin] == cc {
		delete(p.conns, cc.origin)
	}
	p.mu.Unlock()
}

// all returns the pooled connections.
func (p *connPool) all() []*clientConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*clientConn, 0, len(p.conns))
	for _, cc := range p.conns {
		out = append(out, cc)
	}
	return out
}
