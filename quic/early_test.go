package quic

import (
	"context"
	"io"
	"sync"
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
	wg       sync.WaitGroup
}

func serveEcho(ctx context.Context, e *Endpoint) *echoServer {
	es := &echoServer{}
	go func() {
		for {
			c, err := e.Accept(ctx)
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
	for range 1000 {
		if cs, ok := cc.TLS.ClientSessionCache.Get(key); ok && cs != nil {
			return
		}
		time.Sleep(time.Millisecond) // synthetic time
	}
	t.Fatal("no session ticket arrived")
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

		start := time.Now()
		c1, err := sn.client.Dial(ctx, serverAddr, cc)
		if err != nil {
			t.Fatal(err)
		}
		answer, ttfb := request(t, ctx, c1, "hello", start)
		if answer != "HELLO" || c1.ConnectionState().DidResume {
			t.Fatalf("first: %q, resumed %v", answer, c1.ConnectionState().DidResume)
		}
		t.Logf("full handshake: first byte after %v (%.1f RTT)", ttfb.Round(time.Millisecond), float64(ttfb)/float64(rtt))
		if ttfb < 2*rtt || ttfb > 2*rtt+rtt/2 {
			t.Errorf("full handshake: %v to the first byte, want about 2 RTT", ttfb)
		}
		waitSession(t, cc)
		c1.Close()

		start = time.Now()
		c2, err := sn.client.Dial(ctx, serverAddr, cc)
		if err != nil {
			t.Fatal(err)
		}
		answer, ttfb = request(t, ctx, c2, "resumed", start)
		st := c2.ConnectionState()
		if answer != "RESUMED" || !st.DidResume {
			t.Fatalf("second: %q, resumed %v", answer, st.DidResume)
		}
		t.Logf("resumed: first byte after %v (%.1f RTT)", ttfb.Round(time.Millisecond), float64(ttfb)/float64(rtt))
		if ttfb < 2*rtt || ttfb > 2*rtt+rtt/2 {
			t.Errorf("resumed: %v to the first byte, want about 2 RTT", ttfb)
		}
		waitSession(t, cc)
		c2.Close()

		start = time.Now()
		c3, err := sn.client.DialEarly(ctx, serverAddr, cc)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("DialEarly took %v", d)
		}
		answer, ttfb = request(t, ctx, c3, "early", start)
		<-c3.HandshakeComplete()
		st = c3.ConnectionState()
		if answer != "EARLY" || !st.DidResume || !st.EarlyDataAccepted {
			t.Fatalf("0-RTT: %q, resumed %v, accepted %v", answer, st.DidResume, st.EarlyDataAccepted)
		}
		t.Logf("0-RTT: first byte after %v (%.1f RTT)", ttfb.Round(time.Millisecond), float64(ttfb)/float64(rtt))
		if ttfb < rtt || ttfb > rtt+rtt/2 {
			t.Errorf("0-RTT: %v to the first byte, want about 1 RTT", ttfb)
		}
		c3.Close()
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
