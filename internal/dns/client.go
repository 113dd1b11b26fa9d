package dns

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"
)

// setup fills in the defaults once, before the first query.
func (r *Resolver) setup() {
	r.once.Do(func() {
		r.servers, r.timeout, r.attempts = r.Servers, r.Timeout, r.Attempts
		if len(r.servers) == 0 {
			c := loadResolvConf()
			r.servers = c.servers
			if r.timeout == 0 {
				r.timeout = c.timeout
			}
			if r.attempts == 0 {
				r.attempts = c.attempts
			}
		}
		if len(r.servers) == 0 {
			r.servers = []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}
		}
		if r.timeout <= 0 {
			r.timeout = DefaultTimeout
		}
		if r.attempts <= 0 {
			r.attempts = DefaultAttempts
		}
		r.maxAliases = r.MaxAliases
		if r.maxAliases <= 0 {
			r.maxAliases = DefaultMaxAliases
		}
		switch {
		case r.CacheSize == 0:
			r.cache = newCache(DefaultCacheSize)
		case r.CacheSize > 0:
			r.cache = newCache(r.CacheSize)
		}
		r.inflight = make(map[cacheKey]*call)
	})
}

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// call is a query in flight, which every lookup of the same name and type
// waits for instead of sending its own.
type call struct {
	done chan struct{}
	ans  *answer
	err  error
}

// query answers one question from the cache, or from the servers. Lookups
// of the same question share one exchange. That exchange is not tied to
// the caller's context: it is bounded by Timeout and Attempts, a caller
// whose context ends stops waiting for it, and whoever asks next finds
// its answer in the cache.
func (r *Resolver) query(ctx context.Context, name string, t Type) (*answer, error) {
	r.setup()
	key := cacheKey{name: CanonicalName(name), typ: t}
	if r.cache != nil {
		if a, ok := r.cache.get(key, r.now()); ok {
			return a, nil
		}
	}
	r.mu.Lock()
	c, ok := r.inflight[key]
	if !ok && r.cache != nil {
		// Look again under the lock: a call that ended between the first
		// look and here has put its answer in the cache and left the table,
		// and a lookup must not query again for it.
		if a, ok := r.cache.get(key, r.now()); ok {
			r.mu.Unlock()
			return a, nil
		}
	}
	if !ok {
		c = &call{done: make(chan struct{})}
		r.inflight[key] = c
		go r.run(context.WithoutCancel(ctx), key, c)
	}
	r.mu.Unlock()
	select {
	case <-c.done:
		return c.ans, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *Resolver) run(ctx context.Context, key cacheKey, c *call) {
	c.ans, c.err = r.exchange(ctx, Question{Name: key.name, Type: key.typ, Class: ClassINET})
	if c.err == nil && r.cache != nil {
		r.cache.put(key, c.ans, r.now())
	}
	// The answer is in the cache before the call leaves the table, so a
	// lookup starting now finds one or the other.
	r.mu.Lock()
	delete(r.inflight, key)
	r.mu.Unlock()
	close(c.done)
}

// exchange asks the servers in turn, Attempts rounds, until one gives a
// usable answer: NOERROR or NXDOMAIN. Other codes and network errors move
// on to the next server, as the C library does.
func (r *Resolver) exchange(ctx context.Context, q Question) (*answer, error) {
	if _, err := appendName(nil, q.Name); err != nil {
		return nil, err // no server can answer a name that cannot be sent
	}
	var last error
	for range r.attempts {
		for _, srv := range r.servers {
			resp, err := r.exchangeWith(ctx, srv, q)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err != nil {
				last = err
				continue
			}
			if resp.Rcode == RcodeSuccess || resp.Rcode == RcodeNameError {
				return extract(resp, q, r.maxAliases)
			}
			last = &LookupError{Name: q.Name, Type: q.Type, Rcode: resp.Rcode}
		}
	}
	return nil, last
}

// exchangeWith sends q to one server over UDP and, if the answer is
// truncated, again over TCP (RFC 1035 §4.2.1, RFC 7766 §5), within one
// Timeout.
func (r *Resolver) exchangeWith(parent context.Context, srv netip.AddrPort, q Question) (*Message, error) {
	ctx, cancel := context.WithTimeout(parent, r.timeout)
	defer cancel()
	query, err := NewQuery(q.Name, q.Type)
	if err != nil {
		return nil, err
	}
	wire, err := query.Append(make([]byte, 2, 512)) // room for the TCP length
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint16(wire, uint16(len(wire)-2))
	resp, err := exchangeOver(ctx, "udp", srv, query, wire[2:])
	if err == nil && resp.Truncated {
		resp, err = exchangeOver(ctx, "tcp", srv, query, wire)
	}
	switch {
	case err == nil:
		return resp, nil
	case parent.Err() != nil:
		return nil, parent.Err()
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%w: %s %s at %s", ErrTimeout, q.Name, q.Type, srv)
	}
	return nil, fmt.Errorf("%w: %s: %w", ErrServer, srv, err)
}

// exchangeOver sends one query over a new UDP socket or TCP connection and
// waits for its answer until ctx ends. A reply that does not decode, or
// whose ID or question differ from the query's, is ignored (RFC 5452 §9.1):
// an off-path forgery must neither be accepted nor end the wait. Over TCP,
// wire carries the 2-octet length prefix (RFC 1035 §4.2.2).
func exchangeOver(ctx context.Context, network string, srv netip.AddrPort, query *Message, wire []byte) (*Message, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, srv.String())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// A context that ends wakes the blocked read below.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(wire); err != nil {
		return nil, err
	}
	var buf []byte
	if network == "udp" {
		buf = make([]byte, 1<<16) // whatever a server sends, even beyond MaxUDPSize
	}
	for {
		var msg []byte
		if network == "udp" {
			n, err := conn.Read(buf)
			if err != nil {
				return nil, err
			}
			msg = buf[:n]
		} else if msg, err = readTCPMessage(conn); err != nil {
			return nil, err
		}
		resp, err := ParseMessage(msg)
		if err == nil && isAnswerTo(resp, query) {
			return resp, nil
		}
	}
}

func readTCPMessage(r io.Reader) ([]byte, error) {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	msg := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// isAnswerTo reports whether resp answers query: a response with its ID
// and its one question (RFC 5452 §4.3), name case ignored.
func isAnswerTo(resp, query *Message) bool {
	if !resp.Response || resp.ID != query.ID || resp.Opcode != query.Opcode || len(resp.Questions) != 1 {
		return false
	}
	a, q := resp.Questions[0], query.Questions[0]
	return a.Type == q.Type && a.Class == q.Class && sameName(a.Name, q.Name)
}
