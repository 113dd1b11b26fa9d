package relay

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Config places a relay: where clients reach it, where it forwards, and
// the network between.
type Config struct {
	Network Network
	// Listen is the address clients send to (the "server" they see);
	// port 0 picks one.
	Listen netip.AddrPort
	// Server is the real server.
	Server netip.AddrPort
	// Outbound are the local addresses of the sockets that talk to the
	// server, one per NAT mapping: the client's address as the server
	// sees it. Address rebinding moves to the next one. Empty: the
	// unspecified address of Server's family.
	Outbound []netip.Addr
	// ListenUDP opens the relay's sockets; net.ListenUDP when nil. The
	// runner's opens them inside a network namespace.
	ListenUDP func(network string, laddr *net.UDPAddr) (*net.UDPConn, error)
	// Clock is the relay's time; time.Now when nil. Tests step it to
	// move the NAT's rebinding along.
	Clock func() time.Time
	// Extra are more addresses clients may send to, each forwarding to
	// its own server address: a server's preferred address (RFC 9000
	// §9.6), which it announces as the Listen address here. Clients keep
	// their NAT mapping whichever server address they send to, as an
	// endpoint-independent NAT does.
	Extra []Route
}

// Route is a front address of the relay and the server address behind it.
type Route struct {
	Listen, Server netip.AddrPort
}

// Datagram is one datagram as the relay saw it.
type Datagram struct {
	Dir Dir
	// Index counts the direction's datagrams from 1.
	Index int
	// Arrived is when it reached the relay, Fate.Deliver when it left,
	// both since the relay started.
	Arrived time.Duration
	Fate    Fate
	// Client is the client's own address; Path is the client's address
	// as the server sees it (after the NAT); Server is the server address
	// it went to or came from (Config.Server, or one of Extra).
	Client, Path, Server netip.AddrPort
	// ECN is the ECN field of the IP header, kept on delivery.
	ECN uint8
	// Payload is the UDP payload as sent, before any corruption.
	Payload []byte
}

// Relay forwards UDP datagrams between clients and one server through a
// Network, as the simulator does, recording each one.
type Relay struct {
	cfg   Config
	start time.Time
	front *net.UDPConn
	v6    bool
	// fronts and servers pair the front sockets with the server address
	// each forwards to: the first are front and Config.Server, then
	// Config.Extra's.
	fronts  []*net.UDPConn
	servers []netip.AddrPort

	mu       sync.Mutex
	links    [2]*link
	flows    map[netip.AddrPort]*flow
	capture  []Datagram
	closed   bool
	stopped  atomic.Bool // closed, for the delivery workers
	sockets  []*net.UDPConn
	deliver  [2]chan pending
	workers  sync.WaitGroup
	readers  sync.WaitGroup
	nextAddr int
}

// flow is the NAT state of one client address: the socket of the current
// mapping and its epoch.
type flow struct {
	client netip.AddrPort
	epoch  int
	sock   *net.UDPConn
	path   netip.AddrPort
}

type pending struct {
	at      time.Time
	sock    *net.UDPConn
	to      netip.AddrPort
	payload []byte
	ecn     uint8
}

// deliverQueue bounds the datagrams in flight in one direction: far above
// what 750 ms at 10 Mbit/s holds.
const deliverQueue = 1 << 16

// Start opens the relay and starts its clock: the Network's times (the
// blackhole, rebinding) count from here.
func Start(cfg Config) (*Relay, error) {
	if cfg.ListenUDP == nil {
		cfg.ListenUDP = net.ListenUDP
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	r := &Relay{cfg: cfg, flows: map[netip.AddrPort]*flow{}, v6: cfg.Server.Addr().Is6() && !cfg.Server.Addr().Is4In6()}
	r.links = [2]*link{newLink(&r.cfg.Network, ToServer), newLink(&r.cfg.Network, ToClient)}
	front, err := r.openSocket(cfg.Listen)
	if err != nil {
		return nil, err
	}
	r.front = front
	r.fronts, r.servers = []*net.UDPConn{front}, []netip.AddrPort{unmap(cfg.Server)}
	for _, x := range cfg.Extra {
		c, err := r.openSocket(x.Listen)
		if err != nil {
			for _, s := range r.sockets {
				s.Close()
			}
			return nil, err
		}
		r.fronts = append(r.fronts, c)
		r.servers = append(r.servers, unmap(x.Server))
	}
	r.start = cfg.Clock()
	for d := range r.deliver {
		r.deliver[d] = make(chan pending, deliverQueue)
		r.workers.Add(1)
		go r.deliverLoop(r.deliver[d])
	}
	for i, c := range r.fronts {
		r.readers.Add(1)
		go r.readLoop(c, nil, i)
	}
	return r, nil
}

func (r *Relay) network() string {
	if r.v6 {
		return "udp6"
	}
	return "udp4"
}

func (r *Relay) listen(addr netip.Addr) (*net.UDPConn, error) {
	return r.openSocket(netip.AddrPortFrom(addr, 0))
}

func (r *Relay) openSocket(ap netip.AddrPort) (*net.UDPConn, error) {
	c, err := r.cfg.ListenUDP(r.network(), net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, err
	}
	if err := prepareSocket(c, r.v6); err != nil {
		c.Close()
		return nil, err
	}
	r.sockets = append(r.sockets, c)
	return c, nil
}

// Start is when the relay's clock started: Datagram times count from it.
func (r *Relay) Start() time.Time { return r.start }

// Addr is the address clients send to.
func (r *Relay) Addr() netip.AddrPort {
	return r.front.LocalAddr().(*net.UDPAddr).AddrPort()
}

// ExtraAddr is the address of Config.Extra[i] clients send to.
func (r *Relay) ExtraAddr(i int) netip.AddrPort {
	return r.fronts[1+i].LocalAddr().(*net.UDPAddr).AddrPort()
}

// Close stops the relay; datagrams still in flight are dropped.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.stopped.Store(true)
	for _, c := range r.sockets {
		c.Close()
	}
	r.mu.Unlock()
	r.readers.Wait()
	for _, ch := range r.deliver {
		close(ch)
	}
	r.workers.Wait()
	return nil
}

