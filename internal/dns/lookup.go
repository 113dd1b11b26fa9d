package dns

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"
)

// answer is what one response says about a question, the CNAMEs in it
// followed.
type answer struct {
	owner    string        // where the CNAME chain ends: the name asked, or a CNAME target
	records  []RR          // the records of the type asked at owner
	rcode    Rcode         // RcodeSuccess or RcodeNameError
	negative bool          // NXDOMAIN or NODATA for owner (RFC 2308 §2)
	links    int           // CNAMEs followed
	ttl      time.Duration // smallest TTL of those records, or the negative TTL
}

// extract follows the CNAME chain of the answer section from the question's
// name and takes the records of the type asked where it ends (RFC 1034
// §3.6.2).
func extract(resp *Message, q Question, maxLinks int) (*answer, error) {
	a := &answer{owner: CanonicalName(q.Name), rcode: resp.Rcode}
	ttl := uint32(math.MaxUint32)
	seen := map[string]bool{a.owner: true}
	for {
		var cname string
		var cnameTTL uint32
		for _, rr := range resp.Answers {
			if rr.Class != ClassINET || CanonicalName(rr.Name) != a.owner {
				continue
			}
			if rr.Type == q.Type {
				a.records = append(a.records, rr)
				ttl = min(ttl, rr.TTL)
			} else if c, ok := rr.Data.(CNAME); ok && cname == "" {
				cname, cnameTTL = CanonicalName(c.Target), rr.TTL
			}
		}
		if len(a.records) > 0 || cname == "" {
			break
		}
		if seen[cname] || a.links >= maxLinks {
			return nil, fmt.Errorf("%w: CNAME chain from %s", ErrAliasLimit, q.Name)
		}
		seen[cname] = true
		a.links++
		a.owner = cname
		ttl = min(ttl, cnameTTL)
	}
	if len(a.records) == 0 {
		// RFC 2308 §5: a negative answer lives for the smaller of the
		// SOA's TTL and its MINIMUM field. An answer without SOA that
		// ends on a CNAME is not negative: the server did not follow the
		// chain, and the lookup asks again at its end.
		soa, hasSOA := negativeTTL(resp)
		a.negative = resp.Rcode == RcodeNameError || hasSOA || a.links == 0
		if a.negative {
			if hasSOA {
				ttl = min(ttl, soa)
			} else {
				ttl = min(ttl, uint32(DefaultNegativeTTL/time.Second))
			}
		}
	}
	a.ttl = ttlDuration(ttl)
	return a, nil
}

// negativeTTL returns min(TTL, MINIMUM) of the first SOA record of the
// authority section.
func negativeTTL(resp *Message) (uint32, bool) {
	for _, rr := range resp.Authorities {
		if soa, ok := rr.Data.(SOA); ok {
			return min(rr.TTL, soa.Minimum), true
		}
	}
	return 0, false
}

// ttlDuration converts a TTL; RFC 2181 §8: a value with the top bit set is
// taken as zero.
func ttlDuration(ttl uint32) time.Duration {
	if ttl > math.MaxInt32 {
		return 0
	}
	return time.Duration(ttl) * time.Second
}

// chain is the outcome of resolving a name and type across responses.
type chain struct {
	owner   string // the canonical name the records are at
	records []RR
	links   int           // CNAMEs followed
	ttl     time.Duration // smallest TTL met
}

// resolve finds the records of type t at name, following CNAMEs: within a
// response, and by asking again at the end of a chain a server did not
// follow. A not-found error comes with the chain, for its negative TTL.
func (r *Resolver) resolve(ctx context.Context, name string, t Type) (*chain, error) {
	c := &chain{owner: CanonicalName(name), ttl: math.MaxInt64}
	seen := map[string]bool{}
	for {
		seen[c.owner] = true
		a, err := r.query(ctx, c.owner, t)
		if err != nil {
			return nil, err
		}
		c.ttl = min(c.ttl, a.ttl)
		c.links += a.links
		asked := c.owner
		c.owner = a.owner
		switch {
		case len(a.records) > 0:
			c.records = a.records
			return c, nil
		case a.negative || a.owner == asked:
			return c, &LookupError{Name: name, Type: t, Rcode: a.rcode}
		case c.links > r.maxAliases || seen[a.owner]:
			return nil, fmt.Errorf("%w: CNAME chain from %s", ErrAliasLimit, name)
		}
	}
}

