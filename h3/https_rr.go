package h3

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// HTTPS records (RFC 9460) tell a client, before its first request, that
// an origin serves HTTP/3, where, and at which addresses. In ModeAuto the
// Transport asks for them alongside the A/AAAA lookup of an origin it has
// no alternative for, as Happy Eyeballs v3 (draft-ietf-happy-happyeyeballs-
// v3-04 §4) does: when the addresses are in, it waits for the HTTPS answer
// at most resolutionDelay more, so that an answer arriving with or just
// after them sends the first request over HTTP/3 (raced against TCP),
// while a resolver that never answers costs TCP at most that delay. An
// answer arriving later is kept, for the next requests, for its TTL.

// resolutionDelay is HEv3's Resolution Delay (§4, RECOMMENDED 50 ms).
const resolutionDelay = 50 * time.Millisecond

// httpsFailureTTL is how long a failed HTTPS lookup is remembered, so that
// a resolver that does not answer is not asked on every request.
const httpsFailureTTL = 30 * time.Second

// maxHTTPSEntries bounds the HTTPS answers kept.
const maxHTTPSEntries = 1024

// resolver is the DNS the Transport needs: HTTPS records of an origin and
// the addresses of a host.
type resolver interface {
	lookupHTTPS(ctx context.Context, host string, port int) (*httpsAnswer, error)
	lookupIP(ctx context.Context, host string) ([]netip.Addr, error)
}

// httpsAnswer is an origin's HTTPS RRset after alias resolution: its
// ServiceMode records in priority order, and how long it may be used.
type httpsAnswer struct {
	services []httpsService
	ttl      time.Duration
}

// httpsService is one ServiceMode record, ready to connect with.
type httpsService struct {
	priority uint16
	target   string // the effective TargetName, lower case, no final dot
	port     int    // the "port" SvcParam, else the origin's port
	alpn     []string
	h3       bool         // alpn lists "h3"
	hints    []netip.Addr // ipv6hint, then ipv4hint
}

// httpsEntry is one origin's HTTPS lookup: in progress until done is
// closed, then its answer or error until expires.
type httpsEntry struct {
	done    chan struct{}
	answer  *httpsAnswer
	err     error
	expires time.Time
}

// httpsCache holds HTTPS lookups by origin, one lookup at a time each.
type httpsCache struct {
	mu sync.Mutex
	m  map[Origin]*httpsEntry
}

// httpsLookup returns origin's entry, starting a lookup when there is no
// fresh one (started reports it). The lookup runs on its own, with ctx's
// values but not its cancellation, and reports its answer to tr when it
// ends.
func (t *Transport) httpsLookup(ctx context.Context, origin Origin, tr *ClientTrace) (e *httpsEntry, started bool) {
	c := &t.https
	now := t.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.m[origin]; e != nil {
		select {
		case <-e.done:
			if now.Before(e.expires) {
				return e, false
			}
		default:
			return e, false // in progress
		}
	}
	if c.m == nil {
		c.m = map[Origin]*httpsEntry{}
	}
	if len(c.m) >= maxHTTPSEntries {
		for o, e := range c.m {
			select {
			case <-e.done:
				delete(c.m, o)
			default:
			}
		}
	}
	e = &httpsEntry{done: make(chan struct{})}
	c.m[origin] = e
	go func() {
		ctx := context.WithoutCancel(ctx)
		ans, err := t.resolver.lookupHTTPS(ctx, origin.Host, origin.Port)
		end := t.now()
		switch {
		case err != nil:
			e.expires = end.Add(httpsFailureTTL)
		default:
			e.expires = end.Add(ans.ttl)
		}
		e.answer, e.err = ans, err
		close(e.done)
		reportHTTPS(origin, ans, err, tr)
	}()
	return e, true
}

