package netsim

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"testing/synctest"
	"time"
)

var (
	hostA = netip.MustParseAddr("198.18.0.1")
	hostB = netip.MustParseAddr("198.18.0.2")
)

func pair(t *testing.T, n *Network) (*Conn, *Conn) {
	t.Helper()
	a, err := n.Listen(netip.AddrPortFrom(hostA, 0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.Listen(netip.AddrPortFrom(hostB, 443))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestDelayIsExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		a, b := pair(t, n)
		n.SetLink(hostA, hostB, NewLink(Impairment{Delay: 30 * time.Millisecond}, 1))
		start := time.Now()
		a.WriteToUDPAddrPort([]byte("hello"), b.LocalAddrPort())
		buf := make([]byte, 100)
		k, from, err := b.ReadFromUDPAddrPort(buf)
		if err != nil || string(buf[:k]) != "hello" || from != a.LocalAddrPort() {
			t.Fatalf("got %q from %v, %v", buf[:k], from, err)
		}
		if d := time.Since(start); d != 30*time.Millisecond {
			t.Fatalf("arrived after %v, want 30ms", d)
		}
	})
}

func TestRateLimitAndQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		a, b := pair(t, n)
		// 10 Mbit/s: a 1250-byte datagram takes 1 ms to serialize. The queue
		// holds 5000 bytes beyond the one being sent.
		n.SetLink(hostA, hostB, NewLink(Impairment{RateBitsPerSec: 10e6, QueueBytes: 5000}, 1))
		start := time.Now()
		for range 10 {
			a.WriteToUDPAddrPort(make([]byte, 1250), b.LocalAddrPort())
		}
		var arrivals []time.Duration
		b.SetReadDeadline(start.Add(time.Second))
		buf := make([]byte, 2000)
		for {
			if _, _, err := b.ReadFromUDPAddrPort(buf); err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatal(err)
				}
				break
			}
			arrivals = append(arrivals, time.Since(start))
		}
		// 1 in service plus 4 queued (5000 bytes); the other 5 dropped.
		if len(arrivals) != 5 {
			t.Fatalf("%d datagrams arrived, want 5: %v", len(arrivals), arrivals)
		}
		for i, d := range arrivals {
			if want := time.Duration(i+1) * time.Millisecond; d != want {
				t.Fatalf("datagram %d arrived at %v, want %v", i, d, want)
			}
		}
	})
}

func TestLossIsSeededAndNearItsRate(t *testing.T) {
	count := func(seed uint64) int {
		l := NewLink(Impairment{Loss: 0.25}, seed)
		lost := 0
		for range 4000 {
			if _, n := l.plan(time.Time{}, 1200); n == 0 {
				lost++
			}
		}
		return lost
	}
	a, b := count(7), count(7)
	if a != b {
		t.Fatalf("same seed lost %d then %d", a, b)
	}
	if a < 880 || a > 1120 {
		t.Fatalf("lost %d of 4000 at 25%%", a)
	}
}

func TestCorruptionFlipsOneByte(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		a, b := pair(t, n)
		n.SetLink(hostA, hostB, NewLink(Impairment{Corrupt: 1}, 3))
		msg := bytes.Repeat([]byte{0x55}, 64)
		a.WriteToUDPAddrPort(msg, b.LocalAddrPort())
		buf := make([]byte, 100)
		k, _, _ := b.ReadFromUDPAddrPort(buf)
		diff := 0
		for i := range k {
			if buf[i] != msg[i] {
				diff++
			}
		}
		if k != len(msg) || diff != 1 {
			t.Fatalf("got %d bytes with %d changed; want %d with 1", k, diff, len(msg))
		}
	})
}