// Capture returns every datagram the relay saw, in order of arrival.
// Call it after Close.
func (r *Relay) Capture() []Datagram {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.capture
}

// readLoop reads a socket: a front, number i (f nil, datagrams from
// clients), or the socket of a NAT mapping (datagrams from the server's
// addresses).
func (r *Relay) readLoop(c *net.UDPConn, f *flow, i int) {
	defer r.readers.Done()
	buf := make([]byte, 1<<16)
	oob := make([]byte, 128)
	for {
		n, oobn, _, from, err := c.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			return // closed
		}
		payload := append([]byte(nil), buf[:n]...)
		ecn := readECN(oob[:oobn])
		if f == nil {
			r.fromClient(i, unmap(from), payload, ecn)
			continue
		}
		for k, s := range r.servers {
			if unmap(from) == s {
				r.fromServer(f, c, k, payload, ecn)
				break
			}
		}
	}
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func (r *Relay) fromClient(i int, from netip.AddrPort, payload []byte, ecn uint8) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	now := r.cfg.Clock().Sub(r.start)
	f, err := r.mapping(from, now)
	if err != nil {
		return
	}
	r.forward(ToServer, now, from, f.path, r.servers[i], payload, ecn, f.sock, r.servers[i])
}

func (r *Relay) fromServer(f *flow, sock *net.UDPConn, i int, payload []byte, ecn uint8) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	now := r.cfg.Clock().Sub(r.start)
	if sock != f.sock {
		// The NAT forgot this mapping when it rebound.
		r.capture = append(r.capture, Datagram{
			Dir: ToClient, Arrived: now, Fate: Fate{Drop: NATDrop, CorruptAt: -1},
			Client: f.client, Path: unmap(sock.LocalAddr().(*net.UDPAddr).AddrPort()), Server: r.servers[i], ECN: ecn, Payload: payload,
		})
		return
	}
	r.forward(ToClient, now, f.client, f.path, r.servers[i], payload, ecn, r.fronts[i], f.client)
}

// forward runs a datagram through its direction's link, records it and
// schedules its delivery. r.mu is held.
func (r *Relay) forward(d Dir, now time.Duration, client, path, server netip.AddrPort, payload []byte, ecn uint8, sock *net.UDPConn, to netip.AddrPort) {
	sent := payload
	if r.cfg.Network.Corrupt[d] > 0 {
		sent = append([]byte(nil), payload...)
	}
	fate := r.links[d].admit(now, sent)
	r.capture = append(r.capture, Datagram{
		Dir: d, Index: r.links[d].index, Arrived: now, Fate: fate,
		Client: client, Path: path, Server: server, ECN: ecn, Payload: payload,
	})
	if fate.Drop != Delivered {
		return
	}
	select {
	case r.deliver[d] <- pending{at: r.start.Add(fate.Deliver), sock: sock, to: to, payload: sent, ecn: ecn}:
	default: // cannot happen with a bounded link queue; drop rather than block
	}
}

// mapping returns the client's NAT mapping, making a new one when the
// client is new or the NAT rebinds. r.mu is held.
func (r *Relay) mapping(client netip.AddrPort, now time.Duration) (*flow, error) {
	epoch := r.cfg.Network.rebindEpoch(now)
	f := r.flows[client]
	if f != nil && f.epoch == epoch {
		return f, nil
	}
	addr := r.outbound(f != nil && r.cfg.Network.RebindAddr)
	sock, err := r.listen(addr)
	if err != nil {
		return nil, fmt.Errorf("relay: NAT mapping: %w", err)
	}
	if f == nil {
		f = &flow{client: client}
		r.flows[client] = f
	} else {
		// The old mapping stays open for datagrams already scheduled on
		// it; fromServer drops what arrives on it.
		old := f.sock
		time.AfterFunc(2*time.Second, func() { old.Close() })
	}
	f.epoch, f.sock = epoch, sock
	f.path = unmap(sock.LocalAddr().(*net.UDPAddr).AddrPort())
	r.readers.Add(1)
	go r.readLoop(sock, f, 0)
	return f, nil
}

// outbound picks the local address of a new mapping: the next one of
// Config.Outbound when the address must change.
func (r *Relay) outbound(next bool) netip.Addr {
	if len(r.cfg.Outbound) == 0 {
		if r.v6 {
			return netip.IPv6Unspecified()
		}
		return netip.IPv4Unspecified()
	}
	if next {
		r.nextAddr++
	}
	return r.cfg.Outbound[r.nextAddr%len(r.cfg.Outbound)]
}

func (r *Relay) deliverLoop(ch <-chan pending) {
	defer r.workers.Done()
	timer := time.NewTimer(0)
	<-timer.C
	for p := range ch {
		if r.stopped.Load() {
			continue // closing: drop what is in flight
		}
		if d := p.at.Sub(r.cfg.Clock()); d > 0 {
			timer.Reset(d)
			<-timer.C
		}
		p.sock.WriteMsgUDPAddrPort(p.payload, ecnControl(p.ecn, p.to), p.to)
	}
}
