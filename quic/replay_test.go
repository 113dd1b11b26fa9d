package quic

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/tls13"
	"github.com/skiffnet/skiff/udpio"
)

// recordingSocket is a simulated socket that keeps a copy of every
// datagram it sends, with the time, as an attacker on the path would.
type recordingSocket struct {
	simSocket
	mu   sync.Mutex
	sent []recorded
}

type recorded struct {
	at time.Time
	b  []byte
}

func (s *recordingSocket) WriteBatch(msgs []udpio.Message) (int, error) {
	s.mu.Lock()
	for i := range msgs {
		for d := range msgs[i].Datagrams {
			s.sent = append(s.sent, recorded{time.Now(), append([]byte(nil), d...)})
		}
	}
	s.mu.Unlock()
	return s.simSocket.WriteBatch(msgs)
}

// flightAt returns the datagrams sent at t.
func (s *recordingSocket) flightAt(t time.Time) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	for _, r := range s.sent {
		if r.at.Equal(t) {
			out = append(out, r.b)
		}
	}
	return out
}

// RFC 8446 §8, RFC 9001 §9.2: a client's first flight with 0-RTT,
// recorded and replayed by an attacker, is not processed twice: not by the
// server that took it (once the original connection is gone, the replay
// is a new connection, whose 0-RTT the replay filter refuses), nor by a
// second server instance that shares the ticket keys and the replay
// filter. A second instance that shares the keys but not the filter would
// process it again: the reason tls13 says they must share one.
func TestSimZeroRTTReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), simTimeout())
		defer cancel()
		cc, sc := resumableConfigs(t)
		var ticketKey [32]byte
		randomBytes(ticketKey[:])
		sc.TLS.SessionTicketKeys = [][32]byte{ticketKey}
		sc.TLS.ReplayFilter = tls13.NewReplayFilter(0)
		var rec *recordingSocket
		sn := newSimNetSockets(t, netsim.Impairment{Delay: 10 * time.Millisecond}, 1, cc, sc, func(c *netsim.Conn) packetConn {
			s := &recordingSocket{simSocket: simSocket{c}}
			if rec == nil {
				rec = s // the client's, made first
			}
			return s
		})
		es := serveEcho(ctx, sn.server)

		c1, err := sn.client.Dial(ctx, serverAddr, cc)
		if err != nil {
			t.Fatal(err)
		}
		waitSession(t, cc)
		c1.Close()

		start := time.Now()
		c2, err := sn.client.DialEarly(ctx, serverAddr, cc)
		if err != nil {
			t.Fatal(err)
		}
		if answer, _ := request(t, ctx, c2, "pay 10 euros", start); answer != "PAY 10 EUROS" {
			t.Fatalf("answer %q", answer)
		}
		if !c2.ConnectionState().EarlyDataAccepted {
			t.Fatal("0-RTT not accepted")
		}
		flight := rec.flightAt(start)
		if len(flight) == 0 {
			t.Fatal("no first flight recorded")
		}
		c2.Close()
		time.Sleep(5 * time.Second) // the server forgets the connection
		if n := es.requests.Load(); n != 1 {
			t.Fatalf("%d requests before the replay", n)
		}

		// Replays, from the attacker's own port.
		attacker, err := sn.net.Listen(netip.AddrPortFrom(clientAddr.Addr(), 40666))
		if err != nil {
			t.Fatal(err)
		}
		replay := func(to netip.AddrPort) {
			for _, d := range flight {
				attacker.WriteToUDPAddrPort(d, to)
			}
			time.Sleep(time.Second)
			synctest.Wait()
		}
		replay(serverAddr)
		if n := es.requests.Load(); n != 1 {
			t.Fatalf("same server: the replayed request was processed (%d requests)", n)
		}

		// A second instance with the same ticket keys and replay filter.
		second := func(addr netip.AddrPort, filter tls13.ReplayFilter) *echoServer {
			sc2 := *sc
			sc2.TLS = sc.TLS.Clone()
			sc2.TLS.ReplayFilter = filter
			s, err := sn.net.Listen(addr)
			if err != nil {
				t.Fatal(err)
			}
			e := newEndpoint(simSocket{s}, &sc2)
			t.Cleanup(func() { e.Close() })
			return serveEcho(ctx, e)
		}
		shared := second(netip.MustParseAddrPort("198.18.0.3:443"), sc.TLS.ReplayFilter)
		replay(netip.MustParseAddrPort("198.18.0.3:443"))
		if n := shared.requests.Load(); n != 0 {
			t.Fatalf("second instance sharing the filter processed the replay (%d requests)", n)
		}
		own := second(netip.MustParseAddrPort("198.18.0.4:443"), tls13.NewReplayFilter(0))
		replay(netip.MustParseAddrPort("198.18.0.4:443"))
		if n := own.requests.Load(); n != 1 {
			t.Fatalf("second instance with its own filter: %d requests (the documented hazard: want 1)", n)
		}
	})
}
