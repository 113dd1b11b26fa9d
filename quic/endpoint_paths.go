package quic

import (
	"errors"
	"net/netip"
	"syscall"

	"github.com/skiffnet/skiff/udpio"
)

// Path sockets: an endpoint reads more sockets than its first when a
// server announces a preferred address (RFC 9000 §9.6), and when a client
// connection migrates to a new local address (Conn.Migrate). Each has a
// number, the Local of the state machine's paths (socket 0 is the first),
// and a reader goroutine of its own that routes by connection ID into the
// one table, so a connection finds its datagrams whichever socket they
// came in on, and sends from the socket of its current path.

// pathSocket is one socket an endpoint reads besides its first.
type pathSocket struct {
	sock packetConn
	// owner is the connection the socket was opened for, which closes
	// it when it leaves the socket or ends; nil for the endpoint's own.
	owner *Conn
	done  chan struct{} // the reader stopped
}

// pathSockets is the endpoint's table of path sockets, guarded by
// Endpoint.mu.
type pathSockets struct {
	m    map[int]*pathSocket
	next int
}

// addSocket starts reading sock as the endpoint's next socket and returns
// its number.
func (e *Endpoint) addSocket(sock packetConn, owner *Conn) (int, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return 0, ErrEndpointClosed
	}
	if e.paths.m == nil {
		e.paths.m = map[int]*pathSocket{}
	}
	e.paths.next++
	id := e.paths.next
	ps := &pathSocket{sock: sock, owner: owner, done: make(chan struct{})}
	e.paths.m[id] = ps
	e.mu.Unlock()
	go func() {
		defer close(ps.done)
		e.readLoop(sock, id) // until the socket closes
	}()
	return id, nil
}

// socket returns socket id, nil when it is gone.
func (e *Endpoint) socket(id int) packetConn {
	if id == 0 {
		return e.sock
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if ps := e.paths.m[id]; ps != nil {
		return ps.sock
	}
	return nil
}

// socketAddr is socket id's local address.
func (e *Endpoint) socketAddr(id int) netip.AddrPort {
	if s := e.socket(id); s != nil {
		return s.LocalAddr()
	}
	return netip.AddrPort{}
}

// closeSockets closes the path sockets for which keep is false, and
// waits for their readers.
func (e *Endpoint) closeSockets(keep func(id int, ps *pathSocket) bool) {
	var gone []*pathSocket
	e.mu.Lock()
	for id, ps := range e.paths.m {
		if !keep(id, ps) {
			gone = append(gone, ps)
			delete(e.paths.m, id)
		}
	}
	e.mu.Unlock()
	for _, ps := range gone {
		ps.sock.Close()
		<-ps.done
	}
}

// sendOn sends messages from socket local. A datagram the local interface
// refuses for its size (EMSGSIZE: the socket sets DF) is reported to
// tooBig and skipped; the rest still go. Other errors are not the
// connection's business: UDP is unreliable, and loss recovery resends what
// did not go out.
func (e *Endpoint) sendOn(local int, msgs []udpio.Message, tooBig func(size int)) {
	sock := e.socket(local)
	if sock == nil {
		return
	}
	for len(msgs) > 0 {
		n, err := sock.WriteBatch(msgs)
		if err == nil || n >= len(msgs) || !errors.Is(err, syscall.EMSGSIZE) {
			return
		}
		size := msgs[n].N
		if msgs[n].SegmentSize > 0 {
			size = min(size, msgs[n].SegmentSize)
		}
		if tooBig != nil {
			tooBig(size)
		}
		msgs = msgs[n+1:]
	}
}

// PreferredAddress is a server's preferred address (RFC 9000 §9.6):
// clients move there after the handshake, validating the path first, and
// stay where they were when it does not answer. A server announces it to
// offer clients an address of its own once they reached it at a shared one
// (an anycast or load-balanced address). The listener reads a socket for
// each family given, besides its first.
type PreferredAddress struct {
	// IPv4 and IPv6 are the addresses announced; leave a family zero to
	// announce none of it. Port 0 binds any free port and announces it.
	IPv4, IPv6 netip.AddrPort
	// BindIPv4 and BindIPv6 are where the sockets for them listen, when
	// clients reach the server at another address (through a NAT or a
	// relay); zero to listen at the announced address.
	BindIPv4, BindIPv6 netip.AddrPort
}

// listenPreferred opens the sockets of a server's preferred addresses
// and announces what they bound.
func (e *Endpoint) listenPreferred(pa *PreferredAddress) error {
	open := func(network string, announce, bind netip.AddrPort) (netip.AddrPort, error) {
		if !announce.IsValid() {
			return netip.AddrPort{}, nil
		}
		if !bind.IsValid() {
			bind = announce
		}
		sock, err := udpio.Listen(network, bind, udpio.Options{})
		if err != nil {
			return netip.AddrPort{}, err
		}
		if _, err := e.addSocket(sock, nil); err != nil {
			sock.Close()
			return netip.AddrPort{}, err
		}
		if announce.Port() == 0 {
			announce = netip.AddrPortFrom(announce.Addr(), sock.LocalAddr().Port())
		}
		return announce, nil
	}
	v4, err := open("udp4", pa.IPv4, pa.BindIPv4)
	if err != nil {
		return err
	}
	v6, err := open("udp6", pa.IPv6, pa.BindIPv6)
	if err != nil {
		return err
	}
	e.announcePreferred(v4, v6)
	return nil
}

// announcePreferred makes the server's new connections announce v4 and v6
// in preferred_address. The reader may be accepting connections already:
// it takes serverConn under e.mu, and gets a new one here.
func (e *Endpoint) announcePreferred(v4, v6 netip.AddrPort) {
	e.mu.Lock()
	sc := *e.serverConn
	sc.PreferredAddressV4, sc.PreferredAddressV6 = v4, v6
	e.serverConn = &sc
	e.mu.Unlock()
}

// PreferredAddresses returns the preferred addresses the endpoint
// announces, with the ports they bound: zero values when it announces
// none.
func (e *Endpoint) PreferredAddresses() (v4, v6 netip.AddrPort) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.serverConn == nil {
		return
	}
	return e.serverConn.PreferredAddressV4, e.serverConn.PreferredAddressV6
}
