package udpio

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
)

// closedPort returns an address of network's loopback where no socket
// listens: a port just bound and released.
func closedPort(t *testing.T, network string) netip.AddrPort {
	t.Helper()
	ip := net.IPv4(127, 0, 0, 1)
	if network == "udp6" {
		ip = net.IPv6loopback
	}
	c, err := net.ListenUDP(network, &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatal(err)
	}
	ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
	c.Close()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// A datagram to a closed port comes back as an ICMP port unreachable,
// which ReadBatch reports: the destination, the quoted datagram and
// ECONNREFUSED; then a datagram from a live peer still arrives, and a send
// still goes out after the socket's pending error.
func TestICMPPortUnreachable(t *testing.T) {
	for _, tc := range []struct{ name, network, bind string }{
		{"IPv4", "udp4", "127.0.0.1:0"},
		{"IPv6", "udp6", "[::1]:0"},
		{"dual-stack to IPv4", "udp", "[::]:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.network != "udp4" {
				skipNoIPv6(t)
			}
			c := listenT(t, tc.network, tc.bind, Options{ICMPErrors: true})
			if !c.Capabilities().ICMPErrors {
				t.Skip("kernel refused IP_RECVERR")
			}
			destNet := "udp4"
			if tc.network == "udp6" {
				destNet = "udp6"
			}
			dead := closedPort(t, destNet)
			sent := payload(1, 200)
			if err := c.WriteSegments(sent, 0, dead, ECNNotECT, netip.Addr{}); err != nil {
				t.Fatalf("send to a closed port: %v", err)
			}
			msgs := []Message{{Buf: make([]byte, 1500)}, {Buf: make([]byte, 1500)}}
			n, err := c.ReadBatch(msgs)
			if err != nil {
				t.Fatalf("ReadBatch: %v", err)
			}
			if n != 1 || msgs[0].ICMP == nil {
				t.Fatalf("ReadBatch gave %d messages, first ICMP %v; want the ICMP error", n, msgs[0].ICMP)
			}
			m := msgs[0]
			if m.Addr != dead {
				t.Errorf("report for %v, want %v", m.Addr, dead)
			}
			if !errors.Is(m.ICMP, syscall.ECONNREFUSED) || !m.ICMP.Unreachable() {
				t.Errorf("ICMP error %v, want ECONNREFUSED (port unreachable)", m.ICMP)
			}
			if m.N == 0 || !bytes.HasPrefix(sent, m.Buf[:m.N]) {
				t.Errorf("quoted %d bytes, not the start of what was sent", m.N)
			}
			t.Logf("%v, %d bytes quoted", m.ICMP, m.N)

			// The socket works on: send to a live peer after the error,
			// receive from it.
			peerNet := destNet
			peerAddr := "127.0.0.1:0"
			if peerNet == "udp6" {
				peerAddr = "[::1]:0"
			}
			peer := listenT(t, peerNet, peerAddr, Options{})
			to := peer.LocalAddr()
			if err := c.WriteSegments(payload(2, 100), 0, to, ECNNotECT, netip.Addr{}); err != nil {
				t.Fatalf("send after the ICMP error: %v", err)
			}
			if g := readN(t, peer, 1, 1, 1500); !bytes.Equal(g[0].data, payload(2, 100)) {
				t.Fatal("peer got the wrong datagram")
			}
			back := c.LocalAddr()
			if tc.bind == "[::]:0" {
				back = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), back.Port())
			}
			if err := peer.WriteSegments(payload(3, 100), 0, back, ECNNotECT, netip.Addr{}); err != nil {
				t.Fatal(err)
			}
			g := readN(t, c, 1, 2, 1500)
			if !bytes.Equal(g[0].data, payload(3, 100)) {
				t.Fatal("the datagram after the error did not arrive intact")
			}
		})
	}
}

// A send that meets the socket's pending error (left by an ICMP message
// nobody read yet) is sent again, and the report still reaches the reader.
func TestICMPPendingErrorOnSend(t *testing.T) {
	c := listenT(t, "udp4", "127.0.0.1:0", Options{ICMPErrors: true})
	if !c.Capabilities().ICMPErrors {
		t.Skip("kernel refused IP_RECVERR")
	}
	peer := listenT(t, "udp4", "127.0.0.1:0", Options{})
	dead := closedPort(t, "udp4")
	if err := c.WriteSegments(payload(1, 64), 0, dead, ECNNotECT, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	// The ICMP error is processed by the kernel before the loopback send
	// returns; this send meets it as the socket's pending error.
	if err := c.WriteSegments(payload(2, 64), 0, peer.LocalAddr(), ECNNotECT, netip.Addr{}); err != nil {
		t.Fatalf("send with an error pending: %v", err)
	}
	if g := readN(t, peer, 1, 1, 1500); !bytes.Equal(g[0].data, payload(2, 64)) {
		t.Fatal("peer got the wrong datagram")
	}
	msgs := []Message{{Buf: make([]byte, 1500)}}
	n, err := c.ReadBatch(msgs)
	if err != nil || n != 1 || msgs[0].ICMP == nil || msgs[0].Addr != dead {
		t.Fatalf("ReadBatch = %d, %v, ICMP %v from %v; want the report for %v", n, err, msgs[0].ICMP, msgs[0].Addr, dead)
	}
}

// Without the option nothing changes: no report, and the socket's reads
// see only datagrams.
func TestICMPOffByDefault(t *testing.T) {
	c := listenT(t, "udp4", "127.0.0.1:0", Options{})
	if c.Capabilities().ICMPErrors {
		t.Fatal("ICMP errors on without being asked for")
	}
	peer := listenT(t, "udp4", "127.0.0.1:0", Options{})
	if err := c.WriteSegments(payload(1, 64), 0, closedPort(t, "udp4"), ECNNotECT, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if err := peer.WriteSegments(payload(2, 64), 0, c.LocalAddr(), ECNNotECT, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	g := readN(t, c, 1, 1, 1500)
	if !bytes.Equal(g[0].data, payload(2, 64)) {
		t.Fatal("wrong datagram")
	}
}
