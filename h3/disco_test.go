package h3

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/skiffnet/skiff/internal/selfsigned"
)

// Auto mode over a real HTTP/2 (and HTTP/1.1) origin: the first request
// goes over TCP and learns Alt-Svc, the second goes over HTTP/3 to the
// alternative (another port) with Alt-Used naming it.
func TestAutoSwitchesToHTTP3(t *testing.T) {
	for _, http1 := range []bool{false, true} {
		t.Run(fmt.Sprintf("http1=%v", http1), func(t *testing.T) {
			ctx := testContext(t)
			e := newDiscoEnv(t, discoOptions{http1: http1})
			e.advertise("")
			tcpProto := "HTTP/2.0"
			if http1 {
				tcpProto = "HTTP/1.1"
			}
			e.mustGet(ctx, "/1", tcpProto)
			if e.events.count("learned") != 1 {
				t.Fatalf("Alt-Svc not learned: %s", e.events.String())
			}
			e.mustGet(ctx, "/2", "HTTP/3.0")
			want := fmt.Sprintf("127.0.0.1:%d", e.h3Addr.Port())
			if got := e.altUsed.Load(); got == nil || *got != want {
				t.Fatalf("Alt-Used %v, want %q", got, want)
			}
			e.mustGet(ctx, "/3", "HTTP/3.0")
			if n := e.dials.Load(); n != 1 {
				t.Fatalf("%d QUIC dials, want 1", n)
			}
			if e.tcpReqs.Load() != 1 || e.h3Reqs.Load() != 2 {
				t.Fatalf("server saw %d TCP and %d HTTP/3 requests, want 1 and 2", e.tcpReqs.Load(), e.h3Reqs.Load())
			}
		})
	}
}

// "clear" over HTTP/3 sends the next request back to TCP; a header
// advertising h3 again brings HTTP/3 back.
func TestAltSvcClear(t *testing.T) {
	ctx := testContext(t)
	e := newDiscoEnv(t, discoOptions{})
	e.advertise("")
	e.mustGet(ctx, "/1", "HTTP/2.0")
	e.mustGet(ctx, "/2", "HTTP/3.0")
	e.setAltSvc("clear")
	e.mustGet(ctx, "/3", "HTTP/3.0") // carries the clear
	e.mustGet(ctx, "/4", "HTTP/2.0")
	if e.events.count("cleared") != 1 {
		t.Fatalf("no clear event: %s", e.events.String())
	}
	e.advertise("")
	e.mustGet(ctx, "/5", "HTTP/2.0") // learns again
	e.mustGet(ctx, "/6", "HTTP/3.0")
}

// An alternative stops being used when its "ma" runs out, counted from the
// response's Age; a header without h3 alternatives replaces the cached ones.
func TestAltSvcMaxAge(t *testing.T) {
	ctx := testContext(t)
	e := newDiscoEnv(t, discoOptions{})
	e.advertise("; ma=60")
	e.mustGet(ctx, "/1", "HTTP/2.0")
	e.setAltSvc("")
	e.clock.Advance(59 * time.Second)
	e.mustGet(ctx, "/2", "HTTP/3.0")
	e.clock.Advance(2 * time.Second)
	e.mustGet(ctx, "/3", "HTTP/2.0")

	// ma=60 on a response 50 s old: fresh for 10 s more.
	e.setHandler(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Age", "50")
	})
	e.advertise("; ma=60")
	e.mustGet(ctx, "/4", "HTTP/2.0")
	e.setAltSvc("")
	e.clock.Advance(9 * time.Second)
	e.mustGet(ctx, "/5", "HTTP/3.0")
	e.clock.Advance(2 * time.Second)
	e.mustGet(ctx, "/6", "HTTP/2.0")

	// Alt-Svc listing only h2 replaces the h3 alternative.
	e.handler.Store(nil)
	e.advertise("")
	e.mustGet(ctx, "/7", "HTTP/2.0")
	e.mustGet(ctx, "/8", "HTTP/3.0")
	e.setAltSvc(`h2=":443"`)
	e.mustGet(ctx, "/9", "HTTP/3.0")
	e.mustGet(ctx, "/10", "HTTP/2.0")
	// A value that does not parse changes nothing.
	e.advertise("")
	e.mustGet(ctx, "/11", "HTTP/2.0")
	e.setAltSvc(`h3=":bad`)
	e.mustGet(ctx, "/12", "HTTP/3.0")
	e.mustGet(ctx, "/13", "HTTP/3.0")
}

// An alternative on another host: the request carries the origin's
// authority and Alt-Used names the alternative; the certificate is checked
// against the origin.
func TestAltSvcOtherHost(t *testing.T) {
	ctx := testContext(t)
	e := newDiscoEnv(t, discoOptions{resolver: newHostsResolver(map[string]string{"alt.test": "127.0.0.1"})})
	e.setAltSvc(fmt.Sprintf(`h3="alt.test:%d"`, e.h3Addr.Port()))
	e.mustGet(ctx, "/1", "HTTP/2.0")
	proto, body, err := e.get(ctx, "/2")
	if err != nil || proto != "HTTP/3.0" {
		t.Fatalf("GET /2: %v over %s; events %s", err, proto, e.events.String())
	}
	if want := "HTTP/3.0 " + e.tcpAddr.String(); body != want {
		t.Fatalf("server saw %q, want the origin's authority (%q)", body, want)
	}
	if got := e.altUsed.Load(); got == nil || *got != fmt.Sprintf("alt.test:%d", e.h3Addr.Port()) {
		t.Fatalf("Alt-Used %v", got)
	}
}

