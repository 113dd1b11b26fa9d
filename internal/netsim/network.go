package netsim

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
)

// Network is an in-memory datagram network. Hosts are IP addresses; each
// Conn is a port on one. Datagrams between two hosts cross the Link set for
// that direction, or a perfect one.
type Network struct {
	mu       sync.Mutex
	conns    map[netip.AddrPort]*Conn
	links    map[[2]netip.Addr]*Link
	nextPort uint16
	tap      func(from, to netip.AddrPort, b []byte)
}

// NewNetwork returns an empty network.
func NewNetwork() *Network {
	return &Network{
		conns:    map[netip.AddrPort]*Conn{},
		links:    map[[2]netip.Addr]*Link{},
		nextPort: 40000,
	}
}

// SetLink makes datagrams from host `from` to host `to` cross l.
func (n *Network) SetLink(from, to netip.Addr, l *Link) {
	n.mu.Lock()
	n.links[[2]netip.Addr{from, to}] = l
	n.mu.Unlock()
}

// ErrAddrInUse is returned by Listen for a taken address.
var ErrAddrInUse = errors.New("netsim: address in use")

// recvQueue is how many datagrams a Conn holds before it drops, like a
// socket's receive buffer.
const recvQueue = 4096

// Listen opens a Conn at addr; port 0 picks a free port.
func (n *Network) Listen(addr netip.AddrPort) (*Conn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if addr.Port() == 0 {
		addr = n.freePortLocked(addr.Addr())
	}
	if _, ok := n.conns[addr]; ok {
		return nil, ErrAddrInUse
	}
	c := &Conn{
		net:    n,
		addr:   addr,
		queue:  make(chan datagram, recvQueue),
		closed: make(chan struct{}),
	}
	n.conns[addr] = c
	return c, nil
}

func (n *Network) freePortLocked(ip netip.Addr) netip.AddrPort {
	for {
		n.nextPort++
		a := netip.AddrPortFrom(ip, n.nextPort)
		if _, ok := n.conns[a]; !ok {
			return a
		}
	}
}

// Rebind moves c to a new port on the same host, as a NAT rebinding looks
// to the peer (RFC 9000 §9.3): what c sends from now on comes from the new
// address, and datagrams to the old one are dropped.
func (n *Network) Rebind(c *Conn) netip.AddrPort {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.conns, c.addr)
	a := n.freePortLocked(c.addr.Addr())
	c.mu.Lock()
	c.addr = a
	c.mu.Unlock()
	n.conns[a] = c
	return a
}

// RebindAddr moves c to a free port on host ip, as a NAT that changes the
// address of a flow looks to the peer (RFC 9000 §9.3): what c sends from
// now on comes from the new address, and datagrams to the old one are
// dropped. Datagrams from ip cross the links set for ip.
func (n *Network) RebindAddr(c *Conn, ip netip.Addr) netip.AddrPort {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.conns, c.addr)
	a := n.freePortLocked(ip)
	c.mu.Lock()
	c.addr = a
	c.mu.Unlock()
	n.conns[a] = c
	return a
}

// Tap calls fn with every datagram sent on the network, at the moment it
// is sent (before its link delays it), as an attacker who sees the traffic
// would; fn must not keep b. A nil fn removes the tap.
func (n *Network) Tap(fn func(from, to netip.AddrPort, b []byte)) {
	n.mu.Lock()
	n.tap = fn
	n.mu.Unlock()
}

// Inject sends b to `to` as if from `from`, which need not be an address
// of the network: a spoofed source. It crosses the link from from's host
// to to's host, like any datagram.
func (n *Network) Inject(from, to netip.AddrPort, b []byte) {
	n.send(from, to, b)
}

func (n *Network) route(from, to netip.AddrPort) (*Conn, *Link, func(from, to netip.AddrPort, b []byte)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.conns[to], n.links[[2]netip.Addr{from.Addr(), to.Addr()}], n.tap
}

