package dns

import (
	"container/list"
	"sync"
	"time"
)

// cacheKey is a query: the canonical name and the type.
type cacheKey struct {
	name string
	typ  Type
}

// cache holds answers until their TTL runs out, at most max of them, the
// least recently used evicted first. Safe for concurrent use.
type cache struct {
	mu      sync.Mutex
	max     int
	order   list.List // of *cacheEntry, most recently used first
	entries map[cacheKey]*list.Element
}

type cacheEntry struct {
	key     cacheKey
	ans     *answer
	expires time.Time
}

func newCache(max int) *cache {
	return &cache{max: max, entries: make(map[cacheKey]*list.Element)}
}

// get returns the answer for k with its TTL reduced to what is left at now.
func (c *cache) get(k cacheKey, now time.Time) (*answer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	left := e.expires.Sub(now)
	if left <= 0 {
		c.order.Remove(el)
		delete(c.entries, k)
		return nil, false
	}
	c.order.MoveToFront(el)
	a := *e.ans
	a.ttl = left
	return &a, true
}

// put stores a for its TTL; an answer with no TTL is not stored.
func (c *cache) put(k cacheKey, a *answer, now time.Time) {
	if a.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		c.order.Remove(el)
		delete(c.entries, k)
	}
	c.entries[k] = c.order.PushFront(&cacheEntry{key: k, ans: a, expires: now.Add(a.ttl)})
	for len(c.entries) > c.max {
		el := c.order.Back()
		c.order.Remove(el)
		delete(c.entries, el.Value.(*cacheEntry).key)
	}
}