// reportHTTPS tells the trace what an HTTPS lookup found: the first record
// offering h3, else the first record, else the failure.
func reportHTTPS(origin Origin, ans *httpsAnswer, err error, tr *ClientTrace) {
	if err != nil {
		tr.httpsRecord(HTTPSRecordInfo{Origin: origin, Err: err})
		return
	}
	if len(ans.services) == 0 {
		tr.httpsRecord(HTTPSRecordInfo{Origin: origin, TTL: ans.ttl})
		return
	}
	s := ans.services[0]
	for _, x := range ans.services {
		if x.h3 {
			s = x
			break
		}
	}
	tr.httpsRecord(HTTPSRecordInfo{Origin: origin, Target: s.target, Port: s.port, ALPN: s.alpn,
		Hints: s.hints, Priority: s.priority, TTL: ans.ttl, HTTP3: s.h3})
}

// tcpAddr is the resolved addresses of a host, handed to the TCP dialer
// so that it does not resolve them again.
type tcpAddr struct {
	host  string
	addrs []netip.Addr
}

// clear forgets every answer (NetworkChanged: another network may have
// another resolver).
func (c *httpsCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for o, e := range c.m {
		select {
		case <-e.done:
			delete(c.m, o)
		default:
		}
	}
}

// httpsRoutes returns the h3 endpoints of origin's HTTPS records, waiting
// for the answer as the package comment says. It also returns the origin's
// addresses when it looked them up.
func (t *Transport) httpsRoutes(ctx context.Context, origin Origin, tr *ClientTrace) ([]route, []tcpAddr) {
	if noHTTPSRecords(origin.Host) {
		return nil, nil
	}
	e, started := t.httpsLookup(ctx, origin, tr)
	var tcp []tcpAddr
	select {
	case <-e.done:
	default:
		// Only the request that asked waits: while the answer is late,
		// the others go at once.
		if started {
			tcp = t.awaitHTTPS(ctx, origin, e)
		}
	}
	select {
	case <-e.done:
	default:
		return nil, tcp // still pending: TCP goes now
	}
	if e.err != nil {
		return nil, tcp
	}
	var out []route
	for _, s := range e.answer.services {
		if !s.h3 {
			continue
		}
		addr := s.target
		if addr == "" || addr == "." {
			addr = origin.Host
		}
		out = append(out, route{origin: origin, addr: joinHostPort(addr, s.port), hints: s.hints})
	}
	return out, tcp
}

// noHTTPSRecords reports whether host is a name no HTTPS query may be sent
// for: an IP literal, or a special-use name that RFC 6761 keeps away from
// DNS servers ("localhost" and its subdomains, §6.3; ".invalid", §6.4).
func noHTTPSRecords(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	for _, special := range []string{"localhost", "invalid"} {
		if name == special || strings.HasSuffix(name, "."+special) {
			return true
		}
	}
	return false
}

// awaitHTTPS waits for e, an HTTPS lookup in progress, while it looks up
// the origin's addresses: until e ends, or resolutionDelay after the
// addresses arrive, or the addresses fail, or ctx ends.
func (t *Transport) awaitHTTPS(ctx context.Context, origin Origin, e *httpsEntry) []tcpAddr {
	type ipResult struct {
		addrs []netip.Addr
		err   error
	}
	ipc := make(chan ipResult, 1)
	go func() {
		a, err := t.resolver.lookupIP(ctx, origin.Host)
		ipc <- ipResult{a, err}
	}()
	var tcp []tcpAddr
	var delay <-chan time.Time
	for {
		select {
		case <-e.done:
			return tcp
		case r := <-ipc:
			if r.err != nil || len(r.addrs) == 0 {
				return nil
			}
			tcp = []tcpAddr{{host: origin.Host, addrs: r.addrs}}
			timer := time.NewTimer(t.resolutionDelay)
			defer timer.Stop()
			delay = timer.C
		case <-delay:
			return tcp
		case <-ctx.Done():
			return tcp
		}
	}
}

func joinHostPort(host string, port int) string {
	return (&Origin{Host: strings.ToLower(host), Port: port}).Authority()
}
