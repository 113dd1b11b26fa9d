package quic

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/tls13"
)

// resumableConfigs returns Configs whose client keeps sessions and tokens
// and whose server issues tickets allowing 0-RTT.
func resumableConfigs(t *testing.T) (client, server *Config) {
	cc, sc := testConfigs(t)
	cc.TLS.ClientSessionCache = tls13.NewLRUClientSessionCache(8)
	cc.TokenStore = NewTokenStore(8, 2)
	sc.Allow0RTT = true
	return cc, sc
}

// echoServer accepts connections on e and answers each stream with what
// it read, upper-cased; it counts the requests it read in full.
type echoServer struct {
	requests atomic.Int64
}

func serveEcho(ctx context.Context, e *Endpoint) *echoServer {
	es := &echoServer{}
	ln := &Listener{e: e}
	go func() {
		for {
			c, err := ln.Accept(ctx)
			if err != nil {
				return
			}
			go func() {
				for {
					s, err := c.AcceptStream(ctx)
					if err != nil {
						return
					}
					go func() {
						b, err := io.ReadAll(s)
						if err != nil {
							return
						}
						es.requests.Add(1)
						for i, x := range b {
							if 'a' <= x && x <= 'z' {
								b[i] = x - 'a' + 'A'
							}
						}
						s.Write(b)
						s.Close()
					}()
				}
			}()
		}
	}()
	return es
}

// request sends req on a new stream of c and returns the answer and how
// long after start its first byte came.
func request(t *testing.T, ctx context.Context, c *Conn, req string, start time.Time) (string, time.Duration) {
	t.Helper()
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var first [1]byte
	if _, err := io.ReadFull(s, first[:]); err != nil {
		t.Fatal(err)
	}
	ttfb := time.Since(start)
	rest, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(first[:]) + string(rest), ttfb
}

// waitSession waits until the client's cache holds a session for the
// server.
func waitSession(t *testing.T, cc *Config) {
	t.Helper()
	key := sessionKey(cc.TLS, serverAddr)
	simWait(t, "a session ticket", func() bool {
		cs, ok := cc.TLS.ClientSessionCache.Get(key)
		return ok && cs != nil
	})
}

// simWait waits, in synthetic time, for cond to hold.
func simWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("never came: %s", what)
}

// A full connection, a resumed one and a 0-RTT one over a 100 ms path:
// the request's answer starts after 2, 2 and 1 round trips.
func TestSimResumptionAndZeroRTT(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		cc, sc := resumableConfigs(t)
		sn := newSimNetWith(t, netsim.Impairment{Delay: 50 * time.Millisecond}, 1, cc, sc)
		es := serveEcho(ctx, sn.server)
		const rtt = 100 * time.Millisecond

		for _, tc := range []struct {
			name  string
			early bool // DialEarly
			rtts  int
		}{
			{"full handshake", false, 2},
			{"resumed", false, 2},
			{"0-RTT", true, 1},
		} {
			start := time.Now()
			dial := sn.client.Dial
			if tc.early {
				dial = sn.client.DialEarly
			}
			c, err := dial(ctx, serverAddr, cc)
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); tc.early && d != 0 {
				t.Fatalf("DialEarly took %v", d)
			}
			answer, ttfb := request(t, ctx, c, tc.name, start)
			<-c.HandshakeComplete()
			st := c.ConnectionState()
			resumed := tc.name != "full handshake"
			if answer != strings.ToUpper(tc.name) || st.DidResume != resumed || tc.early && !st.EarlyDataAccepted {
				t.Fatalf("%s: %q, resumed %v, 0-RTT accepted %v", tc.name, answer, st.DidResume, st.EarlyDataAccepted)
			}
			t.Logf("%s: first byte after %v (%.1f RTT)", tc.name, ttfb.Round(time.Millisecond), float64(ttfb)/float64(rtt))
			if want := time.Duration(tc.rtts) * rtt; ttfb < want || ttfb > want+rtt/2 {
				t.Errorf("%s: %v to the first byte, want about %d RTT", tc.name, ttfb, tc.rtts)
			}
			waitSession(t, cc)
			c.Close()
		}
		if n := es.requests.Load(); n != 3 {
			t.Fatalf("server read %d requests, want 3", n)
		}
	})
}

// A server that no longer accepts 0-RTT: the client's early request is
// sent again in 1-RTT packets on the same stream, and answered once.
func TestSimZeroRTTRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		cc, sc := resumableConfigs(t)
		sn := newSimNetWith(t, netsim.Impairment{Delay: 50 * time.Millisecond}, 1, cc, sc)
		c1, err := sn.client.Dial(ctx, serverAddr, cc)
		if err != nil {
			t.Fatal(err)
		}
		waitSession(t, cc)
		c1.Close()
		sn.server.Close()

		// The same server name and address, now refusing 0-RTT: it has
		// the ticket key (tickets still resume) but not the old filter.
		sc2 := *sc
		sc2.Allow0RTT = false
		ss, err := sn.net.Listen(serverAddr)
		if err != nil {
			t.Fatal(err)
		}
		server := newEndpoint(simSocket{ss}, &sc2)
		defer server.Close()
		es := serveEcho(ctx, server)

		c2, err := sn.client.DialEarly(ctx, serverAddr, cc)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := request(t, ctx, c2, "twice?", time.Now())
		st := c2.ConnectionState()
		if answer != "TWICE?" || !st.DidResume || st.EarlyDataAccepted {
			t.Fatalf("%q, resumed %v, 0-RTT accepted %v", answer, st.DidResume, st.EarlyDataAccepted)
		}
		c2.Close()
		synctest.Wait()
		if n := es.requests.Load(); n != 1 {
			t.Fatalf("server read %d requests, want 1", n)
		}
	})
}