// send delivers b from `from` to `to` across their link.
func (n *Network) send(from, to netip.AddrPort, b []byte) {
	dst, link, tap := n.route(from, to)
	if tap != nil {
		tap(from, to, b)
	}
	if dst == nil {
		return
	}
	if link == nil {
		dst.deliver(datagram{append([]byte(nil), b...), from})
		return
	}
	plan, k := link.plan(time.Now(), len(b))
	for _, d := range plan[:k] {
		p := append([]byte(nil), b...)
		if d.corrupt >= 0 {
			p[d.corrupt] ^= 0xff
		}
		dg := datagram{p, from}
		if d.after <= 0 {
			dst.deliver(dg)
		} else {
			time.AfterFunc(d.after, func() { dst.deliver(dg) })
		}
	}
}

type datagram struct {
	b    []byte
	from netip.AddrPort
}

// Conn is one endpoint on a Network. Its methods mirror *net.UDPConn's, and
// it implements net.PacketConn.
type Conn struct {
	net   *Network
	mu    sync.Mutex
	addr  netip.AddrPort
	queue chan datagram

	closeOnce sync.Once
	closed    chan struct{}

	deadlineMu   sync.Mutex
	readDeadline time.Time
	// mtu, when set, is the largest datagram c sends: larger writes fail
	// with EMSGSIZE, as a socket with DF set on a smaller interface does.
	mtu int
}

// SetMTU makes writes of more than mtu bytes fail with syscall.EMSGSIZE;
// 0 lifts the limit.
func (c *Conn) SetMTU(mtu int) {
	c.mu.Lock()
	c.mtu = mtu
	c.mu.Unlock()
}

// LocalAddrPort is c's current address.
func (c *Conn) LocalAddrPort() netip.AddrPort {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addr
}

// LocalAddr implements net.PacketConn.
func (c *Conn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.LocalAddrPort()) }

// WriteToUDPAddrPort sends b to addr. Like UDP, it succeeds whether or not
// anything is listening there.
func (c *Conn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	c.mu.Lock()
	from, mtu := c.addr, c.mtu
	c.mu.Unlock()
	if mtu > 0 && len(b) > mtu {
		return 0, &net.OpError{Op: "write", Net: "udp", Err: os.NewSyscallError("sendto", syscall.EMSGSIZE)}
	}
	c.net.send(from, addr, b)
	return len(b), nil
}

func (c *Conn) deliver(d datagram) {
	select {
	case <-c.closed:
	case c.queue <- d:
	default: // receive buffer full: dropped, as a kernel would
	}
}

// ReadFromUDPAddrPort reads the next datagram.
func (c *Conn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	c.deadlineMu.Lock()
	dl := c.readDeadline
	c.deadlineMu.Unlock()
	var timeout <-chan time.Time
	if !dl.IsZero() {
		d := time.Until(dl)
		if d <= 0 {
			return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case d := <-c.queue:
		return copy(b, d.b), d.from, nil
	case <-c.closed:
		return 0, netip.AddrPort{}, net.ErrClosed
	case <-timeout:
		return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
	}
}

// ReadFrom implements net.PacketConn.
func (c *Conn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(a), nil
}

// WriteTo implements net.PacketConn.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, errors.New("netsim: not a UDP address")
	}
	return c.WriteToUDPAddrPort(b, ua.AddrPort())
}

// SetReadDeadline sets the deadline for reads already blocked and future ones.
// A read already blocked keeps the deadline it started with.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.deadlineMu.Lock()
	c.readDeadline = t
	c.deadlineMu.Unlock()
	return nil
}

// SetWriteDeadline implements net.PacketConn; writes never block.
func (c *Conn) SetWriteDeadline(time.Time) error { return nil }

// SetDeadline implements net.PacketConn.
func (c *Conn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

// Close closes c; blocked reads return net.ErrClosed.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		addr := c.LocalAddrPort()
		c.net.mu.Lock()
		if c.net.conns[addr] == c {
			delete(c.net.conns, addr)
		}
		c.net.mu.Unlock()
	})
	return nil
}
