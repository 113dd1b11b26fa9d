package h3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
)

// Transport is an http.RoundTripper that finds HTTP/3 and uses it where an
// origin offers it, and TCP (HTTP/1.1 or HTTP/2 through net/http)
// everywhere else:
//
//	client := &http.Client{Transport: &h3.Transport{}}
//
// In the default mode (ModeAuto) requests go over TCP until the origin
// advertises HTTP/3 in an Alt-Svc header field (RFC 7838, RFC 9114 §3.1.1)
// or an HTTPS DNS record (RFC 9460); then they go to the alternative over
// HTTP/3, with QUIC raced against TCP, and a request that fails on HTTP/3
// before any response byte is replayed over TCP when that is safe. An
// alternative that fails where TCP works is marked broken and left alone
// for 5 minutes, doubling on each further failure up to 48 hours.
// Responses say which protocol carried them: Proto "HTTP/3.0" and
// ProtoMajor 3, or what net/http reports for TCP.
//
// The zero value is ready to use. Fields must not change after the first
// request.
type Transport struct {
	// Mode selects the protocols: ModeAuto (the zero value), ModeTCP,
	// ModeRace or ModeHTTP3Only.
	Mode Mode

	// TCP carries requests over HTTP/1.1 and HTTP/2. Nil means a clone of
	// http.DefaultTransport with ForceAttemptHTTP2 (and, when DNSServer is
	// set, resolving through it).
	TCP *http.Transport

	// TLSClientConfig configures QUIC's TLS handshakes; a copy is used
	// with NextProtos set to "h3" and, when empty, ServerName set to the
	// origin's host: an alternative's certificate must be valid for the
	// origin (RFC 7838 §2.1).
	TLSClientConfig *tls13.Config
	// QUICConfig configures the QUIC connections; its TLS field is
	// replaced.
	QUICConfig *quic.Config
	// Dial, when set, opens the QUIC connection to addr ("ip:port")
	// instead of quic.Dial: tests, and layers that steer connections.
	Dial func(ctx context.Context, addr string, cfg *quic.Config) (*quic.Conn, error)
	// MaxResponseHeaderBytes bounds a response's header section over
	// HTTP/3 (RFC 9114 §4.2.2 size) and is announced as
	// SETTINGS_MAX_FIELD_SECTION_SIZE; 1 MiB when zero.
	MaxResponseHeaderBytes int64

	// AltSvc stores the alternatives learned from Alt-Svc header fields.
	// Nil means an in-memory cache of DefaultAltSvcCacheSize origins;
	// NewAltSvcFile keeps them in curl's alt-svc file format.
	AltSvc AltSvcStore
	// DNSServer is the DNS server ("ip:port", or an IP for port 53) asked
	// for HTTPS records and, for HTTP/3 and for DialTCP (the default TCP
	// transport's dialer), A and AAAA records. Empty means the nameservers
	// of /etc/resolv.conf for HTTPS records and the system resolver for
	// addresses.
	DNSServer string
	// DisableHTTPSRecords turns off HTTPS record lookups in ModeAuto.
	DisableHTTPSRecords bool
	// DisableCoalescing stops requests to one origin from using an
	// HTTP/3 connection made for another (RFC 9114 §3.3).
	DisableCoalescing bool
	// HeadStart is how long TCP waits for QUIC in a race. Zero means 1.5 ×
	// the smoothed RTT last measured to the alternative, kept within 50 ms
	// and 2 s, or 300 ms when none is known.
	HeadStart time.Duration

	// Trace receives the discovery decisions of every request (see also
	// WithClientTrace).
	Trace *ClientTrace

	// Allow0RTT decides which requests may be sent in 0-RTT, before the
	// handshake of a connection that resumes a session completes (early.go):
	// an attacker may replay them (RFC 8470). Nil means safe methods
	// without a body: GET, HEAD, OPTIONS and TRACE.
	Allow0RTT func(*http.Request) bool
	// Disable0RTT sends no request in 0-RTT; connections still resume.
	Disable0RTT bool

	initOnce sync.Once
	h3c      *h3Client
	tcp      *http.Transport
	altSvc   AltSvcStore
	alts     *altStates // broken marks, RTTs
	https    httpsCache // HTTPS record answers by origin
	resolver resolver
	// sessions and tokens keep QUIC session tickets and NEW_TOKEN tokens
	// when TLSClientConfig and QUICConfig bring no store (early.go).
	sessions tls13.ClientSessionCache
	tokens   quic.TokenStore
	// now is the clock of expiry and backoff: time.Now, or a test's.
	now func() time.Time
	// resolutionDelay overrides HEv3's Resolution Delay in tests that
	// must not depend on how the scheduler orders two DNS answers.
	resolutionDelay time.Duration
	// lastOrigin is the origin and authority of a recent request's URL
	// (originFor).
	lastOrigin   atomic.Pointer[originMemo]
	originMisses atomic.Uint32
}