// LookupHTTPS resolves the HTTPS records of https://host:port (RFC 9460 §3,
// §9.1): it queries host when port is 443 (or 0), else _PORT._https.host,
// follows CNAMEs and AliasMode records up to MaxAliases links, and returns
// the compatible ServiceMode records in priority order.
//
// No record is not an error: the result has no Records. Errors:
// ErrMalformed when a record of the RRset is malformed (§2.2: reject the
// RRset); ErrAliasLimit; ErrServer; ErrTimeout; or the context's error.
// Any error means: connect without HTTPS records (§3.1).
func (r *Resolver) LookupHTTPS(ctx context.Context, host string, port int) (*HTTPSResult, error) {
	r.setup()
	qname := host
	if port != 0 && port != 443 {
		qname = "_" + strconv.Itoa(port) + "._https." + host
	} else {
		port = 443
	}
	res := &HTTPSResult{Name: CanonicalName(qname)}
	ttl := time.Duration(math.MaxInt64)
	seen := map[string]bool{res.Name: true}
	links := 0
	for {
		c, err := r.resolve(ctx, qname, TypeHTTPS)
		if errors.Is(err, ErrNotFound) && c != nil {
			res.TTL = min(ttl, c.ttl)
			return res, nil
		}
		if err != nil {
			return nil, err
		}
		ttl = min(ttl, c.ttl)
		if links += c.links; links > r.maxAliases {
			return nil, fmt.Errorf("%w: alias chain from %s", ErrAliasLimit, res.Name)
		}
		var aliases, services []SVCB
		for _, rr := range c.records {
			switch d := rr.Data.(type) {
			case Invalid: // §2.2: one malformed record rejects the RRset
				return nil, fmt.Errorf("%s HTTPS: %w", c.owner, d.Err)
			case SVCB:
				if d.AliasMode() {
					aliases = append(aliases, d)
				} else {
					services = append(services, d)
				}
			}
		}
		if len(aliases) == 0 {
			res.Records = r.serviceRecords(services, c.owner, port)
			res.TTL = ttl
			return res, nil
		}
		// §2.4.1: with an AliasMode record in the set, ServiceMode
		// records are ignored; §2.4.2: of several, pick one at random.
		alias := aliases[0]
		if !r.NoShuffle {
			alias = aliases[rand.IntN(len(aliases))]
		}
		if alias.Target == "." { // §2.5.1: the service does not exist
			res.TTL = ttl
			return res, nil
		}
		links++
		qname = CanonicalName(alias.Target)
		if links > r.maxAliases || seen[qname] {
			return nil, fmt.Errorf("%w: AliasMode chain from %s", ErrAliasLimit, res.Name)
		}
		seen[qname] = true
		res.AliasTarget = qname
	}
}

// serviceRecords keeps the self-consistent, compatible records (RFC 9460
// §2.4.3, §8) and sorts them by priority, shuffled within a priority
// (§2.4.1) unless NoShuffle is set.
func (r *Resolver) serviceRecords(set []SVCB, owner string, port int) []HTTPSRecord {
	var recs []HTTPSRecord
	for _, s := range set {
		if s.consistent() != nil || !s.compatible() {
			continue
		}
		rec := HTTPSRecord{Owner: owner, Target: CanonicalName(s.Target), Port: port, SVCB: s.clone()}
		if s.Target == "." {
			rec.Target = owner // §2.5.2
		}
		if s.Port != 0 {
			rec.Port = int(s.Port) // §7.2
		}
		recs = append(recs, rec)
	}
	if !r.NoShuffle {
		rand.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	}
	slices.SortStableFunc(recs, func(a, b HTTPSRecord) int { return int(a.SVCB.Priority) - int(b.SVCB.Priority) })
	return recs
}

// clone returns a copy that shares no memory with s: results are the
// caller's to modify, the cache's copy is not.
func (s *SVCB) clone() SVCB {
	c := *s
	c.Mandatory = slices.Clone(s.Mandatory)
	c.ALPN = slices.Clone(s.ALPN)
	c.IPv4Hint = slices.Clone(s.IPv4Hint)
	c.IPv6Hint = slices.Clone(s.IPv6Hint)
	c.ECH = slices.Clone(s.ECH)
	c.Unknown = slices.Clone(s.Unknown)
	for i := range c.Unknown {
		c.Unknown[i].Value = slices.Clone(c.Unknown[i].Value)
	}
	return c
}

// LookupIP queries the AAAA and A records of host in parallel, following
// CNAMEs, and returns the IPv6 addresses then the IPv4 ones, with the
// smallest TTL met. It waits for both answers. An IP literal is returned as
// is with a zero TTL. It fails only when neither type has an address: with
// ErrNotFound when both say so, else with the other error.
func (r *Resolver) LookupIP(ctx context.Context, host string) ([]netip.Addr, time.Duration, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, 0, nil
	}
	r.setup()
	types := [2]Type{TypeAAAA, TypeA}
	var chains [2]*chain
	var errs [2]error
	var wg sync.WaitGroup
	for i, t := range types {
		wg.Go(func() { chains[i], errs[i] = r.resolve(ctx, host, t) })
	}
	wg.Wait()
	var addrs []netip.Addr
	ttl := time.Duration(math.MaxInt64)
	for i, c := range chains {
		if errs[i] != nil {
			continue
		}
		ttl = min(ttl, c.ttl)
		for _, rr := range c.records {
			switch d := rr.Data.(type) {
			case AAAA:
				addrs = append(addrs, d.Addr)
			case A:
				addrs = append(addrs, d.Addr)
			}
		}
	}
	if len(addrs) > 0 {
		return addrs, ttl, nil
	}
	err := errs[1]
	if err == nil || errors.Is(err, ErrNotFound) && errs[0] != nil && !errors.Is(errs[0], ErrNotFound) {
		err = errs[0]
	}
	if err == nil { // records of the type, none of which decoded
		err = &LookupError{Name: host, Type: TypeA}
	}
	return nil, 0, err
}
