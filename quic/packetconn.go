package quic

import (
	"errors"
	"net"
	"net/netip"

	"github.com/skiffnet/skiff/udpio"
)

// NewEndpointOn is NewEndpoint on a net.PacketConn the caller made: a
// simulated network in tests, a tunnel, a socket set up by hand. It reads
// and writes one datagram per call, without ECN marks, ICMP errors, GSO or
// GRO, so it is slower than NewEndpoint's socket. The endpoint owns pc
// from now on and closes it with itself.
func NewEndpointOn(pc net.PacketConn) (*Endpoint, error) {
	sock, err := packetConnSocketOf(pc)
	if err != nil {
		return nil, err
	}
	return newEndpoint(sock, nil), nil
}

// ListenOn is Listen on a net.PacketConn the caller made, with what
// NewEndpointOn says of it. The Config is checked as Listen checks it;
// a PreferredAddress needs sockets of Listen's own and is refused.
func ListenOn(pc net.PacketConn, config *Config) (*Listener, error) {
	if err := config.validate(true); err != nil {
		return nil, err
	}
	if config.PreferredAddress != nil {
		return nil, &ConfigError{Field: "PreferredAddress", Problem: "ListenOn cannot open the preferred address's socket"}
	}
	sock, err := packetConnSocketOf(pc)
	if err != nil {
		return nil, err
	}
	return &Listener{e: newEndpoint(sock, config)}, nil
}

func packetConnSocketOf(pc net.PacketConn) (*packetConnSocket, error) {
	a, ok := pc.LocalAddr().(*net.UDPAddr)
	if !ok {
		return nil, errors.New("quic: a PacketConn with UDP addresses is needed")
	}
	return &packetConnSocket{pc: pc, local: a.AddrPort()}, nil
}

// packetConnSocket adapts a net.PacketConn to the endpoint's socket.
type packetConnSocket struct {
	pc    net.PacketConn
	local netip.AddrPort
}

func (s *packetConnSocket) ReadBatch(msgs []udpio.Message) (int, error) {
	for {
		n, from, err := s.pc.ReadFrom(msgs[0].Buf)
		if err != nil {
			return 0, err
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok {
			continue // not a UDP peer: nothing QUIC can answer
		}
		msgs[0].N, msgs[0].Addr, msgs[0].ECN, msgs[0].SegmentSize, msgs[0].ICMP = n, ua.AddrPort(), 0, 0, nil
		return 1, nil
	}
}

func (s *packetConnSocket) WriteBatch(msgs []udpio.Message) (int, error) {
	for i := range msgs {
		to := net.UDPAddrFromAddrPort(msgs[i].Addr)
		for d := range msgs[i].Datagrams {
			if _, err := s.pc.WriteTo(d, to); err != nil {
				return i, err
			}
		}
	}
	return len(msgs), nil
}

func (s *packetConnSocket) LocalAddr() netip.AddrPort        { return s.local }
func (s *packetConnSocket) Capabilities() udpio.Capabilities { return udpio.Capabilities{} }
func (s *packetConnSocket) Close() error                     { return s.pc.Close() }
