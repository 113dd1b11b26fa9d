package h3

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"time"

	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/quic"
	"github.com/skiffnet/skiff/tls13"
	"github.com/skiffnet/skiff/tls13/tlsconv"
)

// Resumption and 0-RTT requests (RFC 9114 §4.2.2 and §7.2.4.2, RFC 8470).
//
// A Transport keeps the session tickets and NEW_TOKEN tokens its QUIC
// servers send (its own in-memory stores unless TLSClientConfig and
// QUICConfig bring theirs), so a second connection to a server resumes,
// without the server's certificate, and skips the Retry of a server that
// validates addresses. When the session allows 0-RTT, the connection is
// usable at once: requests that are safe to replay (GET, HEAD, OPTIONS
// and TRACE without a body, or what Allow0RTT says) go in 0-RTT packets
// with the control streams, and the answer comes a round trip earlier.
// Other requests wait for the handshake. The server's SETTINGS are kept
// with the session, and 0-RTT requests respect the remembered ones; a
// server that accepts 0-RTT and then announces smaller limits commits
// H3_SETTINGS_ERROR. A request sent in 0-RTT that the server answers with
// 425 Too Early is sent again once the handshake completes (RFC 8470
// §5.2). If the server refuses 0-RTT, QUIC sends the requests again in
// 1-RTT packets on the same streams: each is answered once.
//
// A server accepts 0-RTT when its QUICConfig sets Allow0RTT: such requests
// reach the handler before the handshake completes, with Early-Data: 1
// (RFC 8470 §5.1), since an attacker may replay them; a handler that must
// not act on a replay answers 425 Too Early.

// defaultSessionCacheSize is how many servers' tickets, and tokens, a
// Transport keeps by default.
const defaultSessionCacheSize = 256

// earlyClient is a client connection's 0-RTT state.
type earlyClient struct {
	// attempted: dialed with 0-RTT, the handshake still running at the
	// time; the TLS state is taken once the handshake completes.
	attempted bool
}

// defaultStores gives cfg the Transport's session and token stores
// where it has none.
func (t *Transport) defaultStores(cfg *quic.Config) {
	if cfg.TLS.ClientSessionCache == nil {
		cfg.TLS.ClientSessionCache = t.sessions
	}
	if cfg.TokenStore == nil {
		cfg.TokenStore = t.tokens
	}
}

// dialQUIC opens the QUIC connection to addr: Transport.Dial when set,
// else with 0-RTT when a session allows it and the Transport does.
func (c *h3Client) dialQUIC(ctx context.Context, addr string, cfg *quic.Config) (*quic.Conn, error) {
	switch {
	case c.t.Dial != nil:
		return c.t.Dial(ctx, addr, cfg)
	case c.t.Disable0RTT:
		return quic.Dial(ctx, "udp", addr, cfg)
	}
	return quic.DialEarly(ctx, "udp", addr, cfg)
}

// initEarly sets up a new client connection's TLS state and, if its
// handshake still runs (0-RTT), what completes when it ends: the TLS state
// then, the SETTINGS the session remembers meanwhile.
func (cc *clientConn) initEarly() {
	cc.c.onSettings = cc.onSettings
	if cc.handshakeComplete() {
		cc.setTLS(cc.qc.ConnectionState())
		return
	}
	cc.early.attempted = true
	if b := cc.qc.EarlySessionAppData(); b != nil {
		if s, err := frame.ParseSettings(b); err == nil {
			cc.c.remembered = &s
		}
	}
}

// handshakeComplete reports whether the connection's handshake is over.
func (cc *clientConn) handshakeComplete() bool {
	select {
	case <-cc.qc.HandshakeComplete():
		return true
	default:
		return false
	}
}

// setTLS records what the handshake negotiated, for responses and
// coalescing.
func (cc *clientConn) setTLS(st tls13.ConnectionState) {
	st.HandshakeComplete = true
	state := tlsconv.ToConnectionState(st)
	cc.mu.Lock()
	cc.tls, cc.tlsState = st, &state
	cc.mu.Unlock()
}

// tlsInfo returns what the handshake negotiated; zero and nil while a
// 0-RTT connection's handshake runs. (A response on such a connection
// comes after its handshake: the client reads 1-RTT packets only then.)
func (cc *clientConn) tlsInfo() (tls13.ConnectionState, *tls.ConnectionState) {
	cc.mu.Lock()
	st, state := cc.tls, cc.tlsState
	cc.mu.Unlock()
	if state == nil && cc.early.attempted && cc.handshakeComplete() {
		if hs := cc.qc.ConnectionState(); hs.HandshakeComplete {
			cc.setTLS(hs)
			return cc.tlsInfo()
		}
	}
	return st, state
}

// onSettings keeps the server's SETTINGS with the session for the next
// 0-RTT connection, and checks them against those 0-RTT relied on (RFC
// 9114 §7.2.4.2).
func (cc *clientConn) onSettings(s frame.Settings) error {
	cc.qc.SetSessionAppData(frame.AppendSettingsPayload(nil, &s))
	rem := cc.c.remembered
	if rem == nil || !cc.qc.ConnectionState().EarlyDataAccepted {
		return nil
	}
	if settingsReduced(rem, &s) {
		return &frame.Error{Code: frame.ErrCodeSettingsError, Reason: "server accepted 0-RTT and reduced its SETTINGS"}
	}
	return nil
}

