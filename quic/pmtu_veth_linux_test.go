package quic

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/skiffnet/skiff/udpio"
	"golang.org/x/sys/unix"
)

// Path MTU discovery over a real link (issue 16, "Must show"): two network
// namespaces joined by a veth pair, addresses from 198.18.0.0/15, the
// client in one and the server in the other. With the link's MTU at 1500
// and then 9000 the connection settles on the largest datagram that fits
// (the socket sets DF, so a size over the interface MTU is refused with
// EMSGSIZE); when the MTU falls to 1280 mid-transfer, at the sender
// (EMSGSIZE) or only at the receiver (large datagrams vanish on the link,
// no ICMP), the transfer goes on at the smaller size. Throughput at 9000
// and 1500 is logged. Needs root and iproute2; skipped otherwise.

// vethLink is a veth pair between two fresh network namespaces.
type vethLink struct {
	nsClient, nsServer string
	client, server     netip.Addr
}

const (
	vethClientIf, vethServerIf = "skpm0", "skpm1"
)

func newVethLink(t *testing.T, mtu int) *vethLink {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces and a veth pair")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip command: " + err.Error())
	}
	id := fmt.Sprintf("skpmtu%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	l := &vethLink{nsClient: id + "c", nsServer: id + "s",
		client: netip.MustParseAddr("198.18.60.1"), server: netip.MustParseAddr("198.18.60.2")}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", l.nsClient).Run()
		exec.Command("ip", "netns", "del", l.nsServer).Run()
	})
	cmds := [][]string{
		{"netns", "add", l.nsClient}, {"netns", "add", l.nsServer},
		{"link", "add", vethClientIf, "netns", l.nsClient, "type", "veth", "peer", "name", vethServerIf, "netns", l.nsServer},
		{"-n", l.nsClient, "addr", "add", l.client.String() + "/24", "dev", vethClientIf},
		{"-n", l.nsServer, "addr", "add", l.server.String() + "/24", "dev", vethServerIf},
		{"-n", l.nsClient, "link", "set", "lo", "up"},
		{"-n", l.nsServer, "link", "set", "lo", "up"},
		{"-n", l.nsClient, "link", "set", vethClientIf, "up"},
		{"-n", l.nsServer, "link", "set", vethServerIf, "up"},
	}
	for _, args := range cmds {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Skipf("cannot build the veth link (ip %s): %v: %s", strings.Join(args, " "), err, out)
		}
	}
	l.setMTU(t, true, mtu)
	l.setMTU(t, false, mtu)
	return l
}

// setMTU sets the MTU of the client's or the server's end of the link.
func (l *vethLink) setMTU(t *testing.T, client bool, mtu int) {
	ns, dev := l.nsServer, vethServerIf
	if client {
		ns, dev = l.nsClient, vethClientIf
	}
	if out, err := exec.Command("ip", "-n", ns, "link", "set", "dev", dev, "mtu", fmt.Sprint(mtu)).CombinedOutput(); err != nil {
		t.Fatalf("set mtu %d: %v: %s", mtu, err, out)
	}
}

// listenIn opens a udpio socket inside namespace ns: a thread enters it,
// opens the socket (which stays in the namespace) and goes back.
func listenIn(ns string, addr netip.AddrPort, opts udpio.Options) (*udpio.Conn, error) {
	type result struct {
		c   *udpio.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// The thread stays locked, and is discarded with the goroutine,
		// unless it gets back to its own namespace.
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer self.Close()
		target, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: err}
			return
		}
		c, err := udpio.Listen("udp4", addr, opts)
		ch <- result{c, err}
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
	}()
	r := <-ch
	return r.c, r.err
}

// vethPair connects a client and a server across l, both allowing
// datagrams up to the most RFC 9000 allows, so that the link alone limits
// the size.
func vethPair(t *testing.T, ctx context.Context, l *vethLink, serverOpts udpio.Options) (client, server *Conn) {
	t.Helper()
	cc, sc := cheapConfigs(t)
	cc.MaxDatagramSize, sc.MaxDatagramSize = 65527, 65527
	ss, err := listenIn(l.nsServer, netip.AddrPortFrom(l.server, 4433), serverOpts)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := listenIn(l.nsClient, netip.AddrPortFrom(l.client, 0), udpio.Options{})
	if err != nil {
		ss.Close()
		t.Fatal(err)
	}
	se, ce := newEndpoint(ss, sc), newEndpoint(cs, nil)
	t.Cleanup(func() { ce.Close(); se.Close() })
	accepted := make(chan *Conn, 1)
	go func() {
		c, _ := (&Listener{e: se}).Accept(ctx)
		accepted <- c
	}()
	if client, err = ce.Dial(ctx, netip.AddrPortFrom(l.server, 4433), cc); err != nil {
		t.Fatal(err)
	}
	if server = <-accepted; server == nil {
		t.Fatal("no connection accepted")
	}
	return client, server
}

