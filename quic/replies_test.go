package quic

import (
	"bytes"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiffnet/skiff/internal/netsim"
)

// longHeader builds a datagram of size bytes starting with a long header
// of version v and the given connection IDs.
func longHeader(v uint32, dcid, scid []byte, size int) []byte {
	dg := []byte{0xc0, byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v), byte(len(dcid))}
	dg = append(dg, dcid...)
	dg = append(dg, byte(len(scid)))
	dg = append(dg, scid...)
	return append(dg, make([]byte, size-len(dg))...)
}

// TestVersionNegotiationLongConnectionIDs: RFC 9000 §17.2, RFC 8999 §5.1.
// A long header of an unknown version may carry connection IDs of up to
// 255 bytes, and servers SHOULD read them to answer with Version
// Negotiation, which echoes them; a version 1 long header with a
// connection ID over 20 bytes MUST be dropped.
func TestVersionNegotiationLongConnectionIDs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cc, sc := cheapConfigs(t)
		sn := newSimNetWith(t, netsim.Impairment{Delay: 5 * time.Millisecond}, 1, cc, sc)
		raw, err := sn.net.Listen(netip.MustParseAddrPort("198.18.0.1:50000"))
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		dcid := bytes.Repeat([]byte{0xd}, 255)
		scid := bytes.Repeat([]byte{0x5}, 40)
		buf := make([]byte, 2048)

		raw.WriteToUDPAddrPort(longHeader(0x1a2a3a4a, dcid, scid, 1200), serverAddr)
		raw.SetReadDeadline(time.Now().Add(time.Second))
		n, _, err := raw.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("no Version Negotiation for connection IDs of 255 and 40 bytes: %v", err)
		}
		vn := buf[:n]
		// First byte with the long form bit, version 0, the connection
		// IDs swapped (§17.2.1), then the versions.
		want := longHeader(0, scid, dcid, 7+len(dcid)+len(scid))
		if vn[0]&0x80 == 0 || !bytes.Equal(vn[1:len(want)], want[1:]) || (n-len(want))%4 != 0 || n == len(want) {
			t.Fatalf("Version Negotiation of %d bytes does not echo the connection IDs: % x", n, vn[:min(n, 16)])
		}

		// Version 1 with a 21-byte Destination Connection ID: dropped.
		raw.WriteToUDPAddrPort(longHeader(1, bytes.Repeat([]byte{1}, 21), scid[:8], 1200), serverAddr)
		raw.SetReadDeadline(time.Now().Add(time.Second))
		if n, _, err := raw.ReadFromUDPAddrPort(buf); err == nil {
			t.Fatalf("a version 1 long header with a 21-byte connection ID got %d bytes back", n)
		}
		if total, _ := sn.server.halfOpenCounts(); total != 0 {
			t.Fatalf("%d connections started", total)
		}
	})
}

// TestStatelessResetRateLimit: stateless resets (and Version Negotiation)
// are limited to 10 a second to one address, whatever its ports, and to
// 1,000 a second in all (RFC 9000 §10.3.3); an address over its limit
// leaves the others theirs.
func TestStatelessResetRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cc, sc := cheapConfigs(t)
		sn := newSimNetWith(t, netsim.Impairment{Delay: time.Millisecond}, 1, cc, sc)
		// A short header packet for no connection: 1 byte, an 8-byte
		// Destination Connection ID, 50 more.
		probe := append([]byte{0x40}, make([]byte, 58)...)
		// send sends n probes from each address, all at once, and waits
		// for the server to deal with them.
		send := func(n int, from ...netip.AddrPort) {
			for _, a := range from {
				sock, err := sn.net.Listen(a)
				if err != nil {
					t.Fatal(err)
				}
				defer sock.Close()
				for i := range n {
					probe[1] = byte(i)
					sock.WriteToUDPAddrPort(probe, serverAddr)
				}
			}
			time.Sleep(5 * time.Millisecond)
			synctest.Wait()
		}
		lim := &sn.server.replies
		// One address, 500 packets from 50 ports.
		var ports []netip.AddrPort
		for port := range 50 {
			ports = append(ports, netip.AddrPortFrom(clientAddr.Addr(), uint16(30000+port)))
		}
		send(10, ports...)
		if sent, limited := lim.sent.Load(), lim.limited.Load(); sent != replyRatePerAddr || limited != 500-replyRatePerAddr {
			t.Fatalf("one address: %d resets sent, %d suppressed; want %d and %d", sent, limited, replyRatePerAddr, 500-replyRatePerAddr)
		}
		// A second later it has its ten again.
		time.Sleep(time.Second)
		send(20, netip.AddrPortFrom(clientAddr.Addr(), 31000))
		if sent := lim.sent.Load(); sent != 2*replyRatePerAddr {
			t.Fatalf("a second later: %d resets sent in all, want %d", sent, 2*replyRatePerAddr)
		}

		// 300 other addresses, 10 packets each at once: 3,000 packets, of
		// which the endpoint answers its 1,000 a second.
		time.Sleep(time.Second)
		before := lim.sent.Load()
		server := serverAddr.Addr()
		var addrs []netip.AddrPort
		for i := range 300 {
			a := netip.AddrFrom4([4]byte{198, 19, byte(i >> 8), byte(i)})
			sn.net.SetLink(a, server, sn.up)
			sn.net.SetLink(server, a, sn.down)
			addrs = append(addrs, netip.AddrPortFrom(a, 4000))
		}
		send(10, addrs...)
		if sent := lim.sent.Load() - before; sent != replyRate {
			t.Fatalf("300 addresses × 10 packets at once: %d resets, want the endpoint's %d", sent, replyRate)
		}
	})
}
