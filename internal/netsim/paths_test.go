package netsim

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// RebindAddr moves a Conn to another host: the peer sees the new address,
// and what it sends to the old one is lost.
func TestRebindAddr(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		a, b := pair(t, n)
		old := a.LocalAddrPort()
		hostC := netip.MustParseAddr("198.18.0.3")
		now := n.RebindAddr(a, hostC)
		if now.Addr() != hostC || a.LocalAddrPort() != now {
			t.Fatalf("rebound to %v, Conn says %v", now, a.LocalAddrPort())
		}
		a.WriteToUDPAddrPort([]byte("x"), b.LocalAddrPort())
		buf := make([]byte, 10)
		_, from, err := b.ReadFromUDPAddrPort(buf)
		if err != nil || from != now {
			t.Fatalf("from %v, %v; want %v", from, err, now)
		}
		b.WriteToUDPAddrPort([]byte("to old"), old)
		b.WriteToUDPAddrPort([]byte("to new"), now)
		k, _, _ := a.ReadFromUDPAddrPort(buf)
		if string(buf[:k]) != "to new" {
			t.Fatalf("got %q", buf[:k])
		}
	})
}

// Tap sees every datagram as it is sent; Inject delivers one with a
// spoofed source, ahead of the original when the tap injects at once.
func TestTapAndInject(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		a, b := pair(t, n)
		n.SetLink(hostA, hostB, NewLink(Impairment{Delay: 10 * time.Millisecond}, 1))
		victim := netip.MustParseAddrPort("203.0.113.9:1234")
		seen := 0
		n.Tap(func(from, to netip.AddrPort, p []byte) {
			seen++
			if from != victim {
				n.Inject(victim, to, p)
			}
		})
		a.WriteToUDPAddrPort([]byte("genuine"), b.LocalAddrPort())
		buf := make([]byte, 10)
		k, from, _ := b.ReadFromUDPAddrPort(buf)
		if from != victim || string(buf[:k]) != "genuine" {
			t.Fatalf("first: %q from %v, want the spoofed copy from %v", buf[:k], from, victim)
		}
		_, from, _ = b.ReadFromUDPAddrPort(buf)
		if from != a.LocalAddrPort() {
			t.Fatalf("second from %v, want the original", from)
		}
		if seen != 2 {
			t.Errorf("tap saw %d datagrams, want 2 (the original and the injected copy)", seen)
		}
	})
}

// A link's MTU drops larger datagrams silently; a Conn's MTU refuses to
// send them (EMSGSIZE).
func TestMTU(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork()
		a, b := pair(t, n)
		l := NewLink(Impairment{MTU: 1280}, 1)
		n.SetLink(hostA, hostB, l)
		a.WriteToUDPAddrPort(make([]byte, 1281), b.LocalAddrPort())
		a.WriteToUDPAddrPort(make([]byte, 1280), b.LocalAddrPort())
		buf := make([]byte, 2000)
		k, _, _ := b.ReadFromUDPAddrPort(buf)
		if k != 1280 || l.Stats().TooBig != 1 {
			t.Fatalf("got %d bytes, %+v", k, l.Stats())
		}
		a.SetMTU(1000)
		if _, err := a.WriteToUDPAddrPort(make([]byte, 1001), b.LocalAddrPort()); !errors.Is(err, syscall.EMSGSIZE) {
			t.Fatalf("write over the Conn's MTU: %v, want EMSGSIZE", err)
		}
	})
}