// originMemo is the origin and authority of a URL's scheme and host.
type originMemo struct {
	scheme, hostport string
	origin           Origin
	authority        string
}

// originFor returns originOf(scheme, hostport) and its authorityOf: those
// of the last URL seen again when the requests go to one origin, as they
// usually do, rather than parsing and lowercasing its host for each.
// Every sixteenth miss replaces the memo, so that requests to varied
// origins cost an allocation only that often.
func (t *Transport) originFor(scheme, hostport string) (Origin, string) {
	if m := t.lastOrigin.Load(); m != nil && m.hostport == hostport && m.scheme == scheme {
		return m.origin, m.authority
	}
	o := originOf(scheme, hostport)
	a := authorityOf(o, hostport)
	if t.originMisses.Add(1)%16 == 1 {
		t.lastOrigin.Store(&originMemo{scheme: scheme, hostport: hostport, origin: o, authority: a})
	}
	return o, a
}

func (t *Transport) init() {
	t.initOnce.Do(func() {
		if t.now == nil {
			t.now = time.Now
		}
		if t.resolutionDelay == 0 {
			t.resolutionDelay = resolutionDelay
		}
		if t.resolver == nil {
			t.resolver = newResolver(t.DNSServer)
		}
		t.alts = newAltStates()
		t.sessions = tls13.NewLRUClientSessionCache(defaultSessionCacheSize)
		t.tokens = quic.NewTokenStore(defaultSessionCacheSize, 2)
		t.h3c = newH3Client(t)
		t.tcp = t.TCP
		if t.tcp == nil {
			t.tcp = t.newTCPTransport()
		}
		t.altSvc = t.AltSvc
		if t.altSvc == nil {
			t.altSvc = NewAltSvcCache(0)
		}
	})
}

// connPool returns the HTTP/3 connection pool.
func (t *Transport) connPool() *connPool {
	t.init()
	return t.h3c.pool
}

// RoundTrip sends req and returns the response, over HTTP/3 or TCP as
// Mode and what is known of the origin decide.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		closeBody(req)
		return nil, errors.New("h3: request has no URL")
	}
	if req.URL.Host == "" {
		closeBody(req)
		return nil, errors.New("h3: request URL has no host")
	}
	t.init()
	origin, authority := t.originFor(req.URL.Scheme, req.URL.Host)
	switch {
	case t.Mode == ModeHTTP3Only:
		if origin.Scheme != "https" {
			closeBody(req)
			return nil, fmt.Errorf("h3: unsupported scheme %q", req.URL.Scheme)
		}
		return t.h3c.roundTrip(req, route{origin: origin, addr: authority}, maxAttempts)
	case t.Mode == ModeTCP || origin.Scheme != "https":
		return t.tcp.RoundTrip(withTCPPriority(req))
	}
	return t.roundTripDiscover(req, origin)
}

// authorityOf is o.Authority() for the origin made from hostport, a URL's
// host: hostport itself when it is already in that form (lower case, its
// port given in decimal), so that no string is made for each request.
func authorityOf(o Origin, hostport string) string {
	h, p, err := net.SplitHostPort(hostport)
	if err == nil && h == o.Host && p != "" && p[0] >= '1' && p[0] <= '9' &&
		strings.IndexByte(h, ':') >= 0 == strings.HasPrefix(hostport, "[") {
		if n, err := strconv.Atoi(p); err == nil && n == o.Port {
			return hostport
		}
	}
	return o.Authority()
}

// CloseIdleConnections closes the HTTP/3 and TCP connections that carry no
// request. It returns once each HTTP/3 connection's CONNECTION_CLOSE is
// sent (quic.Conn.CloseWithError), so that a program may exit then and the
// servers still learn of the close.
func (t *Transport) CloseIdleConnections() {
	t.init()
	t.h3c.closeIdle()
	t.tcp.CloseIdleConnections()
}

// NetworkChanged tells the Transport that the network changed (another
// interface, address or access network): alternatives learned without
// persist=1 are forgotten (RFC 7838 §3.1) and every broken mark is cleared,
// since what failed on the old network may work on the new one.
func (t *Transport) NetworkChanged() {
	t.init()
	t.altSvc.ClearNonPersistent()
	t.alts.clearMarks()
	t.https.clear()
	t.Trace.altSvcCleared(AltSvcClearedInfo{Reason: "network changed"})
}