// settingsReduced reports whether now allows less than was remembered:
// a smaller field section size (0 is unlimited) or QPACK table or
// blocked streams.
func settingsReduced(was, now *frame.Settings) bool {
	limit := func(v uint64) uint64 {
		if v == 0 {
			return ^uint64(0)
		}
		return v
	}
	return limit(now.MaxFieldSectionSize) < limit(was.MaxFieldSectionSize) ||
		now.QPACKMaxTableCapacity < was.QPACKMaxTableCapacity ||
		now.QPACKBlockedStreams < was.QPACKBlockedStreams
}

// allowEarly reports whether req may go in 0-RTT: Allow0RTT's answer, or
// by default a safe method (RFC 9110 §9.2.1) without a body, which a
// replay cannot make the server act on (RFC 9114 §4.2.2, RFC 8470 §4).
func (t *Transport) allowEarly(req *http.Request) bool {
	if t.Allow0RTT != nil {
		return t.Allow0RTT(req)
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
	default:
		return false
	}
	return (req.Body == nil || req.Body == http.NoBody) && req.ContentLength <= 0
}

// roundTripEarly sends req on cc, waiting for the handshake first when cc
// is still in 0-RTT and req may not go early; a request sent early and
// answered 425 Too Early goes again after the handshake (RFC 8470 §5.2).
func (cc *clientConn) roundTripEarly(req *http.Request, rt route, t *Transport) (*http.Response, error) {
	early := !cc.handshakeComplete()
	if early && !t.allowEarly(req) {
		if err := cc.waitHandshake(req.Context()); err != nil {
			closeBody(req)
			return nil, err
		}
		early = false
	}
	resp, err := cc.roundTrip(req, rt)
	if err != nil || !early || resp.StatusCode != http.StatusTooEarly {
		return resp, err
	}
	req2, err := rewind(req)
	if err != nil {
		return resp, nil // the 425 is the answer, then
	}
	resp.Body.Close()
	if err := cc.waitHandshake(req.Context()); err != nil {
		closeBody(req2)
		return nil, err
	}
	return cc.roundTrip(req2, rt)
}

// waitHandshake waits for cc's handshake to complete.
func (cc *clientConn) waitHandshake(ctx context.Context) error {
	select {
	case <-cc.qc.HandshakeComplete():
	case <-ctx.Done():
		return ctx.Err()
	}
	if !cc.qc.ConnectionState().HandshakeComplete {
		cc.markClosing()
		return &RetryableError{Err: errHandshakeFailed, Unprocessed: true}
	}
	return nil
}

var errHandshakeFailed = errors.New("h3: the QUIC handshake of a 0-RTT connection failed")

// minEarlyWatch is the least a race waits for a 0-RTT connection's
// handshake before it gives the request to TCP: a loaded machine may take
// that long for the key exchange alone.
const minEarlyWatch = time.Second

// watchEarly closes cc, which a race gave a request while its 0-RTT
// handshake runs, if the handshake has not completed within limit: the
// path may no longer carry UDP, and the request's failure sends it over
// TCP when that is safe (replay.go) instead of waiting for the handshake
// timeout.
func (t *Transport) watchEarly(cc *clientConn, limit time.Duration) {
	if !cc.early.attempted || cc.handshakeComplete() {
		return
	}
	go func() {
		timer := time.NewTimer(limit)
		defer timer.Stop()
		select {
		case <-cc.qc.HandshakeComplete():
		case <-timer.C:
			cc.markClosing()
			cc.qc.CloseWithError(uint64(ErrCodeNoError), "0-RTT handshake slower than TCP would be")
		}
	}()
}

// markEarly sets Early-Data: 1 on a request that arrived, at least in
// part, in 0-RTT (RFC 8470 §5.1): an attacker may have replayed it, and a
// handler that must not act on a replay answers 425 Too Early.
func markEarly(req *http.Request, str *quic.Stream) {
	if str.ReceivedEarlyData() {
		req.Header.Set("Early-Data", "1")
	}
}

// afterEarlyHandshake reports the handshake of a 0-RTT connection to the
// trace and the broken marks once it ends, as dialRoute does for others.
func (t *Transport) afterEarlyHandshake(rt route, cc *clientConn, info QUICHandshakeInfo, began time.Time, beganMark time.Time, tr *ClientTrace) {
	<-cc.qc.HandshakeComplete()
	info.Duration = time.Since(began)
	if !cc.qc.ConnectionState().HandshakeComplete {
		info.Err = errHandshakeFailed
		tr.quicHandshakeDone(info)
		if m, ok := t.alts.quicFailed(rt, beganMark, t.now(), errHandshakeFailed); ok {
			t.reportBroken(m, tr)
		}
		return
	}
	info.TLS, _ = cc.tlsInfo()
	tr.quicHandshakeDone(info)
	t.alts.quicWorked(rt, t.now(), cc.qc.Stats().SmoothedRTT)
}
