package h3

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/quic"
)

// These tests run a whole Transport on synthetic time (testing/synctest):
// its TCP side talks to an in-memory TLS server over net.Pipe, and its
// QUIC side fails at once (UDP "blocked"), so that expiry and backoff are
// stepped through in hours of fake time.

// pipeListener is a net.Listener whose connections are net.Pipe ends.
type pipeListener struct {
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	c, s := net.Pipe()
	select {
	case l.conns <- s:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// memOrigin is an https origin served in memory, sending altSvc.
type memOrigin struct {
	tr     *Transport
	dials  atomic.Int32
	events traceLog
	altSvc atomic.Pointer[string]
	broken chan AlternativeBrokenInfo
}

func newMemOrigin(t *testing.T, altSvc string) *memOrigin {
	cert, _ := discoCertificate(t)
	m := &memOrigin{broken: make(chan AlternativeBrokenInfo, 100)}
	m.altSvc.Store(&altSvc)
	l := newPipeListener()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Alt-Svc", *m.altSvc.Load())
			io.WriteString(w, r.Proto)
		}),
		TLSConfig: tlsServerConfig(cert),
		ErrorLog:  discardLog(),
	}
	go srv.ServeTLS(l, "", "")
	trace := m.events.trace()
	trace.AlternativeBroken = func(i AlternativeBrokenInfo) { m.broken <- i }
	m.tr = &Transport{
		// The synthetic clock starts in 2000, before the test certificate:
		// the TLS checks are not what these tests are about.
		TCP: &http.Transport{DialContext: l.dial, ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		Dial: func(ctx context.Context, addr string, cfg *quic.Config) (*quic.Conn, error) {
			m.dials.Add(1)
			return nil, errors.New("udp blocked")
		},
		Trace:    trace,
		resolver: newHostsResolver(map[string]string{"origin.test": "127.0.0.1"}),
	}
	t.Cleanup(func() {
		m.tr.CloseIdleConnections()
		srv.Close()
		l.Close()
	})
	return m
}

func (m *memOrigin) get(t *testing.T) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "https://origin.test/", nil)
	resp, err := m.tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("response over %s", resp.Proto)
	}
}

// An alternative that keeps failing is broken for 5 minutes, then 10, 20,
// … up to 48 hours; it is not dialed while broken and is dialed once the
// mark runs out; NetworkChanged clears the mark and its count.
func TestBrokenBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemOrigin(t, `h3=":8443"; ma=86400`)
		m.get(t) // learns
		want := brokenInitial
		for i := 1; i <= 13; i++ {
			dials := m.dials.Load()
			m.get(t)
			if m.dials.Load() != dials+1 {
				t.Fatalf("failure %d: the alternative was not dialed", i)
			}
			b := <-m.broken
			if b.Failures != i || time.Until(b.Until) != want {
				t.Fatalf("failure %d: broken %d times for %v, want %d and %v", i, b.Failures, time.Until(b.Until), i, want)
			}
			time.Sleep(want - time.Second)
			m.get(t)
			if m.dials.Load() != dials+1 {
				t.Fatalf("failure %d: a broken alternative was dialed", i)
			}
			time.Sleep(time.Second)
			want = min(2*want, brokenMax)
		}
		if want != brokenMax {
			t.Fatalf("backoff reached %v, want the cap %v", want, brokenMax)
		}
		m.get(t)
		<-m.broken
		m.tr.NetworkChanged()
		dials := m.dials.Load()
		m.get(t) // learns again (NetworkChanged dropped the alternative)
		m.get(t)
		if m.dials.Load() != dials+1 {
			t.Fatal("the alternative was not dialed after NetworkChanged")
		}
		if b := <-m.broken; b.Failures != 1 || time.Until(b.Until) != brokenInitial {
			t.Fatalf("after NetworkChanged: %d failures for %v, want 1 and %v", b.Failures, time.Until(b.Until), brokenInitial)
		}
	})
}

// An alternative is used until its max age runs out and not after;
// NetworkChanged keeps only persist=1 alternatives.
func TestAltSvcExpirySynthetic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemOrigin(t, `h3=":8443"; ma=60, h3=":9443"; persist=1`)
		o := originOf("https", "origin.test")
		m.get(t)
		if alts := m.tr.altSvc.Alternatives(o, time.Now()); len(alts) != 2 {
			t.Fatalf("%d alternatives, want 2", len(alts))
		}
		time.Sleep(59 * time.Second)
		if alts := m.tr.altSvc.Alternatives(o, time.Now()); len(alts) != 2 {
			t.Fatalf("after 59 s: %d alternatives, want 2", len(alts))
		}
		time.Sleep(2 * time.Second)
		alts := m.tr.altSvc.Alternatives(o, time.Now())
		if len(alts) != 1 || alts[0].Port != 9443 {
			t.Fatalf("after 61 s: %v, want the 9443 one", alts)
		}
		m.altSvc.Store(ptr(`h3=":8443"; ma=60, h3=":9443"; persist=1`))
		time.Sleep(time.Minute)
		m.tr.NetworkChanged()
		alts = m.tr.altSvc.Alternatives(o, time.Now())
		if len(alts) != 1 || !alts[0].Persist {
			t.Fatalf("after NetworkChanged: %v, want the persistent one", alts)
		}
	})
}

func ptr[T any](v T) *T { return &v }
