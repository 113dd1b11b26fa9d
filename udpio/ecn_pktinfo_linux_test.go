package udpio

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
)

// TestECNRoundTrip sends every ECN codepoint, alone and in GSO runs, over
// IPv4, IPv6 and IPv4 through a dual-stack socket, and checks the receiver
// reads back the mark each datagram carried (RFC 9000 §13.4).
func TestECNRoundTrip(t *testing.T) {
	cases := []struct {
		name             string
		network, rcvAddr string
		sndAddr          string
		dest             string // host the sender sends to
	}{
		{"ipv4", "udp4", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1"},
		{"ipv6", "udp6", "[::1]:0", "[::1]:0", "::1"},
		{"dual-stack", "udp", "[::]:0", "[::]:0", "127.0.0.1"},
	}
	for _, tc := range cases {
		for _, gro := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/gro=%v", tc.name, gro), func(t *testing.T) {
				if tc.network != "udp4" {
					skipNoIPv6(t)
				}
				snd := listenT(t, tc.network, tc.sndAddr, Options{})
				rcv := listenT(t, tc.network, tc.rcvAddr, Options{DisableGRO: !gro})
				to := netip.AddrPortFrom(netip.MustParseAddr(tc.dest), rcv.LocalAddr().Port())
				marks := []ECN{ECNECT0, ECNECT1, ECNCE, ECNNotECT}
				var msgs []Message
				var wantECN []ECN
				for i, e := range marks {
					p := payload(i, 64)
					msgs = append(msgs, Message{Buf: p, N: len(p), Addr: to, ECN: e})
					wantECN = append(wantECN, e)
				}
				for i, e := range marks {
					run := payload(100+i, 3*500)
					msgs = append(msgs, Message{Buf: run, N: len(run), Addr: to, ECN: e, SegmentSize: 500})
					wantECN = append(wantECN, e, e, e)
				}
				if n, err := snd.WriteBatch(msgs); err != nil || n != len(msgs) {
					t.Fatalf("WriteBatch = %d, %v", n, err)
				}
				gotten := readN(t, rcv, len(wantECN), 64, 0)
				for i, g := range gotten {
					if g.ecn != wantECN[i] {
						t.Errorf("datagram %d: ECN %02b, want %02b", i, g.ecn, wantECN[i])
					}
					if g.addr.Addr() != netip.MustParseAddr(tc.dest) {
						t.Errorf("datagram %d from %v, want host %s", i, g.addr, tc.dest)
					}
				}
			})
		}
	}
}

// TestPacketInfo binds to the wildcard address, is reached through several
// loopback addresses, and must report each as the datagram's local address
// and answer from it.
func TestPacketInfo(t *testing.T) {
	cases := []struct {
		name                 string
		network, bind, cbind string
		dests                []string
	}{
		{"ipv4", "udp4", "0.0.0.0:0", "127.0.0.1:0", []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}},
		{"ipv6", "udp6", "[::]:0", "[::1]:0", []string{"::1"}},
		{"dual-stack", "udp", "[::]:0", "127.0.0.1:0", []string{"127.0.0.2", "127.0.0.4"}},
		{"dual-stack-v6", "udp", "[::]:0", "[::1]:0", []string{"::1"}},
	}
	for _, tc := range cases {
		for _, gso := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/gso=%v", tc.name, gso), func(t *testing.T) {
				if tc.network != "udp4" {
					skipNoIPv6(t)
				}
				srv := listenT(t, tc.network, tc.bind, Options{DisableGSO: !gso})
				if !srv.Capabilities().PacketInfo {
					t.Fatalf("wildcard socket without packet info: %+v", srv.Capabilities())
				}
				cnet := "udp4"
				if netip.MustParseAddrPort(tc.cbind).Addr().Is6() {
					cnet = "udp6"
				}
				cli := listenT(t, cnet, tc.cbind, Options{})
				for i, d := range tc.dests {
					dest := netip.AddrPortFrom(netip.MustParseAddr(d), srv.LocalAddr().Port())
					p := payload(i, 40)
					if err := cli.WriteSegments(p, 0, dest, ECNNotECT, netip.Addr{}); err != nil {
						t.Fatal(err)
					}
					g := readN(t, srv, 1, 4, 100)[0]
					if g.local != dest.Addr() {
						t.Fatalf("sent to %v: local address %v", dest, g.local)
					}
					if g.addr != cli.LocalAddr() {
						t.Fatalf("sent from %v: source %v", cli.LocalAddr(), g.addr)
					}
					// Answer from the address the client used: a run, to
					// cover GSO with packet info.
					reply := append(payload(50+i, 300), payload(60+i, 300)...)
					if err := srv.WriteSegments(reply, 300, g.addr, ECNECT1, g.local); err != nil {
						t.Fatal(err)
					}
					back := readN(t, cli, 2, 4, 1000)
					for j, b := range back {
						if b.addr != dest {
							t.Fatalf("reply %d came from %v, want %v", j, b.addr, dest)
						}
						if !bytes.Equal(b.data, reply[j*300:(j+1)*300]) || b.ecn != ECNECT1 {
							t.Fatalf("reply %d: %d bytes ECN %v", j, len(b.data), b.ecn)
						}
					}
				}
			})
		}
	}
}
