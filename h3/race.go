package h3

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// Racing QUIC against TCP (draft-ietf-happy-happyeyeballs-v3-04 §7 for
// protocols; Chromium's figures). QUIC starts first; TCP starts after a
// head start (HeadStart, else 1.5 × the route's smoothed RTT within
// [50 ms, 2 s], else 300 ms) or at once when QUIC fails. The request goes
// over whichever has a connection first: QUIC when its handshake
// completes, TCP when net/http hands the request a connection (see
// tcpGate). The loser is not wasted: a QUIC connection that completes
// later stays in the pool for the next requests, and a TCP dial that
// completes later stays in net/http's pool. While a dial that lost a race
// is still in progress, requests along its route go straight to TCP rather
// than wait again.

type raceSide int

const (
	sideNone raceSide = iota
	sideH3
	sideTCP
)

// race decides which side carries one request.
type race struct {
	mu  sync.Mutex
	won raceSide
	// onTCPWin runs when TCP claims the request (for the trace).
	onTCPWin func()
}

// claim gives the request to side s unless the other side has it, and
// reports whether s has it.
func (r *race) claim(s raceSide) bool {
	r.mu.Lock()
	first := r.won == sideNone
	if first {
		r.won = s
	}
	ok := r.won == s
	r.mu.Unlock()
	if first && s == sideTCP && r.onTCPWin != nil {
		r.onTCPWin()
	}
	return ok
}

func (r *race) winner() raceSide {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.won
}

type tcpResult struct {
	resp *http.Response
	err  error
}

// roundTripDiscover sends req in ModeAuto or ModeRace.
func (t *Transport) roundTripDiscover(req *http.Request, origin Origin) (*http.Response, error) {
	ctx := req.Context()
	tr := t.traceFor(ctx)
	began := time.Now()
	rt, why, tcpAddrs, ok := t.chooseRoute(ctx, origin, tr)
	if !ok {
		tr.raceWon(RaceWonInfo{Origin: origin, Protocol: "tcp", Reason: why, Elapsed: time.Since(began)})
		if len(tcpAddrs) > 0 {
			req = req.WithContext(withTCPAddrs(ctx, tcpAddrs))
		}
		return t.roundTripTCP(req, origin, tr)
	}
	if cc := t.h3c.pool.pooled(rt); cc != nil {
		tr.raceWon(RaceWonInfo{Origin: origin, Protocol: "h3", Addr: rt.addr, Reason: "pooled quic connection", Elapsed: time.Since(began)})
		return t.sendH3(req, rt, cc, tr)
	}
	if t.alts.isSlow(rt) {
		tr.raceWon(RaceWonInfo{Origin: origin, Protocol: "tcp", Addr: rt.addr, Reason: "quic still connecting after a head start ran out", Elapsed: time.Since(began)})
		return t.roundTripTCP(req, origin, tr)
	}
	return t.race(req, rt, tcpAddrs, tr, began)
}

