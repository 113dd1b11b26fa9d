package quic

import (
	"errors"
	"net"
	"net/netip"

	"github.com/skiffnet/skiff/udpio"
)

// NewEndpointOn is NewEndpoint on a net.PacketConn the caller made: a
// simulated network in tests, a tunnel, a socket set up by hand. It reads
// and writes one datagram per call, without ECN marks, GSO or GRO, so it
// is slower than NewEndpoint's socket. The endpoint owns pc from now on
// and closes it with itself.
func NewEndpointOn(pc net.PacketConn, server *Config) (*Endpoint, error) {
	if server != nil && server.TLS == nil {
		return nil, errors.New("quic: a server Config needs TLS")
	}
	a, ok := pc.LocalAddr().(*net.UDPAddr)
	if !ok {
		return nil, errors.New("quic: NewEndpointOn needs a PacketConn with UDP addresses")
	}
	return newEndpoint(&packetConnSocket{pc: pc, local: a.AddrPort()}, server), nil
}

// Listener returns the endpoint as a Listener, for servers that take one
// (h3.Server.Serve); it fails on an endpoint made without a server Config.
func (e *Endpoint) Listener() (*Listener, error) {
	if e.accept == nil {
		return nil, errors.New("quic: endpoint does not accept connections")
	}
	return &Listener{e: e}, nil
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
