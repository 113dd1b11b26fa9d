package h3

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skiffnet/skiff/h3/internal/altsvc"
)

// chooseRoute picks where req may go over HTTP/3 in ModeAuto and
// ModeRace: the origin's first fresh h3 alternative that is not broken
// (Alt-Svc), else in ModeAuto the first h3 endpoint of its HTTPS records,
// else in ModeRace the origin's own host and port. ok false means TCP
// only, why says why. tcp holds addresses resolved while waiting for an
// HTTPS answer, for the TCP side.
func (t *Transport) chooseRoute(ctx context.Context, origin Origin, tr *ClientTrace) (rt route, why string, tcp []tcpAddr, ok bool) {
	now := t.now()
	var cands []route
	for _, a := range t.altSvc.Alternatives(origin, now) {
		if a.Protocol == NextProtoH3 {
			cands = append(cands, route{origin: origin, addr: a.Addr(origin), alt: true})
		}
	}
	if len(cands) == 0 && t.Mode == ModeAuto && !t.DisableHTTPSRecords {
		cands, tcp = t.httpsRoutes(ctx, origin, tr)
	}
	if t.Mode == ModeRace {
		cands = append(cands, route{origin: origin, addr: origin.Authority()})
	}
	if len(cands) == 0 {
		return route{}, "no alternative", tcp, false
	}
	for _, c := range cands {
		until := t.alts.brokenUntil(c, now)
		if until.IsZero() {
			return c, "", tcp, true
		}
		why = "alternative " + c.addr + " broken until " + until.UTC().Format(time.RFC3339)
	}
	return route{}, why, tcp, false
}

// learnAltSvc updates the origin's alternatives from a response's Alt-Svc
// field (RFC 7838 §3): the value replaces what was known; only h3
// alternatives are kept; "clear" removes them all; a value that does not
// parse changes nothing. Only a response from the origin itself, or from
// an alternative for it, gets here, and only over a secure connection
// (RFC 7838 §2.1: https origins only).
func (t *Transport) learnAltSvc(origin Origin, resp *http.Response, tr *ClientTrace) {
	lines := resp.Header.Values("Alt-Svc")
	if len(lines) == 0 {
		return
	}
	entries, clearAll, err := altsvc.Parse(strings.Join(lines, ","))
	if err != nil {
		return // RFC 7838 §3: ignore what does not parse
	}
	now := t.now()
	old := t.altSvc.Alternatives(origin, now)
	if clearAll {
		if len(old) > 0 {
			t.altSvc.SetAlternatives(origin, nil)
			tr.altSvcCleared(AltSvcClearedInfo{Origin: origin, Reason: "clear"})
		}
		return
	}
	// RFC 7838 §3.1: freshness runs from when the response was generated,
	// which Age says was that many seconds ago.
	age := responseAge(resp)
	src := sourceALPN(resp)
	var alts []Alternative
	for _, e := range altsvc.H3(entries) {
		if e.MaxAge <= age {
			continue
		}
		host := strings.ToLower(e.Host)
		if host == origin.Host {
			host = ""
		}
		alts = append(alts, Alternative{
			Protocol: e.Protocol, Host: host, Port: int(e.Port),
			Expires: now.Add(e.MaxAge - age), Persist: e.Persist, Source: src,
		})
	}
	if len(alts) == 0 {
		if len(old) > 0 {
			t.altSvc.SetAlternatives(origin, nil)
			tr.altSvcCleared(AltSvcClearedInfo{Origin: origin, Reason: "no h3 alternative"})
		}
		return
	}
	t.altSvc.SetAlternatives(origin, alts)
	if !sameAlternatives(old, alts) {
		tr.altSvcLearned(AltSvcLearnedInfo{Origin: origin, Alternatives: alts, Source: "alt-svc", Proto: resp.Proto})
	}
}

// sameAlternatives reports whether a and b list the same alternatives,
// whatever their expiry.
func sameAlternatives(a, b []Alternative) bool {
	return slices.EqualFunc(a, b, func(x, y Alternative) bool {
		return x.Protocol == y.Protocol && x.Host == y.Host && x.Port == y.Port && x.Persist == y.Persist
	})
}

// responseAge returns the response's Age (RFC 9111 §5.1), 0 when absent
// or invalid.
func responseAge(resp *http.Response) time.Duration {
	v := resp.Header.Get("Age")
	if v == "" {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	if err != nil {
		return 0
	}
	return time.Duration(n) * time.Second
}

// sourceALPN names the protocol a response came over as curl's alt-svc
// file does.
func sourceALPN(resp *http.Response) string {
	switch resp.ProtoMajor {
	case 3:
		return "h3"
	case 2:
		return "h2"
	}
	return "h1"
}
