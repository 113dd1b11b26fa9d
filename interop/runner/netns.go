package runner

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/skiffnet/skiff/interop/relay"
	"golang.org/x/sys/unix"
)

// Topology is where the endpoints and the relay run: three network
// namespaces joined by veth pairs (client — sim — server, addresses in
// the benchmarking ranges 198.18.0.0/15 and 2001:2::/48, which exist only
// inside them), or loopback when namespaces are not available.
type Topology struct {
	// Mode is "namespaces" or "loopback".
	Mode string
	// Client, Sim and Server are the namespaces' names (empty on loopback).
	Client, Sim, Server string
	// ServerAddr is the server's address; Front the relay's address the
	// client sends to; Outbound the relay's addresses toward the server,
	// one per NAT mapping in turn. Indexed by [ipv6].
	ServerAddr, Front [2]netip.Addr
	Outbound          [2][]netip.Addr
	// Port is the server's UDP port (443 in namespaces).
	Port uint16
	// Veth toward the client and toward the server in Sim, for tbf.
	simClientLink, simServerLink string
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// Loopback is the fallback topology: everything on 127.0.0.1 (::1),
// the NAT's addresses 127.0.0.2–4.
func Loopback(port uint16) *Topology {
	return &Topology{
		Mode:       "loopback",
		ServerAddr: [2]netip.Addr{ip("127.0.0.1"), ip("::1")},
		Front:      [2]netip.Addr{ip("127.0.0.1"), ip("::1")},
		Outbound:   [2][]netip.Addr{{ip("127.0.0.2"), ip("127.0.0.3"), ip("127.0.0.4")}, {ip("::1")}},
		Port:       port,
	}
}

// SetupNamespaces builds the three namespaces, named after prefix.
func SetupNamespaces(prefix string) (*Topology, error) {
	t := &Topology{
		Mode: "namespaces", Client: prefix + "-c", Sim: prefix + "-s", Server: prefix + "-v",
		ServerAddr:    [2]netip.Addr{ip("198.18.1.2"), ip("2001:2:0:1::2")},
		Front:         [2]netip.Addr{ip("198.18.0.1"), ip("2001:2::1")},
		Outbound:      [2][]netip.Addr{{ip("198.18.1.1"), ip("198.18.1.11"), ip("198.18.1.12")}, {ip("2001:2:0:1::1")}},
		Port:          443,
		simClientLink: prefix + "c1", simServerLink: prefix + "s1",
	}
	c0, c1, s0, s1 := prefix+"c0", t.simClientLink, prefix+"s0", t.simServerLink
	cmds := [][]string{
		{"netns", "add", t.Client}, {"netns", "add", t.Sim}, {"netns", "add", t.Server},
		{"link", "add", c0, "netns", t.Client, "type", "veth", "peer", "name", c1, "netns", t.Sim},
		{"link", "add", s0, "netns", t.Server, "type", "veth", "peer", "name", s1, "netns", t.Sim},
	}
	in := func(ns string, args ...string) []string { return append([]string{"-n", ns}, args...) }
	for _, ns := range []string{t.Client, t.Sim, t.Server} {
		cmds = append(cmds, in(ns, "link", "set", "lo", "up"))
	}
	cmds = append(cmds,
		in(t.Client, "addr", "add", "198.18.0.2/24", "dev", c0),
		in(t.Client, "-6", "addr", "add", "2001:2::2/64", "dev", c0, "nodad"),
		in(t.Client, "link", "set", c0, "up"),
		in(t.Client, "route", "add", "default", "via", "198.18.0.1"),
		in(t.Client, "-6", "route", "add", "default", "via", "2001:2::1"),
		in(t.Sim, "addr", "add", "198.18.0.1/24", "dev", c1),
		in(t.Sim, "-6", "addr", "add", "2001:2::1/64", "dev", c1, "nodad"),
		in(t.Sim, "addr", "add", "198.18.1.1/24", "dev", s1),
		in(t.Sim, "addr", "add", "198.18.1.11/24", "dev", s1),
		in(t.Sim, "addr", "add", "198.18.1.12/24", "dev", s1),
		in(t.Sim, "-6", "addr", "add", "2001:2:0:1::1/64", "dev", s1, "nodad"),
		in(t.Sim, "link", "set", c1, "up"),
		in(t.Sim, "link", "set", s1, "up"),
		in(t.Server, "addr", "add", "198.18.1.2/24", "dev", s0),
		in(t.Server, "-6", "addr", "add", "2001:2:0:1::2/64", "dev", s0, "nodad"),
		in(t.Server, "link", "set", s0, "up"),
		in(t.Server, "route", "add", "default", "via", "198.18.1.1"),
		in(t.Server, "-6", "route", "add", "default", "via", "2001:2:0:1::1"),
	)
	for _, args := range cmds {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Close()
			return nil, fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	// The sim namespace routes the cross traffic's TCP flow.
	if err := t.sysctl(t.Sim, "net/ipv4/ip_forward", "1"); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// sysctl writes a /proc/sys setting inside a namespace.
func (t *Topology) sysctl(ns, key, value string) error {
	return t.Do(ns, func() error {
		return os.WriteFile("/proc/sys/"+key, []byte(value), 0o644)
	})
}

// Close removes the namespaces (and with them the veth pairs).
func (t *Topology) Close() {
	for _, ns := range []string{t.Client, t.Sim, t.Server} {
		if ns != "" {
			exec.Command("ip", "netns", "del", ns).Run()
		}
	}
}

// Do runs fn on an OS thread inside namespace ns (fn alone when ns is
// empty): sockets it opens stay in that namespace and serve any goroutine.
func (t *Topology) Do(ns string, fn func() error) error {
	if ns == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is left locked (and so discarded when this
		// goroutine ends) unless it gets back to its namespace.
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer self.Close()
		target, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
	}()
	return <-errc
}

// ListenUDP opens UDP sockets inside the sim namespace, for the relay.
func (t *Topology) ListenUDP(network string, laddr *net.UDPAddr) (c *net.UDPConn, err error) {
	err = t.Do(t.Sim, func() error {
		c, err = net.ListenUDP(network, laddr)
		return err
	})
	return c, err
}

// Command runs a program inside a namespace.
func (t *Topology) Command(ctx context.Context, ns string, name string, args ...string) *exec.Cmd {
	if ns == "" {
		return exec.CommandContext(ctx, name, args...)
	}
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// Shape puts the bottleneck in the kernel for the cross traffic case:
// tbf at rate bits/s with a queue of queue packets on both of the sim
// namespace's links, so that the relay's UDP and a TCP flow share it.
// It returns a function that removes it.
func (t *Topology) Shape(rate int64, queue int) (func(), error) {
	links := []string{t.simClientLink, t.simServerLink}
	for _, l := range links {
		args := []string{"-n", t.Sim, "qdisc", "add", "dev", l, "root", "tbf",
			"rate", fmt.Sprint(rate), "burst", "3000", "limit", fmt.Sprint(queue * 1500)}
		if out, err := exec.Command("tc", args...).CombinedOutput(); err != nil {
			return func() {}, fmt.Errorf("tc %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return func() {
		for _, l := range links {
			exec.Command("tc", "-n", t.Sim, "qdisc", "del", "dev", l, "root").Run()
		}
	}, nil
}

// preferredPort is the port of a server's preferred address in
// namespaces, on the server's address and the relay's front alike.
const preferredPort = 4434

// preferredRoute is where a connectionmigration server's preferred
// address lives: the relay's second front (what the server announces) and
// the server's socket behind it. In namespaces both are at port 4434; on
// loopback, free ports are picked.
func (t *Topology) preferredRoute(v6 int) (relay.Route, error) {
	if t.Mode == "namespaces" {
		return relay.Route{
			Listen: netip.AddrPortFrom(t.Front[v6], preferredPort),
			Server: netip.AddrPortFrom(t.ServerAddr[v6], preferredPort),
		}, nil
	}
	front, err := freeUDPPort(t.Front[v6])
	if err != nil {
		return relay.Route{}, err
	}
	server, err := freeUDPPort(t.ServerAddr[v6])
	if err != nil {
		return relay.Route{}, err
	}
	return relay.Route{Listen: front, Server: server}, nil
}

// freeUDPPort finds a UDP port free on a loopback address now.
func freeUDPPort(a netip.Addr) (netip.AddrPort, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, 0)))
	if err != nil {
		return netip.AddrPort{}, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort(), nil
}