// An alternative whose certificate is not valid for the origin is refused
// (RFC 7838 §2.1): the request goes over TCP, the alternative is marked
// broken and not tried again until the mark expires.
func TestAltSvcCertificateNotForOrigin(t *testing.T) {
	ctx := testContext(t)
	other, _, err := selfsigned.New("other.test")
	if err != nil {
		t.Fatal(err)
	}
	e := newDiscoEnv(t, discoOptions{h3Cert: &other})
	e.advertise("")
	e.mustGet(ctx, "/1", "HTTP/2.0")
	e.mustGet(ctx, "/2", "HTTP/2.0")
	if e.events.count("broken") != 1 {
		t.Fatalf("alternative not marked broken: %s", e.events.String())
	}
	dials := e.dials.Load()
	e.mustGet(ctx, "/3", "HTTP/2.0")
	if e.dials.Load() != dials {
		t.Fatal("a broken alternative was dialed again")
	}
	if e.h3Reqs.Load() != 0 {
		t.Fatalf("%d requests reached the HTTP/3 server", e.h3Reqs.Load())
	}
	e.clock.Advance(brokenInitial + time.Second)
	e.mustGet(ctx, "/4", "HTTP/2.0")
	if e.dials.Load() == dials {
		t.Fatal("the alternative was not tried again after its mark expired")
	}
}

// ModeTCP never uses HTTP/3; ModeRace uses it from the first request on
// the origin's own port; ModeHTTP3Only never uses TCP.
func TestModes(t *testing.T) {
	ctx := testContext(t)
	t.Run("tcp", func(t *testing.T) {
		e := newDiscoEnv(t, discoOptions{}, func(tr *Transport) { tr.Mode = ModeTCP })
		e.advertise("")
		e.mustGet(ctx, "/1", "HTTP/2.0")
		e.mustGet(ctx, "/2", "HTTP/2.0")
		if e.dials.Load() != 0 {
			t.Fatal("ModeTCP dialed QUIC")
		}
	})
	t.Run("race", func(t *testing.T) {
		e := newDiscoEnv(t, discoOptions{samePort: true}, func(tr *Transport) {
			tr.Mode = ModeRace
			tr.HeadStart = 10 * time.Second // deterministic: QUIC wins on loopback
		})
		e.mustGet(ctx, "/1", "HTTP/3.0")
		if got := e.altUsed.Load(); got == nil || *got != "" {
			t.Fatalf("Alt-Used %v on a direct HTTP/3 request", got)
		}
	})
	t.Run("h3only", func(t *testing.T) {
		e := newDiscoEnv(t, discoOptions{samePort: true}, func(tr *Transport) { tr.Mode = ModeHTTP3Only })
		e.mustGet(ctx, "/1", "HTTP/3.0")
		e.h3Srv.Close()
		e.h3ln.Close()
		if proto, _, err := e.get(ctx, "/2"); err == nil {
			t.Fatalf("ModeHTTP3Only fell back to %s", proto)
		}
	})
}

// The trace reports each decision of a switch to HTTP/3, and the QUIC
// handshake with what TLS negotiated.
func TestTraceReportsHandshake(t *testing.T) {
	ctx := testContext(t)
	e := newDiscoEnv(t, discoOptions{})
	var hs []QUICHandshakeInfo
	var won []RaceWonInfo
	reqTrace := &ClientTrace{
		QUICHandshakeDone: func(i QUICHandshakeInfo) { hs = append(hs, i) },
		RaceWon:           func(i RaceWonInfo) { won = append(won, i) },
	}
	ctx = WithClientTrace(ctx, reqTrace)
	e.advertise("")
	e.mustGet(ctx, "/1", "HTTP/2.0")
	e.mustGet(ctx, "/2", "HTTP/3.0")
	if len(hs) != 1 || hs[0].Err != nil {
		t.Fatalf("handshake events %+v", hs)
	}
	st := hs[0].TLS
	if st.Version != 0x0304 || st.CipherSuite == 0 || st.Group == 0 || st.NegotiatedProtocol != "h3" ||
		len(st.PeerCertificates) == 0 || !st.HandshakeComplete || hs[0].RemoteAddr != e.h3Addr {
		t.Fatalf("handshake state %+v", st)
	}
	if len(won) != 2 || won[0].Protocol != "tcp" || won[1].Protocol != "h3" || won[1].Reason != "quic handshake first" {
		t.Fatalf("race outcomes %+v", won)
	}
	// The Transport's trace saw them too.
	if e.events.count("handshake") != 1 || e.events.count("won") != 2 {
		t.Fatalf("Transport trace: %s", e.events.String())
	}
}
