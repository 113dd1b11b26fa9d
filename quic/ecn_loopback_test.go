package quic

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/wire"
	"github.com/skiffnet/skiff/udpio"
)

// ecnSocket is a udpio socket that counts the ECN marks of the datagrams
// it sends and receives.
type ecnSocket struct {
	*udpio.Conn
	sent     [4]atomic.Uint64 // datagrams sent, by codepoint
	received [4]atomic.Uint64 // datagrams received, by codepoint
}

func (s *ecnSocket) WriteBatch(msgs []udpio.Message) (int, error) {
	for i := range msgs {
		for range msgs[i].Datagrams {
			s.sent[msgs[i].ECN&3].Add(1)
		}
	}
	return s.Conn.WriteBatch(msgs)
}

func (s *ecnSocket) ReadBatch(msgs []udpio.Message) (int, error) {
	n, err := s.Conn.ReadBatch(msgs)
	s.count(msgs[:n])
	return n, err
}

// ReadBatches counts too: the endpoint's reader uses it when the socket
// has it.
func (s *ecnSocket) ReadBatches(msgs []udpio.Message, handle func(n int) bool) error {
	return s.Conn.ReadBatches(msgs, func(n int) bool {
		s.count(msgs[:n])
		return handle(n)
	})
}

func (s *ecnSocket) count(msgs []udpio.Message) {
	for i := range msgs {
		for range msgs[i].Datagrams {
			s.received[msgs[i].ECN&3].Add(1)
		}
	}
}

// listenECN opens a loopback socket; a portable one has no ECN.
func listenECN(t *testing.T, portable bool) *ecnSocket {
	t.Helper()
	c, err := udpio.Listen("udp", netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{Portable: portable})
	if err != nil {
		t.Fatal(err)
	}
	if !portable && !c.Capabilities().ECN {
		c.Close()
		t.Skip("the socket cannot carry ECN marks here (portable udpio path)")
	}
	return &ecnSocket{Conn: c}
}

// receivedECN reads the ECN counts c would report in its next 1-RTT ACK
// frame, on c's goroutine.
func receivedECN(c *Conn) (wire.ECNCounts, bool) {
	type result struct {
		counts wire.ECNCounts
		seen   bool
	}
	var r result
	inspect(c, func(sm *conn.Conn, _ time.Time) { r.counts, r.seen = sm.ReceivedECN() })
	return r.counts, r.seen
}

// echoLoopback connects a client and a server endpoint on two sockets and
// has the server echo 512 KiB the client sends, so that both sides send
// data and acknowledgments. The client's socket is udpio's portable one
// when portableClient is set.
func echoLoopback(t *testing.T, cc, sc *Config, portableClient bool) (csock, ssock *ecnSocket, client, server *Conn) {
	t.Helper()
	ssock, csock = listenECN(t, false), listenECN(t, portableClient)
	ln := &Listener{e: newEndpoint(ssock, sc)}
	ce := newEndpoint(csock, nil)
	t.Cleanup(func() {
		ce.Close()
		ln.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := ce.Dial(ctx, ln.Addr(), cc)
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 2)
	go func() {
		s, err := server.AcceptStream(ctx)
		if err != nil {
			errc <- err
			return
		}
		if _, err := io.Copy(s, s); err != nil {
			errc <- err
			return
		}
		errc <- s.Close()
	}()
	s, err := client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data := payload(7, 512<<10)
	go func() {
		_, err := s.Write(data)
		if err == nil {
			err = s.Close()
		}
		errc <- err
	}()
	got, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("echoed %d bytes, want the %d sent", len(got), len(data))
	}
	return csock, ssock, client, server
}

