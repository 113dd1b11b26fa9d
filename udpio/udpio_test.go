package udpio

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

// Tests of behaviour every path shares, run on the portable path here and,
// on Linux, on the batched path in the _linux tests.

// TestPortableRoundTrip forces the portable path on the receiver, and on
// the sender or not: same datagrams, same order, same addresses.
func TestPortableRoundTrip(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		for _, batchedSender := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/batched-sender=%v", network, batchedSender), func(t *testing.T) {
				if network == "udp6" {
					skipNoIPv6(t)
				}
				portableRoundTrip(t, network, Options{Portable: !batchedSender})
			})
		}
	}
}

func portableRoundTrip(t *testing.T, network string, sendOpts Options) {
	snd, rcv := loopbackPair(t, network, sendOpts, Options{Portable: true})
	if caps := rcv.Capabilities(); caps.Batch || caps.GSO || caps.GRO || caps.ECN {
		t.Fatalf("portable Conn reports %+v", caps)
	}
	// One single datagram, one run of 5 segments (the last shorter) and a
	// zero-length datagram.
	run := payload(1, 4*300+120)
	msgs := []Message{
		{Buf: payload(0, 900), N: 900, Addr: rcv.LocalAddr()},
		{Buf: run, N: len(run), Addr: rcv.LocalAddr(), SegmentSize: 300},
		{Buf: nil, N: 0, Addr: rcv.LocalAddr()},
	}
	n, err := snd.WriteBatch(msgs)
	if err != nil || n != len(msgs) {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	// The zero-length datagram reads as nothing.
	want := [][]byte{msgs[0].Buf, run[0:300], run[300:600], run[600:900], run[900:1200], run[1200:]}
	gotten := readN(t, rcv, len(want), 8, 0)
	for i, g := range gotten {
		if !bytes.Equal(g.data, want[i]) {
			t.Errorf("datagram %d: %d bytes, want %d", i, len(g.data), len(want[i]))
		}
		if g.addr != snd.LocalAddr() {
			t.Errorf("datagram %d from %v, want %v", i, g.addr, snd.LocalAddr())
		}
		if g.local != rcv.LocalAddr().Addr() {
			t.Errorf("datagram %d local %v, want %v", i, g.local, rcv.LocalAddr().Addr())
		}
	}
}

func TestPortableFromEnvironment(t *testing.T) {
	t.Setenv("SKIFF_UDPIO_PORTABLE", "1")
	c := listenT(t, "udp4", "127.0.0.1:0", Options{})
	if c.Capabilities().Batch {
		t.Fatal("SKIFF_UDPIO_PORTABLE=1 left the batched path on")
	}
}

func TestReadDeadline(t *testing.T) {
	for _, portable := range []bool{false, true} {
		c := listenT(t, "udp4", "127.0.0.1:0", Options{Portable: portable})
		c.SetReadDeadline(time.Unix(1, 0)) // in the past: no waiting
		msgs := []Message{{Buf: make([]byte, 100)}}
		if _, err := c.ReadBatch(msgs); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("portable=%v: ReadBatch past deadline: %v", portable, err)
		}
	}
}

func TestCloseUnblocksRead(t *testing.T) {
	for _, portable := range []bool{false, true} {
		c := listenT(t, "udp4", "127.0.0.1:0", Options{Portable: portable})
		done := make(chan error)
		go func() {
			msgs := []Message{{Buf: make([]byte, 100)}}
			_, err := c.ReadBatch(msgs)
			done <- err
		}()
		c.Close()
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Errorf("portable=%v: ReadBatch on closed Conn: %v", portable, err)
		}
	}
}

func TestAddressFamilyMismatch(t *testing.T) {
	for _, portable := range []bool{false, true} {
		c := listenT(t, "udp4", "127.0.0.1:0", Options{Portable: portable})
		err := c.WriteSegments([]byte("x"), 0, netip.MustParseAddrPort("[::1]:9"), ECNNotECT, netip.Addr{})
		if err == nil {
			t.Errorf("portable=%v: IPv6 destination on IPv4 socket accepted", portable)
		}
	}
}