func TestJitterReordersAndDuplicates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		a, b := pair(t, n)
		n.SetLink(hostA, hostB, NewLink(Impairment{Delay: 10 * time.Millisecond, Jitter: 20 * time.Millisecond, Duplicate: 0.2}, 5))
		for i := range 100 {
			a.WriteToUDPAddrPort([]byte{byte(i)}, b.LocalAddrPort())
			time.Sleep(time.Millisecond)
		}
		b.SetReadDeadline(time.Now().Add(time.Second))
		var got []byte
		buf := make([]byte, 10)
		for {
			if _, _, err := b.ReadFromUDPAddrPort(buf); err != nil {
				break
			}
			got = append(got, buf[0])
		}
		reordered := 0
		for i := 1; i < len(got); i++ {
			if got[i] < got[i-1] {
				reordered++
			}
		}
		if len(got) <= 100 || reordered == 0 {
			t.Fatalf("got %d datagrams, %d reorderings; want duplicates and reordering", len(got), reordered)
		}
	})
}

func TestRebindChangesSourceAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		a, b := pair(t, n)
		old := a.LocalAddrPort()
		a.WriteToUDPAddrPort([]byte("1"), b.LocalAddrPort())
		buf := make([]byte, 10)
		_, from1, _ := b.ReadFromUDPAddrPort(buf)
		moved := n.Rebind(a)
		a.WriteToUDPAddrPort([]byte("2"), b.LocalAddrPort())
		_, from2, _ := b.ReadFromUDPAddrPort(buf)
		if from1 != old || from2 != moved || moved == old || moved.Addr() != old.Addr() {
			t.Fatalf("sources %v then %v; rebind %v -> %v", from1, from2, old, moved)
		}
		// The old mapping is gone: a reply to it is lost.
		b.WriteToUDPAddrPort([]byte("lost"), old)
		b.WriteToUDPAddrPort([]byte("kept"), moved)
		k, _, _ := a.ReadFromUDPAddrPort(buf)
		if string(buf[:k]) != "kept" {
			t.Fatalf("got %q, want the reply to the new address", buf[:k])
		}
	})
}

// echoServer answers every datagram with its bytes, prefixed by the source
// address it came from, until ctx ends.
func echoServer(t *testing.T, ctx context.Context) *net.UDPConn {
	t.Helper()
	srv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	go func() { <-ctx.Done(); srv.Close() }()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			srv.WriteToUDPAddrPort(append([]byte(from.String()+"|"), buf[:n]...), from)
		}
	}()
	return srv
}

func TestRelayOverLoopback(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	srv := echoServer(t, ctx)
	r, err := NewRelay(srv.LocalAddr().(*net.UDPAddr).AddrPort(), 9)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cl, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	deadline, _ := ctx.Deadline()
	cl.SetReadDeadline(deadline)

	roundTrip := func(msg string) string {
		t.Helper()
		if _, err := cl.WriteToUDPAddrPort([]byte(msg), r.Addr()); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2048)
		n, from, err := cl.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatal(err)
		}
		if from != r.Addr() {
			t.Fatalf("reply came from %v, not the relay %v", from, r.Addr())
		}
		src, body, _ := bytes.Cut(buf[:n], []byte("|"))
		if string(body) != msg {
			t.Fatalf("echo %q, want %q", body, msg)
		}
		return string(src)
	}
	first := roundTrip("one")
	if roundTrip("two") != first {
		t.Fatal("the server saw a second source address without a rebinding")
	}
	moved, err := r.Rebind(cl.LocalAddr().(*net.UDPAddr).AddrPort())
	if err != nil {
		t.Fatal(err)
	}
	if got := roundTrip("three"); got != moved.String() || got == first {
		t.Fatalf("after rebinding the server saw %s, want %s (was %s)", got, moved, first)
	}

	// Blackhole the server's direction: the echo of "void" is dropped, and
	// once the link is clear again the next reply is that of "after".
	r.Down.Set(Impairment{Blackhole: true})
	cl.WriteToUDPAddrPort([]byte("void"), r.Addr())
	for r.Down.Stats().Lost == 0 {
		if ctx.Err() != nil {
			t.Fatal("the blackholed reply never reached the relay")
		}
		runtime.Gosched()
	}
	r.Down.Set(Impairment{})
	roundTrip("after")
}