// TestECNLoopback: over real loopback UDP both sides mark their datagrams
// ECT(0), the marks arrive, each side counts them and reports them in ACK
// frames, and each side's validation of its own marks ends "capable"; the
// marking goes on past the testing period.
func TestECNLoopback(t *testing.T) {
	cc, sc := cheapConfigs(t)
	csock, ssock, client, server := echoLoopback(t, cc, sc, false)
	for _, side := range []struct {
		name string
		sock *ecnSocket
		c    *Conn
	}{{"client", csock, client}, {"server", ssock, server}} {
		if got := side.c.Stats().ECN; got != ECNCapable {
			t.Errorf("%s: Stats.ECN %v, want capable", side.name, got)
		}
		if n := side.sock.sent[udpio.ECNECT0].Load(); n <= 10 {
			t.Errorf("%s sent %d ECT(0) datagrams, want more than the 10 of the testing period", side.name, n)
		}
		if n := side.sock.received[udpio.ECNECT0].Load(); n <= 10 {
			t.Errorf("%s received %d ECT(0) datagrams", side.name, n)
		}
		if n := side.sock.sent[udpio.ECNECT1].Load() + side.sock.sent[udpio.ECNCE].Load(); n != 0 {
			t.Errorf("%s sent %d datagrams marked ECT(1) or CE", side.name, n)
		}
		counts, seen := receivedECN(side.c)
		t.Logf("%s: sent %d ECT(0) / %d unmarked datagrams, received %d ECT(0) / %d unmarked; 1-RTT counts %+v",
			side.name, side.sock.sent[udpio.ECNECT0].Load(), side.sock.sent[udpio.ECNNotECT].Load(),
			side.sock.received[udpio.ECNECT0].Load(), side.sock.received[udpio.ECNNotECT].Load(), counts)
		if !seen || counts.ECT0 == 0 || counts.ECT1 != 0 || counts.CE != 0 {
			t.Errorf("%s counts %+v (seen %v) for its ACK frames, want ECT(0) only", side.name, counts, seen)
		}
		if marked := side.sock.received[udpio.ECNECT0].Load(); counts.ECT0 > marked {
			t.Errorf("%s counted %d ECT(0) 1-RTT packets from %d marked datagrams", side.name, counts.ECT0, marked)
		}
	}
}

// TestECNLoopbackDisabled: a client with DisableECN sends nothing marked,
// yet reports the server's marks, which the server validates.
func TestECNLoopbackDisabled(t *testing.T) {
	cc, sc := cheapConfigs(t)
	cc.DisableECN = true
	csock, ssock, client, server := echoLoopback(t, cc, sc, false)
	if n := csock.sent[udpio.ECNECT0].Load(); n != 0 {
		t.Errorf("client sent %d ECT(0) datagrams with DisableECN", n)
	}
	if n := ssock.received[udpio.ECNECT0].Load(); n != 0 {
		t.Errorf("server received %d ECT(0) datagrams", n)
	}
	if got := client.Stats().ECN; got != ECNOff {
		t.Errorf("client Stats.ECN %v, want off", got)
	}
	if got := server.Stats().ECN; got != ECNCapable {
		t.Errorf("server Stats.ECN %v, want capable", got)
	}
	if _, seen := receivedECN(server); seen {
		t.Error("server counted marks the client never sent")
	}
}

// TestECNLoopbackPortableClient: a client on udpio's portable path, which
// neither sets nor reads marks, does not mark ("off"); the server's marks
// are lost on the way in, the client's ACK frames carry no counts, and the
// server's validation fails, stopping its marks. The transfer is unharmed.
func TestECNLoopbackPortableClient(t *testing.T) {
	cc, sc := cheapConfigs(t)
	csock, ssock, client, server := echoLoopback(t, cc, sc, true)
	if got := client.Stats().ECN; got != ECNOff {
		t.Errorf("client Stats.ECN %v, want off", got)
	}
	if got := server.Stats().ECN; got != ECNFailed {
		t.Errorf("server Stats.ECN %v, want failed", got)
	}
	if n := csock.sent[udpio.ECNECT0].Load() + ssock.received[udpio.ECNECT0].Load(); n != 0 {
		t.Errorf("%d ECT(0) datagrams from the portable client", n)
	}
	// The server marked while testing, at most the ten datagrams of the
	// testing period (a coalesced datagram counts once per packet) and
	// nothing after the failure.
	if n := ssock.sent[udpio.ECNECT0].Load(); n == 0 || n > 10 {
		t.Errorf("server sent %d ECT(0) datagrams, want 1 to 10", n)
	}
	if n := ssock.sent[udpio.ECNNotECT].Load(); n < 100 {
		t.Errorf("server sent only %d unmarked datagrams", n)
	}
}
