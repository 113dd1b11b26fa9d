package h3

import (
	"context"
	"net/netip"
	"time"

	"github.com/skiffnet/skiff/tls13"
)

// ClientTrace reports the decisions a Transport makes about where a
// request goes, in the style of net/http/httptrace: every field is
// optional, and a hook runs on the goroutine that made the decision, so it
// must be quick and must not block. A trace is attached to a request's
// context with WithClientTrace; Transport.Trace receives the events of
// every request (both are called when both are set). The events of
// httptrace.ClientTrace (DNS, connections, first response byte) still go to
// an httptrace.ClientTrace in the same context, over TCP and, where they
// apply, over HTTP/3.
type ClientTrace struct {
	// AltSvcLearned: an origin advertised alternatives that were stored
	// (Alt-Svc, RFC 7838; only "h3" alternatives are kept).
	AltSvcLearned func(AltSvcLearnedInfo)
	// AltSvcCleared: an origin's alternatives were dropped ("clear", a
	// header without h3 alternatives, or NetworkChanged).
	AltSvcCleared func(AltSvcClearedInfo)
	// HTTPSRecord: the HTTPS DNS record (RFC 9460) chosen for an origin's
	// first request, or the lookup's failure.
	HTTPSRecord func(HTTPSRecordInfo)
	// RaceStarted: a request's connection race began (QUIC first, TCP after
	// HeadStart), or TCP started because QUIC failed or its head start
	// ran out.
	RaceStarted func(RaceStartedInfo)
	// RaceWon: which protocol carries the request, and why.
	RaceWon func(RaceWonInfo)
	// QUICHandshakeDone: a QUIC connection for HTTP/3 finished (or failed)
	// its handshake.
	QUICHandshakeDone func(QUICHandshakeInfo)
	// AlternativeBroken: an alternative failed where TCP worked and will
	// not be tried before Until.
	AlternativeBroken func(AlternativeBrokenInfo)
	// RequestReplayed: a request that failed on HTTP/3 before any response
	// byte is sent again over TCP.
	RequestReplayed func(RequestReplayedInfo)
}

// AltSvcLearnedInfo describes alternatives stored for an origin.
type AltSvcLearnedInfo struct {
	Origin       Origin
	Alternatives []Alternative
	// Source is where they came from: "alt-svc" (a response header over
	// Proto) or "https-rr" (an HTTPS DNS record).
	Source string
	Proto  string // the response's protocol, "HTTP/2.0" etc.; "" for DNS
}

// AltSvcClearedInfo describes alternatives dropped.
type AltSvcClearedInfo struct {
	Origin Origin // zero for a NetworkChanged that cleared every origin
	Reason string // "clear", "no h3 alternative", "network changed"
}

// HTTPSRecordInfo describes the HTTPS record used for an origin.
type HTTPSRecordInfo struct {
	Origin Origin
	// Target and Port are where the record points (the origin's host and
	// port when it says so); ALPN its protocols; Hints its ipv6hint and
	// ipv4hint addresses; TTL how long the answer is used.
	Target   string
	Port     int
	ALPN     []string
	Hints    []netip.Addr
	Priority uint16
	TTL      time.Duration
	// HTTP3 is true when the record offers h3 and the request will race
	// QUIC against TCP because of it.
	HTTP3 bool
	// Err is the lookup's failure (the request then goes over TCP).
	Err error
}

// RaceStartedInfo describes one side of a race starting.
type RaceStartedInfo struct {
	Origin Origin
	// Protocol is the side that starts: "h3" or "tcp".
	Protocol string
	// Addr is the alternative's "host:port" (h3), or the origin's (tcp).
	Addr string
	// HeadStart is how long TCP waits for QUIC (for "h3"), and Reason why
	// TCP starts (for "tcp"): "head start elapsed" or "quic failed: …".
	HeadStart time.Duration
	Reason    string
}

// RaceWonInfo says which protocol carries a request.
type RaceWonInfo struct {
	Origin   Origin
	Protocol string // "h3" or "tcp"
	Addr     string // the alternative used for h3
	// Reason: "quic handshake first", "pooled quic connection",
	// "coalesced onto the connection of …", "tcp connection first",
	// "quic still connecting after a head start ran out", "no
	// alternative", "alternative … broken until …".
	Reason  string
	Elapsed time.Duration // since the request reached the Transport
}

