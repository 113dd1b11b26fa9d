package main

import (
	"context"
	"net/http"
	"sync"
)

// activeCount counts things in progress (requests being handled, QUIC
// connections not yet ended) and lets a shutdown wait until there are
// none.
type activeCount struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to 0; nil when nobody waits
}

func (c *activeCount) add() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *activeCount) done() {
	c.mu.Lock()
	c.n--
	if c.n == 0 && c.zero != nil {
		close(c.zero)
		c.zero = nil
	}
	c.mu.Unlock()
}

func (c *activeCount) load() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// waitZero waits until the count is 0, or ctx ends.
func (c *activeCount) waitZero(ctx context.Context) error {
	c.mu.Lock()
	if c.n == 0 {
		c.mu.Unlock()
		return nil
	}
	if c.zero == nil {
		c.zero = make(chan struct{})
	}
	ch := c.zero
	c.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wrapHandler counts h's requests while they are handled.
func (c *activeCount) wrapHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.add()
		defer c.done()
		h.ServeHTTP(w, r)
	})
}
