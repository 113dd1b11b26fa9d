package h3

import (
	"container/list"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Origin identifies an origin (RFC 6454): scheme, host and port. Host is
// lower case, an IPv6 literal without brackets.
type Origin struct {
	Scheme string
	Host   string
	Port   int
}

// String returns scheme://host:port.
func (o Origin) String() string {
	return o.Scheme + "://" + net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
}

// Authority returns host:port.
func (o Origin) Authority() string { return net.JoinHostPort(o.Host, strconv.Itoa(o.Port)) }

// Alternative is one alternative service of an origin (RFC 7838 §2): where
// the origin is also served, over which protocol, and until when.
type Alternative struct {
	// Protocol is the ALPN protocol id; a Transport stores only "h3".
	Protocol string
	// Host is the alternative's host; "" means the origin's own host.
	Host string
	Port int
	// Expires is when the alternative stops being fresh (RFC 7838 §3.1:
	// the response's time plus "ma", less its Age).
	Expires time.Time
	// Persist is "persist=1": the alternative survives a network change.
	Persist bool
	// Source is the protocol of the connection the advertisement came
	// over, as curl's alt-svc file writes it: "h1", "h2" or "h3"; "dns"
	// for an HTTPS record.
	Source string
}

// Addr returns the host:port to connect to for a, on behalf of origin o.
func (a Alternative) Addr(o Origin) string {
	host := a.Host
	if host == "" {
		host = o.Host
	}
	return net.JoinHostPort(host, strconv.Itoa(a.Port))
}

// AltSvcStore keeps the alternatives learned for origins. Implementations
// must be safe for concurrent use. A Transport calls it on every request
// in ModeAuto and ModeRace, so Alternatives must be quick.
type AltSvcStore interface {
	// Alternatives returns origin's alternatives fresh at now, most
	// preferred first. The caller must not modify the slice.
	Alternatives(origin Origin, now time.Time) []Alternative
	// SetAlternatives replaces all of origin's alternatives with alts (RFC
	// 7838 §3: a new Alt-Svc field value replaces what was cached); an
	// empty alts removes the origin.
	SetAlternatives(origin Origin, alts []Alternative)
	// ClearNonPersistent removes every alternative without Persist, as a
	// change of network requires (RFC 7838 §3.1).
	ClearNonPersistent()
}

// DefaultAltSvcCacheSize is the number of origins an AltSvcCache holds
// when made with size 0.
const DefaultAltSvcCacheSize = 1000

// AltSvcCache is an in-memory AltSvcStore holding up to a fixed number of
// origins; when full, the origin used least recently is dropped first.
type AltSvcCache struct {
	max int

	mu      sync.Mutex
	lru     *list.List // of *cacheEntry, most recently used at the front
	origins map[Origin]*list.Element
}

type cacheEntry struct {
	origin Origin
	alts   []Alternative
}

// NewAltSvcCache returns a cache of up to size origins
// (DefaultAltSvcCacheSize when size ≤ 0).
func NewAltSvcCache(size int) *AltSvcCache {
	if size <= 0 {
		size = DefaultAltSvcCacheSize
	}
	return &AltSvcCache{max: size, lru: list.New(), origins: map[Origin]*list.Element{}}
}

// Alternatives returns origin's alternatives fresh at now, in a slice the
// caller must not modify. Expired ones are dropped from the cache as they
// are found.
func (c *AltSvcCache) Alternatives(origin Origin, now time.Time) []Alternative {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.origins[origin]
	if !ok {
		return nil
	}
	e := el.Value.(*cacheEntry)
	stale := 0
	for _, a := range e.alts {
		if !now.Before(a.Expires) {
			stale++
		}
	}
	if stale == len(e.alts) {
		c.lru.Remove(el)
		delete(c.origins, origin)
		return nil
	}
	if stale > 0 {
		// A new slice: callers may hold the old one.
		fresh := make([]Alternative, 0, len(e.alts)-stale)
		for _, a := range e.alts {
			if now.Before(a.Expires) {
				fresh = append(fresh, a)
			}
		}
		e.alts = fresh
	}
	c.lru.MoveToFront(el)
	return e.alts
}

// SetAlternatives replaces origin's alternatives.
func (c *AltSvcCache) SetAlternatives(origin Origin, alts []Alternative) {
	c.mu.Lock()
	c.setLocked(origin, alts)
	c.mu.Unlock()
}

func (c *AltSvcCache) setLocked(origin Origin, alts []Alternative) {
	el, ok := c.origins[origin]
	if len(alts) == 0 {
		if ok {
			c.lru.Remove(el)
			delete(c.origins, origin)
		}
		return
	}
	alts = append([]Alternative(nil), alts...)
	if ok {
		el.Value.(*cacheEntry).alts = alts
		c.lru.MoveToFront(el)
		return
	}
	c.origins[origin] = c.lru.PushFront(&cacheEntry{origin: origin, alts: alts})
	for c.lru.Len() > c.max {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.origins, last.Value.(*cacheEntry).origin)
	}
}

// ClearNonPersistent removes the alternatives without Persist.
func (c *AltSvcCache) ClearNonPersistent() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.lru.Front(); el != nil; {
		next := el.Next()
		e := el.Value.(*cacheEntry)
		var kept []Alternative // a new slice: callers may hold the old one
		for _, a := range e.alts {
			if a.Persist {
				kept = append(kept, a)
			}
		}
		if len(kept) == 0 {
			c.lru.Remove(el)
			delete(c.origins, e.origin)
		} else {
			e.alts = kept
		}
		el = next
	}
}

// Len returns how many origins the cache holds.
func (c *AltSvcCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// all returns every origin's alternatives, least recently used first (the
// order a file is written in, so that loading it rebuilds the LRU order).
func (c *AltSvcCache) all() []cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]cacheEntry, 0, c.lru.Len())
	for el := c.lru.Back(); el != nil; el = el.Prev() {
		e := el.Value.(*cacheEntry)
		out = append(out, cacheEntry{origin: e.origin, alts: append([]Alternative(nil), e.alts...)})
	}
	return out
}

// originOf returns the origin of an https or http URL's scheme and host
// (host[:port]), with the scheme's default port when absent.
func originOf(scheme, hostport string) Origin {
	host, port := hostport, ""
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	o := Origin{Scheme: strings.ToLower(scheme), Host: strings.ToLower(host)}
	if n, err := strconv.Atoi(port); err == nil && n > 0 && n <= 65535 {
		o.Port = n
	} else if o.Scheme == "http" {
		o.Port = 80
	} else {
		o.Port = 443
	}
	return o
}