// QUICHandshakeInfo describes a finished QUIC handshake.
type QUICHandshakeInfo struct {
	Origin     Origin
	Addr       string         // the address dialed
	RemoteAddr netip.AddrPort // the address it connected to
	Duration   time.Duration
	// TLS is what the handshake negotiated: version, cipher suite, key
	// exchange group, ALPN ("h3"), server name, certificates, resumption.
	TLS tls13.ConnectionState
	Err error // nil on success
}

// AlternativeBrokenInfo describes an alternative marked broken.
type AlternativeBrokenInfo struct {
	Origin   Origin
	Addr     string
	Until    time.Time
	Failures int // consecutive failures, 1 for the first
	Err      error
}

// RequestReplayedInfo describes a request sent again over TCP.
type RequestReplayedInfo struct {
	Origin Origin
	Method string
	Err    error // the HTTP/3 failure
}

type clientTraceKey struct{}

// WithClientTrace returns a context whose requests report to trace, in
// addition to any trace the parent context holds.
func WithClientTrace(ctx context.Context, trace *ClientTrace) context.Context {
	if old := ContextClientTrace(ctx); old != nil {
		trace = composeTraces(trace, old)
	}
	return context.WithValue(ctx, clientTraceKey{}, trace)
}

// ContextClientTrace returns the ClientTrace of ctx, or nil.
func ContextClientTrace(ctx context.Context) *ClientTrace {
	t, _ := ctx.Value(clientTraceKey{}).(*ClientTrace)
	return t
}

// composeTraces returns a trace calling a's hooks, then b's.
func composeTraces(a, b *ClientTrace) *ClientTrace {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return &ClientTrace{
		AltSvcLearned:     both(a.AltSvcLearned, b.AltSvcLearned),
		AltSvcCleared:     both(a.AltSvcCleared, b.AltSvcCleared),
		HTTPSRecord:       both(a.HTTPSRecord, b.HTTPSRecord),
		RaceStarted:       both(a.RaceStarted, b.RaceStarted),
		RaceWon:           both(a.RaceWon, b.RaceWon),
		QUICHandshakeDone: both(a.QUICHandshakeDone, b.QUICHandshakeDone),
		AlternativeBroken: both(a.AlternativeBroken, b.AlternativeBroken),
		RequestReplayed:   both(a.RequestReplayed, b.RequestReplayed),
	}
}

func both[T any](f, g func(T)) func(T) {
	switch {
	case f == nil:
		return g
	case g == nil:
		return f
	}
	return func(v T) { f(v); g(v) }
}

// traceFor returns the trace a request reports to: its context's and the
// Transport's.
func (t *Transport) traceFor(ctx context.Context) *ClientTrace {
	return composeTraces(ContextClientTrace(ctx), t.Trace)
}

// The hooks, called only when set.

func (ct *ClientTrace) altSvcLearned(i AltSvcLearnedInfo) {
	if ct != nil && ct.AltSvcLearned != nil {
		ct.AltSvcLearned(i)
	}
}

func (ct *ClientTrace) altSvcCleared(i AltSvcClearedInfo) {
	if ct != nil && ct.AltSvcCleared != nil {
		ct.AltSvcCleared(i)
	}
}

func (ct *ClientTrace) httpsRecord(i HTTPSRecordInfo) {
	if ct != nil && ct.HTTPSRecord != nil {
		ct.HTTPSRecord(i)
	}
}

func (ct *ClientTrace) raceStarted(i RaceStartedInfo) {
	if ct != nil && ct.RaceStarted != nil {
		ct.RaceStarted(i)
	}
}

func (ct *ClientTrace) raceWon(i RaceWonInfo) {
	if ct != nil && ct.RaceWon != nil {
		ct.RaceWon(i)
	}
}

func (ct *ClientTrace) quicHandshakeDone(i QUICHandshakeInfo) {
	if ct != nil && ct.QUICHandshakeDone != nil {
		ct.QUICHandshakeDone(i)
	}
}

func (ct *ClientTrace) alternativeBroken(i AlternativeBrokenInfo) {
	if ct != nil && ct.AlternativeBroken != nil {
		ct.AlternativeBroken(i)
	}
}

func (ct *ClientTrace) requestReplayed(i RequestReplayedInfo) {
	if ct != nil && ct.RequestReplayed != nil {
		ct.RequestReplayed(i)
	}
}
