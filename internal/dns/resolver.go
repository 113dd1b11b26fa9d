package dns

import (
	"net/netip"
	"sync"
	"time"
)

// Defaults for the zero Resolver.
const (
	DefaultTimeout    = 2 * time.Second // per attempt and server
	DefaultAttempts   = 2               // rounds over the server list
	DefaultMaxAliases = 8               // CNAME and AliasMode links per lookup
	DefaultCacheSize  = 512             // cached answers
	// DefaultNegativeTTL bounds a negative answer that carries no SOA.
	DefaultNegativeTTL = 30 * time.Second
)

// Resolver is a stub resolver: it asks recursive servers over UDP, retries
// over TCP when an answer is truncated, follows CNAMEs, and caches answers
// for their TTL. The zero Resolver is ready to use; set fields before the
// first lookup and do not change them afterwards, nor copy the Resolver.
// It is safe for concurrent use. A lookup whose context ends returns at
// once; the query it started runs on, bounded by Timeout and Attempts, so
// that its answer is cached for the next lookup.
type Resolver struct {
	// Servers to ask, in order. Empty: the nameservers of
	// /etc/resolv.conf, or 127.0.0.1:53 when it lists none.
	Servers []netip.AddrPort
	// Timeout for one attempt at one server (DefaultTimeout when zero, or
	// the "options timeout" of resolv.conf when Servers is empty).
	Timeout time.Duration
	// Attempts is how many rounds over Servers a query makes
	// (DefaultAttempts when zero, or resolv.conf's "options attempts").
	Attempts int
	// MaxAliases bounds the CNAME and AliasMode links one lookup follows
	// (RFC 9460 §2.4.2); DefaultMaxAliases when zero.
	MaxAliases int
	// CacheSize is how many answers the cache holds, least recently used
	// evicted first. Zero means DefaultCacheSize; negative disables it.
	CacheSize int
	// Now is the clock the cache reads; time.Now when nil.
	Now func() time.Time
	// NoShuffle keeps ServiceMode records of equal priority in the order
	// of the response instead of shuffling them (RFC 9460 §2.4.1), for
	// deterministic tests.
	NoShuffle bool

	once       sync.Once
	servers    []netip.AddrPort
	timeout    time.Duration
	attempts   int
	maxAliases int
	cache      *cache // nil when disabled
	mu         sync.Mutex
	inflight   map[cacheKey]*call
}

// HTTPSResult is the outcome of SVCB resolution for an https origin (RFC
// 9460 §3). No Records with a nil error means the origin has no usable
// HTTPS record: connect as usual.
type HTTPSResult struct {
	// Name is the first query name: the host, or _PORT._https.host when
	// the port is not 443 (RFC 9460 §9.1).
	Name string
	// AliasTarget is the final query name when at least one AliasMode
	// record was followed, else empty. RFC 9460 §3: a client appends the
	// endpoint (AliasTarget, the origin's port, no SvcParams) after
	// Records.
	AliasTarget string
	// Records are the compatible ServiceMode records (§8), by ascending
	// SvcPriority.
	Records []HTTPSRecord
	// TTL is the smallest TTL of the records used, CNAMEs and AliasMode
	// records included: how long the result may be used.
	TTL time.Duration
}

// HTTPSRecord is one ServiceMode HTTPS record, ready to connect with.
type HTTPSRecord struct {
	Owner  string // the owner name the record was found at
	Target string // the effective TargetName: Owner when the record says "." (§2.5.2)
	Port   int    // the "port" SvcParam, else the origin's port (§7.2)
	SVCB   SVCB   // the record as published
}

// DefaultALPN is the default ALPN set of the https scheme (RFC 9460 §9).
const DefaultALPN = "http/1.1"

// ALPNs returns the SVCB ALPN set (RFC 9460 §7.1.1): the "alpn" ids, then
// "http/1.1" unless "no-default-alpn" is present.
func (r *HTTPSRecord) ALPNs() []string {
	ids := append([]string(nil), r.SVCB.ALPN...)
	if !r.SVCB.NoDefaultALPN {
		ids = append(ids, DefaultALPN)
	}
	return ids
}

// SupportsH3 reports whether the record's ALPN set lists "h3".
func (r *HTTPSRecord) SupportsH3() bool {
	for _, id := range r.SVCB.ALPN {
		if id == "h3" {
			return true
		}
	}
	return false
}

// Hints returns the ipv6hint then the ipv4hint addresses (RFC 9460 §7.3).
func (r *HTTPSRecord) Hints() []netip.Addr {
	return append(append([]netip.Addr(nil), r.SVCB.IPv6Hint...), r.SVCB.IPv4Hint...)
}

// SupportsH3 reports whether any record offers HTTP/3.
func (r *HTTPSResult) SupportsH3() bool {
	for i := range r.Records {
		if r.Records[i].SupportsH3() {
			return true
		}
	}
	return false
}
