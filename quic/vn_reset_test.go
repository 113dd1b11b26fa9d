package quic

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
	"github.com/skiffnet/skiff/quic/internal/conn"
	"github.com/skiffnet/skiff/quic/internal/wire"
)

// RFC 9000 §6.1: a server endpoint answers a datagram of an unknown
// version that could start a connection (at least 1200 bytes, §14.1) with
// Version Negotiation listing what it supports, echoing the connection IDs
// swapped (§17.2.1); a smaller one gets nothing.
func TestEndpointVersionNegotiation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cc, sc := cheapConfigs(t)
		sn := newSimNetWith(t, netsim.Impairment{Delay: 5 * time.Millisecond}, 1, cc, sc)
		raw, err := sn.net.Listen(netip.MustParseAddrPort("198.18.0.1:50000"))
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}
		scid := []byte{0xa, 0xb, 0xc}
		probe := func(size int) []byte {
			dg := make([]byte, size)
			dg[0] = 0xc0
			copy(dg[1:], []byte{0x1a, 0x2a, 0x3a, 0x4a}) // a reserved version (§15)
			dg[5] = byte(len(dcid))
			copy(dg[6:], dcid)
			dg[6+len(dcid)] = byte(len(scid))
			copy(dg[7+len(dcid):], scid)
			return dg
		}
		buf := make([]byte, 2048)

		raw.WriteToUDPAddrPort(probe(1200), serverAddr)
		raw.SetReadDeadline(time.Now().Add(time.Second))
		n, from, err := raw.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("no Version Negotiation: %v", err)
		}
		if from != serverAddr {
			t.Errorf("answer from %v", from)
		}
		hdr, err := wire.ParseHeader(buf[:n], conn.ConnIDLen, false)
		if err != nil || hdr.Type != wire.PacketVersionNegotiation {
			t.Fatalf("answer is not Version Negotiation: %v %v", hdr.Type, err)
		}
		if string(hdr.DCID.Bytes()) != string(scid) || string(hdr.SCID.Bytes()) != string(dcid) {
			t.Errorf("connection IDs not echoed swapped: dcid %x scid %x", hdr.DCID.Bytes(), hdr.SCID.Bytes())
		}
		if !hdr.Versions.Contains(wire.Version1) || !hdr.Versions.Contains(wire.Version2) || hdr.Versions.Len() != 2 {
			t.Errorf("versions offered: %d, want v1 and v2", hdr.Versions.Len())
		}

		// Under 1200 bytes: no answer (no amplification, §14.1).
		raw.WriteToUDPAddrPort(probe(1199), serverAddr)
		raw.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := raw.ReadFromUDPAddrPort(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("answer to a 1199-byte datagram: %v", err)
		}
	})
}

// RFC 9000 §10.3: once the server endpoint has forgotten a connection, the
// client's next packet is answered with a stateless reset, and the client
// ends at once with ErrStatelessReset instead of waiting for its idle
// timeout.
func TestStatelessResetAfterServerForgets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cc, sc := cheapConfigs(t)
		sn := newSimNetWith(t, netsim.Impairment{Delay: 10 * time.Millisecond}, 3, cc, sc)
		client, server := sn.connect(t, ctx)
		data := payload(3, 10<<10)
		transfer(t, ctx, client, server, data)

		// The server drops the connection silently, as after a crash.
		inspect(server, func(sm *conn.Conn, now time.Time) { sm.Abandon(now) })
		<-server.done.wait()

		start := time.Now()
		s, err := client.OpenStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Write([]byte("is anybody there?")); err != nil {
			t.Fatal(err)
		}
		select {
		case <-client.done.wait():
		case <-ctx.Done():
			t.Fatal("the client never ended")
		}
		if err := client.closeError(); !errors.Is(err, ErrStatelessReset) {
			t.Fatalf("client ended with %v, want ErrStatelessReset", err)
		}
		if el := time.Since(start); el > time.Second {
			t.Errorf("the client took %v to end", el)
		}
	})
}
