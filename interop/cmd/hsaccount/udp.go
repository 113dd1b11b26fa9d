package main

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/skiffnet/skiff/udpio"
)

// The "udp" pseudo-transport is the datagrams of a handshake and nothing
// else: the client sends two 1200-byte datagrams in one GSO send (the
// ClientHello with an X25519MLKEM768 key share), the server answers with
// 1200 and 836 bytes in one GSO send (its Initial and Handshake flight),
// and the client ends with one 250-byte datagram (Finished and
// CONNECTION_CLOSE coalesced). Both sides use skiff's udpio (recvmmsg,
// GSO, GRO) and reply on the reading goroutine, with no cryptography: what
// is left is the kernel's work, the Go runtime's poller and thread
// wake-ups — the least a handshake's datagrams cost a Go program here.

const (
	udpName     = "udp"
	clientHello = 1200 // each of two segments
	serverLast  = 836  // the server flight's second datagram
	clientLast  = 250
)

// Marks in each datagram's first byte.
const (
	markHello1 = 'A' + iota
	markHello2
	markFlight1
	markFlight2
	markFinal
)

// serveUDP answers every second ClientHello datagram with a server
// flight, until conn closes.
func serveUDP(conn *udpio.Conn) {
	msgs := make([]udpio.Message, 8)
	for i := range msgs {
		msgs[i].Buf = make([]byte, 65536)
	}
	flight := make([]byte, clientHello+serverLast)
	flight[0], flight[clientHello] = markFlight1, markFlight2
	reply := make([]netip.AddrPort, 0, 8)
	conn.ReadBatches(msgs, func(n int) bool {
		reply = reply[:0]
		for _, m := range msgs[:n] {
			for d := range m.Datagrams {
				if len(d) > 0 && d[0] == markHello2 {
					reply = append(reply, m.Addr)
				}
			}
		}
		for _, to := range reply {
			conn.WriteSegments(flight, clientHello, to, udpio.ECNNotECT, netip.Addr{})
		}
		return true
	})
}

// udpExchanges runs n exchanges, parallel at a time, each worker from its
// own socket.
func udpExchanges(ctx context.Context, addr string, n, parallel int) error {
	to, err := netip.ParseAddrPort(addr)
	if err != nil {
		return err
	}
	var next atomic.Int64
	return inParallel(parallel, func() error { return udpWorker(ctx, to, &next, int64(n)) })
}

func udpWorker(ctx context.Context, to netip.AddrPort, next *atomic.Int64, n int64) error {
	local := netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	if to.Addr().Is6() {
		local = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
	}
	conn, err := udpio.Listen("udp", local, udpio.Options{})
	if err != nil {
		return err
	}
	defer conn.Close()
	hello := make([]byte, 2*clientHello)
	hello[0], hello[clientHello] = markHello1, markHello2
	final := make([]byte, clientLast)
	final[0] = markFinal
	msgs := make([]udpio.Message, 8)
	for i := range msgs {
		msgs[i].Buf = make([]byte, 65536)
	}
	for next.Add(1) <= n {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := conn.WriteSegments(hello, clientHello, to, udpio.ECNNotECT, netip.Addr{}); err != nil {
			return err
		}
		// A lost datagram would hang the exchange: loopback loses none
		// unless a socket buffer overflows, which the deadline reports.
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		for done := false; !done; {
			k, err := conn.ReadBatch(msgs)
			if err != nil {
				return errors.Join(errors.New("udp exchange: no server flight"), err)
			}
			for _, m := range msgs[:k] {
				for d := range m.Datagrams {
					done = done || (len(d) > 0 && d[0] == markFlight2)
				}
			}
		}
		if err := conn.WriteSegments(final, 0, to, udpio.ECNNotECT, netip.Addr{}); err != nil {
			return err
		}
	}
	return nil
}