// settle exchanges data until both ends' datagram size stops changing.
func settle(t *testing.T, ctx context.Context, client, server *Conn) (int, int) {
	t.Helper()
	last := [2]int{}
	for i := range 50 {
		transfer(t, ctx, client, server, payload(uint64(i), 256<<10))
		now := [2]int{client.Stats().PathMTU, server.Stats().PathMTU}
		if now == last && i >= 3 {
			break
		}
		last = now
	}
	return last[0], last[1]
}

func TestVethPMTUDiscovery(t *testing.T) {
	var rate [2]float64
	for i, mtu := range []int{1500, 9000} {
		t.Run(fmt.Sprint(mtu), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			l := newVethLink(t, mtu)
			client, server := vethPair(t, ctx, l, udpio.Options{})
			cm, sm := settle(t, ctx, client, server)
			// IPv4 (20 bytes) and UDP (8) headers fill the rest.
			fits := mtu - 28
			t.Logf("link MTU %d: the client settled on %d-byte datagrams, the server on %d (largest that fits: %d)", mtu, cm, sm, fits)
			for _, got := range []int{cm, sm} {
				if got > fits || got < fits-16 {
					t.Errorf("settled on %d, want within 16 bytes below %d", got, fits)
				}
			}
			const size = 256 << 20
			data := payload(99, size)
			start := time.Now()
			sum, _ := download(t, ctx, client, server, data, nil)
			el := time.Since(start)
			if sum != sha256.Sum256(data) {
				t.Fatal("the downloaded bytes differ")
			}
			rate[i] = float64(size*8) / el.Seconds() / 1e6
			t.Logf("link MTU %d: bulk download of 256 MB in %v: %.0f Mbit/s in %d-byte datagrams", mtu, el, rate[i], server.Stats().PathMTU)
		})
	}
	if rate[0] > 0 && rate[1] > 0 {
		t.Logf("throughput at MTU 9000 vs 1500: %.0f vs %.0f Mbit/s (%.2f×)", rate[1], rate[0], rate[1]/rate[0])
	}
}

func TestVethPMTUBlackHole(t *testing.T) {
	for _, where := range []string{"sender", "receiver"} {
		t.Run(where, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			l := newVethLink(t, 9000)
			// A GSO burst crosses a veth pair whole, unchecked against
			// the receiving end's MTU; sent one datagram at a time, what
			// exceeds it is dropped there.
			client, server := vethPair(t, ctx, l, udpio.Options{DisableGSO: where == "receiver"})
			_, before := settle(t, ctx, client, server)
			data := payload(98, 64<<20)
			start := time.Now()
			var dropAt time.Duration
			sum, gap := download(t, ctx, client, server, data, func() {
				dropAt = time.Since(start)
				if where == "sender" {
					// The server's interface refuses what it sends
					// beyond 1280: EMSGSIZE.
					l.setMTU(t, false, 1280)
				}
				// The client's end drops what arrives beyond 1280,
				// silently.
				l.setMTU(t, true, 1280)
			})
			if sum != sha256.Sum256(data) {
				t.Fatal("the downloaded bytes differ")
			}
			st := server.Stats()
			t.Logf("MTU 9000 → 1280 at the %s, %v into a 64 MB download: done in %v, longest pause %v; datagrams %d → %d bytes, black holes %d, packets lost %d",
				where, dropAt, time.Since(start), gap, before, st.PathMTU, st.MTUBlackHoles, st.PacketsLost)
			if st.PathMTU > 1280-28 || st.MTUBlackHoles == 0 {
				t.Errorf("after the drop: %d-byte datagrams, %d black holes", st.PathMTU, st.MTUBlackHoles)
			}
		})
	}
}
