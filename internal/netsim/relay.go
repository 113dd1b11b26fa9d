package netsim

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Relay forwards UDP between clients and one server over real loopback
// sockets, impairing each direction. Clients send to Addr(); for each client
// address the relay opens an upstream socket towards the server, so the
// server sees one source address per client — until Rebind gives that client
// a new one.
type Relay struct {
	front    *net.UDPConn
	server   netip.AddrPort
	Upstream *Link // client → server
	Down     *Link // server → client

	mu      sync.Mutex
	clients map[netip.AddrPort]*relayFlow
	closed  bool
	wg      sync.WaitGroup

	// up and down deliver delayed datagrams in order when the link has no
	// jitter: one timer per datagram would fire in any order.
	up, down delayLine
	done     chan struct{}
}

// delayLine sends datagrams when they are due, in the order given: a
// path without jitter does not reorder.
type delayLine struct {
	once sync.Once
	ch   chan delayed
}

type delayed struct {
	due  time.Time
	p    []byte
	send func([]byte)
}

// push queues x, starting the line's goroutine on first use; a full
// queue drops it, as a router's would.
func (r *Relay) push(d *delayLine, x delayed) {
	d.once.Do(func() {
		d.ch = make(chan delayed, 4096)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			for {
				select {
				case x := <-d.ch:
					if w := time.Until(x.due); w > 0 {
						select {
						case <-time.After(w):
						case <-r.done:
							return
						}
					}
					x.send(x.p)
				case <-r.done:
					return
				}
			}
		}()
	})
	select {
	case d.ch <- x:
	default:
	}
}

type relayFlow struct {
	client netip.AddrPort
	mu     sync.Mutex
	up     *net.UDPConn // socket towards the server; replaced by Rebind
}

// NewRelay listens on 127.0.0.1 (or ::1 for an IPv6 server) and relays to
// server. The links start perfect; set their impairments at any time.
func NewRelay(server netip.AddrPort, seed uint64) (*Relay, error) {
	loop := netip.MustParseAddr("127.0.0.1")
	if server.Addr().Is6() && !server.Addr().Is4In6() {
		loop = netip.IPv6Loopback()
	}
	front, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loop, 0)))
	if err != nil {
		return nil, err
	}
	r := &Relay{
		front:    front,
		server:   server,
		Upstream: NewLink(Impairment{}, seed),
		Down:     NewLink(Impairment{}, seed+1),
		clients:  map[netip.AddrPort]*relayFlow{},
		done:     make(chan struct{}),
	}
	r.wg.Add(1)
	go r.readFront()
	return r, nil
}

// Addr is where clients send.
func (r *Relay) Addr() netip.AddrPort { return r.front.LocalAddr().(*net.UDPAddr).AddrPort() }

func (r *Relay) readFront() {
	defer r.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := r.front.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		f, err := r.flow(from)
		if err != nil {
			return
		}
		f.mu.Lock()
		up := f.up
		f.mu.Unlock()
		r.forward(r.Upstream, buf[:n], func(b []byte) { up.WriteToUDPAddrPort(b, r.server) })
	}
}

// flow returns the flow for a client, opening its upstream socket.
func (r *Relay) flow(client netip.AddrPort) (*relayFlow, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, net.ErrClosed
	}
	if f, ok := r.clients[client]; ok {
		return f, nil
	}
	f := &relayFlow{client: client}
	if err := r.openUpstreamLocked(f); err != nil {
		return nil, err
	}
	r.clients[client] = f
	return f, nil
}

func (r *Relay) openUpstreamLocked(f *relayFlow) error {
	up, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.front.LocalAddr().(*net.UDPAddr).AddrPort().Addr(), 0)))
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.up = up
	f.mu.Unlock()
	r.wg.Add(1)
	go r.readUpstream(f, up)
	return nil
}

func (r *Relay) readUpstream(f *relayFlow, up *net.UDPConn) {
	defer r.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, _, err := up.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		r.forward(r.Down, buf[:n], func(b []byte) { r.front.WriteToUDPAddrPort(b, f.client) })
	}
}

// forward sends a copy of b through link l, now or after its delay: in
// order through the direction's delay line unless the link has jitter.
func (r *Relay) forward(l *Link, b []byte, send func([]byte)) {
	now := time.Now()
	plan, n := l.plan(now, len(b))
	line := &r.up
	if l == r.Down {
		line = &r.down
	}
	for _, d := range plan[:n] {
		p := append([]byte(nil), b...)
		if d.corrupt >= 0 {
			p[d.corrupt] ^= 0xff
		}
		switch {
		case d.after <= 0:
			send(p)
		case l.Impairment().Jitter == 0:
			r.push(line, delayed{due: now.Add(d.after), p: p, send: send})
		default:
			time.AfterFunc(d.after, func() { send(p) })
		}
	}
}

// ErrUnknownClient is returned by Rebind for a client the relay has not seen.
var ErrUnknownClient = errors.New("netsim: relay has not seen that client")

// Rebind gives a client a new source port towards the server, as a NAT
// rebinding does. Replies the server sends to the old port are lost. It
// returns the new address the server will see.
func (r *Relay) Rebind(client netip.AddrPort) (netip.AddrPort, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.clients[client]
	if !ok {
		return netip.AddrPort{}, ErrUnknownClient
	}
	f.mu.Lock()
	old := f.up
	f.mu.Unlock()
	if err := r.openUpstreamLocked(f); err != nil {
		return netip.AddrPort{}, err
	}
	old.Close()
	return f.up.LocalAddr().(*net.UDPAddr).AddrPort(), nil
}

// Close stops the relay and waits for its goroutines. Datagrams still
// waiting out their delay are sent to closed sockets and lost.
func (r *Relay) Close() error {
	r.mu.Lock()
	if !r.closed {
		close(r.done)
	}
	r.closed = true
	r.front.Close()
	for _, f := range r.clients {
		f.mu.Lock()
		f.up.Close()
		f.mu.Unlock()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return nil
}
