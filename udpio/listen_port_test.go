package udpio

import (
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// A port without an address (what net.ResolveUDPAddr makes of ":4433")
// binds that port, on a dual-stack socket that answers IPv4 and IPv6
// peers alike: once it bound a random port instead.
func TestListenPortWithoutAddress(t *testing.T) {
	for _, portable := range []bool{false, true} {
		free, err := net.ListenPacket("udp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		port := uint16(free.LocalAddr().(*net.UDPAddr).Port)
		free.Close()
		ua, err := net.ResolveUDPAddr("udp", ":"+strconv.Itoa(int(port)))
		if err != nil {
			t.Fatal(err)
		}
		c, err := Listen("udp", ua.AddrPort(), Options{Portable: portable})
		if err != nil {
			t.Fatalf("portable=%v: Listen(:%d): %v", portable, port, err)
		}
		t.Cleanup(func() { c.Close() })
		deadline := time.Now().Add(testTimeout)
		c.SetReadDeadline(deadline)
		if got := c.LocalAddr(); got.Port() != port || !got.Addr().IsUnspecified() {
			t.Fatalf("portable=%v: Listen(:%d) bound %v", portable, port, got)
		}
		for _, peer := range []struct{ network, ip string }{{"udp4", "127.0.0.1"}, {"udp6", "::1"}} {
			pc, err := net.ListenPacket(peer.network, net.JoinHostPort(peer.ip, "0"))
			if err != nil {
				t.Logf("no %s loopback: %v", peer.network, err)
				continue
			}
			pc.SetDeadline(deadline)
			to := &net.UDPAddr{IP: net.ParseIP(peer.ip), Port: int(port)}
			if _, err := pc.WriteTo([]byte("ping"), to); err != nil {
				t.Fatal(err)
			}
			g := readN(t, c, 1, 1, 0)[0]
			want := netip.MustParseAddr(peer.ip)
			if string(g.data) != "ping" || g.addr.Addr() != want {
				t.Fatalf("portable=%v: got %q from %v, want ping from %v", portable, g.data, g.addr, want)
			}
			if err := c.WriteSegments([]byte("pong"), 0, g.addr, ECNNotECT, g.local); err != nil {
				t.Fatalf("portable=%v: answer to %v: %v", portable, g.addr, err)
			}
			buf := make([]byte, 16)
			n, from, err := pc.ReadFrom(buf)
			if err != nil || string(buf[:n]) != "pong" {
				t.Fatalf("portable=%v: %s peer: %q, %v", portable, peer.network, buf[:n], err)
			}
			if from.(*net.UDPAddr).Port != int(port) {
				t.Errorf("portable=%v: answer came from %v", portable, from)
			}
			pc.Close()
		}
	}
}
