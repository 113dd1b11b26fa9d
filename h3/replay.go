package h3

import (
	"errors"
	"net/http"
	"strings"
)

// Replaying over TCP. A request that fails on HTTP/3 before any response
// byte is sent once more, over TCP, when that cannot make the server act
// on it twice against the user's will:
//
//   - the server refused it unprocessed (H3_REQUEST_REJECTED, a stream at
//     or above a GOAWAY identifier, a connection already going away; RFC
//     9114 §4.1.1, §5.2): replayed when its body can be had again (none,
//     or GetBody);
//   - its connection ended (lost, reset, closed by the server) before a
//     response: the server may have acted on it, so it is replayed only
//     when its method is idempotent (RFC 9110 §9.2.2; or it carries an
//     Idempotency-Key, as net/http also allows) and its body can be had
//     again.
//
// Otherwise the request fails with a *RetryableError (errors.Is
// ErrRetryable), whose Unprocessed field says which case it was. A
// failure after the first response byte, or a stream error, is returned
// as it is.

// replay handles a request that failed on HTTP/3 on cc with err.
func (t *Transport) replay(req *http.Request, rt route, cc *clientConn, err error, tr *ClientTrace) (*http.Response, error) {
	ctx := req.Context()
	if ctx.Err() != nil {
		return nil, err
	}
	var started *respStartedError
	if errors.As(err, &started) {
		return nil, started.err
	}
	unprocessed := errors.Is(err, ErrRetryable)
	lost := !unprocessed && cc.qc.Context().Err() != nil
	if !unprocessed && !lost {
		return nil, err
	}
	if lost && !idempotent(req) {
		return nil, &RetryableError{Err: err}
	}
	req2, rerr := rewind(req)
	if rerr != nil {
		if unprocessed {
			return nil, err // a *RetryableError already
		}
		return nil, &RetryableError{Err: err}
	}
	tr.requestReplayed(RequestReplayedInfo{Origin: rt.origin, Method: req.Method, Err: err})
	return t.roundTripTCP(req2, rt.origin, tr)
}

// idempotent reports whether req may be sent twice (RFC 9110 §9.2.2).
func idempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	for k := range req.Header {
		if strings.EqualFold(k, "Idempotency-Key") || strings.EqualFold(k, "X-Idempotency-Key") {
			return true
		}
	}
	return false
}

// respStartedError marks a failure after part of the response arrived: it
// is never replayed.
type respStartedError struct{ err error }

func (e *respStartedError) Error() string { return e.err.Error() }
func (e *respStartedError) Unwrap() error { return e.err }
