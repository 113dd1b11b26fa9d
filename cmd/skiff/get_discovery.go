package main

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/skiffnet/skiff/h3"
)

// chooseRoundTripper is the one place that decides which protocols carry
// the requests: h3.Transport, the discovery transport, in the mode that
// matches curl's flag, with tcp as its TCP side. --http1.1 and --http2
// are its TCP-only mode with net/http limited to those protocols.
func chooseRoundTripper(mode protoMode, tcp *http.Transport, q *h3.Transport) http.RoundTripper {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(mode != protoHTTP1)
	tcp.Protocols = &p
	q.TCP = tcp
	switch mode {
	case protoHTTP1, protoHTTP2:
		q.Mode = h3.ModeTCP
	case protoHTTP3:
		q.Mode = h3.ModeRace
	case protoHTTP3Only:
		q.Mode = h3.ModeHTTP3Only
	default:
		q.Mode = h3.ModeAuto
	}
	return q
}

// discoveryTrace reports the discovery transport's decisions on the
// timeline: what was learned, the race and its winner, broken
// alternatives, replays.
func (h *hop) discoveryTrace() *h3.ClientTrace {
	return &h3.ClientTrace{
		AltSvcLearned: func(i h3.AltSvcLearnedInfo) {
			alts := make([]string, len(i.Alternatives))
			for k, a := range i.Alternatives {
				alts[k] = fmt.Sprintf("%s at %s until %s", a.Protocol, a.Addr(i.Origin), a.Expires.UTC().Format(time.RFC3339))
			}
			from := i.Source
			if i.Proto != "" {
				from += " over " + strings.TrimSuffix(i.Proto, ".0")
			}
			h.tl.infof("Alt-Svc learned for %s (%s): %s", i.Origin, from, strings.Join(alts, ", "))
		},
		AltSvcCleared: func(i h3.AltSvcClearedInfo) {
			h.tl.infof("Alt-Svc cleared for %s: %s", i.Origin, i.Reason)
		},
		HTTPSRecord: func(i h3.HTTPSRecordInfo) {
			if i.Err != nil {
				h.tl.infof("HTTPS record for %s: none (%v)", i.Origin, i.Err)
				return
			}
			h.tl.infof("HTTPS record for %s: priority %d, target %s, port %d, alpn %s, hints %v, TTL %v; HTTP/3 first: %v",
				i.Origin, i.Priority, i.Target, i.Port, strings.Join(i.ALPN, ","), i.Hints, i.TTL, i.HTTP3)
		},
		RaceStarted: func(i h3.RaceStartedInfo) {
			h.raced.Store(true)
			if i.Protocol == "h3" {
				h.tl.infof("Race: QUIC to %s starts; TCP waits %v", i.Addr, i.HeadStart)
				return
			}
			h.tl.infof("Race: TCP to %s starts: %s", i.Addr, i.Reason)
		},
		RaceWon: func(i h3.RaceWonInfo) {
			name := "HTTP/3 (QUIC to " + i.Addr + ")"
			if i.Protocol != "h3" {
				name = "TCP"
			}
			verb := "chosen"
			if h.raced.Load() {
				verb = "won the race"
			}
			h.tl.infof("%s %s after %.3f ms: %s", name, verb, float64(i.Elapsed.Microseconds())/1000, i.Reason)
		},
		QUICHandshakeDone: func(i h3.QUICHandshakeInfo) {
			if i.Err != nil {
				h.tl.infof("QUIC handshake with %s failed after %.3f ms: %v", i.Addr, float64(i.Duration.Microseconds())/1000, i.Err)
				return
			}
			h.quicConnected(i)
		},
		AlternativeBroken: func(i h3.AlternativeBrokenInfo) {
			h.tl.infof("Alternative %s of %s marked broken until %s (failure %d): %v",
				i.Addr, i.Origin, i.Until.UTC().Format(time.RFC3339), i.Failures, i.Err)
		},
		RequestReplayed: func(i h3.RequestReplayedInfo) {
			h.tl.infof("%s replayed over TCP after HTTP/3 failed before any response: %v", i.Method, i.Err)
		},
	}
}

// quicConnected reports a QUIC connection that completed its handshake.
// TLS 1.3 is the only version QUIC uses (RFC 9001 §4.2); the cipher suite
// and key exchange group come from quic.Conn's ConnectionState.
func (h *hop) quicConnected(i h3.QUICHandshakeInfo) {
	h.st.mark(&h.st.connect)
	h.st.mark(&h.st.appconnect)
	h.st.setRemote(i.RemoteAddr.String())
	cs := i.TLS
	suite := "cipher suite and group unknown"
	if cs.CipherSuite != 0 {
		suite = fmt.Sprintf("%s, key exchange %v", tls.CipherSuiteName(cs.CipherSuite), tls.CurveID(cs.Group))
	}
	h.tl.infof("QUIC handshake with %v done in %.3f ms: TLS 1.3, %s, ALPN %s", i.RemoteAddr,
		float64(i.Duration.Microseconds())/1000, suite, cs.NegotiatedProtocol)
	if len(cs.PeerCertificates) > 0 {
		h.tl.infof("Server certificate: %s", describeCert(cs.PeerCertificates[0]))
	}
}
