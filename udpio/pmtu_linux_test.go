package udpio

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOversizeOnLoopback: the loopback MTU (65536) is above the largest
// IPv4 UDP payload, so the only too-big send there is one over 65507 bytes.
func TestOversizeOnLoopback(t *testing.T) {
	snd, rcv := loopbackPair(t, "udp4", Options{}, Options{})
	err := snd.WriteSegments(make([]byte, 65508), 0, rcv.LocalAddr(), ECNNotECT, netip.Addr{})
	if !errors.Is(err, unix.EMSGSIZE) {
		t.Fatalf("65508-byte datagram: %v, want EMSGSIZE", err)
	}
	// The largest one goes.
	if err := snd.WriteSegments(make([]byte, 65507), 0, rcv.LocalAddr(), ECNNotECT, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if g := readN(t, rcv, 1, 1, 1<<16); len(g[0].data) != 65507 {
		t.Fatalf("received %d bytes", len(g[0].data))
	}
}

// smallMTUNamespace opens, in a new network namespace whose loopback has an
// MTU of 1280, a udpio receiver and sender and a plain socket, all on
// network. It skips unless the process may create network namespaces.
func smallMTUNamespace(t *testing.T, network, addr string) (rcv, snd *Conn, plain *net.UDPConn) {
	t.Helper()
	type result struct {
		rcv, snd *Conn
		plain    *net.UDPConn
		skip     string
		err      error
	}
	ch := make(chan result)
	go func() {
		// The thread enters the new namespace and is never unlocked: it
		// exits with this goroutine instead of going back to the scheduler.
		// The sockets made here stay in the namespace.
		runtime.LockOSThread()
		var r result
		defer func() { ch <- r }()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			r.skip = "cannot create a network namespace (needs root / CAP_SYS_ADMIN): " + err.Error()
			return
		}
		if err := setLoopbackMTU(1280); err != nil {
			r.skip = "cannot configure loopback in the new namespace: " + err.Error()
			return
		}
		ap := netip.MustParseAddrPort(addr)
		if r.rcv, r.err = Listen(network, ap, Options{}); r.err != nil {
			if network == "udp6" {
				r.skip, r.err = "no IPv6 loopback in the new namespace: "+r.err.Error(), nil
			}
			return
		}
		if r.snd, r.err = Listen(network, ap, Options{}); r.err != nil {
			return
		}
		r.plain, r.err = net.ListenUDP(network, net.UDPAddrFromAddrPort(ap))
	}()
	r := <-ch
	for _, c := range []*Conn{r.rcv, r.snd} {
		if c != nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	if r.plain != nil {
		t.Cleanup(func() { r.plain.Close() })
	}
	if r.skip != "" {
		t.Skip(r.skip)
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	r.rcv.SetReadDeadline(time.Now().Add(testTimeout))
	return r.rcv, r.snd, r.plain
}

// setLoopbackMTU sets the MTU of this thread's namespace's loopback and
// brings it up, by ioctl, so the test needs no external tool.
func setLoopbackMTU(mtu uint32) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	ifr.SetUint32(mtu)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFMTU, ifr); err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// TestDontFragment shows path MTU probes are real: over a 1280-byte MTU a
// 1400-byte datagram from udpio fails with EMSGSIZE (alone or as GSO
// segments), while the same datagram from a socket that allows
// fragmentation arrives in fragments; and a datagram that fits goes.
func TestDontFragment(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{
		{"udp4", "127.0.0.1:0"},
		{"udp6", "[::1]:0"},
	} {
		t.Run(tc.network, func(t *testing.T) {
			rcv, snd, plain := smallMTUNamespace(t, tc.network, tc.addr)
			if !snd.Capabilities().DontFragment {
				t.Fatalf("DF not set: %+v", snd.Capabilities())
			}
			to := rcv.LocalAddr()
			big := payload(1, 1400)
			if err := snd.WriteSegments(big, 0, to, ECNNotECT, netip.Addr{}); !errors.Is(err, unix.EMSGSIZE) {
				t.Fatalf("1400 bytes over MTU 1280: %v, want EMSGSIZE", err)
			}
			run := append(payload(2, 1400), payload(3, 1400)...)
			if err := snd.WriteSegments(run, 1400, to, ECNNotECT, netip.Addr{}); err == nil {
				t.Fatal("GSO run of 1400-byte segments over MTU 1280 was sent")
			}
			// The control: fragmentation allowed, the datagram goes.
			rc, err := plain.SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var serr error
			rc.Control(func(fd uintptr) {
				if tc.network == "udp4" {
					serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DONT)
				} else {
					serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_DONT)
				}
			})
			if serr != nil {
				t.Fatal(serr)
			}
			if _, err := plain.WriteToUDPAddrPort(big, to); err != nil {
				t.Fatalf("fragmenting socket: %v", err)
			}
			fits := payload(4, 1200)
			if err := snd.WriteSegments(fits, 0, to, ECNNotECT, netip.Addr{}); err != nil {
				t.Fatalf("1200 bytes: %v", err)
			}
			// Exactly two datagrams arrive, in order: nothing of the refused
			// sends slipped through ahead of them.
			g := readN(t, rcv, 2, 1, 0)
			plainAddr := plain.LocalAddr().(*net.UDPAddr).AddrPort()
			if !bytes.Equal(g[0].data, big) || g[0].addr.Port() != plainAddr.Port() {
				t.Fatalf("first datagram: %d bytes from %v, want the fragmented 1400 from %v", len(g[0].data), g[0].addr, plainAddr)
			}
			if !bytes.Equal(g[1].data, fits) || g[1].addr != snd.LocalAddr() {
				t.Fatalf("second datagram: %d bytes from %v", len(g[1].data), g[1].addr)
			}
		})
	}
}