// race runs QUIC along rt against TCP for req.
func (t *Transport) race(req *http.Request, rt route, tcpAddrs []tcpAddr, tr *ClientTrace, began time.Time) (*http.Response, error) {
	ctx := req.Context()
	origin := rt.origin
	cc, call, err := t.h3c.pool.start(ctx, rt)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if cc != nil {
		tr.raceWon(RaceWonInfo{Origin: origin, Protocol: "h3", Addr: rt.addr, Reason: "pooled quic connection", Elapsed: time.Since(began)})
		return t.sendH3(req, rt, cc, tr)
	}
	// The request waits for the dial until it returns; a request whose
	// context ends cancels the dial unless another waits for it, while a
	// dial that lost to TCP goes on for the next requests (connPool).
	gaveUp := false
	defer func() { t.h3c.pool.leave(call, gaveUp) }()
	headStart := t.HeadStart
	if headStart <= 0 {
		headStart = t.alts.headStart(rt)
	}
	tr.raceStarted(RaceStartedInfo{Origin: origin, Protocol: "h3", Addr: rt.addr, HeadStart: headStart})
	timer := time.NewTimer(headStart)
	defer timer.Stop()

	r := &race{}
	r.onTCPWin = func() {
		tr.raceWon(RaceWonInfo{Origin: origin, Protocol: "tcp", Addr: rt.addr, Reason: "tcp connection first", Elapsed: time.Since(began)})
	}
	var (
		tcpDone    chan tcpResult
		tcpCancel  context.CancelFunc
		tcpErr     error
		tcpStarted bool
		quicErr    error
	)
	startTCP := func(reason string) {
		tcpStarted = true
		tr.raceStarted(RaceStartedInfo{Origin: origin, Protocol: "tcp", Addr: origin.Authority(), Reason: reason})
		var tcpCtx context.Context
		tcpCtx, tcpCancel = context.WithCancel(withTCPAddrs(ctx, tcpAddrs))
		tcpReq := withTCPPriority(req.Clone(tcpCtx))
		tcpReq = tcpReq.WithContext(httptrace.WithClientTrace(tcpCtx, tcpGate(r, tcpReq)))
		if req.Body != nil && req.Body != http.NoBody {
			tcpReq.Body = &gatedBody{r: r, body: req.Body}
		}
		tcpDone = make(chan tcpResult, 1)
		go func() {
			resp, err := t.tcp.RoundTrip(tcpReq)
			tcpDone <- tcpResult{resp, err}
		}()
	}
	// abandonTCP stops a TCP attempt that lost, and discards its outcome.
	abandonTCP := func() {
		if tcpDone == nil {
			return
		}
		tcpCancel()
		go func(c chan tcpResult) {
			if res := <-c; res.resp != nil {
				res.resp.Body.Close()
			}
		}(tcpDone)
	}
	defer func() {
		if tcpCancel != nil && r.winner() != sideTCP {
			tcpCancel()
		}
	}()

	dialDone := call.done
	for {
		select {
		case <-dialDone:
			dialDone = nil
			if call.err != nil {
				quicErr = call.err
				if !tcpStarted {
					startTCP("quic failed: " + call.err.Error())
				} else if tcpDone == nil {
					// TCP failed before getting a connection: both did.
					closeBody(req)
					return nil, tcpErr
				}
				continue
			}
			if r.claim(sideH3) {
				abandonTCP()
				reason := "quic handshake first"
				if len(call.cc.keys) > 0 && call.cc.keys[0] != rt.poolKey() {
					reason = "coalesced onto the connection of " + call.cc.keys[0].String()
				}
				tr.raceWon(RaceWonInfo{Origin: origin, Protocol: "h3", Addr: rt.addr, Reason: reason, Elapsed: time.Since(began)})
				t.watchEarly(call.cc, max(3*headStart, minEarlyWatch)) // early.go
				return t.sendH3(req, rt, call.cc, tr)
			}
			// TCP has the request; the QUIC connection stays pooled.
		case <-timer.C:
			if !tcpStarted {
				if t.h3c.pool.dialInProgress(rt) {
					t.alts.setSlow(rt, t.now(), true)
				}
				startTCP("head start elapsed")
			}
		case res := <-tcpDone:
			tcpDone = nil
			if res.err == nil {
				r.claim(sideTCP) // a response without GotConn: net/http had no connection event to give
				res.resp.Request = req
				t.afterTCP(origin, res.resp, tr)
				return res.resp, nil
			}
			if r.winner() == sideTCP || quicErr != nil {
				// It failed with the request (which may have gone out),
				// or QUIC had failed already.
				if r.winner() != sideTCP {
					closeBody(req)
				}
				return nil, res.err
			}
			tcpErr = res.err // QUIC may still make it
		case <-ctx.Done():
			gaveUp = true
			if r.winner() == sideNone {
				closeBody(req)
			}
			return nil, ctx.Err()
		}
	}
}

// sendH3 sends req over HTTP/3 on cc; a failure before any response byte
// is replayed over TCP when that is safe (replay.go).
func (t *Transport) sendH3(req *http.Request, rt route, cc *clientConn, tr *ClientTrace) (*http.Response, error) {
	resp, err := t.h3c.send(req, rt, cc)
	if err == nil {
		t.learnAltSvc(rt.origin, resp, tr)
		return resp, nil
	}
	return t.replay(req, rt, cc, err, tr)
}

// dialRoute is the pool's dial: the QUIC connection along rt, reported to
// the trace of the request that started it and to the broken marks.
func (t *Transport) dialRoute(ctx context.Context, rt route) (*clientConn, error) {
	tr := t.traceFor(ctx)
	began := time.Now()
	beganMark := t.now()
	cc, coalesced, err := t.h3c.dialConn(ctx, rt)
	if coalesced {
		return cc, nil
	}
	info := QUICHandshakeInfo{Origin: rt.origin, Addr: rt.addr, Duration: time.Since(began), Err: err}
	if err != nil {
		tr.quicHandshakeDone(info)
		if ctx.Err() != nil {
			// Canceled because no request wanted it any more: says
			// nothing about the alternative.
			return nil, err
		}
		if m, ok := t.alts.quicFailed(rt, beganMark, t.now(), err); ok {
			t.reportBroken(m, tr)
		}
		return nil, err
	}
	info.RemoteAddr = cc.qc.RemoteAddr()
	if cc.early.attempted {
		// 0-RTT: the handshake goes on; its outcome counts when known.
		go t.afterEarlyHandshake(rt, cc, info, began, beganMark, tr)
		return cc, nil
	}
	info.TLS, _ = cc.tlsInfo()
	tr.quicHandshakeDone(info)
	t.alts.quicWorked(rt, t.now(), cc.qc.Stats().SmoothedRTT)
	return cc, nil
}

// reportBroken tells the trace of an alternative just marked broken.
func (t *Transport) reportBroken(m brokenMark, tr *ClientTrace) {
	addr := m.key[len(m.origin.Authority())+1:]
	tr.alternativeBroken(AlternativeBrokenInfo{Origin: m.origin, Addr: addr, Until: m.until, Failures: m.failures, Err: m.err})
}
