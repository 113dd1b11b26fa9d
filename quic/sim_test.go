package quic

import (
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/udpio"
)

// The simulation harness: real endpoints, drivers and streams, over an
// in-memory network, inside a testing/synctest bubble, so minutes of
// network time take moments and every run is the same.

// simSocket adapts a netsim.Conn to the endpoint's packetConn.
type simSocket struct{ c *netsim.Conn }

func (s simSocket) ReadBatch(msgs []udpio.Message) (int, error) {
	n, from, err := s.c.ReadFromUDPAddrPort(msgs[0].Buf)
	if err != nil {
		return 0, err
	}
	msgs[0].N, msgs[0].Addr, msgs[0].ECN, msgs[0].SegmentSize = n, from, 0, 0
	return 1, nil
}

func (s simSocket) WriteBatch(msgs []udpio.Message) (int, error) {
	for i := range msgs {
		for d := range msgs[i].Datagrams {
			if _, err := s.c.WriteToUDPAddrPort(d, msgs[i].Addr); err != nil {
				return i, err // EMSGSIZE over the Conn's MTU
			}
		}
	}
	return len(msgs), nil
}

func (s simSocket) LocalAddr() netip.AddrPort { return s.c.LocalAddrPort() }

// Capabilities: the simulated network carries ECN marks as sent (the
// impairments may clear or set them); it neither coalesces nor segments.
func (s simSocket) Capabilities() udpio.Capabilities { return udpio.Capabilities{ECN: true} }
func (s simSocket) Close() error                     { return s.c.Close() }

// simNet is a client and a server endpoint on one simulated network.
type simNet struct {
	net            *netsim.Network
	up, down       *netsim.Link
	client, server *Endpoint
	// clientSock and serverSock are the endpoints' simulated sockets.
	clientSock, serverSock *netsim.Conn
	clientConfig           *Config
	serverConfig           *Config
}

func newSimNet(t *testing.T, imp netsim.Impairment, seed uint64) *simNet {
	t.Helper()
	cc, sc := testConfigs(t)
	return newSimNetWith(t, imp, seed, cc, sc)
}

func newSimNetWith(t *testing.T, imp netsim.Impairment, seed uint64, cc, sc *Config) *simNet {
	t.Helper()
	return newSimNetSockets(t, imp, seed, cc, sc, func(c *netsim.Conn) packetConn { return simSocket{c} })
}

// newSimNetSockets is newSimNetWith with the sockets that sock makes of
// the simulated network's.
func newSimNetSockets(t *testing.T, imp netsim.Impairment, seed uint64, cc, sc *Config, sock func(*netsim.Conn) packetConn) *simNet {
	t.Helper()
	n := netsim.NewNetwork()
	sn := &simNet{net: n, clientConfig: cc, serverConfig: sc}
	sn.up = netsim.NewLink(imp, seed)
	sn.down = netsim.NewLink(imp, seed+1)
	n.SetLink(clientAddr.Addr(), serverAddr.Addr(), sn.up)
	n.SetLink(serverAddr.Addr(), clientAddr.Addr(), sn.down)
	cs, err := n.Listen(clientAddr)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := n.Listen(serverAddr)
	if err != nil {
		t.Fatal(err)
	}
	sn.clientSock, sn.serverSock = cs, ss
	sn.client = newEndpoint(sock(cs), nil)
	sn.server = newEndpoint(sock(ss), sc)
	t.Cleanup(func() {
		sn.client.Close()
		sn.server.Close()
	})
	return sn
}

// connect dials and accepts, returning both ends.
func (sn *simNet) connect(t *testing.T, ctx context.Context) (client, server *Conn) {
	t.Helper()
	accepted := make(chan *Conn, 1)
	go func() {
		c, err := (&Listener{e: sn.server}).Accept(ctx)
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	client, err := sn.client.Dial(ctx, serverAddr, sn.clientConfig)
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.FailNow()
	}
	return client, server
}

// payload returns n deterministic pseudo-random bytes.
func payload(seed uint64, n int) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1})
	b := make([]byte, n)
	r.Read(b)
	return b
}

// transfer writes data on a new client stream, the server reads it all and
// answers with its SHA-256; it returns what the client read back.
func transfer(t *testing.T, ctx context.Context, client, server *Conn, data []byte) [32]byte {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		s, err := server.AcceptStream(ctx)
		if err != nil {
			errc <- err
			return
		}
		h := sha256.New()
		if _, err := io.Copy(h, s); err != nil {
			errc <- err
			return
		}
		if _, err := s.Write(h.Sum(nil)); err != nil {
			errc <- err
			return
		}
		errc <- s.Close()
	}()
	s, err := client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if _, err := s.Write(data); err != nil {
			t.Error(err)
		}
		s.Close()
	}()
	sum, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	var out [32]byte
	copy(out[:], sum)
	if len(sum) != 32 {
		t.Fatalf("server answered %d bytes, want a 32-byte hash", len(sum))
	}
	return out
}

func simTimeout() time.Duration { return 10 * time.Minute }

var _ = context.Background
